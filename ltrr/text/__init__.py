"""Text handling shared by the pipeline and serving (query normalization)."""

from ltrr.text.normalize import normalize_query

__all__ = ["normalize_query"]
