"""Online predictions: champion/challenger ONNX sessions, in-memory feature rows, cache, A/B split, batch jobs.

The API (``fvi.api.prediction_service`` and the predict, explain, jobs and model routers) drives these modules;
nothing here imports the API.
"""
