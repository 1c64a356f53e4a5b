"""Serving: the ``SearchEngine`` seam, the engines that implement it, and the bundle loader.

``ltrr.serving.engine`` defines the protocol (``SearchEngine``, ``SearchOutcome``,
``EngineFactory``); ``ltrr.serving.day0`` holds the day-0 engine (lexical + popular);
``ltrr.serving.bundle`` holds ``load_bundle`` (verified loading of a published bundle).
"""

from ltrr.serving.bundle import Bundle, load_bundle
from ltrr.serving.engine import Candidate, EngineFactory, SearchEngine, SearchOutcome, ShownItem

__all__ = ["Bundle", "Candidate", "EngineFactory", "SearchEngine", "SearchOutcome", "ShownItem", "load_bundle"]
