"""The day-0 engine behind the SearchEngine protocol (lives here: it serves lexical + popular)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from ltrr.retrieval.lexical import LexicalIndex
from ltrr.retrieval.plans import DAY0_MENU, EpsilonGreedyPolicy, day0_greedy
from ltrr.retrieval.popular import PopularIndex
from ltrr.serving.day0 import Day0Engine, day0_engine_factory
from ltrr.serving.engine import Candidate, SearchEngine, present


@pytest.fixture()
def engine(mini_catalog: list[dict]) -> Day0Engine:
    policy = EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, epsilon=0.2)
    return Day0Engine(LexicalIndex.build(mini_catalog), PopularIndex.build(mini_catalog), policy, randomized_share=0.0)


def test_engine_implements_the_protocol(engine: Day0Engine, mini_catalog: list[dict]) -> None:
    assert isinstance(engine, SearchEngine)
    factory = day0_engine_factory(exploration=0.3, randomized_share=0.1)
    built = factory(pa.Table.from_pylist(mini_catalog), dt.date(2026, 1, 5))
    assert isinstance(built, SearchEngine) and built.policy.epsilon == 0.3


def test_outcome_logs_plan_propensity_candidates_and_shown(engine: Day0Engine) -> None:
    rng = np.random.default_rng(1)
    o = engine.search("tayler love", "u1", {}, 5, rng)
    assert o.plan_id in {p.plan_id for p in DAY0_MENU}
    assert o.propensity in (pytest.approx(0.85), pytest.approx(0.05))
    assert o.versions == {"policy_version": "day0", "ranker_version": "day0", "bundle_version": "day0"}
    assert all(isinstance(c, Candidate) for c in o.candidates)
    assert {x.entity_id for x in o.shown} <= {c.entity_id for c in o.candidates}
    assert [x.position for x in o.shown] == list(range(1, len(o.shown) + 1))
    assert o.shown[0].entity_id == "trk_1"
    assert not o.shown_randomized


def test_popular_plan_logs_entities_once_per_strategy(engine: Day0Engine) -> None:
    plan = next(p for p in DAY0_MENU if p.plan_id == "lex50_pop50")
    candidates, ranked = engine.rank(plan, "love")
    trk_1 = [c.strategy for c in candidates if c.entity_id == "trk_1"]
    assert sorted(trk_1) == ["lexical", "popular"]
    assert len(ranked) == len({c.entity_id for c in candidates})  # the union, once each
    # Ranks restart at 1 for each strategy.
    assert [c.rank for c in candidates if c.strategy == "popular"][:3] == [1, 2, 3]


def test_present_randomizes_the_requested_share() -> None:
    ranked = [(f"e{i}", 1.0 - i / 10) for i in range(10)]
    rng = np.random.default_rng(0)
    outcomes = [present(ranked, 10, 0.3, rng) for _ in range(4000)]
    share = np.mean([r for _, r in outcomes])
    assert abs(share - 0.3) < 4 * (0.3 * 0.7 / 4000) ** 0.5
    for shown, randomized in outcomes[:50]:
        assert sorted(x.entity_id for x in shown) == sorted(e for e, _ in ranked)
        if not randomized:
            assert [x.entity_id for x in shown] == [e for e, _ in ranked]
    assert present(ranked, 3, 0.0, rng)[0][-1].position == 3
