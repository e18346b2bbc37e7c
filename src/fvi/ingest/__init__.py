"""Connectors: one module per public source; each reads and copies, never cleans."""
