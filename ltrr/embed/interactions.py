"""Build the user × entity confidence matrix of one day from the clean engagements of a window.

The Spark side of the embeddings: weighs every engagement of the look-back window by action
and play time, decays it by age, sums it per (user, entity) and per (normalized query,
entity), assigns dense ids (0..n-1 in sorted id order) and writes the matrix with its id maps
under ``artifacts/interactions/ds=D/``::

    pairs/           user_idx, entity_idx, user_id, entity_id, engagements, weight, confidence
                     (positive pairs only: weight > 0)
    users/           user_idx, user_id, entities, weight
    entities/        entity_idx, entity_id, users, weight
    query_entities/  query_key, entity_idx, entity_id, engagements, weight (entities of the matrix only)
    day_pairs/       user_id, entity_id, engagements, weight: positive pairs of day D alone
                     (what the next-day evaluation of the previous model compares against)
    report.json      counts: engagements in, used and excluded by reason, pairs, users, entities

Nothing is dropped silently: every engagement of the window is either used or counted under
an exclusion reason, and non-positive pairs (e.g. a click followed by a skip) are counted.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ltrr.config import Settings
from ltrr.embed.params import ACTION_WEIGHTS, MIN_WEIGHT, PLAY_FULL_MS, PLAY_TIME_WEIGHT, EmbedParams
from ltrr.memory.artifact import publish, staging_dir, write_json
from ltrr.memory.keys import query_keys
from ltrr.memory.q2e import read_clean_window, window
from ltrr.schemas import CATALOG
from ltrr.sqlfiles import load_sql
from ltrr.zones import artifact_dir, partition_path

ARTIFACT = "interactions"
TABLES = ("pairs", "users", "entities", "query_entities", "day_pairs")


def _double(value: float) -> str:
    """A Spark SQL double literal (plain decimals would be parsed as DECIMAL)."""
    return f"{float(value):.17g}D"


@dataclass
class InteractionsBuild:
    """The (lazy) tables of one build; see the module docstring for their columns."""

    pairs: DataFrame
    users: DataFrame
    entities: DataFrame
    query_entities: DataFrame
    day_pairs: DataFrame
    weighted: DataFrame
    all_pairs: DataFrame


def weight_params(params: EmbedParams, ds: str) -> dict[str, str]:
    """The parameters of ``sql/embed/weighted_engagements.sql`` (weights as double literals)."""
    return {
        "ds": ds,
        "w_click": _double(ACTION_WEIGHTS["click"]),
        "w_play": _double(ACTION_WEIGHTS["play"]),
        "w_play_time": _double(PLAY_TIME_WEIGHT),
        "play_full_ms": _double(PLAY_FULL_MS),
        "w_like": _double(ACTION_WEIGHTS["like"]),
        "w_add": _double(ACTION_WEIGHTS["add"]),
        "w_skip": _double(ACTION_WEIGHTS["skip"]),
        "half_life_days": _double(params.half_life_days),
    }


def _dense(frame: DataFrame, key: str, idx: str) -> DataFrame:
    """Distinct ``key`` values numbered 0..n-1 in sorted order (deterministic dense ids)."""
    order = Window.orderBy(key)
    return frame.select(key).distinct().withColumn(idx, (F.row_number().over(order) - 1).cast("int"))


def build_interactions(
    spark: SparkSession,
    params: EmbedParams,
    ds: str,
    engagements: DataFrame,
    searches: DataFrame,
    catalog: DataFrame,
) -> InteractionsBuild:
    """Build the interaction tables of ``ds`` from the window's clean logs.

    Args:
        spark: the session (temp views are registered on it).
        params: build parameters (half-life, alpha).
        ds: the day of the matrix (ages and decay are counted from it).
        engagements: clean engagements of the window, with a string ``ds`` column.
        searches: clean searches of the window (``search_id``, ``query``).
        catalog: the clean catalog snapshot of ``ds`` (entities that can be served).

    Returns:
        The lazy tables (the caller writes them); ``weighted`` holds every engagement with
        its weight, decay and exclusion reason, and ``all_pairs`` every pair with its
        ``positive`` flag, for the counts of the report (these two and ``pairs`` are cached:
        unpersist them).
    """
    engagements.createOrReplaceTempView("window_engagements")
    keys = query_keys(searches)
    searches.select("search_id", "query").join(keys, "query", "left").select(
        "search_id", "query_key"
    ).createOrReplaceTempView("search_keys")
    catalog.select("entity_id").distinct().createOrReplaceTempView("catalog_ids")
    weighted = spark.sql(load_sql("embed/weighted_engagements", **weight_params(params, ds))).cache()
    weighted.createOrReplaceTempView("weighted_engagements")

    def pairs_sql(max_age_days: int) -> DataFrame:
        return spark.sql(
            load_sql(
                "embed/interactions",
                alpha=_double(params.alpha),
                min_weight=_double(MIN_WEIGHT),
                max_age_days=max_age_days,
            )
        )

    all_pairs = pairs_sql(params.window_days - 1).cache()
    positive = all_pairs.where("positive").drop("positive")
    users_idx = _dense(positive, "user_id", "user_idx")
    entities_idx = _dense(positive, "entity_id", "entity_idx")
    pairs = positive.join(users_idx, "user_id").join(entities_idx, "entity_id")
    # Cached: the id maps and the query weights are all derived from it.
    pairs = pairs.select(
        "user_idx", "entity_idx", "user_id", "entity_id", "engagements", "weight", "confidence"
    ).cache()
    users = pairs.groupBy("user_idx", "user_id").agg(
        F.count(F.lit(1)).alias("entities"), F.sum("weight").alias("weight")
    )
    entities = pairs.groupBy("entity_idx", "entity_id").agg(
        F.count(F.lit(1)).alias("users"), F.sum("weight").alias("weight")
    )
    query_entities = (
        spark.sql(load_sql("embed/query_entities", min_weight=_double(MIN_WEIGHT)))
        .join(pairs.select("entity_id", "entity_idx").distinct(), "entity_id")
        .select("query_key", "entity_idx", "entity_id", "engagements", "weight")
    )
    day_pairs = pairs_sql(0).where("positive").select("user_id", "entity_id", "engagements", "weight")
    return InteractionsBuild(pairs, users, entities, query_entities, day_pairs, weighted, all_pairs)


def _write(frame: DataFrame, path: Path, *order: str) -> None:
    """Write one table as a single sorted Parquet file (reproducible bytes for the same rows)."""
    frame.repartition(1).sortWithinPartitions(*order).write.mode("overwrite").option("compression", "zstd").parquet(
        str(path)
    )


def _counts(build: InteractionsBuild, staging: Path) -> dict:
    """Row counts of the written tables and the engagement bookkeeping of the window."""
    w = build.weighted
    by_action = {r["action"]: int(r["n"]) for r in w.groupBy("action").agg(F.count(F.lit(1)).alias("n")).collect()}
    excluded = {
        r["excluded"]: int(r["n"])
        for r in w.where("excluded IS NOT NULL").groupBy("excluded").agg(F.count(F.lit(1)).alias("n")).collect()
    }
    totals = w.agg(
        F.count(F.lit(1)).alias("in"),
        F.sum(F.when(F.col("excluded").isNull(), 1).otherwise(0)).alias("used"),
        F.sum(
            F.when(
                F.col("excluded").isNull() & (F.col("query_key").isNull() | (F.col("query_key") == "")), 1
            ).otherwise(0)
        ).alias("used_without_query_key"),
    ).collect()[0]
    spark = w.sparkSession
    written = {name: spark.read.parquet(str(staging / name)).count() for name in TABLES}
    return {
        "engagements": {
            "in": int(totals["in"]),
            "used": int(totals["used"] or 0),
            "excluded": dict(sorted(excluded.items())),
            "by_action": dict(sorted(by_action.items(), key=lambda kv: str(kv[0]))),
            "used_without_query_key": int(totals["used_without_query_key"] or 0),
        },
        "rows": written,
    }


def build_interactions_day(spark: SparkSession, settings: Settings, ds: str) -> dict:
    """Build and publish the interactions artifact of ``ds`` (``artifacts/interactions/ds=D/``).

    Args:
        spark: the job's session.
        settings: run settings (``embed_window_days``, ``embed_half_life_days``, ``embed_alpha``).
        ds: the day.

    Returns:
        The report (also written as ``report.json``).

    Raises:
        FileNotFoundError: when the window has no clean engagements or ``ds`` has no clean catalog.
        ValueError: when the window holds no positive pair (nothing to train on).
    """
    params = EmbedParams.from_settings(settings)
    root = settings.data_root
    days = window(ds, params.window_days)
    engagements, missing = read_clean_window(spark, root, "engagements", days)
    searches, _ = read_clean_window(spark, root, "searches", days)
    catalog_path = partition_path(root, "clean", "catalog", ds)
    if not catalog_path.is_dir() or not any(catalog_path.glob("*.parquet")):
        raise FileNotFoundError(f"no clean catalog for {ds} at {catalog_path}; run validate_inputs for {ds} first")
    catalog = spark.read.schema(CATALOG).parquet(str(catalog_path))
    build = build_interactions(spark, params, ds, engagements, searches, catalog)

    final = artifact_dir(root, ds, ARTIFACT)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    try:
        _write(build.pairs, staging / "pairs", "user_idx", "entity_idx")
        _write(build.users, staging / "users", "user_idx")
        _write(build.entities, staging / "entities", "entity_idx")
        _write(build.query_entities, staging / "query_entities", "query_key", "entity_idx")
        _write(build.day_pairs, staging / "day_pairs", "user_id", "entity_id")
        counts = _counts(build, staging)
        if counts["rows"]["pairs"] == 0:
            raise ValueError(
                f"no positive user-entity pair in the window {days[0]}..{days[-1]} "
                f"({counts['engagements']['in']} engagements): nothing to train embeddings on"
            )
        report = {
            "ds": ds,
            "window": {"start": days[0], "end": days[-1], "missing_days": missing},
            "params": {
                "half_life_days": params.half_life_days,
                "alpha": params.alpha,
                "action_weights": ACTION_WEIGHTS,
                "play_time_weight": PLAY_TIME_WEIGHT,
                "play_full_ms": PLAY_FULL_MS,
            },
            **counts,
            "non_positive_pairs": build.all_pairs.where("NOT positive").count(),
        }
        write_json(staging / "report.json", report)
        publish(staging, final)
    finally:
        build.weighted.unpersist()
        build.all_pairs.unpersist()
        build.pairs.unpersist()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return json.loads((final / "report.json").read_text())
