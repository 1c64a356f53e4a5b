"""Serving: the ``SearchEngine`` seam and the engines that implement it.

``ltrr.serving.engine`` defines the protocol (``SearchEngine``, ``SearchOutcome``,
``EngineFactory``); ``ltrr.serving.day0`` holds the day-0 engine (lexical + popular).
"""

from ltrr.serving.engine import Candidate, EngineFactory, SearchEngine, SearchOutcome, ShownItem

__all__ = ["Candidate", "EngineFactory", "SearchEngine", "SearchOutcome", "ShownItem"]
