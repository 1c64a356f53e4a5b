"""``Searcher``: the reference consumer of a bundle, and the engine of the simulated world's loop.

``Searcher(bundle).search(query, user_id, context, k)``:

1. **Plan.** The bundle's policy (``policy/``, through ``LearnedPlanChooser``) scores the plans
   it learned; without one, the day-0 rule (``day0_greedy``) picks. A share
   ``exploration`` of requests draws uniformly from every plan the bundle can run
   (``ltrr.serving.exploration.MenuExploration``), and the exact probability of the chosen plan
   is the logged propensity.
2. **Retrieve.** Each step of the plan calls its strategy with its budget:

   | strategy | artifact | what it does | when it has nothing |
   |---|---|---|---|
   | lexical | ``retrieval/lexical`` | BM25 with field weights and typo tolerance (tantivy) | no query terms |
   | memory | ``q2e/serving`` | the query's remembered entities (normalized query) | unseen query |
   | personalized | ``embeddings`` | user vector → entities by inner product (Annoy) | unknown user: popularity |
   | related | ``embeddings`` | the top memory (else lexical) hits → their nearest entities | no hit with a vector |
   | popular | ``retrieval/catalog`` | most popular entities of the named type/genre/topic | never empty |
   | semantic | ``retrieval/semantic`` | LSA vector of the query → nearest entity texts | no known term |

   A strategy whose artifact the bundle lacks returns nothing (the plan still runs).
3. **Union with provenance.** Every (entity, strategy, rank, score) is kept, in plan order.
4. **Rank.** The bundle's ranker scores the union's entities with the training features
   (``ltrr.serving.ranker_features``, parity-tested against the Spark rows); without a ranker,
   the day-0 scorer (lexical match and popularity) orders them.
5. **Present.** The top ``k``; a share ``randomized_share`` in uniformly random order.

The result is a ``SearchOutcome`` (ranked results plus everything the ``searches`` log needs);
``ltrr.serving.record.search_record`` turns it into a log row.

Thread-safety: after construction a Searcher only reads its indexes and lookups; the one
mutable part, the retrieval cache, is guarded by a lock; randomness comes only from the
caller's generator (or a fresh one per call). So one Searcher serves many threads.

Serving day: features that count days (an entity's age) use ``serving_day``, by default the
day after the bundle's day (the bundle of D serves D + 1). Catalog: the bundle's (of D), unless
a fresher snapshot is passed (``catalog=``), which the popular strategy and the ranker's entity
features then read.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from ltrr.retrieval.plans import DAY0_MENU, DAY0_STRATEGIES, EpsilonGreedyPolicy, Plan, day0_greedy, menu_for
from ltrr.serving.bundle import Bundle
from ltrr.serving.engine import CandidateList, SearchOutcome, present
from ltrr.serving.exploration import MenuExploration

DAY0_VERSION = "day0"


def day0_rule_chooser() -> EpsilonGreedyPolicy:
    """The day-0 rule as a deterministic plan chooser (no exploration: ``MenuExploration`` adds it).

    It serves when a bundle has no policy (or the policy is switched off), and it is the
    experiment's ``day0_rule`` arm: the logging policy the learned policy must beat.
    """
    return EpsilonGreedyPolicy(DAY0_MENU, day0_greedy, 0.0, version=DAY0_VERSION)


LEXICAL_WEIGHT = 0.8
POPULARITY_WEIGHT = 0.2
CACHE_SIZE = 20_000


@dataclass(frozen=True)
class SearcherParams:
    """How a Searcher explores and presents.

    Attributes:
        exploration: share of requests whose plan is drawn uniformly from every runnable plan.
        randomized_share: share of requests shown in a uniformly random order.
        related_seeds: top hits whose neighbours the related strategy merges.
        cache_size: (strategy, query) results kept in the retrieval cache (0 disables it).
        exact_max_items: personalized and related search all item vectors exactly (one
            matrix-vector product) up to this many items, through Annoy above (None: always Annoy).
        use_policy: choose plans with the bundle's policy when it has one; False serves the day-0
            rule instead (a kill switch for a policy, and the baseline of policy comparisons).
    """

    exploration: float = 0.1
    randomized_share: float = 0.05
    related_seeds: int = 3
    cache_size: int = CACHE_SIZE
    exact_max_items: int | None = 200_000
    use_policy: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> SearcherParams:
        """The parameters of the run settings (``LTRR_SERVING_*``)."""
        return cls(exploration=settings.serving_exploration, randomized_share=settings.serving_randomized_share)


class Searcher:
    """Serve searches from a bundle (implements ``ltrr.serving.engine.SearchEngine``).

    Args:
        bundle: a verified bundle (``ltrr.serving.load_bundle``); it must carry ``retrieval``.
        params: exploration and presentation parameters.
        serving_day: the day served (age features); default the bundle's day + 1.
        catalog: the current catalog snapshot (``catalog`` schema), when serving has one fresher
            than the bundle's: the popular strategy and the ranker's entity features read it,
            as the training rows of a search read the catalog of its own day; when it holds
            entities the bundle's indexes lack, the lexical index is rebuilt from it (in memory)
            and those entities are folded into the semantic model. Default: the bundle's catalog.
        chooser: a base plan chooser to use instead of the bundle's policy (anything with
            ``menu``, ``version`` and ``plan_probabilities(query, context, user_id)``, e.g. a
            ``LearnedPlanChooser`` of a policy learned elsewhere, or a fixed plan for a
            baseline); exploration is still mixed in.

    Raises:
        KeyError: the bundle has no retrieval artifact (nothing to search with).
    """

    def __init__(
        self,
        bundle: Bundle,
        params: SearcherParams | None = None,
        *,
        serving_day: dt.date | None = None,
        catalog: pa.Table | None = None,
        chooser: Any | None = None,
    ):
        import pyarrow.parquet as pq

        from ltrr.retrieval.lexical import LexicalIndex
        from ltrr.retrieval.popular import PopularIndex
        from ltrr.retrieval.semantic import SemanticIndex

        self.bundle = bundle
        self.params = params or SearcherParams()
        self.serving_day = serving_day or (dt.date.fromisoformat(bundle.ds) + dt.timedelta(days=1))
        retrieval = bundle.artifact("retrieval")
        self.bundle_catalog: pa.Table = pq.read_table(retrieval / "catalog.parquet", memory_map=True)
        self.catalog: pa.Table = self.bundle_catalog if catalog is None else catalog
        self.counters = pq.read_table(retrieval / "counters.parquet").to_pandas()
        self.lexical = LexicalIndex.open(retrieval / "lexical", private_copy=True)  # the bundle stays as verified
        self.semantic = SemanticIndex.open(retrieval / "semantic")
        if catalog is not None and not set(catalog.column("entity_id").to_pylist()) <= set(self.lexical.entity_ids):
            # Entities added since the bundle's day: index today's snapshot (what the day-0 engine
            # does every day) and fold the new entities into the bundle's semantic model.
            self.lexical = LexicalIndex.build(catalog)
            self.semantic = self.semantic.with_catalog(catalog)
        self.popular = PopularIndex.build(self.catalog)
        self._row = {e: i for i, e in enumerate(self.popular.entity_ids)}
        self._pop_feature = np.log1p(1000.0 * np.clip(self.popular.popularity, 0.0, 1.0)) / np.log1p(1000.0)

        self.memory = self._load_memory()
        self._memory_rows = self._memory_table()  # read once: the ranker's and the policy's lookups share it
        self.embeddings = self._load_embeddings()
        self.ranker = self._load_ranker()
        self.ranker_lookups = self._ranker_lookups()
        strategies = set(DAY0_STRATEGIES) | {"semantic"}
        if self.memory is not None:
            strategies.add("memory")
        if self.embeddings is not None:
            strategies |= {"personalized", "related"}
        self.strategies = frozenset(strategies)
        base = chooser if chooser is not None else self._base_chooser()
        self.policy = MenuExploration(base, menu_for(self.strategies), self.params.exploration)
        self.versions = {
            "policy_version": self.policy.version,
            "ranker_version": bundle.version if self.ranker is not None else DAY0_VERSION,
            "bundle_version": bundle.version,
        }
        self._retrievers: dict[str, Callable[[str, str, int], tuple[list[str], list[float]]]] = {
            "lexical": self._lexical,
            "memory": self._memory,
            "personalized": self._personalized,
            "related": self._related,
            "popular": self._popular,
            "semantic": self._semantic,
        }
        self._max_budget = {
            s: max((st.budget for p in self.policy.menu for st in p.steps if st.strategy == s), default=0)
            for s in self._retrievers
        }
        self._cache: OrderedDict[tuple[str, str], tuple[list[str], list[float]]] = OrderedDict()
        self._lock = threading.Lock()

    # --- loading --------------------------------------------------------------------------
    def _load_memory(self) -> Any:
        from ltrr.retrieval.memory import MemoryIndex

        return MemoryIndex.from_table(self.bundle.q2e_serving()) if self.bundle.has("q2e") else None

    def _load_embeddings(self) -> Any:
        from ltrr.embed.index import EmbeddingIndex

        if not self.bundle.has("embeddings"):
            return None
        return EmbeddingIndex.load(self.bundle.artifact("embeddings"), exact_max_items=self.params.exact_max_items)

    def _load_ranker(self) -> Any:
        from ltrr.rank.export import load_ranker
        from ltrr.rank.features import FEATURE_NAMES

        if not self.bundle.has("ranker"):
            return None
        ranker = load_ranker(self.bundle.artifact("ranker"))
        if tuple(ranker.spec.names) != FEATURE_NAMES:
            raise ValueError(
                f"bundle {self.bundle.version}: the ranker's features differ from this code's "
                f"(ltrr.rank.features.FEATURE_NAMES); serve it with the ltrr version that trained it"
            )
        return ranker

    def _memory_table(self) -> Any:
        import pandas as pd
        import pyarrow.parquet as pq

        columns = ["query_key", "entity_id", "rank", "score", "trials", "predicted_kind"]
        if not self.bundle.has("q2e"):
            return pd.DataFrame(columns=columns)
        return pq.read_table(self.bundle.artifact("q2e") / "table", columns=columns).to_pandas()

    def _ranker_lookups(self) -> Any:
        from ltrr.serving.ranker_features import RankerLookups

        emb = self.embeddings
        if emb is None:
            empty = np.zeros((0, 0), dtype=np.float32)
            users, user_factors, items, item_factors = [], empty, [], empty
        else:
            users, user_factors, items, item_factors = emb.user_ids, emb.user_factors, emb.entity_ids, emb.item_factors
        return RankerLookups.from_frames(
            catalog=self.catalog,
            memory=self._memory_rows,
            history=self.counters,
            user_ids=users,
            user_factors=user_factors,
            entity_ids_with_vectors=items,
            item_factors=item_factors,
        )

    def _base_chooser(self) -> Any:
        if not self.bundle.has("policy") or not self.params.use_policy:
            return day0_rule_chooser()

        from ltrr.serving.plan_choice import LearnedPlanChooser

        return LearnedPlanChooser(self.bundle.plan_policy(), self.policy_lookups())

    def policy_lookups(self) -> Any:
        """The plan policy's context lookups from this bundle (a ``ContextLookups``).

        The bandit rows read the entity names of the day before (the bundle's catalog), the
        memory table and the counters of the bundle: so does a policy served from it.
        """
        from ltrr.serving.plan_choice import context_lookups

        catalog = self.bundle_catalog.select(["entity_type", "title", "artist"]).to_pandas()
        return context_lookups(catalog, self._memory_rows, self.counters)

    # --- strategies -------------------------------------------------------------------------
    def _lexical(self, query: str, user_id: str, budget: int) -> tuple[list[str], list[float]]:
        rows, scores = self.lexical.search_rows(query, budget)
        ids = self.lexical.entity_ids
        return [ids[r] for r in rows], scores

    def _popular(self, query: str, user_id: str, budget: int) -> tuple[list[str], list[float]]:
        rows, scores = self.popular.search_rows(query, budget)
        ids = self.popular.entity_ids
        return [ids[r] for r in rows], scores

    def _semantic(self, query: str, user_id: str, budget: int) -> tuple[list[str], list[float]]:
        rows, scores = self.semantic.search_rows(query, budget)
        ids = self.semantic.entity_ids
        return [ids[r] for r in rows], scores

    def _memory(self, query: str, user_id: str, budget: int) -> tuple[list[str], list[float]]:
        if self.memory is None:
            return [], []
        return self.memory.search(query, budget)

    def _personalized(self, query: str, user_id: str, budget: int) -> tuple[list[str], list[float]]:
        if self.embeddings is None:
            return [], []
        got = self.embeddings.personalized(user_id, budget)
        return got.entity_ids, got.scores

    def _related(self, query: str, user_id: str, budget: int) -> tuple[list[str], list[float]]:
        """Neighbours of the query's top hits (memory first, else lexical), merged round-robin."""
        if self.embeddings is None or budget <= 0:
            return [], []
        seeds, _ = self.retrieve("memory", query, user_id, self.params.related_seeds)
        if not seeds:
            seeds, _ = self.retrieve("lexical", query, user_id, self.params.related_seeds)
        lists = [self.embeddings.related(s, budget) for s in seeds[: self.params.related_seeds]]
        seen = set(seeds)
        ids: list[str] = []
        scores: list[float] = []
        for i in range(budget):
            for got in lists:
                if i < len(got.entity_ids) and got.entity_ids[i] not in seen:
                    seen.add(got.entity_ids[i])
                    ids.append(got.entity_ids[i])
                    scores.append(float(got.scores[i]))
            if len(ids) >= budget:
                break
        return ids[:budget], scores[:budget]

    def retrieve(self, strategy: str, query: str, user_id: str, budget: int) -> tuple[list[str], list[float]]:
        """Run one strategy: its best ``budget`` entities and their scores, best first.

        Args:
            strategy: a strategy name of ``ltrr.schemas.STRATEGIES``.
            query: the raw query.
            user_id: the customer (personalized only).
            budget: maximum number of results.

        Returns:
            (entity ids, scores); empty when the strategy has nothing (see the module table).
        """
        if budget <= 0:
            return [], []
        per_user = strategy == "personalized"
        top = self._max_budget.get(strategy, 0)
        if budget > top or not self.params.cache_size:
            return self._retrievers[strategy](query, user_id, budget)
        key = (strategy, user_id if per_user else query)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is None:
            hit = self._retrievers[strategy](query, user_id, top)
            with self._lock:
                self._cache[key] = hit
                if len(self._cache) > self.params.cache_size:
                    self._cache.popitem(last=False)
        return hit[0][:budget], hit[1][:budget]

    # --- ranking ----------------------------------------------------------------------------
    def candidates(self, plan: Plan, query: str, user_id: str) -> CandidateList:
        """Run a plan: every candidate with its provenance, in plan order."""
        parts = []
        for step in plan.steps:
            ids, scores = self.retrieve(step.strategy, query, user_id, step.budget)
            parts.append(CandidateList(ids, [step.strategy] * len(ids), list(range(1, len(ids) + 1)), scores))
        return CandidateList.concat(parts)

    def rank(
        self, query: str, user_id: str, context: Mapping[str, str], candidates: CandidateList
    ) -> list[tuple[str, float]]:
        """Order the union of the candidates, best first, as ``(entity_id, score)``.

        With a ranker: its score of the training features; ties keep first-retrieved order.
        Without: the day-0 scorer (0.8 x lexical score / best lexical score + 0.2 x popularity).
        """
        if not len(candidates):
            return []
        if self.ranker is not None:
            ids, matrix = self.features(query, user_id, context, candidates)
            scores = self.ranker.booster.predict(self._fill_defaults(matrix), num_threads=1)
        else:
            ids, scores = self._day0_scores(candidates)
        order = np.lexsort((np.arange(len(ids)), -np.asarray(scores)))
        return [(ids[i], float(scores[i])) for i in order.tolist()]

    def features(
        self, query: str, user_id: str, context: Mapping[str, str], candidates: CandidateList
    ) -> tuple[list[str], np.ndarray]:
        """The ranker's features of the union's entities (``ltrr.serving.ranker_features``).

        Returns:
            (entity ids in first-retrieved order, float64 matrix in ``FEATURE_NAMES`` order, NaN = missing).
        """
        from ltrr.serving.ranker_features import ranker_features

        return ranker_features(
            self.ranker_lookups,
            query=query,
            user_id=user_id,
            context=context,
            candidates=candidates,
            serving_day=self.serving_day,
        )

    def _fill_defaults(self, matrix: np.ndarray) -> np.ndarray:
        for j, feature in enumerate(self.ranker.spec.features):
            if feature.default is not None:
                column = matrix[:, j]
                column[np.isnan(column)] = feature.default
        return matrix

    def _day0_scores(self, candidates: CandidateList) -> tuple[list[str], np.ndarray]:
        ids = list(dict.fromkeys(candidates.entity_ids))
        lex: dict[str, float] = {}
        pairs = zip(candidates.scores, candidates.strategies, strict=True)
        best = max((s for s, st in pairs if st == "lexical"), default=0.0)
        if best > 0:
            for e, s, st in zip(candidates.entity_ids, candidates.scores, candidates.strategies, strict=True):
                if st == "lexical" and e not in lex:
                    lex[e] = s / best
        pop = np.array([self._pop_feature[self._row[e]] if e in self._row else 0.0 for e in ids])
        lex_arr = np.array([lex.get(e, 0.0) for e in ids])
        return ids, np.round(LEXICAL_WEIGHT * lex_arr + POPULARITY_WEIGHT * pop, 6)

    # --- the request ------------------------------------------------------------------------
    def search(
        self,
        query: str,
        user_id: str,
        context: Mapping[str, str],
        k: int,
        rng: np.random.Generator | None = None,
    ) -> SearchOutcome:
        """Serve one request.

        Args:
            query: the raw query (may be empty).
            user_id: the customer.
            context: request context: ``local_hour``, ``weekday``, ``session_seq``, ``locale``,
                ``device`` (missing keys get the features' defaults).
            k: results to show.
            rng: random generator for the plan draw and the randomized order (a fresh one
                when None); pass one for reproducible runs.

        Returns:
            The outcome: plan, propensity, candidates with provenance, shown results, versions.
        """
        rng = rng if rng is not None else np.random.default_rng()
        plan, propensity = self.policy.choose(query, context, rng, user_id=user_id)
        candidates = self.candidates(plan, query, user_id)
        ranked = self.rank(query, user_id, context, candidates)
        shown, randomized = present(ranked, k, self.params.randomized_share, rng)
        return SearchOutcome(
            plan_id=plan.plan_id,
            plan=plan.steps,
            propensity=propensity,
            candidates=candidates,
            shown=shown,
            shown_randomized=randomized,
            versions=self.versions,
        )


def searcher_factory(
    bundle: Bundle, params: SearcherParams | None = None, chooser: Any | None = None
) -> Callable[[pa.Table, dt.date], Searcher]:
    """An ``EngineFactory`` that serves every day with a ``Searcher`` of one bundle.

    The bundle of day D serves D + 1 in the closed loop. Each day's Searcher gets that day's
    catalog snapshot (the factory's first argument) as its fresh catalog, exactly what the
    training rows of that day's searches will read.

    Args:
        bundle: the verified bundle.
        params: the Searcher parameters.
        chooser: a base plan chooser instead of the bundle's policy (see :class:`Searcher`).

    Returns:
        A callable ``(catalog_table, day) -> Searcher`` for ``ltrr.sim.simulate``.
    """

    def factory(catalog: pa.Table, day: dt.date) -> Searcher:
        return Searcher(bundle, params, serving_day=day, catalog=catalog, chooser=chooser)

    return factory
