"""The plan menu and the epsilon-greedy logging policy."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from ltrr.retrieval.plans import (
    DAY0_MENU,
    PLAN_MENU,
    TOTAL_BUDGET,
    EpsilonGreedyPolicy,
    Plan,
    PlanStep,
    day0_greedy,
    menu_for,
)
from ltrr.schemas import STRATEGIES


def test_every_plan_spends_the_same_budget_on_known_strategies() -> None:
    assert TOTAL_BUDGET == 100
    assert len({p.plan_id for p in PLAN_MENU}) == len(PLAN_MENU)
    for plan in PLAN_MENU:
        assert plan.total_budget == 100
        assert set(plan.strategies) <= set(STRATEGIES)
        assert len(set(plan.strategies)) == len(plan.strategies)
    assert {s for p in PLAN_MENU for s in p.strategies} == set(STRATEGIES)


def test_day0_menu_uses_only_lexical_and_popular() -> None:
    assert [p.plan_id for p in DAY0_MENU] == ["lex100", "lex75_pop25", "lex50_pop50", "lex25_pop75"]
    assert menu_for({"lexical"}) == (PLAN_MENU[0],)


def test_greedy_rule_by_query_length() -> None:
    assert [day0_greedy(q) for q in ("", "love", "love songs", "love songs by taylor")] == [
        "lex25_pop75",
        "lex50_pop50",
        "lex75_pop25",
        "lex100",
    ]


def test_probabilities_by_hand() -> None:
    policy = EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, epsilon=0.2)
    # Greedy for a 2-word query is lex75_pop25 (index 1): 0.8 + 0.2/4; the rest 0.2/4.
    assert policy.probabilities("love songs", {}) == pytest.approx([0.05, 0.85, 0.05, 0.05])
    assert EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, epsilon=1.0).probabilities("x", {}) == pytest.approx([0.25] * 4)


def test_choices_follow_the_probabilities_and_report_them() -> None:
    policy = EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, epsilon=0.4)
    rng = np.random.default_rng(3)
    n = 20_000
    counts = collections.Counter()
    for _ in range(n):
        plan, propensity = policy.choose("love", {}, rng)
        counts[plan.plan_id] += 1
        # 1-word query: greedy lex50_pop50 with 0.6 + 0.1 = 0.7, others 0.1.
        assert propensity == pytest.approx(0.7 if plan.plan_id == "lex50_pop50" else 0.1)
    for plan_id, p in {"lex100": 0.1, "lex75_pop25": 0.1, "lex50_pop50": 0.7, "lex25_pop75": 0.1}.items():
        assert abs(counts[plan_id] / n - p) < 4 * (p * (1 - p) / n) ** 0.5


def test_zero_epsilon_always_takes_the_greedy_plan() -> None:
    policy = EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, epsilon=0.0)
    rng = np.random.default_rng(0)
    assert {policy.choose("a b c", {}, rng) for _ in range(200)} == {(DAY0_MENU[0], 1.0)}


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="epsilon"):
        EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, epsilon=1.5)
    with pytest.raises(ValueError, match="unknown strategies"):
        EpsilonGreedyPolicy([Plan("x", (PlanStep("magic", 10),))], lambda q, c: "x", epsilon=0.1)
    with pytest.raises(ValueError, match="not in the menu"):
        EpsilonGreedyPolicy(DAY0_MENU, lambda q, c: "mem50_lex50", epsilon=0.1).probabilities("q", {})
