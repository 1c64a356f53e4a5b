"""The day-0 search engine: lexical + popular retrieval, an epsilon-greedy plan policy, a
simple scorer. It needs no trained artifact, so it serves the world before the first bundle.

Ranking (the "day-0 scorer"): each candidate entity of the union gets

    score = LEXICAL_WEIGHT * lexical_score / best_lexical_score + POPULARITY_WEIGHT * pop_feature

with ``pop_feature = log1p(1000 * popularity) / log1p(1000)`` in [0, 1] (0 lexical part for
entities only the popular strategy found). Ties go to the candidate retrieved first.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pyarrow as pa

from ltrr.retrieval.lexical import LexicalIndex
from ltrr.retrieval.plans import DAY0_MENU, EpsilonGreedyPolicy, Plan, day0_greedy
from ltrr.retrieval.popular import PopularIndex
from ltrr.serving.engine import CandidateList, EngineFactory, PlanChooser, SearchOutcome, present

LEXICAL_WEIGHT = 0.8
POPULARITY_WEIGHT = 0.2
DAY0_VERSIONS = {"policy_version": "day0", "ranker_version": "day0", "bundle_version": "day0"}
CACHE_SIZE = 20_000
"""Entries of each LRU cache (retrieval results per (strategy, query); ranked lists per (plan, query))."""


class _Retrieved(NamedTuple):
    rows: np.ndarray
    scores: np.ndarray
    candidates: CandidateList


class Day0Engine:
    """Serve searches with lexical and popular retrieval (implements ``SearchEngine``).

    Args:
        lexical: lexical index over the catalog.
        popular: popular index over the same catalog (same row order).
        policy: plan-selection policy over plans that use only lexical/popular: anything with
            ``menu``, ``version`` and ``choose(query, context, rng, user_id=...)`` returning
            ``(plan, propensity)`` (``EpsilonGreedyPolicy``, or a learned policy through
            ``ltrr.serving.plan_choice.LearnedPlanChooser``).
        randomized_share: share of requests shown in a uniformly random order.
        cache_size: retrieval results kept per strategy (an LRU of query -> results).
    """

    def __init__(
        self,
        lexical: LexicalIndex,
        popular: PopularIndex,
        policy: PlanChooser,
        randomized_share: float = 0.05,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        if lexical.entity_ids != popular.entity_ids:
            raise ValueError("lexical and popular indexes must be built from the same catalog")
        self.lexical = lexical
        self.popular = popular
        self.policy = policy
        self.randomized_share = float(randomized_share)
        self.entity_ids = lexical.entity_ids
        self.versions = {**DAY0_VERSIONS, "policy_version": str(getattr(policy, "version", "day0"))}
        self._pop_feature = np.log1p(1000.0 * np.clip(popular.popularity, 0.0, 1.0)) / np.log1p(1000.0)
        self._max_budget = {
            s: max((st.budget for p in policy.menu for st in p.steps if st.strategy == s), default=0)
            for s in ("lexical", "popular")
        }
        self._cache: OrderedDict[tuple[str, str], _Retrieved] = OrderedDict()
        self._ranked_cache: OrderedDict[tuple[str, str, int], tuple[CandidateList, list[tuple[str, float]]]] = (
            OrderedDict()
        )
        self._cache_size = cache_size

    @classmethod
    def from_catalog(cls, catalog: pa.Table, exploration: float = 0.2, randomized_share: float = 0.05) -> Day0Engine:
        """Build the engine for a catalog snapshot.

        Args:
            catalog: Arrow table with the ``catalog`` schema.
            exploration: epsilon of the plan policy.
            randomized_share: share of randomized result lists.

        Returns:
            The engine.
        """
        policy = EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, exploration, version=DAY0_VERSIONS["policy_version"])
        return cls(LexicalIndex.build(catalog), PopularIndex.build(catalog), policy, randomized_share)

    def _retrieve(self, strategy: str, query: str) -> _Retrieved:
        key = (strategy, query)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        budget = self._max_budget.get(strategy, 0)
        if strategy == "lexical":
            rows, scores = self.lexical.search_rows(query, budget)
        elif strategy == "popular":
            rows, scores = self.popular.search_rows(query, budget)
        else:  # a strategy the day-0 engine does not have: no candidates
            rows, scores = [], []
        ids = self.entity_ids
        candidates = CandidateList(
            [ids[r] for r in rows], [strategy] * len(rows), list(range(1, len(rows) + 1)), scores
        )
        out = _Retrieved(np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float64), candidates)
        self._cache[key] = out
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    def rank(self, plan: Plan, query: str, k: int | None = None) -> tuple[CandidateList, list[tuple[str, float]]]:
        """Run a plan: candidates with provenance, and the union ranked by the day-0 scorer.

        Args:
            plan: the retrieval plan.
            query: the raw query.
            k: keep only the top ``k`` of the ranked union (all when None).

        Returns:
            (candidates in plan order, ranked (entity_id, score) best first).
        """
        parts: list[CandidateList] = []
        union_rows: list[np.ndarray] = []
        lex_rows = lex_norm = None
        for step in plan.steps:
            got = self._retrieve(step.strategy, query)
            parts.append(got.candidates[: step.budget])
            rows = got.rows[: step.budget]
            union_rows.append(rows)
            if step.strategy == "lexical" and len(rows):
                lex_rows, lex_norm = rows, got.scores[: step.budget] / got.scores[0]
        candidates = CandidateList.concat(parts)
        if not len(candidates):
            return candidates, []
        allrows = np.concatenate(union_rows)
        _, first = np.unique(allrows, return_index=True)
        rows = allrows[np.sort(first)]
        lex = np.zeros(len(rows))
        if lex_rows is not None:
            order = np.argsort(lex_rows)
            sorted_rows = lex_rows[order]
            pos = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
            found = sorted_rows[pos] == rows
            lex[found] = lex_norm[order][pos[found]]
        score = np.round(LEXICAL_WEIGHT * lex + POPULARITY_WEIGHT * self._pop_feature[rows], 6)
        order = np.lexsort((np.arange(len(rows)), -score))[:k]
        ids = self.entity_ids
        return candidates, [(ids[r], s) for r, s in zip(rows[order].tolist(), score[order].tolist(), strict=True)]

    def _ranked(self, plan: Plan, query: str, k: int) -> tuple[CandidateList, list[tuple[str, float]]]:
        key = (plan.plan_id, query, k)
        hit = self._ranked_cache.get(key)
        if hit is None:
            hit = self.rank(plan, query, k)
            self._ranked_cache[key] = hit
            if len(self._ranked_cache) > self._cache_size:
                self._ranked_cache.popitem(last=False)
        else:
            self._ranked_cache.move_to_end(key)
        return hit

    def search(
        self, query: str, user_id: str, context: Mapping[str, str], k: int, rng: np.random.Generator
    ) -> SearchOutcome:
        """Serve one request (see ``SearchEngine.search``); draws the plan, then the order."""
        plan, propensity = self.policy.choose(query, context, rng, user_id=user_id)
        candidates, ranked = self._ranked(plan, query, k)
        shown, randomized = present(ranked, k, self.randomized_share, rng)
        return SearchOutcome(
            plan_id=plan.plan_id,
            plan=plan.steps,
            propensity=propensity,
            candidates=candidates,
            shown=shown,
            shown_randomized=randomized,
            versions=self.versions,
        )


def day0_engine_factory(exploration: float = 0.2, randomized_share: float = 0.05) -> EngineFactory:
    """An :data:`EngineFactory` that builds a :class:`Day0Engine` from each day's catalog.

    Args:
        exploration: epsilon of the plan policy.
        randomized_share: share of randomized result lists.

    Returns:
        A callable ``(catalog_table, day) -> Day0Engine``.
    """

    def factory(catalog: pa.Table, day: dt.date) -> Day0Engine:
        return Day0Engine.from_catalog(catalog, exploration=exploration, randomized_share=randomized_share)

    return factory
