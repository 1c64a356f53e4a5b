"""The logging contract: plans and propensities, candidates with provenance, shown lists."""

from __future__ import annotations

import collections

import pytest

from ltrr.retrieval.plans import DAY0_MENU
from tests.sim.conftest import EXPLORATION, RANDOMIZED_SHARE

# Epsilon-greedy over the 4 day-0 plans with epsilon 0.2, worked by hand:
# greedy plan 0.8 + 0.2 / 4 = 0.85, every other plan 0.2 / 4 = 0.05.
GREEDY_P, OTHER_P = 0.85, 0.05


def test_propensities_are_the_menu_probabilities(searches: list[dict]) -> None:
    assert len(DAY0_MENU) == 4 and EXPLORATION == 0.2
    values = collections.Counter(round(s["propensity"], 12) for s in searches)
    assert set(values) == {GREEDY_P, OTHER_P}
    # The greedy plan is drawn with probability 0.85: its share is 0.85 +- 4 binomial sd.
    n = len(searches)
    share = values[GREEDY_P] / n
    sd = (GREEDY_P * (1 - GREEDY_P) / n) ** 0.5
    assert abs(share - GREEDY_P) < 4 * sd


def test_each_non_greedy_plan_is_explored(searches: list[dict]) -> None:
    explored = collections.Counter(s["plan_id"] for s in searches if round(s["propensity"], 12) == OTHER_P)
    assert set(explored) <= {p.plan_id for p in DAY0_MENU}
    assert len(explored) >= 3  # every query length has 3 non-greedy plans


def test_logged_plan_is_the_menu_plan(searches: list[dict]) -> None:
    menu = {p.plan_id: [{"strategy": s.strategy, "budget": s.budget} for s in p.steps] for p in DAY0_MENU}
    for s in searches:
        assert s["plan"] == menu[s["plan_id"]]
        assert (s["policy_version"], s["ranker_version"], s["bundle_version"]) == ("day0", "day0", "day0")


def test_candidates_have_provenance_within_the_plan(searches: list[dict]) -> None:
    for s in searches:
        budget = {step["strategy"]: step["budget"] for step in s["plan"]}
        by_strategy = collections.defaultdict(list)
        for c in s["candidates"]:
            by_strategy[c["strategy"]].append(c)
        assert set(by_strategy) <= set(budget)
        for strategy, cands in by_strategy.items():
            assert len(cands) <= budget[strategy]
            assert [c["rank"] for c in cands] == list(range(1, len(cands) + 1))
            scores = [c["score"] for c in cands]
            assert scores == sorted(scores, reverse=True)
            assert len({c["entity_id"] for c in cands}) == len(cands)


def test_an_entity_found_by_two_strategies_is_logged_once_per_strategy(searches: list[dict]) -> None:
    both = 0
    for s in searches:
        strategies_of = collections.defaultdict(set)
        for c in s["candidates"]:
            strategies_of[c["entity_id"]].add(c["strategy"])
        both += sum(1 for v in strategies_of.values() if v == {"lexical", "popular"})
    assert both > 0


def test_every_shown_entity_is_a_candidate(searches: list[dict]) -> None:
    for s in searches:
        candidates = {c["entity_id"] for c in s["candidates"]}
        shown = [x["entity_id"] for x in s["shown"]]
        assert set(shown) <= candidates
        assert len(set(shown)) == len(shown)
        assert [x["position"] for x in s["shown"]] == list(range(1, len(shown) + 1))
        assert len(shown) <= 10


def test_unrandomized_lists_are_ranked_by_score_and_full(searches: list[dict]) -> None:
    for s in searches:
        scores = [x["score"] for x in s["shown"]]
        if not s["shown_randomized"]:
            assert scores == sorted(scores, reverse=True)
        # Every plan has a popular step or 100 lexical candidates; popular always fills its budget.
        if any(step["strategy"] == "popular" for step in s["plan"]):
            assert len(s["shown"]) == 10


def test_randomized_share_is_respected(searches: list[dict]) -> None:
    n = len(searches)
    share = sum(s["shown_randomized"] for s in searches) / n
    sd = (RANDOMIZED_SHARE * (1 - RANDOMIZED_SHARE) / n) ** 0.5
    assert abs(share - RANDOMIZED_SHARE) < 4 * sd


def test_randomized_lists_are_permutations_of_the_top_scores(searches: list[dict]) -> None:
    shuffled = 0
    for s in (s for s in searches if s["shown_randomized"]):
        scores = [x["score"] for x in s["shown"]]
        shuffled += scores != sorted(scores, reverse=True)
    assert shuffled > 0


def test_ids_are_unique_and_timestamps_fall_on_the_day(searches: list[dict]) -> None:
    ids = [s["search_id"] for s in searches]
    assert len(set(ids)) == len(ids)
    for s in searches:
        ds = s["search_id"][1:9]
        assert s["ts"].strftime("%Y%m%d") == ds
        assert s["ts"].utcoffset().total_seconds() == 0
        assert set(dict(s["context"])) == {"surface", "app_version", "local_hour", "weekday", "session_seq"}


@pytest.mark.parametrize("field", ["user_id", "session_id", "locale", "device"])
def test_request_fields_are_filled(searches: list[dict], field: str) -> None:
    assert all(s[field] for s in searches)
    assert len({s[field] for s in searches}) > 1
