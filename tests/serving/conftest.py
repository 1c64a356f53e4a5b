"""The bundles of the shared two-day world (``tests/conftest.py::small_pipeline``), published.

Bundle 1 (day 1): memory, embeddings, retrieval; no ranker (no history yet), no policy. Bundle 2
(day 2): the same plus the ranker learned on day 1 and a plan policy (learned from synthetic
bandit rows, see ``_policy_of_day2``). The ranker's training rows of day 2 were built from
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


def _policy_of_day2(settings: Settings) -> dict:
    """Learn the policy of day 2 from synthetic bandit rows of days 1 and 2 (no Spark).

    The small world's two days are too few searches for the policy job, so its rows come from
    ``SyntheticBandit`` (known values; see tests/bandit/test_policy_day.py), over day-0 plans and
    two plans that need the bundle's memory and embeddings. The published policy is real: the
    nightly job's learner, gate and files.
    """
    from ltrr.bandit.policy_day import train_policy_day
    from ltrr.retrieval.plans import PLAN_MENU
    from tests.bandit.synthetic_days import write_synthetic_days

    keep = {"lex100", "lex75_pop25", "lex50_pop50", "lex25_pop75", "mem50_lex50", "pers50_lex50"}
    menu = tuple(p for p in PLAN_MENU if p.plan_id in keep)
    write_synthetic_days(settings.data_root, menu, DAY1.isoformat(), n_days=2, rows_per_day=8000)
    cheap = settings.model_copy(update={"bandit_min_ess": 100.0, "bandit_bootstrap": 200, "bandit_num_boost_round": 60})
    return train_policy_day(cheap, DAY2.isoformat())


@pytest.fixture(scope="session")
def served_world(spark, small_pipeline: Settings) -> ServedWorld:
    from ltrr.bundle import publish_day
    from ltrr.rank.ranker_day import build_ranker_day
    from ltrr.serving import load_bundle
    from ltrr.zones import artifact_dir

    settings = small_pipeline
    if not (artifact_dir(settings.data_root, DAY2.isoformat(), "ranker") / "report.json").is_file():
        build_ranker_day(spark, settings, DAY2.isoformat())
    if not (artifact_dir(settings.data_root, DAY2.isoformat(), "policy") / "report.json").is_file():
        report = _policy_of_day2(settings)
        assert report["outcome"] == "published", report["reasons"]
    bundles = [load_bundle(publish_day(settings, day.isoformat()).url) for day in (DAY1, DAY2)]
    return ServedWorld(settings, *bundles)
