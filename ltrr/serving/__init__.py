"""Serving: the ``SearchEngine`` seam, the engines that implement it, and the bundle loader.

``ltrr.serving.engine`` defines the protocol (``SearchEngine``, ``SearchOutcome``,
``EngineFactory``); ``ltrr.serving.day0`` holds the day-0 engine (lexical + popular);
``ltrr.serving.bundle`` holds ``load_bundle`` (verified loading of a published bundle);
``ltrr.serving.searcher`` holds ``Searcher``, the reference consumer of a bundle
(docs/serving.md), and ``ltrr.serving.record`` the ``searches`` log row of a served request.
"""

from ltrr.serving.bundle import Bundle, load_bundle
from ltrr.serving.engine import Candidate, EngineFactory, SearchEngine, SearchOutcome, ShownItem
from ltrr.serving.record import search_record
from ltrr.serving.searcher import Searcher, SearcherParams

__all__ = [
    "Bundle",
    "Candidate",
    "EngineFactory",
    "SearchEngine",
    "SearchOutcome",
    "Searcher",
    "SearcherParams",
    "ShownItem",
    "load_bundle",
    "search_record",
]
