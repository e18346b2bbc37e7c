"""The HTTP service: FastAPI over the gold tables (``fvi.api.app.create_app``, ``fvi.api.server.serve``).

Kept free of imports so ``fvi keys`` and other CLI commands stay fast.
"""
