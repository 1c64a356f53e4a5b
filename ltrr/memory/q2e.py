"""Build the Q2E memory table of one day from the clean logs of a look-back window.

The running memory of which entities worked for a query: observed statistics (counts,
time-decayed counts, position-debiased impressions), cold-start predicted pairs for
entities with little evidence, one Beta-smoothed score per pair, and the top-N entities per
normalized query. The aggregations are the Spark SQL files under ``sql/q2e/``; this module
registers their input views, fills in their parameters and chains them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ltrr.config import Settings
from ltrr.debias.examination import ExaminationCurve, estimate_examination, position_ctr
from ltrr.memory.keys import entity_keys, query_keys
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES
from ltrr.sqlfiles import load_sql
from ltrr.zones import parse_ds, partition_path

KIND_PRIORS: dict[str, float] = {
    "title_artist": 0.30,
    "artist_title": 0.30,
    "title": 0.25,
    "typo": 0.12,
    "prefix": 0.10,
    "artist": 0.05,
}
"""Prior engagement score of a predicted pair, by how its key was generated (docs/memory.md)."""


@dataclass(frozen=True)
class Q2EParams:
    """Parameters of the memory build (from ``Settings``; documented in docs/memory.md)."""

    window_days: int = 30
    half_life_days: float = 7.0
    top_n: int = 50
    prior_strength: float = 5.0
    cold_max_impressions: int = 20
    new_days: int = 7
    max_position: int = 10
    min_top_clicks: int = 30
    min_prefix: int = 4
    min_typo_length: int = 5
    max_typo_length: int = 24

    @classmethod
    def from_settings(cls, settings: Settings) -> Q2EParams:
        """The parameters a run's settings ask for."""
        return cls(
            window_days=settings.q2e_window_days,
            half_life_days=settings.q2e_half_life_days,
            top_n=settings.q2e_top_n,
            prior_strength=settings.q2e_prior_strength,
            cold_max_impressions=settings.q2e_cold_max_impressions,
            new_days=settings.q2e_new_days,
            min_top_clicks=settings.examination_min_top_clicks,
        )


@dataclass
class MemoryBuild:
    """The result of one build: the table and what it was built from."""

    table: DataFrame
    curve: ExaminationCurve
    global_rate: float
    days: list[str]
    missing_days: list[str]
    stats: dict
    cached: list[DataFrame] = field(default_factory=list)

    def release(self) -> None:
        """Unpersist the intermediate frames the build cached (call once the table is written)."""
        for frame in self.cached:
            frame.unpersist()
        self.cached.clear()


def _double(value: float) -> str:
    """A Spark SQL double literal (plain decimals would be parsed as DECIMAL)."""
    return f"{float(value):.17g}D"


def window(ds: str, days: int) -> list[str]:
    """The ``days`` calendar days ending at ``ds`` (inclusive), oldest first."""
    end = parse_ds(ds)
    return [(end - dt.timedelta(days=offset)).isoformat() for offset in range(days - 1, -1, -1)]


def read_partition(
    spark: SparkSession, data_root: Path, zone: str, table: str, ds: str, schema: T.StructType
) -> DataFrame | None:
    """Read one day's partition of ``zone/table`` with its contract schema, or None when it has no files."""
    path = partition_path(data_root, zone, table, ds)
    if not path.is_dir() or not any(path.glob("*.parquet")):
        return None
    return spark.read.schema(schema).parquet(str(path))


def read_clean_window(spark: SparkSession, data_root: Path, table: str, days: list[str]) -> tuple[DataFrame, list[str]]:
    """Read the clean partitions of ``table`` for ``days``, with a string ``ds`` column.

    Days without a clean partition (before the logs began, or rejected days) are skipped
    and returned, so the caller can record them.

    Returns:
        The union of the partitions, and the days that were missing.
    """
    schema = {"searches": SEARCHES, "engagements": ENGAGEMENTS, "catalog": CATALOG}[table]
    frames, missing = [], []
    for day in days:
        path = partition_path(data_root, "clean", table, day)
        if not path.is_dir() or not any(path.glob("*.parquet")):
            missing.append(day)
            continue
        frames.append(spark.read.schema(schema).parquet(str(path)).withColumn("ds", F.lit(day)))
    if not frames:
        raise FileNotFoundError(f"no clean {table} partition in the window {days[0]}..{days[-1]} under {data_root}")
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out, missing


def build_memory(
    spark: SparkSession,
    params: Q2EParams,
    ds: str,
    searches: DataFrame,
    engagements: DataFrame,
    catalog: DataFrame,
    previous_curve: ExaminationCurve | None = None,
) -> MemoryBuild:
    """Build the memory table of ``ds`` from the window's clean logs and the day's catalog.

    Args:
        spark: the session (temp views are registered on it).
        params: build parameters.
        ds: the day of the table (ages and decay are counted from it).
        searches: clean searches of the window, with a string ``ds`` column.
        engagements: clean engagements of the window.
        catalog: the catalog snapshot of ``ds``.
        previous_curve: the last examination curve, used when the window is too thin.

    Returns:
        The (lazy) memory table with the examination curve and global rate it used.
    """
    searches.createOrReplaceTempView("window_searches")
    engagements.createOrReplaceTempView("window_engagements")
    # The position-CTR SQL reads the views under their generic names.
    searches.createOrReplaceTempView("searches")
    engagements.createOrReplaceTempView("engagements")

    curve = estimate_examination(
        position_ctr(spark, params.max_position),
        max_position=params.max_position,
        min_top_clicks=params.min_top_clicks,
        previous=previous_curve,
    )
    spark.createDataFrame(
        [(p, float(curve.at(p))) for p in range(1, params.max_position + 1)], "position INT, exam DOUBLE"
    ).createOrReplaceTempView("examination")

    qk = query_keys(searches).cache()
    qk.createOrReplaceTempView("query_keys")
    observed = spark.sql(
        load_sql(
            "q2e/observed_pairs",
            ds=ds,
            half_life_days=_double(params.half_life_days),
            max_position=params.max_position,
        )
    ).cache()
    observed.createOrReplaceTempView("observed")

    totals = observed.agg(
        F.sum("positives_decayed").alias("pos"),
        F.sum(F.greatest("debiased_impressions_decayed", "positives_decayed")).alias("trials"),
        F.count(F.lit(1)).alias("pairs"),
    ).collect()[0]
    trials = float(totals["trials"] or 0.0)
    global_rate = float(totals["pos"] or 0.0) / trials if trials > 0 else 0.0

    observed.groupBy("entity_id").agg(F.sum("impressions").alias("impressions")).createOrReplaceTempView(
        "entity_evidence"
    )
    # Cached because predicted_pairs reads its `cold` CTE four times and Spark inlines CTEs:
    # uncached, the Python normalization of every catalog text ran once per read (measured
    # on a small day: the predicted pairs took 10 s instead of 3.5 s).
    keys = entity_keys(catalog).cache()
    keys.createOrReplaceTempView("entity_keys")
    spark.createDataFrame(sorted(KIND_PRIORS.items()), "kind STRING, prior DOUBLE").createOrReplaceTempView(
        "kind_priors"
    )
    predicted = spark.sql(
        load_sql(
            "q2e/predicted_pairs",
            ds=ds,
            new_days=params.new_days,
            cold_max_impressions=params.cold_max_impressions,
            min_prefix=params.min_prefix,
            min_typo_length=params.min_typo_length,
            max_typo_length=params.max_typo_length,
        )
    )
    predicted.createOrReplaceTempView("predicted")
    table = spark.sql(
        load_sql(
            "q2e/memory_table",
            ds=ds,
            top_n=params.top_n,
            prior_strength=_double(params.prior_strength),
            global_rate=_double(global_rate),
        )
    )
    return MemoryBuild(
        table=table,
        curve=curve,
        global_rate=global_rate,
        days=[],
        missing_days=[],
        stats={"observed_pairs": int(totals["pairs"])},
        cached=[qk, observed, keys],
    )
