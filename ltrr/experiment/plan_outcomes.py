"""What every retrieval plan would have done for every search of a replayed day.

For one served day, a Searcher of the bundle that served it runs *every* evaluated plan on each
replayed request (the same requests, catalog and artifacts as the served day):

- **hit**: the intended entity is among the plan's candidates (the quantity learning to
  retrieve is about);
- **candidates**: the number of distinct candidates the plan drew (its cost: what the ranker
  scores);
- on a deterministic, evenly spread sample of searches (``ranked_searches``), the plan's
  candidates are ranked by the bundle's ranker and the top 10 shown without randomization:
  **NDCG@10** against the world's true relevance, with the ideal DCG taken over the pool of every
  plan's candidates (so it does not depend on the plan: a plan that misses the wanted entity
  scores lower), **engaged**: whether the customer would play it ≥ 30 s, like or add a
  result, drawn from the world's click model with the same random numbers for every plan, and
  **reward**: the bandit dataset's reward of that search (``sql/bandit/bandit_rows.sql``: the
  best engaged result's label / 3, minus the cost per candidate row drawn), the quantity the
  learned policy maximizes, so a policy's true value is read off the same draws.

A policy is then just a choice of plan per search (``ltrr.experiment.arms``), and its metrics are
read from these matrices: the comparison is paired, search by search.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ltrr.retrieval.plans import Plan, PlanStep
from ltrr.schemas import ACTIONS, STRATEGIES
from ltrr.sim.replay import ReplayChunk, WorldDay, request_context
from ltrr.sim.scales import make_rng

SHOWN_K = 10
SINGLE_BUDGET = 100
"""Budget of the single-strategy baselines (the menu's total budget)."""
MIN_PLAY_MS = 30_000
"""A play counts as engagement from this long on (the bandit reward's threshold)."""
STREAM_EVALUATION = 11
"""Random stream of the evaluation's customer behaviour (apart from the world's streams)."""

_SHORT = {
    "lexical": "lex",
    "memory": "mem",
    "personalized": "pers",
    "related": "rel",
    "popular": "pop",
    "semantic": "sem",
}
_ENGAGING = np.array([ACTIONS.index(a) for a in ("like", "add")])
_PLAY = ACTIONS.index("play")
_SKIP = ACTIONS.index("skip")


def single_strategy_plan(strategy: str, budget: int = SINGLE_BUDGET) -> Plan:
    """The static plan that calls one strategy with the whole budget (``mem100``, ...)."""
    return Plan(f"{_SHORT[strategy]}{budget}", (PlanStep(strategy, budget),))


def evaluated_plans(runnable: Sequence[Plan], strategies: Sequence[str]) -> tuple[Plan, ...]:
    """The plans an experiment evaluates: the runnable menu, then one single-strategy plan per
    available strategy that the menu lacks (so "the best single strategy" is a baseline).

    Args:
        runnable: the menu plans the bundle can run, in menu order.
        strategies: the strategies the bundle can run.

    Returns:
        Distinct plans, menu first.
    """
    plans = list(runnable)
    ids = {p.plan_id for p in plans}
    for strategy in STRATEGIES:
        if strategy in strategies:
            single = single_strategy_plan(strategy)
            if single.plan_id not in ids:
                plans.append(single)
                ids.add(single.plan_id)
    return tuple(plans)


@dataclass
class PlanOutcomes:
    """Per search × plan outcomes of one replayed day (rows in request order).

    Attributes:
        plan_ids: the evaluated plans (columns).
        menu_size: the first ``menu_size`` plans are the serving menu (the rest are baselines).
        search_ids, intent_type, query_class, target: per search.
        hit: ``(n, P)`` bool, the intended entity is among the plan's candidates.
        candidates: ``(n, P)`` int, distinct candidates drawn.
        ranked: ``(n,)`` bool, the search is in the ranked sample.
        ndcg10: ``(n, P)`` NDCG@10 against true relevance (NaN outside the sample, or when no
            pooled candidate is relevant).
        engaged: ``(n, P)`` 1.0 / 0.0 engagement (NaN outside the sample).
        strategy_hit: ``(n, S)`` bool, the strategy alone at ``SINGLE_BUDGET`` retrieves the
            intended entity (columns ``strategies``).
        strategies: the strategies of ``strategy_hit``.
        chosen: chooser name -> ``(n,)`` plan column the chooser rates most probable per search
            (see ``plan_outcomes(choosers=...)``).
        chosen_scores: chooser name -> ``(n, P)`` the policy's scores s(x, plan) for choosers
            that expose them (``plan_scores``; NaN in columns outside the chooser's menu), so a
            softmax policy's exact expected value can be computed at any temperature.
        reward: ``(n, P)`` the bandit reward the search would have logged (NaN outside the
            sample), or None when not measured.
    """

    plan_ids: tuple[str, ...]
    menu_size: int
    search_ids: list[str]
    intent_type: np.ndarray
    query_class: np.ndarray
    target: list[str]
    hit: np.ndarray
    candidates: np.ndarray
    ranked: np.ndarray
    ndcg10: np.ndarray
    engaged: np.ndarray
    strategy_hit: np.ndarray
    strategies: tuple[str, ...]
    chosen: dict[str, np.ndarray] = field(default_factory=dict)
    reward: np.ndarray | None = None
    chosen_scores: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.search_ids)

    def plan_index(self, plan_ids: Sequence[str]) -> np.ndarray:
        """Column of each plan id (KeyError for a plan that was not evaluated)."""
        index = {p: i for i, p in enumerate(self.plan_ids)}
        return np.array([index[p] for p in plan_ids], dtype=np.int64)


def _dcg(gains: Sequence[float]) -> float:
    g = np.asarray(gains, dtype=np.float64)[:SHOWN_K]
    return float(np.sum(g / np.log2(np.arange(2, len(g) + 2))))


def _sample_mask(n: int, max_ranked: int | None) -> np.ndarray:
    """An evenly spread, deterministic sample of at most ``max_ranked`` of ``n`` searches."""
    mask = np.zeros(n, dtype=bool)
    if max_ranked is None or max_ranked >= n:
        mask[:] = True
    elif max_ranked > 0:
        mask[np.unique(np.linspace(0, n - 1, max_ranked).round().astype(np.int64))] = True
    return mask


def plan_outcomes(
    searcher: object,
    world: WorldDay,
    plans: Sequence[Plan],
    *,
    menu_size: int,
    max_ranked: int | None = 3000,
    seed: int = 0,
    choosers: Mapping[str, object] | None = None,
    cost_per_candidate: float = 0.0,
) -> PlanOutcomes:
    """Run every plan on every replayed request of the day.

    Args:
        searcher: a ``ltrr.serving.Searcher`` of the bundle that served the day, with the day's
            catalog (its retrieval and ranking are used; its plan choice is not).
        world: the replayed day.
        plans: the plans to evaluate (``evaluated_plans``).
        menu_size: how many of ``plans`` form the serving menu.
        max_ranked: searches ranked for NDCG and engagement (None: all).
        seed: seed of the evaluation's behaviour stream.
        choosers: named plan choosers (``menu`` and ``plan_probabilities(query, context,
            user_id)``, e.g. a ``LearnedPlanChooser``) whose most probable plan is recorded per
            search (``PlanOutcomes.chosen``); their plans must be among ``plans``. A chooser
            with ``plan_scores`` also has its scores recorded (``PlanOutcomes.chosen_scores``).
        cost_per_candidate: the bandit reward's cost per candidate row drawn
            (``Settings.bandit_cost_per_candidate``).

    Returns:
        The outcomes.
    """
    strategies = tuple(s for s in STRATEGIES if s in getattr(searcher, "strategies", STRATEGIES))
    chunks = list(world.chunks())
    n_total = sum(len(c) for c in chunks)
    ranked_all = _sample_mask(n_total, max_ranked)
    n_plans = len(plans)
    hit = np.zeros((n_total, n_plans), dtype=bool)
    n_cand = np.zeros((n_total, n_plans), dtype=np.int64)
    ndcg = np.full((n_total, n_plans), np.nan)
    engaged = np.full((n_total, n_plans), np.nan)
    grade = np.full((n_total, n_plans), np.nan)
    drawn = np.zeros((n_total, n_plans), dtype=np.int64)
    strategy_hit = np.zeros((n_total, len(strategies)), dtype=bool)
    columns = {p.plan_id: i for i, p in enumerate(plans)}
    choosers = dict(choosers or {})
    chooser_columns = {
        name: np.array([columns[p.plan_id] for p in chooser.menu], dtype=np.int64)  # type: ignore[attr-defined]
        for name, chooser in choosers.items()
    }
    chosen = {name: np.zeros(n_total, dtype=np.int64) for name in choosers}
    scored = [name for name, chooser in choosers.items() if hasattr(chooser, "plan_scores")]
    chosen_scores = {name: np.full((n_total, n_plans), np.nan) for name in scored}
    # A strategy's own hit is its single-strategy plan's hit when that plan is evaluated anyway.
    single_column: dict[int, int | None] = {}
    for j, strategy in enumerate(strategies):
        single = single_strategy_plan(strategy)
        column = columns.get(single.plan_id)
        single_column[j] = column if column is not None and plans[column].steps == single.steps else None
    unplanned = [j for j, column in single_column.items() if column is None]
    search_ids: list[str] = []
    intent_type: list[str] = []
    query_class: list[str] = []
    target: list[str] = []
    offset = 0
    for chunk in chunks:
        req = chunk.requests
        targets = world.target_ids(chunk)
        search_ids += req.search_ids
        intent_type += world.intent_types(chunk)
        query_class += world.query_classes(chunk)
        target += targets
        shown: list[list[tuple[int, int, str]]] = [[] for _ in range(n_plans)]  # (search, position, entity)
        pool_search: list[int] = []
        pool_entity: list[str] = []
        for i in range(len(chunk)):
            row = offset + i
            query, user = req.queries[i], req.user_ids[i]
            wanted = targets[i]
            for j in unplanned:
                ids, _ = searcher.retrieve(strategies[j], query, user, SINGLE_BUDGET)  # type: ignore[attr-defined]
                strategy_hit[row, j] = wanted in ids
            for name, chooser in choosers.items():
                if name in chosen_scores:
                    # A softmax policy's most probable plan is its best-scored one.
                    scores = chooser.plan_scores(query, request_context(req, i), user)  # type: ignore[attr-defined]
                    chosen_scores[name][row, chooser_columns[name]] = scores
                    chosen[name][row] = chooser_columns[name][int(np.argmax(scores))]
                    continue
                probs = chooser.plan_probabilities(query, request_context(req, i), user)  # type: ignore[attr-defined]
                chosen[name][row] = chooser_columns[name][int(np.argmax(probs))]
            pool: dict[str, None] = {}
            for p, plan in enumerate(plans):
                cands = searcher.candidates(plan, query, user)  # type: ignore[attr-defined]
                distinct = dict.fromkeys(cands.entity_ids)
                hit[row, p] = wanted in distinct
                n_cand[row, p] = len(distinct)
                drawn[row, p] = len(cands)
                if ranked_all[row]:
                    pool.update(distinct)
                    ranked = searcher.rank(query, user, request_context(req, i), cands)  # type: ignore[attr-defined]
                    shown[p] += [(i, pos, e) for pos, (e, _) in enumerate(ranked[:SHOWN_K], start=1)]
            if ranked_all[row]:
                pool_search += [i] * len(pool)
                pool_entity += list(pool)
        _score_ranked(world, chunk, offset, shown, pool_search, pool_entity, ranked_all, (ndcg, engaged, grade), seed)
        offset += len(chunk)
    for j, column in single_column.items():
        if column is not None:
            strategy_hit[:, j] = hit[:, column]
    return PlanOutcomes(
        plan_ids=tuple(p.plan_id for p in plans),
        menu_size=menu_size,
        search_ids=search_ids,
        intent_type=np.asarray(intent_type),
        query_class=np.asarray(query_class),
        target=target,
        hit=hit,
        candidates=n_cand,
        ranked=ranked_all,
        ndcg10=ndcg,
        engaged=engaged,
        strategy_hit=strategy_hit,
        strategies=strategies,
        chosen=chosen,
        reward=grade - cost_per_candidate * drawn,
        chosen_scores=chosen_scores,
    )


def _score_ranked(
    world: WorldDay,
    chunk: ReplayChunk,
    offset: int,
    shown: list[list[tuple[int, int, str]]],
    pool_search: list[int],
    pool_entity: list[str],
    ranked_all: np.ndarray,
    out: tuple[np.ndarray, np.ndarray, np.ndarray],
    seed: int,
) -> None:
    """NDCG@10, engagement and engagement grade of every plan's shown lists in one chunk.

    Fills ``out = (ndcg, engaged, grade)``. The grade is the bandit reward's: the best label
    among the search's engaged results (``sql/rank/labels.sql``: like/add 3, play ≥ 30 s 2,
    skip 0, any other engagement 1), divided by 3.
    """
    ndcg, engaged, grade = out
    n = len(chunk)
    rows = np.flatnonzero(ranked_all[offset : offset + n])
    if not len(rows):
        return
    pool_rel = world.relevance(chunk, np.asarray(pool_search, np.int64), pool_entity)
    ideal = np.zeros(n)
    by_search: dict[int, list[float]] = {}
    for s, r in zip(pool_search, pool_rel.tolist(), strict=True):
        by_search.setdefault(s, []).append(r)
    for s, rels in by_search.items():
        ideal[s] = _dcg(sorted(rels, reverse=True))
    for p, items in enumerate(shown):
        if items:
            s_idx = np.array([s for s, _, _ in items], np.int64)
            pos = np.array([q for _, q, _ in items], np.int64)
            ents = [e for _, _, e in items]
            rel = world.relevance(chunk, s_idx, ents)
            dcg = np.zeros(n)
            np.add.at(dcg, s_idx, rel / np.log2(1 + pos))
            rng = make_rng(seed, STREAM_EVALUATION, world.day.toordinal(), chunk.chunk)  # the same for every plan
            events = world.engagements(chunk, s_idx, pos, ents, rng)
            best = best_labels(events, s_idx, n)
        else:
            dcg = np.zeros(n)
            best = np.zeros(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(ideal > 0, dcg / np.where(ideal > 0, ideal, 1.0), np.nan)
        ndcg[offset + rows, p] = values[rows]
        # Engaged (a like, an add or a play of at least MIN_PLAY_MS) is a best label of 2 or more.
        engaged[offset + rows, p] = (best[rows] >= 2).astype(np.float64)
        grade[offset + rows, p] = best[rows] / 3.0


def best_labels(events: object, shown_search: np.ndarray, n: int) -> np.ndarray:
    """Best graded label per search of the events on shown rows (``sql/rank/labels.sql``).

    Args:
        events: engagement events (``action``, ``amount_ms``, ``shown`` index into the shown rows).
        shown_search: search index of every shown row.
        n: number of searches.

    Returns:
        ``(n,)`` labels: per shown row like/add 3, else a play of at least ``MIN_PLAY_MS`` 2,
        else a skip 0, else any other engagement 1; a row without events 0; the search's best.
    """
    rows = len(shown_search)
    action, amount, shown = events.action, events.amount_ms, events.shown  # type: ignore[attr-defined]
    flags = {}
    for name, mask in (
        ("like", np.isin(action, _ENGAGING)),
        ("play", (action == _PLAY) & (amount >= MIN_PLAY_MS)),
        ("skip", action == _SKIP),
        ("any", np.ones(len(action), dtype=bool)),
    ):
        flag = np.zeros(rows, dtype=bool)
        flag[shown[mask]] = True
        flags[name] = flag
    label = np.select([flags["like"], flags["play"], flags["skip"], flags["any"]], [3, 2, 0, 1], default=0)
    best = np.zeros(n)
    np.maximum.at(best, shown_search, label.astype(np.float64))
    return best
