"""The bandit dataset in Spark: one row per logged search, from ``sql/bandit/bandit_rows.sql``.

Every row carries the context features of :data:`ltrr.bandit.context.BANDIT_CONTEXT_SPEC` (as
of the search: the counters of the window ending the day before, the memory table of the day
before), the logged plan with its features and propensity, the reward (graded engagement minus
a cost per candidate drawn) and one hit flag per strategy (did it retrieve the engaged entity).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
from ltrr.bandit.plan_features import PLAN_FEATURE_NAMES
from ltrr.config import Settings
from ltrr.rank.training_set import HISTORY_TABLES, entity_name_keys
from ltrr.schemas import STRATEGIES
from ltrr.sqlfiles import load_sql

HIT_COLUMNS: tuple[str, ...] = tuple(f"hit_{s}" for s in STRATEGIES)
"""Per-strategy flags: 1 when the strategy retrieved the search's best engaged entity."""

REWARD_COLUMNS: tuple[str, ...] = (
    "reward",
    "engagement_grade",
    "cost",
    "best_label",
    "engaged_entity_id",
    "n_engaged",
    "n_candidates",
    "n_union",
)
"""The reward and what it is made of."""

DATASET_COLUMNS: tuple[str, ...] = (
    "search_id",
    "ds",
    "user_id",
    "plan_id",
    "plan",
    "propensity",
    "policy_version",
    *REWARD_COLUMNS,
    *HIT_COLUMNS,
    *PLAN_FEATURE_NAMES,
    *BANDIT_CONTEXT_SPEC.names,
)
"""Columns of the dataset's rows, in file order."""


@dataclass(frozen=True)
class BanditDatasetParams:
    """How the dataset is built.

    Attributes:
        cost_per_candidate: reward units charged per candidate drawn (every candidate row).
        history_days: window of the counters the context features read (shared with the ranker).
        min_play_ms: a play at least this long is label 2 (shared with the ranker).
    """

    cost_per_candidate: float = 0.0002
    history_days: int = 30
    min_play_ms: int = 30_000

    def __post_init__(self) -> None:
        if not self.cost_per_candidate >= 0:
            raise ValueError(f"cost_per_candidate must be >= 0, got {self.cost_per_candidate}")

    @classmethod
    def from_settings(cls, settings: Settings) -> BanditDatasetParams:
        """The parameters of the run settings."""
        return cls(cost_per_candidate=settings.bandit_cost_per_candidate, history_days=settings.rank_history_days)


def memory_queries(memory: DataFrame) -> DataFrame:
    """Per query of a memory table: how many entities it holds and their best score."""
    return memory.groupBy("query_key").agg(
        F.count(F.lit(1)).alias("entities"), F.max("score").cast("double").alias("top_score")
    )


def bandit_rows(
    spark: SparkSession,
    params: BanditDatasetParams,
    *,
    searches: DataFrame,
    engagements: DataFrame,
    catalog: DataFrame,
    memory: DataFrame,
    history: DataFrame,
) -> DataFrame:
    """Build the bandit rows of one day.

    Args:
        spark: the session (temp views are registered on it).
        params: build parameters.
        searches: clean searches of the day, with ``ds`` and ``query_key``
            (``ltrr.rank.training_set.with_query_keys``).
        engagements: clean engagements of the day (the reward only, never a feature).
        catalog: the catalog snapshot serving knew (the day before's): its entity names.
        memory: the memory table of the day before (``query_key, entity_id, score`` at least).
        history: counters over the window ending the day before (``history_stats``).

    Returns:
        One row per search, columns :data:`DATASET_COLUMNS`.
    """
    searches.createOrReplaceTempView("day_searches")
    engagements.createOrReplaceTempView("day_engagements")
    spark.sql(load_sql("rank/labels", min_play_ms=int(params.min_play_ms))).createOrReplaceTempView("day_labels")
    entity_name_keys(catalog).createOrReplaceTempView("entity_names")
    memory_queries(memory).createOrReplaceTempView("memory_queries")
    for table in HISTORY_TABLES:
        history.where(F.col("table") == table).createOrReplaceTempView(f"hist_{table}")
    cost = f"{float(params.cost_per_candidate):.12f}"  # a plain decimal literal, never an exponent
    return spark.sql(load_sql("bandit/bandit_rows", cost_per_candidate=cost)).select(*DATASET_COLUMNS)
