"""One day of the memory job: build, validate, evaluate and publish the Q2E artifact of ``ds``."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from pyspark.sql import SparkSession

from ltrr.config import Settings
from ltrr.debias.examination import ExaminationCurve
from ltrr.memory.artifact import artifact_dir, publish, staging_dir, write_json, write_table
from ltrr.memory.checks import memory_columns, memory_expectations
from ltrr.memory.evaluate import evaluate_next_day
from ltrr.memory.q2e import Q2EParams, build_memory, read_clean_window, read_partition, window
from ltrr.schemas import CATALOG, SEARCHES, TRUTH
from ltrr.validate.gx_runner import run_suite
from ltrr.zones import validation_dir


class MemoryRejected(RuntimeError):
    """The memory table failed its validation suite; the message names the expectations."""


def rejection_path(data_root: Path, ds: str) -> Path:
    """Where a rejected build leaves its failed validation result (read by the DAG's gate)."""
    return validation_dir(data_root, ds) / "q2e_rejected.json"


def _previous_artifact(data_root: Path, ds: str, lookback: int) -> Path | None:
    day = dt.date.fromisoformat(ds)
    for offset in range(1, lookback + 1):
        candidate = artifact_dir(data_root, (day - dt.timedelta(days=offset)).isoformat())
        if (candidate / "report.json").is_file():
            return candidate
    return None


def build_q2e_day(spark: SparkSession, settings: Settings, ds: str) -> dict:
    """Build the memory table of ``ds`` and publish its artifact.

    Reads the clean searches and engagements of the look-back window and the clean catalog
    of ``ds``; estimates the examination curve (carrying over the previous day's when the
    window is too thin); validates the table with GX; evaluates the previous day's table on
    this day's searches (coverage, and recall by query class on the simulated world);
    writes everything under ``artifacts/q2e/ds=D/`` atomically.

    Args:
        spark: the job's session.
        settings: run settings.
        ds: the day.

    Returns:
        The report (also written as ``report.json``).

    Raises:
        MemoryRejected: when the GX suite fails (the artifact is not published; the failed
            validation result is kept under ``validation/ds=D/q2e_rejected.json``).
    """
    params = Q2EParams.from_settings(settings)
    root = settings.data_root
    rejected = rejection_path(root, ds)
    rejected.unlink(missing_ok=True)
    days = window(ds, params.window_days)
    searches, missing_searches = read_clean_window(spark, root, "searches", days)
    engagements, _ = read_clean_window(spark, root, "engagements", days)
    catalog = read_partition(spark, root, "clean", "catalog", ds, CATALOG)
    if catalog is None:
        raise FileNotFoundError(f"no clean catalog for {ds}; run validate_inputs for {ds} first")

    previous = _previous_artifact(root, ds, params.window_days)
    previous_curve = ExaminationCurve.load(previous / "examination.json") if previous else None
    build = build_memory(spark, params, ds, searches, engagements, catalog, previous_curve)
    table = build.table.cache()

    final = artifact_dir(root, ds)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    try:
        # Validate what was written (read back), not the lazy plan: GX then scans a small
        # Parquet folder instead of recomputing the aggregation per expectation.
        write_table(table, staging)
        written = spark.read.parquet(str(staging / "table"))
        gx_result = run_suite(
            written.select(*[c.alias(n) for n, c in memory_columns().items()]),
            suite_name="ltrr-q2e-memory",
            expectations=lambda gx: memory_expectations(gx, params.top_n),
            result_path=staging / "validation.json",
        )
        if not gx_result.success:
            rejected.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(staging / "validation.json", rejected)
            raise MemoryRejected(
                f"memory table of {ds} failed validation: {'; '.join(gx_result.failed)} (result: {rejected})"
            )
        (staging / "examination.json").write_text(build.curve.to_json() + "\n")

        evaluation = None
        if previous is not None:
            previous_table = spark.read.parquet(str(previous / "table"))
            day_searches = read_partition(spark, root, "clean", "searches", ds, SEARCHES)
            truth = read_partition(spark, root, "sim", "truth", ds, TRUTH)
            evaluation = {
                "table_ds": previous.name[3:],
                "searches_ds": ds,
                **evaluate_next_day(previous_table, day_searches, truth, params.top_n),
            }
        counts = written.selectExpr(
            "count(*) AS pairs",
            "count(DISTINCT query_key) AS queries",
            "count(DISTINCT entity_id) AS entities",
            "sum(CASE WHEN predicted_kind IS NOT NULL AND impressions = 0 THEN 1 ELSE 0 END) AS predicted_only",
        ).collect()[0]
        report = {
            "ds": ds,
            "window": {"start": days[0], "end": days[-1], "missing_days": missing_searches},
            "params": params.__dict__,
            "global_rate": build.global_rate,
            "examination": {"method": build.curve.method, "reason": build.curve.reason},
            "rows": {k: int(counts[k]) for k in ("pairs", "queries", "entities", "predicted_only")},
            "observed_pairs": build.stats["observed_pairs"],
            "validation": gx_result.to_dict(),
            "previous_table_on_this_day": evaluation,
        }
        write_json(staging / "report.json", report)
        publish(staging, final)
    finally:
        table.unpersist()
        build.release()
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return json.loads((final / "report.json").read_text())
