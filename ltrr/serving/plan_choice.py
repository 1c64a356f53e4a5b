"""Plan choice with a learned bandit policy: request -> context features -> plan and propensity.

:class:`LearnedPlanChooser` adapts a :class:`ltrr.bandit.policy.PlanPolicy` (loaded from a
bundle's ``policy/`` with ``load_policy``) to the engines' plan-chooser interface. The context
features come from :func:`ltrr.bandit.context.request_context`, the serving twin of the nightly
job's SQL, with lookups built from the artifacts of the day the policy was published.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ltrr.bandit.context import ContextLookups, request_context
from ltrr.bandit.policy import PlanPolicy
from ltrr.retrieval.plans import Plan


class LearnedPlanChooser:
    """Choose plans with a learned policy (thread-safe: it only reads its policy and lookups).

    Args:
        policy: the plan policy.
        lookups: the counters and memory summary the context features read.
    """

    def __init__(self, policy: PlanPolicy, lookups: ContextLookups) -> None:
        self.policy = policy
        self.lookups = lookups
        self.menu: tuple[Plan, ...] = tuple(policy.menu)
        self.version = str(policy.version)

    def features(self, query: str, context: Mapping[str, str], user_id: str = "") -> dict:
        """The context features of a request (what the policy scores)."""
        return request_context(query, user_id, context, self.lookups)

    def plan_probabilities(self, query: str, context: Mapping[str, str], user_id: str = "") -> np.ndarray:
        """P(plan | request) for every plan of the policy's menu, in menu order."""
        features = self.features(query, context, user_id)
        return self.policy.probabilities(self.policy.spec.encode_row(features))[0]

    def plan_scores(self, query: str, context: Mapping[str, str], user_id: str = "") -> np.ndarray:
        """The policy's scorer output s(x, plan) for every plan of the menu (its probabilities' logits)."""
        features = self.features(query, context, user_id)
        return self.policy.scores(self.policy.spec.encode_row(features))[0]

    def choose(
        self, query: str, context: Mapping[str, str], rng: np.random.Generator, user_id: str = ""
    ) -> tuple[Plan, float]:
        """Draw a plan with the policy's probabilities (one uniform draw) and return its propensity."""
        return self.policy.choose(self.features(query, context, user_id), rng)


def lookups_from_artifacts(data_root: Path, ds: str, *, allow_missing: bool = False) -> ContextLookups:
    """The lookups serving on ``ds + 1`` needs, from the artifacts of ``ds``.

    Reads the counters as of ``ds`` (``artifacts/training_set/ds=D/history``), the memory table of
    ``ds`` (``artifacts/q2e/ds=D/table``) and the entity names of the clean catalog of ``ds``.

    Args:
        data_root: the pipeline's data root.
        ds: the day the artifacts were built.
        allow_missing: give empty lookups for an absent input (as the nightly job does on the
            first days) instead of failing.

    Returns:
        The lookups.

    Raises:
        FileNotFoundError: when an input is absent and ``allow_missing`` is false (serving with
            silently empty counters would choose plans on features the policy never saw).
    """
    from ltrr.zones import artifact_dir, partition_path

    root = Path(data_root)
    history_dir = artifact_dir(root, ds, "training_set") / "history"
    memory_dir = artifact_dir(root, ds, "q2e") / "table"
    catalog_dir = partition_path(root, "clean", "catalog", ds)
    absent = [str(p) for p in (history_dir, memory_dir, catalog_dir) if not p.is_dir()]
    if absent and not allow_missing:
        raise FileNotFoundError(f"context lookups of {ds}: missing {absent}")
    history = (
        pq.read_table(history_dir).to_pandas()
        if history_dir.is_dir()
        else pd.DataFrame(columns=["table", "key1", "key2", "n1", "n2"])
    )
    memory = (
        pq.read_table(memory_dir, columns=["query_key", "score"]).to_pandas()
        if memory_dir.is_dir()
        else pd.DataFrame(columns=["query_key", "score"])
    )
    catalog = (
        pq.read_table(catalog_dir, columns=["entity_type", "title", "artist"]).to_pandas()
        if catalog_dir.is_dir()
        else None
    )
    return context_lookups(catalog, memory, history)


def context_lookups(catalog: pd.DataFrame | None, memory: pd.DataFrame, history: pd.DataFrame) -> ContextLookups:
    """The lookups of the policy's context features from the frames the nightly job reads.

    Args:
        catalog: ``entity_type, title, artist`` of the catalog of the day (None: no entity names).
        memory: the memory table (``query_key, score`` at least).
        history: the counters (``table, key1, key2, n1, n2``).

    Returns:
        The lookups.
    """
    from ltrr.text.normalize import normalize_query

    names = entity_names(catalog, normalize_query) if catalog is not None else set()
    return ContextLookups.from_frames(pd.Series(sorted(names)), memory, history)


def entity_names(catalog: pd.DataFrame, normalize: Callable[[str], str]) -> set[str]:
    """Normalized titles, and artist names of entities that are not the artist (``ltrr.memory.keys``)."""
    names = {normalize(t) for t in catalog["title"].dropna()}
    others = catalog[catalog["entity_type"] != "artist"]
    names |= {normalize(a) for a in others["artist"].dropna()}
    names.discard("")  # as ltrr.memory.keys.entity_keys: an empty key names nothing
    return names
