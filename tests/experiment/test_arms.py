"""The experiment's arms (``ltrr.experiment.arms``) on hand-built plan outcomes.

Checks, with hand-worked numbers:

- ``oracle_choice``: the cheapest hitting plan, first column on ties, the cheapest plan when none hits;
- ``arm_choices``: arm names and order, the ltrr arm's mapping of logged plan ids (KeyError for an
  unevaluated plan, no ltrr arm without logs), the uniform arm's draws (within the menu, seeded);
- ``arm_metrics``: counts, hit rate and its clipped normal-approximation interval, mean candidates,
  engagement and NDCG over ranked searches only (NaN NDCG ignored), the empty subset;
- ``grouped_metrics`` keys and group counts, ``strategy_hit_rates`` overall and by kind,
  ``best_static`` (static arms only, first on ties);
- a property on random matrices: the oracle hits whenever any arm hits (so its hit rate bounds every
  arm's) and, where some plan hits, it is no costlier than any hitting plan.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltrr.experiment.arms import (
    arm_choices,
    arm_metrics,
    best_static,
    day_arms,
    grouped_metrics,
    oracle_choice,
    softmax_policy_value,
    strategy_hit_rates,
    value_difference,
)
from ltrr.experiment.plan_outcomes import PlanOutcomes

T, F = True, False
NAN = math.nan
Z95 = 1.959963984540054
PLANS = ("lex100", "mem50_lex50", "pop100")


def _outcomes(
    hit: list[list[bool]],
    candidates: list[list[int]],
    *,
    plan_ids: tuple[str, ...] = PLANS,
    menu_size: int | None = None,
    intent_type: list[str] | None = None,
    query_class: list[str] | None = None,
    ranked: list[bool] | None = None,
    ndcg10: list[list[float]] | None = None,
    engaged: list[list[float]] | None = None,
    strategy_hit: list[list[bool]] | None = None,
    strategies: tuple[str, ...] = ("lexical",),
    reward: list[list[float]] | None = None,
) -> PlanOutcomes:
    """PlanOutcomes from hand-written matrices (unranked, all 'direct'/'tail' unless told)."""
    hit_a = np.asarray(hit, dtype=bool)
    n, p = hit_a.shape
    return PlanOutcomes(
        plan_ids=plan_ids,
        menu_size=p if menu_size is None else menu_size,
        search_ids=[f"s{i}" for i in range(n)],
        intent_type=np.asarray(intent_type or ["direct"] * n),
        query_class=np.asarray(query_class or ["tail"] * n),
        target=[f"e{i}" for i in range(n)],
        hit=hit_a,
        candidates=np.asarray(candidates, dtype=np.int64),
        ranked=np.asarray(ranked if ranked is not None else [False] * n, dtype=bool),
        ndcg10=np.asarray(ndcg10, dtype=np.float64) if ndcg10 is not None else np.full((n, p), NAN),
        engaged=np.asarray(engaged, dtype=np.float64) if engaged is not None else np.full((n, p), NAN),
        strategy_hit=np.asarray(strategy_hit if strategy_hit is not None else [[False]] * n, dtype=bool),
        strategies=strategies,
        reward=np.asarray(reward, dtype=np.float64) if reward is not None else None,
    )


# ---------------------------------------------------------------------------------------------
# oracle_choice


def test_oracle_choice_hand_worked() -> None:
    # Row 0: plans 1 (50) and 2 (30) hit -> 2. Row 1: none hits -> cheapest overall, 1 (20).
    # Row 2: plans 0 and 2 hit at 90 each (plan 1 is cheaper but misses) -> first, 0.
    hit = np.array([[F, T, T], [F, F, F], [T, F, T]])
    candidates = np.array([[10, 50, 30], [40, 20, 60], [90, 5, 90]])
    choice = oracle_choice(hit, candidates)
    assert choice.tolist() == [2, 1, 0]
    assert choice.dtype == np.int64


def test_oracle_choice_ties_without_hit_take_first_column() -> None:
    hit = np.array([[F, F, F], [F, F, F]])
    candidates = np.array([[7, 3, 3], [4, 4, 4]])
    assert oracle_choice(hit, candidates).tolist() == [1, 0]


def test_oracle_choice_single_hit_even_if_most_expensive() -> None:
    hit = np.array([[F, F, T]])
    candidates = np.array([[1, 2, 300]])
    assert oracle_choice(hit, candidates).tolist() == [2]


# ---------------------------------------------------------------------------------------------
# arm_choices


def _menu_outcomes(n: int, menu_size: int = 2) -> PlanOutcomes:
    """n searches, 4 plans (the first ``menu_size`` form the menu); plan 3 hits every search."""
    plan_ids = ("lex100", "mem50_lex50", "pop100", "sem100")
    hit = [[F, F, F, T]] * n
    candidates = [[10, 20, 30, 40]] * n
    return _outcomes(hit, candidates, plan_ids=plan_ids, menu_size=menu_size)


def test_arm_choices_keys_in_display_order() -> None:
    outcomes = _menu_outcomes(5)
    logged = ["lex100"] * 5
    choices = arm_choices(outcomes, logged, seed=1, day_ordinal=739_000)
    assert list(choices) == [
        "ltrr",
        "uniform",
        "oracle",
        "static:lex100",
        "static:mem50_lex50",
        "static:pop100",
        "static:sem100",
    ]
    for p, plan_id in enumerate(outcomes.plan_ids):
        assert choices[f"static:{plan_id}"].tolist() == [p] * 5
    # Only plan 3 (sem100) hits: the oracle picks it although it is the costliest.
    assert choices["oracle"].tolist() == [3] * 5


def test_arm_choices_ltrr_maps_logged_plan_ids_to_columns() -> None:
    outcomes = _menu_outcomes(5)
    logged = ["pop100", "lex100", "sem100", "mem50_lex50", "pop100"]
    choices = arm_choices(outcomes, logged, seed=0, day_ordinal=1)
    assert choices["ltrr"].tolist() == [2, 0, 3, 1, 2]


def test_arm_choices_unknown_logged_plan_raises_key_error() -> None:
    outcomes = _menu_outcomes(3)
    with pytest.raises(KeyError):
        arm_choices(outcomes, ["lex100", "nope", "lex100"], seed=0, day_ordinal=1)


def test_arm_choices_without_logs_has_no_ltrr_arm() -> None:
    outcomes = _menu_outcomes(4)
    choices = arm_choices(outcomes, None, seed=0, day_ordinal=1)
    assert "ltrr" not in choices
    assert list(choices)[:2] == ["uniform", "oracle"]
    assert len(choices) == 2 + 4


def test_arm_choices_oracle_arm_is_oracle_choice() -> None:
    hit = [[F, T, T], [F, F, F], [T, F, T]]
    candidates = [[10, 50, 30], [40, 20, 60], [90, 5, 90]]
    choices = arm_choices(_outcomes(hit, candidates), None, seed=0, day_ordinal=1)
    assert choices["oracle"].tolist() == [2, 1, 0]


def test_uniform_arm_draws_within_menu_only() -> None:
    n, menu_size = 300, 3
    outcomes = _menu_outcomes(n, menu_size=menu_size)
    uniform = arm_choices(outcomes, None, seed=5, day_ordinal=739_000)["uniform"]
    assert uniform.shape == (n,)
    assert uniform.min() >= 0
    assert uniform.max() < menu_size
    counts = np.bincount(uniform, minlength=menu_size)
    # Each menu plan expects 100 of 300 (sd ~8.2): all are drawn, none grossly over- or under-drawn.
    assert (counts >= 60).all(), counts
    assert (counts <= 140).all(), counts


def test_uniform_arm_menu_of_one_is_always_first_plan() -> None:
    outcomes = _menu_outcomes(50, menu_size=1)
    assert arm_choices(outcomes, None, seed=9, day_ordinal=3)["uniform"].tolist() == [0] * 50


def test_uniform_arm_is_seeded() -> None:
    outcomes = _menu_outcomes(200, menu_size=4)
    a = arm_choices(outcomes, None, seed=3, day_ordinal=739_000)["uniform"]
    b = arm_choices(outcomes, None, seed=3, day_ordinal=739_000)["uniform"]
    other_seed = arm_choices(outcomes, None, seed=4, day_ordinal=739_000)["uniform"]
    other_day = arm_choices(outcomes, None, seed=3, day_ordinal=739_001)["uniform"]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, other_seed)
    assert not np.array_equal(a, other_day)


# ---------------------------------------------------------------------------------------------
# arm_metrics


def _five_by_three() -> PlanOutcomes:
    """5 searches x 3 plans. Ranked: searches 0, 2, 3; search 2 has no relevant pooled candidate (NaN NDCG)."""
    hit = [
        [T, F, T],
        [F, F, T],
        [T, T, F],
        [F, T, F],
        [T, F, F],
    ]
    candidates = [
        [10, 20, 30],
        [12, 22, 32],
        [14, 24, 34],
        [16, 26, 36],
        [18, 28, 38],
    ]
    ranked = [T, F, T, T, F]
    ndcg10 = [
        [0.5, 0.2, 1.0],
        [NAN, NAN, NAN],
        [NAN, NAN, NAN],
        [0.25, 0.75, 0.1],
        [NAN, NAN, NAN],
    ]
    engaged = [
        [1.0, 0.0, 1.0],
        [NAN, NAN, NAN],
        [0.0, 1.0, 0.0],
        [1.0, 1.0, 0.0],
        [NAN, NAN, NAN],
    ]
    return _outcomes(
        hit,
        candidates,
        ranked=ranked,
        ndcg10=ndcg10,
        engaged=engaged,
        intent_type=["direct", "broad", "direct", "topic", "ambiguous"],
        query_class=["head", "tail", "tail", "torso", "head"],
    )


CHOICE = np.array([1, 2, 0, 1, 1])
"""Per search: hit F, T, T, T, F (3/5); candidates 20, 32, 14, 26, 28 (mean 24)."""


def _ci(p: float, n: int) -> tuple[float, float]:
    half = Z95 * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


def test_arm_metrics_all_searches_hand_worked() -> None:
    m = arm_metrics(_five_by_three(), CHOICE, np.ones(5, dtype=bool))
    assert set(m) == {
        "searches",
        "hit_rate",
        "hit_ci",
        "mean_candidates",
        "engagement_rate",
        "ndcg10",
        "value",
        "value_ci",
        "ranked_searches",
    }
    assert m["value"] is None and m["value_ci"] == [None, None]  # no reward measured
    assert m["searches"] == 5
    assert m["hit_rate"] == pytest.approx(0.6)
    # p = 0.6, n = 5: half width 1.96 * sqrt(0.24 / 5) = 0.4294 -> [0.1706, 1.0294], upper clipped to 1.
    lo, hi = m["hit_ci"]
    assert lo == pytest.approx(0.6 - Z95 * math.sqrt(0.24 / 5))
    assert lo == pytest.approx(0.17059, abs=1e-4)
    assert hi == 1.0
    assert m["mean_candidates"] == pytest.approx(24.0)
    # Ranked searches 0, 2, 3 with plans 1, 0, 1: engaged 0, 0, 1; NDCG 0.2, NaN, 0.75.
    assert m["ranked_searches"] == 3
    assert m["engagement_rate"] == pytest.approx(1 / 3)
    assert m["ndcg10"] == pytest.approx((0.2 + 0.75) / 2)


def test_arm_metrics_subset_by_indices_clips_lower_bound() -> None:
    outcomes = _five_by_three()
    static0 = np.zeros(5, dtype=np.int64)
    # Searches 1, 3, 4 with plan 0: hit F, F, T -> 1/3; candidates 12, 16, 18 -> 46/3.
    m = arm_metrics(outcomes, static0, np.array([1, 3, 4]))
    assert m["searches"] == 3
    assert m["hit_rate"] == pytest.approx(1 / 3)
    lo, hi = m["hit_ci"]
    assert lo == 0.0  # 1/3 - 1.96 * sqrt(2/27) = -0.200, clipped
    assert hi == pytest.approx(1 / 3 + Z95 * math.sqrt((1 / 3) * (2 / 3) / 3))
    assert (lo, hi) == pytest.approx(_ci(1 / 3, 3))
    assert m["mean_candidates"] == pytest.approx(46 / 3)
    # Only search 3 is ranked: engaged 1.0, NDCG 0.25.
    assert m["ranked_searches"] == 1
    assert m["engagement_rate"] == pytest.approx(1.0)
    assert m["ndcg10"] == pytest.approx(0.25)


def test_arm_metrics_boolean_mask_equals_same_indices() -> None:
    outcomes = _five_by_three()
    mask = np.array([T, F, T, T, F])
    by_mask = arm_metrics(outcomes, CHOICE, mask)
    by_idx = arm_metrics(outcomes, CHOICE, np.array([0, 2, 3]))
    assert by_mask == by_idx
    # Searches 0, 2, 3 with plans 1, 0, 1: hit F, T, T; candidates 20, 14, 26.
    assert by_mask["hit_rate"] == pytest.approx(2 / 3)
    assert by_mask["mean_candidates"] == pytest.approx(20.0)


def test_arm_metrics_certain_rate_has_zero_width_interval() -> None:
    m = arm_metrics(_five_by_three(), CHOICE, np.array([2, 3]))
    assert m["hit_rate"] == 1.0
    assert m["hit_ci"] == [1.0, 1.0]


def test_arm_metrics_only_nan_ndcg_is_none() -> None:
    # Search 2 alone is ranked but has no relevant pooled candidate: NDCG None, engagement still measured.
    m = arm_metrics(_five_by_three(), CHOICE, np.array([2]))
    assert m["ranked_searches"] == 1
    assert m["ndcg10"] is None
    assert m["engagement_rate"] == 0.0


def test_arm_metrics_unranked_subset_has_no_engagement_or_ndcg() -> None:
    m = arm_metrics(_five_by_three(), CHOICE, np.array([1, 4]))
    assert m["searches"] == 2
    assert m["ranked_searches"] == 0
    assert m["engagement_rate"] is None
    assert m["ndcg10"] is None
    assert m["hit_rate"] == pytest.approx(0.5)


def test_arm_metrics_empty_rows() -> None:
    m = arm_metrics(_five_by_three(), CHOICE, np.zeros(5, dtype=bool))
    assert m == {
        "searches": 0,
        "hit_rate": None,
        "hit_ci": [None, None],
        "mean_candidates": None,
        "engagement_rate": None,
        "ndcg10": None,
        "value": None,
        "value_ci": [None, None],
        "ranked_searches": 0,
    }


def _rewarded_outcomes() -> PlanOutcomes:
    """Four searches, two plans; searches 0, 1 and 3 ranked. Rewards outside the sample are NaN."""
    return _outcomes(
        [[T, F], [T, T], [F, F], [T, F]],
        [[10, 20], [10, 20], [10, 20], [10, 20]],
        plan_ids=("lex100", "pop100"),
        ranked=[T, T, F, T],
        reward=[[0.3, 0.1], [0.0, 0.6], [NAN, NAN], [0.9, 0.3]],
    )


def test_arm_value_is_the_mean_reward_of_its_plans_on_the_ranked_searches() -> None:
    outcomes = _rewarded_outcomes()
    m = arm_metrics(outcomes, np.array([0, 1, 1, 0]), np.ones(4, dtype=bool))
    # Plans chosen on ranked searches: 0 -> 0.3, 1 -> 0.6, 3 -> 0.9; mean 0.6, sd 0.3.
    assert m["value"] == pytest.approx(0.6)
    lo, hi = m["value_ci"]
    assert (lo, hi) == pytest.approx((0.6 - Z95 * 0.3 / math.sqrt(3), 0.6 + Z95 * 0.3 / math.sqrt(3)))


# ---------------------------------------------------------------------------------------------
# grouped_metrics, strategy_hit_rates, best_static


def test_grouped_metrics_keys_and_counts() -> None:
    outcomes = _five_by_three()
    g = grouped_metrics(outcomes, CHOICE)
    assert list(g) == ["overall", "by_query_kind", "by_query_class"]
    assert tuple(g["by_query_kind"]) == ("direct", "broad", "topic", "ambiguous")
    assert tuple(g["by_query_class"]) == ("head", "torso", "tail")
    assert g["overall"] == arm_metrics(outcomes, CHOICE, np.ones(5, dtype=bool))
    kinds = {k: m["searches"] for k, m in g["by_query_kind"].items()}
    classes = {k: m["searches"] for k, m in g["by_query_class"].items()}
    assert kinds == {"direct": 2, "broad": 1, "topic": 1, "ambiguous": 1}
    assert classes == {"head": 2, "torso": 1, "tail": 2}
    assert sum(kinds.values()) == g["overall"]["searches"]
    assert sum(classes.values()) == g["overall"]["searches"]
    assert sum(m["ranked_searches"] for m in g["by_query_kind"].values()) == g["overall"]["ranked_searches"]
    # direct = searches 0, 2 with plans 1, 0: hit F, T; head = searches 0, 4 with plan 1: hit F, F.
    assert g["by_query_kind"]["direct"]["hit_rate"] == pytest.approx(0.5)
    assert g["by_query_class"]["head"]["hit_rate"] == 0.0
    assert g["by_query_class"]["tail"]["hit_rate"] == 1.0


def test_grouped_metrics_missing_kind_is_empty() -> None:
    outcomes = _outcomes([[T, F], [F, T]], [[1, 2], [3, 4]], plan_ids=("a", "b"), intent_type=["direct", "topic"])
    g = grouped_metrics(outcomes, np.array([0, 0]))
    assert g["by_query_kind"]["broad"]["searches"] == 0
    assert g["by_query_kind"]["broad"]["hit_rate"] is None
    assert g["by_query_kind"]["direct"]["hit_rate"] == 1.0
    assert g["by_query_kind"]["topic"]["hit_rate"] == 0.0


def test_strategy_hit_rates_hand_worked() -> None:
    strategy_hit = [
        [T, F, F],  # direct
        [F, T, F],  # broad
        [T, T, F],  # direct
        [F, F, T],  # topic
        [T, F, F],  # broad
    ]
    outcomes = _outcomes(
        [[T]] * 5,
        [[1]] * 5,
        plan_ids=("lex100",),
        intent_type=["direct", "broad", "direct", "topic", "broad"],
        strategy_hit=strategy_hit,
        strategies=("lexical", "memory", "popular"),
    )
    rates = strategy_hit_rates(outcomes)
    assert list(rates) == ["overall", "by_query_kind"]
    assert rates["overall"] == pytest.approx({"lexical": 0.6, "memory": 0.4, "popular": 0.2})
    kinds = rates["by_query_kind"]
    assert tuple(kinds) == ("direct", "broad", "topic", "ambiguous")
    assert kinds["direct"] == pytest.approx({"lexical": 1.0, "memory": 0.5, "popular": 0.0})
    assert kinds["broad"] == pytest.approx({"lexical": 0.5, "memory": 0.5, "popular": 0.0})
    assert kinds["topic"] == pytest.approx({"lexical": 0.0, "memory": 0.0, "popular": 1.0})
    assert kinds["ambiguous"] == {"lexical": None, "memory": None, "popular": None}


def _arms(rates: dict[str, float | None]) -> dict[str, dict]:
    return {a: {"overall": {"hit_rate": h}} for a, h in rates.items()}


def test_best_static_highest_static_first_on_ties() -> None:
    arms = _arms(
        {
            "ltrr": 0.9,
            "uniform": 0.8,
            "oracle": 0.95,
            "static:lex100": 0.5,
            "static:mem50_lex50": 0.7,
            "static:pop100": 0.7,
            "static:sem100": None,
        }
    )
    assert best_static(arms) == "static:mem50_lex50"


def test_best_static_ignores_missing_rates_and_non_static_arms() -> None:
    assert best_static(_arms({"static:a": None, "static:b": 0.1, "oracle": 1.0})) == "static:b"
    assert best_static(_arms({"ltrr": 0.9, "oracle": 1.0, "uniform": 0.5})) is None
    assert best_static(_arms({"static:a": None})) is None
    assert best_static({}) is None


def test_best_static_on_day_arms() -> None:
    # Static hit rates on _five_by_three: plan 0 3/5, plan 1 2/5, plan 2 2/5 -> static:lex100.
    outcomes = _five_by_three()
    arms = day_arms(outcomes, arm_choices(outcomes, None, seed=0, day_ordinal=1))
    assert arms["static:lex100"]["overall"]["hit_rate"] == pytest.approx(0.6)
    assert arms["static:mem50_lex50"]["overall"]["hit_rate"] == pytest.approx(0.4)
    assert arms["static:pop100"]["overall"]["hit_rate"] == pytest.approx(0.4)
    assert best_static(arms) == "static:lex100"


# ---------------------------------------------------------------------------------------------
# Property: the oracle bounds every arm


@pytest.mark.parametrize("seed", range(20))
def test_oracle_bounds_every_arm(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, p = 300, 6
    hit = rng.random((n, p)) < rng.uniform(0.05, 0.5)
    candidates = rng.integers(1, 200, size=(n, p))
    menu_size = int(rng.integers(1, p + 1))
    plan_ids = tuple(f"plan{j}" for j in range(p))
    outcomes = _outcomes(hit.tolist(), candidates.tolist(), plan_ids=plan_ids, menu_size=menu_size)
    logged = [plan_ids[j] for j in rng.integers(0, p, size=n)]
    choices = arm_choices(outcomes, logged, seed=seed, day_ordinal=739_000 + seed)
    assert len(choices) == 3 + p
    rows = np.arange(n)
    oracle = choices["oracle"]
    oracle_hit = hit[rows, oracle]
    everything = np.ones(n, dtype=bool)
    oracle_rate = arm_metrics(outcomes, oracle, everything)["hit_rate"]
    assert oracle_rate == pytest.approx(oracle_hit.mean())
    for arm, choice in choices.items():
        arm_hit = hit[rows, choice]
        assert (oracle_hit >= arm_hit).all(), arm
        assert oracle_rate >= arm_metrics(outcomes, choice, everything)["hit_rate"], arm
    # Where some plan hits, the oracle hits with the fewest candidates of any hitting plan.
    some = hit.any(axis=1)
    assert oracle_hit[some].all()
    cost = candidates[rows, oracle]
    hitting_cost = np.where(hit, candidates, np.iinfo(np.int64).max)
    assert (cost[some] <= hitting_cost[some].min(axis=1)).all()
    # Where no plan hits, the oracle takes the cheapest plan overall.
    assert (cost[~some] == candidates[~some].min(axis=1)).all()


def test_value_difference_is_paired_on_ranked_searches() -> None:
    outcomes = _rewarded_outcomes()
    arm = np.array([0, 1, 1, 0])  # rewards 0.3, 0.6, 0.9 on the ranked searches
    reference = np.array([1, 0, 0, 1])  # rewards 0.1, 0.0, 0.3
    d = value_difference(outcomes, arm, reference)
    # Differences 0.2, 0.6, 0.6: mean 1.4 / 3; the interval from their sample sd.
    diffs = [0.2, 0.6, 0.6]
    mean = sum(diffs) / 3
    sd = math.sqrt(sum((x - mean) ** 2 for x in diffs) / 2)
    assert d["searches"] == 3
    assert d["difference"] == pytest.approx(0.4666666666666667)
    assert d["ci"] == pytest.approx([mean - Z95 * sd / math.sqrt(3), mean + Z95 * sd / math.sqrt(3)])
    assert value_difference(outcomes, arm, arm)["difference"] == 0.0
    no_reward = _outcomes([[T, F]], [[10, 20]], plan_ids=("lex100", "pop100"), ranked=[T])
    assert value_difference(no_reward, np.array([0]), np.array([1])) == {
        "difference": None,
        "ci": [None, None],
        "searches": 0,
    }


def test_softmax_policy_value_is_the_expectation_over_the_policy_draws() -> None:
    # Two ranked searches, three evaluated plans; the policy's menu is plans 0 and 1 (plan 2 is
    # outside it: NaN score). Rewards and candidates per plan are hand-written.
    outcomes = _outcomes(
        [[T, F, F], [F, T, F]],
        [[10, 20, 30], [10, 20, 30]],
        ranked=[T, T],
        reward=[[0.5, 0.1, 0.9], [0.2, 0.6, 0.0]],
    )
    scores = np.array([[0.03, 0.01, NAN], [0.00, 0.02, NAN]])
    reference = np.array([1, 0])  # the day-0 rule's rewards: 0.1 and 0.2
    # Greedy, no floor: plan 0 then plan 1 -> 0.5 and 0.6.
    greedy = softmax_policy_value(outcomes, scores, reference, temperature=0.0, epsilon=0.0)
    assert greedy["value"] == pytest.approx(0.55)
    assert greedy["mean_candidates"] == pytest.approx(15.0)
    assert greedy["vs_day0_rule"]["difference"] == pytest.approx(((0.5 - 0.1) + (0.6 - 0.2)) / 2)
    # T = 0.01: both searches' score gap is 0.02, so the better plan has e^2 / (1 + e^2); floor
    # 0.2 over the two menu plans adds 0.1 each.
    q = math.exp(2) / (1 + math.exp(2))
    p_best = 0.8 * q + 0.1
    soft = softmax_policy_value(outcomes, scores, reference, temperature=0.01, epsilon=0.2)
    v0 = p_best * 0.5 + (1 - p_best) * 0.1
    v1 = p_best * 0.6 + (1 - p_best) * 0.2
    assert soft["value"] == pytest.approx((v0 + v1) / 2)
    assert soft["vs_day0_rule"]["difference"] == pytest.approx(((v0 - 0.1) + (v1 - 0.2)) / 2)
    # Serving exploration eta = 0.3 over all three plans: (1 - eta) * greedy + 0.1 on each plan.
    served = softmax_policy_value(
        outcomes, scores, reference, temperature=0.0, epsilon=0.0, eta=0.3, eta_columns=[0, 1, 2]
    )
    w0 = 0.8 * 0.5 + 0.1 * 0.1 + 0.1 * 0.9
    w1 = 0.1 * 0.2 + 0.8 * 0.6 + 0.1 * 0.0
    assert served["value"] == pytest.approx((w0 + w1) / 2)
    assert served["mean_candidates"] == pytest.approx(
        (0.8 * 10 + 0.1 * 20 + 0.1 * 30 + 0.1 * 10 + 0.8 * 20 + 0.1 * 30) / 2
    )
    # Against the plans the day actually logged (plan 2, then plan 0: rewards 0.9 and 0.2),
    # paired on the same searches, beside the day-0 rule.
    logged = np.array([2, 0])
    versus = softmax_policy_value(outcomes, scores, reference, temperature=0.0, epsilon=0.0, versus={"served": logged})
    assert versus["vs_served"]["difference"] == pytest.approx(((0.5 - 0.9) + (0.6 - 0.2)) / 2)
    assert versus["vs_served"]["searches"] == 2
    assert versus["vs_day0_rule"] == greedy["vs_day0_rule"]
    sd = math.sqrt(((-0.4 - 0.0) ** 2 + (0.4 - 0.0) ** 2) / 1)
    assert versus["vs_served"]["ci"] == pytest.approx([-Z95 * sd / math.sqrt(2), Z95 * sd / math.sqrt(2)])
    # Nothing ranked: no figures.
    unranked = _outcomes([[T, F, F]], [[10, 20, 30]], ranked=[F], reward=[[NAN, NAN, NAN]])
    assert softmax_policy_value(unranked, scores[:1], reference[:1], temperature=0.0, epsilon=0.0)["value"] is None
    empty = softmax_policy_value(
        unranked, scores[:1], reference[:1], temperature=0.0, epsilon=0.0, versus={"served": logged[:1]}
    )
    assert empty["vs_served"] == {"difference": None, "ci": [None, None], "searches": 0}
