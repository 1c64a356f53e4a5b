"""Plan choice with a learned bandit policy: request -> context features -> plan and propensity.

:class:`LearnedPlanChooser` adapts a :class:`ltrr.bandit.policy.PlanPolicy` (loaded from a
bundle's ``policy/`` with ``load_policy``) to the engines' plan-chooser interface. The context
features come from :func:`ltrr.bandit.context.request_context`, the serving twin of the nightly
job's SQL, with lookups built from the artifacts of the day the policy was published.
"""

from __future__ import annotations

from collections.abc import Mapping
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

    def choose(
        self, query: str, context: Mapping[str, str], rng: np.random.Generator, user_id: str = ""
    ) -> tuple[Plan, float]:
        """Draw a plan with the policy's probabilities (one uniform draw) and return its propensity."""
        return self.policy.choose(self.features(query, context, user_id), rng)


def lookups_from_artifacts(data_root: Path, ds: str) -> ContextLookups:
    """The lookups serving on ``ds + 1`` needs, from the artifacts of ``ds``.

    Reads the counters as of ``ds`` (``artifacts/training_set/ds=D/history``), the memory table of
    ``ds`` (``artifacts/q2e/ds=D/table``) and the entity names of the clean catalog of ``ds``;
    an absent input gives empty lookups for it, as the nightly job does.

    Args:
        data_root: the pipeline's data root.
        ds: the day the artifacts were built.

    Returns:
        The lookups.
    """
    from ltrr.text.normalize import normalize_query
    from ltrr.zones import artifact_dir, partition_path

    root = Path(data_root)
    history_dir = artifact_dir(root, ds, "training_set") / "history"
    history = (
        pq.read_table(history_dir).to_pandas()
        if history_dir.is_dir()
        else pd.DataFrame(columns=["table", "key1", "key2", "n1", "n2"])
    )
    memory_dir = artifact_dir(root, ds, "q2e") / "table"
    memory = (
        pq.read_table(memory_dir, columns=["query_key", "score"]).to_pandas()
        if memory_dir.is_dir()
        else pd.DataFrame(columns=["query_key", "score"])
    )
    catalog_dir = partition_path(root, "clean", "catalog", ds)
    names: set[str] = set()
    if catalog_dir.is_dir():
        catalog = pq.read_table(catalog_dir, columns=["entity_type", "title", "artist"]).to_pandas()
        names |= {normalize_query(t) for t in catalog["title"].dropna()}
        others = catalog[catalog["entity_type"] != "artist"]
        names |= {normalize_query(a) for a in others["artist"].dropna()}
    names.discard("")  # as ltrr.memory.keys.entity_keys: an empty key names nothing
    return ContextLookups.from_frames(pd.Series(sorted(names)), memory, history)
