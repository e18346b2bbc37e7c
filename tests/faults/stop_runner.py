"""``fvi run --no-serve`` in this process, stopping itself (SIGSTOP) at every step boundary.

Used by ``test_kill_every_step.py``: before each boundary it writes ``<name>\\n`` to the file
descriptor given as the first argument, then stops; the test looks at the live files and the API,
copies the home (what a ``kill -9`` at that instant would leave on disk), and either continues
the process (SIGCONT) or kills it (SIGKILL). The product code is not changed: the boundaries are
the pipeline's own functions, wrapped here. Arguments: ``FD fvi-arguments...``.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from typing import Any


def main() -> None:
    out = os.fdopen(int(sys.argv[1]), "w", buffering=1)

    def point(name: str) -> None:
        out.write(name + "\n")
        out.flush()
        os.kill(os.getpid(), signal.SIGSTOP)

    from fvi import dbt, pipeline
    from fvi.warehouse import Staging

    ingest = pipeline.ingest_source
    started: list[bool] = []

    def ingest_source(*args: Any, **kwargs: Any) -> Any:
        if not started:
            started.append(True)
            point("start|ingest")
        return ingest(*args, **kwargs)

    build = pipeline.build_isolating

    def build_isolating(*args: Any, **kwargs: Any) -> list[str]:
        point("ingest|build")
        return build(*args, **kwargs)

    run_dbt = dbt.run_dbt

    def run_dbt_stopping(settings: Any, args: list[str], **kwargs: Any) -> Any:
        if args[:2] == ["build", "--exclude"]:  # silver built and tested; the rest of the project next
            point("silver|gold")
        return run_dbt(settings, args, **kwargs)

    names = [*pipeline.SCORE_STEPS, *pipeline.ML_STEPS]
    before = dict(zip(names, ["build", *names[:-1]], strict=True))

    def stopping(name: str, fn: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
        def run(ctx: Any) -> dict[str, Any]:
            point(f"{before[name]}|{name}")
            return fn(ctx)

        return run

    for steps in (pipeline.SCORE_STEPS, pipeline.ML_STEPS):
        for name, fn in list(steps.items()):
            steps[name] = stopping(name, fn)
    commit = Staging.commit

    def commit_stopping(self: Staging, *args: Any, **kwargs: Any) -> Any:
        point(f"{names[-1]}|commit")
        return commit(self, *args, **kwargs)

    pipeline.ingest_source = ingest_source  # type: ignore[assignment]
    pipeline.build_isolating = build_isolating  # type: ignore[assignment]
    dbt.run_dbt = run_dbt_stopping  # type: ignore[assignment]
    Staging.commit = commit_stopping  # type: ignore[method-assign]

    from fvi.cli import app

    sys.argv = ["fvi", *sys.argv[2:]]
    app()


if __name__ == "__main__":
    main()
