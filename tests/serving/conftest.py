"""The bundles of the shared two-day world (``tests/conftest.py::small_pipeline``), published.

Bundle 1 (day 1): memory, embeddings, retrieval; no ranker (no history yet). Bundle 2 (day 2):
the same plus the ranker learned on day 1. The ranker's training rows of day 2 were built from
day 1's artifacts: exactly what bundle 1 serves on day 2, so the two can be compared.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from ltrr.config import Settings

DAY1, DAY2, DAY3 = (dt.date(2026, 1, 5) + dt.timedelta(days=i) for i in range(3))


@dataclass(frozen=True)
class ServedWorld:
    """The world's settings and its two published bundles (verified on load)."""

    settings: Settings
    bundle1: object
    bundle2: object


@pytest.fixture(scope="session")
def served_world(spark, small_pipeline: Settings) -> ServedWorld:
    from ltrr.bundle import publish_day
    from ltrr.rank.ranker_day import build_ranker_day
    from ltrr.serving import load_bundle
    from ltrr.zones import artifact_dir

    settings = small_pipeline
    if not (artifact_dir(settings.data_root, DAY2.isoformat(), "ranker") / "report.json").is_file():
        build_ranker_day(spark, settings, DAY2.isoformat())
    bundles = [load_bundle(publish_day(settings, day.isoformat()).url) for day in (DAY1, DAY2)]
    return ServedWorld(settings, *bundles)
