"""The policies an experiment compares ("arms"), as a plan choice per search, and their metrics.

Arms, all on the same replayed requests and the same bundle (only the plan choice differs):

- ``ltrr``: the plan the served day actually used (the bundle's learned policy, or the day-0
  rule before one is published, plus serving exploration), read from the day's logs;
- ``ltrr_greedy``: the bundle's learned policy (when it has one) taking its most probable plan,
  without its softmax, its floor or serving exploration: what exploration costs;
- ``learned_ungated``: the policy the nightly job learned on the logs up to the day before,
  whether or not its safe-improvement gate let it serve, taking its most probable plan (no
  exploration): what serving it would have done, to tell the policy's worth from the gate's;
- ``day0_rule``: the day-0 rule (the logging policy of day 0, without exploration): the
  baseline a learned policy must beat;
- ``uniform``: a plan drawn uniformly from the serving menu for each search;
- ``static:<plan>``: the same plan for every search, for each plan of the menu and each
  single-strategy baseline;
- ``oracle``: per search, the cheapest evaluated plan (fewest distinct candidates) whose
  candidates hold the intended entity; when none does, the cheapest plan. Its hit rate is the
  upper bound of every other arm's, search by search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ltrr.bandit.policy import softmax_with_floor
from ltrr.experiment.plan_outcomes import PlanOutcomes
from ltrr.sim.scales import make_rng

LTRR = "ltrr"
LTRR_GREEDY = "ltrr_greedy"
LEARNED_UNGATED = "learned_ungated"
DAY0_RULE = "day0_rule"
UNIFORM = "uniform"
ORACLE = "oracle"
STATIC = "static:"
STREAM_UNIFORM_ARM = 12
QUERY_KINDS = ("direct", "broad", "topic", "ambiguous")
QUERY_CLASSES = ("head", "torso", "tail")
Z95 = 1.959963984540054
SWEEP_TEMPERATURES = (0.0, 0.005, 0.01, 0.02, 0.05)
"""Softmax temperatures at which a learned policy's exact expected value is reported."""


def oracle_choice(hit: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Per search, the cheapest plan that hits (first in plan order on ties), else the cheapest plan.

    Args:
        hit: ``(n, P)`` bool.
        candidates: ``(n, P)`` distinct candidates per plan.

    Returns:
        ``(n,)`` plan columns.
    """
    cost = candidates.astype(np.float64)
    masked = np.where(hit, cost, np.inf)
    any_hit = hit.any(axis=1)
    return np.where(any_hit, np.argmin(masked, axis=1), np.argmin(cost, axis=1)).astype(np.int64)


def arm_choices(
    outcomes: PlanOutcomes, logged_plan_ids: Sequence[str] | None, *, seed: int, day_ordinal: int
) -> dict[str, np.ndarray]:
    """The plan column each arm picks for each search.

    Args:
        outcomes: the day's plan outcomes.
        logged_plan_ids: the served plan of each search (aligned with ``outcomes.search_ids``),
            or None when the day was not served by a bundle.
        seed: the experiment seed (the uniform arm's draws).
        day_ordinal: the day (``date.toordinal()``), for the uniform arm's stream.

    Returns:
        Arm name -> ``(n,)`` plan columns, in display order: ltrr, the choosers recorded in
        ``outcomes.chosen`` (e.g. learned_ungated), uniform, oracle, statics.
    """
    n = len(outcomes)
    choices: dict[str, np.ndarray] = {}
    if logged_plan_ids is not None:
        choices[LTRR] = outcomes.plan_index(logged_plan_ids)
    choices.update(outcomes.chosen)
    rng = make_rng(seed, STREAM_UNIFORM_ARM, day_ordinal, 0)
    choices[UNIFORM] = rng.integers(0, outcomes.menu_size, size=n).astype(np.int64)
    choices[ORACLE] = oracle_choice(outcomes.hit, outcomes.candidates)
    for p, plan_id in enumerate(outcomes.plan_ids):
        choices[STATIC + plan_id] = np.full(n, p, dtype=np.int64)
    return choices


def _rate_ci(values: np.ndarray) -> list[float | None]:
    """Normal-approximation 95% interval of a mean of 0/1 values (clipped to [0, 1])."""
    n = len(values)
    if n == 0:
        return [None, None]
    p = float(values.mean())
    half = Z95 * np.sqrt(max(p * (1 - p), 0.0) / n)
    return [max(0.0, p - half), min(1.0, p + half)]


def _mean_ci(values: np.ndarray) -> list[float | None]:
    """Normal-approximation 95% interval of a mean (None without two values)."""
    if len(values) < 2:
        return [None, None]
    mean, half = float(values.mean()), Z95 * float(values.std(ddof=1)) / np.sqrt(len(values))
    return [mean - half, mean + half]


def _nanmean(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else None


def arm_metrics(outcomes: PlanOutcomes, choice: np.ndarray, rows: np.ndarray) -> dict:
    """Metrics of one arm on a subset of searches.

    Args:
        outcomes: the day's plan outcomes.
        choice: ``(n,)`` the arm's plan column per search.
        rows: the searches (boolean mask or indices) to aggregate.

    Returns:
        ``{"searches", "hit_rate", "hit_ci", "mean_candidates", "engagement_rate", "ndcg10",
        "value", "value_ci", "ranked_searches"}`` (None where there is nothing to measure).
        ``value`` is the mean bandit reward on the ranked sample (``PlanOutcomes.reward``): the
        policy's true value, the quantity its off-policy estimates estimate.
    """
    idx = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, np.int64)
    c = choice[idx]
    hit = outcomes.hit[idx, c].astype(np.float64)
    ranked = outcomes.ranked[idx]
    engaged = outcomes.engaged[idx, c][ranked]
    ndcg = outcomes.ndcg10[idx, c][ranked]
    reward = outcomes.reward[idx, c][ranked] if outcomes.reward is not None else np.array([])
    reward = reward[np.isfinite(reward)]
    return {
        "searches": len(idx),
        "hit_rate": float(hit.mean()) if len(idx) else None,
        "hit_ci": _rate_ci(hit),
        "mean_candidates": float(outcomes.candidates[idx, c].mean()) if len(idx) else None,
        "engagement_rate": _nanmean(engaged),
        "ndcg10": _nanmean(ndcg),
        "value": float(reward.mean()) if len(reward) else None,
        "value_ci": _mean_ci(reward),
        "ranked_searches": int(ranked.sum()),
    }


def value_difference(outcomes: PlanOutcomes, choice: np.ndarray, reference: np.ndarray) -> dict:
    """Paired difference of two arms' true values on the same ranked searches.

    Both arms are scored on the same searches with the same click-model draws, so the
    per-search difference has far less variance than the two arms' own intervals suggest:
    this is the figure that says whether a policy beats another.

    Args:
        outcomes: the day's plan outcomes (with ``reward``).
        choice: ``(n,)`` the arm's plan column per search.
        reference: ``(n,)`` the reference arm's plan column per search.

    Returns:
        ``{"difference", "ci", "searches"}``: the mean of reward(choice) − reward(reference)
        over ranked searches where both rewards are finite, its normal 95% interval, and the
        number of searches (None figures when there are none).
    """
    if outcomes.reward is None:
        return {"difference": None, "ci": [None, None], "searches": 0}
    rows = np.flatnonzero(outcomes.ranked)
    diff = outcomes.reward[rows, choice[rows]] - outcomes.reward[rows, reference[rows]]
    diff = diff[np.isfinite(diff)]
    return {
        "difference": float(diff.mean()) if len(diff) else None,
        "ci": _mean_ci(diff),
        "searches": len(diff),
    }


def softmax_policy_value(
    outcomes: PlanOutcomes,
    scores: np.ndarray,
    reference: np.ndarray,
    *,
    temperature: float,
    epsilon: float,
    eta: float = 0.0,
    eta_columns: Sequence[int] | None = None,
    versus: Mapping[str, np.ndarray] | None = None,
) -> dict:
    """Exact expected true value of a softmax-with-floor policy, from its scores.

    The policy π = (1 − ε) softmax(s / T) + ε / |menu| (``ltrr.bandit.policy``), optionally mixed
    with serving exploration (1 − η) π + η / |E| over the plan columns E (``MenuExploration``).
    Its value on a search is Σ_plan π(plan) · reward(plan): an expectation over the policy's
    draws, so it has no sampling noise from the plan draw, and any temperature can be compared
    on the same searches.

    Args:
        outcomes: the day's plan outcomes (with ``reward``).
        scores: ``(n, P)`` the policy's scores, NaN outside its menu (``chosen_scores``).
        reference: ``(n,)`` the reference arm's plan column (the day-0 rule) for the paired difference.
        temperature: softmax temperature T ≥ 0 (0: greedy).
        epsilon: the policy's uniform floor share ε over its menu.
        eta: serving exploration share η.
        eta_columns: the plan columns serving exploration draws from (default: the policy's menu).
        versus: more reference arms (name → ``(n,)`` plan column), each giving a paired
            difference ``vs_<name>``; e.g. ``served``, the plans the day actually logged.

    Returns:
        ``{"temperature", "epsilon", "eta", "value", "value_ci", "mean_candidates", "vs_day0_rule"}``
        and a ``vs_<name>`` per ``versus`` arm, over the ranked searches whose rewards are all
        finite (None figures when there are none).
    """
    versus = dict(versus or {})
    if outcomes.reward is None or not outcomes.ranked.any():
        empty = {"difference": None, "ci": [None, None], "searches": 0}
        return {
            "temperature": temperature,
            "epsilon": epsilon,
            "eta": eta,
            "value": None,
            "value_ci": [None, None],
            "mean_candidates": None,
            "vs_day0_rule": dict(empty),
            **{f"vs_{name}": dict(empty) for name in versus},
        }
    rows = np.flatnonzero(outcomes.ranked)
    menu = np.flatnonzero(np.isfinite(scores[rows[0]]))
    probs = np.zeros((len(rows), scores.shape[1]))
    probs[:, menu] = softmax_with_floor(scores[np.ix_(rows, menu)], temperature, epsilon)
    if eta > 0.0:
        explore = menu if eta_columns is None else np.asarray(eta_columns, dtype=np.int64)
        probs *= 1.0 - eta
        probs[:, explore] += eta / len(explore)
    support = probs > 0.0
    reward = outcomes.reward[rows]
    usable = np.all(np.isfinite(reward) | ~support, axis=1)
    value = np.where(support, probs * np.where(np.isfinite(reward), reward, 0.0), 0.0).sum(axis=1)[usable]
    candidates = (probs * outcomes.candidates[rows]).sum(axis=1)[usable]

    def paired(arm: np.ndarray) -> dict:
        diff = value - reward[usable, arm[rows][usable]]
        diff = diff[np.isfinite(diff)]
        return {"difference": float(diff.mean()) if len(diff) else None, "ci": _mean_ci(diff), "searches": len(diff)}

    return {
        "temperature": temperature,
        "epsilon": epsilon,
        "eta": eta,
        "value": float(value.mean()) if len(value) else None,
        "value_ci": _mean_ci(value),
        "mean_candidates": float(candidates.mean()) if len(candidates) else None,
        "vs_day0_rule": paired(reference),
        **{f"vs_{name}": paired(arm) for name, arm in versus.items()},
    }


def grouped_metrics(outcomes: PlanOutcomes, choice: np.ndarray) -> dict:
    """An arm's metrics overall, by query kind (intent type) and by query class (head/torso/tail)."""
    everything = np.ones(len(outcomes), dtype=bool)
    return {
        "overall": arm_metrics(outcomes, choice, everything),
        "by_query_kind": {k: arm_metrics(outcomes, choice, outcomes.intent_type == k) for k in QUERY_KINDS},
        "by_query_class": {k: arm_metrics(outcomes, choice, outcomes.query_class == k) for k in QUERY_CLASSES},
    }


def strategy_hit_rates(outcomes: PlanOutcomes) -> dict:
    """Hit rate of each strategy alone (budget 100), overall and by query kind."""

    def rates(mask: np.ndarray) -> dict[str, float | None]:
        if not mask.any():
            return {s: None for s in outcomes.strategies}
        sub = outcomes.strategy_hit[mask]
        return {s: float(sub[:, j].mean()) for j, s in enumerate(outcomes.strategies)}

    return {
        "overall": rates(np.ones(len(outcomes), dtype=bool)),
        "by_query_kind": {k: rates(outcomes.intent_type == k) for k in QUERY_KINDS},
    }


def day_arms(outcomes: PlanOutcomes, choices: Mapping[str, np.ndarray]) -> dict[str, dict]:
    """Every arm's grouped metrics for the day."""
    return {arm: grouped_metrics(outcomes, choice) for arm, choice in choices.items()}


def best_static(arms: Mapping[str, dict]) -> str | None:
    """The static arm with the highest overall hit rate (first on ties)."""
    statics = [(a, m["overall"]["hit_rate"]) for a, m in arms.items() if a.startswith(STATIC)]
    statics = [(a, h) for a, h in statics if h is not None]
    if not statics:
        return None
    return max(statics, key=lambda item: item[1])[0]
