"""FVI: an open, explainable Future Viability Index for the coal industry."""

__version__ = "0.1.0"
