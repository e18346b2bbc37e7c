"""The exit codes of ``fvi``, one meaning each, so a scheduler can tell a bad night from a good one.

====  ===========  ===============================================================================
code  name         meaning
====  ===========  ===============================================================================
0     OK           everything asked for was done; every source loaded
1     FAILED       the run failed; the live warehouse, models and stores are as they were before
2     BAD_INPUT    the input is unusable (empty or wrong data folder, bad option); nothing changed
3     DEGRADED     the run finished and swapped in, but at least one source failed, was missing or
                   was carried forward from the previous good build (see the run report)
4     BUSY         another ``fvi`` command is writing this FVI_HOME (``--no-wait`` or lock timeout)
5     DISK_FULL    no space left on the device; the live warehouse is as it was before
130   INTERRUPTED  stopped by Ctrl-C (SIGINT); the live warehouse is as it was before
====  ===========  ===============================================================================
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The process exit status of ``fvi``, one meaning each (the table in the module docstring)."""

    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    DEGRADED = 3
    BUSY = 4
    DISK_FULL = 5
    INTERRUPTED = 130


#: Source statuses (``SourceOutcome.status``) that make a run DEGRADED.
DEGRADED_STATUSES = frozenset({"failed", "missing", "carried_forward", "refused"})
