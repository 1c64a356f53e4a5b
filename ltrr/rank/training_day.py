"""One day of the training-set job: build, validate and write ``artifacts/training_set/ds=D/``.

Layout::

    rows/            Parquet: one row per (search, candidate) of D with its point-in-time features
                     (every shown candidate; unshown ones for ``LTRR_RANK_UNION_SHARE`` of searches)
    history/         Parquet: the counters (``history_stats``) over the window ending at D; the
                     rows of D + 1 read them, and serving on D + 1 will load them from the bundle
    validation.json  GX result of the rows suite (on a one-pass summary of the rows)
    groups.json      GX result of the per-search suite (no empty groups, labels on shown rows)
    report.json      inputs used (and missing), row and label counts, conservation figures

Inputs for the rows of D, all from before D: the memory table and the embeddings of D - 1
(missing artifacts leave their features null, and the report says so) and the counters of
D - 1 (read from yesterday's artifact, or computed from the logs when it does not exist).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ltrr.config import Settings
from ltrr.memory.artifact import publish, staging_dir, write_json
from ltrr.memory.q2e import read_clean_window, read_partition, window
from ltrr.rank.checks import group_expectations, rows_expectations, rows_summary, search_groups
from ltrr.rank.features import FEATURE_NAMES, ID_COLUMNS, TARGET_COLUMNS
from ltrr.rank.training_set import (
    HISTORY_SCHEMA,
    TrainingSetParams,
    empty_memory,
    empty_vectors,
    history_stats,
    training_rows,
    with_query_keys,
)
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES
from ltrr.timing import StepTimer
from ltrr.validate.gx_runner import run_suite
from ltrr.zones import artifact_dir, validation_dir

ARTIFACT = "training_set"


class TrainingSetRejected(RuntimeError):
    """The day's training rows failed validation; the message names the expectations."""


def rejection_path(data_root: Path, ds: str) -> Path:
    """Where a rejected build leaves its failed validation result."""
    return validation_dir(data_root, ds) / "training_set_rejected.json"


def previous_day(ds: str) -> str:
    """The day before ``ds``."""
    return (dt.date.fromisoformat(ds) - dt.timedelta(days=1)).isoformat()


ROWS_FILE_SEARCHES = 100_000
"""Searches per part file of ``rows/`` (a day of fewer searches is written as one file)."""


def rows_files(searches: int, most: int) -> int:
    """How many part files the rows of a day with ``searches`` searches are written to.

    Each file holds whole searches (hash-partitioned by ``search_id``, sorted by search and
    entity within the file), so a re-run writes the same files. One file sorted in one task
    left one of two cores idle for minutes on a large day (26.5M rows: 181-220 s through one
    task against 143 s through eight, measured on shared cores); small and medium days keep
    their single file.

    Args:
        searches: the day's searches.
        most: the most files (the job's shuffle partitions).

    Returns:
        ``ceil(searches / ROWS_FILE_SEARCHES)`` within ``[1, most]``.
    """
    return max(1, min(int(most), math.ceil(searches / ROWS_FILE_SEARCHES)))


def read_clean_day(spark: SparkSession, root: Path, table: str, ds: str) -> DataFrame | None:
    """The clean ``searches``, ``engagements`` or ``catalog`` partition of ``ds`` (None when absent)."""
    schema = {"searches": SEARCHES, "engagements": ENGAGEMENTS, "catalog": CATALOG}[table]
    return read_partition(spark, root, "clean", table, ds, schema)


def read_clean_inputs(spark: SparkSession, root: Path, ds: str) -> tuple[DataFrame, DataFrame, DataFrame]:
    """The clean searches, engagements and catalog of ``ds``.

    Raises:
        FileNotFoundError: when one of them is absent (validate_inputs has not run).
    """
    parts = [read_clean_day(spark, root, table, ds) for table in ("searches", "engagements", "catalog")]
    if any(part is None for part in parts):
        raise FileNotFoundError(f"no clean searches, engagements or catalog for {ds}; run validate_inputs first")
    searches, engagements, catalog = parts
    return searches, engagements, catalog


def history_as_of(spark: SparkSession, root: Path, end: str, days: int, *, reuse: bool) -> tuple[DataFrame, dict]:
    """Counters over the ``days`` window ending at ``end``.

    Args:
        spark: the session.
        root: data root.
        end: last day of the window.
        days: window length.
        reuse: read the stored ``history/`` of the training-set artifact of ``end`` when it exists.

    Returns:
        ``(counters, where they came from)``; empty counters when the window has no clean logs.
    """
    stored = artifact_dir(root, end, ARTIFACT) / "history"
    if reuse and stored.is_dir():
        return spark.read.schema(HISTORY_SCHEMA).parquet(str(stored)), {"end": end, "source": str(stored)}
    catalog = read_clean_day(spark, root, "catalog", end)
    try:
        searches, missing = read_clean_window(spark, root, "searches", window(end, days))
        engagements, _ = read_clean_window(spark, root, "engagements", window(end, days))
    except FileNotFoundError:
        searches = None
    if searches is None or catalog is None:
        return spark.createDataFrame([], HISTORY_SCHEMA), {"end": end, "source": "none: no clean logs in the window"}
    stats = history_stats(spark, with_query_keys(searches), engagements, catalog)
    return stats, {"end": end, "source": "computed", "missing_days": missing}


def memory_as_of(spark: SparkSession, root: Path, day: str) -> tuple[DataFrame, str]:
    """The memory table of ``day`` (``MEMORY_COLUMNS``) and its path, or an empty one when absent."""
    table = artifact_dir(root, day, "q2e") / "table"
    if not table.is_dir():
        return empty_memory(spark), "none: no memory artifact"
    frame = spark.read.parquet(str(table)).select(
        "query_key", "entity_id", "rank", "score", F.col("trials").cast("double"), "predicted_kind"
    )
    return frame, str(table)


def _vectors(spark: SparkSession, root: Path, day: str, kind: str) -> tuple[DataFrame, str]:
    path = artifact_dir(root, day, "embeddings") / f"{kind}_factors.parquet"
    if not path.is_file():
        return empty_vectors(spark, kind), "none: no embeddings artifact"
    key = "user_id" if kind == "user" else "entity_id"
    return spark.read.parquet(str(path)).select(key, "factors"), str(path)


def build_training_set_day(spark: SparkSession, settings: Settings, ds: str) -> dict:
    """Build, validate and publish the training rows of ``ds`` and the counters as of ``ds``.

    Args:
        spark: the job's session.
        settings: run settings.
        ds: the day.

    Returns:
        The report (also written as ``report.json``).

    Raises:
        FileNotFoundError: when the day has no clean searches or catalog.
        TrainingSetRejected: when a validation suite fails (nothing is published; the failed
            result is kept under ``validation/ds=D/training_set_rejected.json``).
    """
    params = TrainingSetParams.from_settings(settings)
    root = settings.data_root
    rejected = rejection_path(root, ds)
    rejected.unlink(missing_ok=True)
    searches, engagements, catalog = read_clean_inputs(spark, root, ds)
    yesterday = previous_day(ds)
    history, history_info = history_as_of(spark, root, yesterday, params.history_days, reuse=True)
    memory, memory_source = memory_as_of(spark, root, yesterday)
    users, users_source = _vectors(spark, root, yesterday, "user")
    items, items_source = _vectors(spark, root, yesterday, "item")
    day_searches = with_query_keys(searches.withColumn("ds", F.lit(ds))).cache()
    rows = training_rows(
        spark,
        params,
        ds,
        searches=day_searches,
        engagements=engagements,
        catalog=catalog,
        memory=memory,
        user_vectors=users,
        item_vectors=items,
        history=history,
    ).select(*ID_COLUMNS, *TARGET_COLUMNS, *FEATURE_NAMES)

    final = artifact_dir(root, ds, ARTIFACT)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    timer = StepTimer()
    lap, timings = timer.lap, timer.timings

    try:
        (
            rows.repartition(rows_files(day_searches.count(), settings.spark_shuffle_partitions), "search_id")
            .sortWithinPartitions("search_id", "entity_id")
            .write.option("compression", "zstd")
            .parquet(str(staging / "rows"))
        )
        written = spark.read.parquet(str(staging / "rows"))
        lap("rows_s")
        today_history, _ = history_as_of(spark, root, ds, params.history_days, reuse=False)
        (
            today_history.repartition(1)
            .sortWithinPartitions("table", "key1", "key2")
            .write.option("compression", "zstd")
            .parquet(str(staging / "history"))
        )
        lap("history_s")
        summary = rows_summary(written, FEATURE_NAMES)
        gx_rows = run_suite(
            summary,
            suite_name="ltrr-ranker-training-rows",
            expectations=lambda gx: rows_expectations(gx, params),
            result_path=staging / "validation.json",
        )
        lap("gx_rows_s")
        groups = search_groups(written)
        gx_groups = run_suite(
            groups,
            suite_name="ltrr-ranker-training-groups",
            expectations=group_expectations,
            result_path=staging / "groups.json",
        )
        lap("gx_groups_s")
        failed = [*gx_rows.failed, *gx_groups.failed]
        if failed:
            rejected.parent.mkdir(parents=True, exist_ok=True)
            bad = staging / ("validation.json" if gx_rows.failed else "groups.json")
            shutil.copyfile(bad, rejected)
            raise TrainingSetRejected(
                f"training rows of {ds} failed validation: {'; '.join(failed)} (result: {rejected})"
            )
        report = {
            "ds": ds,
            "params": params.__dict__,
            "inputs": {
                "memory": memory_source,
                "user_vectors": users_source,
                "item_vectors": items_source,
                "history": history_info,
            },
            "counts": _counts(day_searches, engagements, summary, groups, written),
            "missing_share": {n: round(float(summary[f"{n}__missing"].iloc[0] or 0.0), 6) for n in FEATURE_NAMES},
            "validation": {"rows": gx_rows.to_dict(), "groups": gx_groups.to_dict()},
        }
        lap("report_s")
        report["timings_s"] = timings
        write_json(staging / "report.json", report)
        publish(staging, final)
    finally:
        day_searches.unpersist()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return json.loads((final / "report.json").read_text())


def _counts(searches: DataFrame, engagements: DataFrame, summary, groups, rows: DataFrame) -> dict:
    """Conservation figures: every search and engagement of the day is accounted for."""
    n_searches = searches.count()
    with_rows = len(groups)
    shown_pairs = searches.select("search_id", F.explode("shown").alias("sh")).select(
        "search_id", F.col("sh.entity_id").alias("entity_id")
    )
    engaged = engagements.select("search_id", "entity_id").distinct().cache()
    matched = engaged.join(shown_pairs.distinct(), ["search_id", "entity_id"], "left_semi").count()
    total_engaged = engaged.count()
    engaged.unpersist()
    labels = rows.where(F.col("label").isNotNull()).groupBy("label").count().collect()
    return {
        "searches": n_searches,
        "searches_with_rows": with_rows,
        "searches_without_candidates": n_searches - with_rows,
        "rows": int(summary["rows"].iloc[0]),
        "shown_rows": int(groups["shown_rows"].sum()) if with_rows else 0,
        "engaged_pairs": total_engaged,
        "engaged_pairs_on_shown_rows": matched,
        "engaged_pairs_not_shown": total_engaged - matched,
        "labels": {str(int(r["label"])): int(r["count"]) for r in sorted(labels, key=lambda r: r["label"])},
        "searches_with_positive_label": int((groups["positive_rows"] > 0).sum()) if with_rows else 0,
    }
