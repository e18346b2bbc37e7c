"""Dagster orchestration of the pipeline: the same step functions as ``fvi run``, one asset per step.

``definitions`` is the code location (``dagster-webserver -m fvi.orchestration.definitions``);
``fvi orchestrate`` starts the webserver and the daemon on 127.0.0.1.
"""
