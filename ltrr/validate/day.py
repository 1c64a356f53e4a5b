"""Validate one day of raw logs: quarantine bad rows, publish clean partitions, report.

The order matters: the catalog is validated first (its clean ids decide ``unknown_entity``),
then searches (their clean and quarantined ids decide ``unknown_search`` and
``search_quarantined``), then engagements. Each table's references are read back from the
partitions already written, so nothing large is held in memory between tables.
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ltrr.config import Settings
from ltrr.schemas import LOG_TABLES, PRIMARY_KEYS
from ltrr.validate import rules, write
from ltrr.validate.gx_suites import validate_clean_tables
from ltrr.validate.read import RawPartition, SchemaDrift, inspect_partition, read_raw
from ltrr.validate.report import (
    ACCEPTED,
    REJECTED,
    REPORT_FILE,
    ConservationError,
    TableReport,
    ValidationReport,
    write_report,
)
from ltrr.zones import parse_ds, partition_path, validation_dir

log = logging.getLogger(__name__)

TABLES = ("catalog", "searches", "engagements")
"""The validated tables, in processing order."""


def _read_staged(spark: SparkSession, data_root: Path, table: str, ds: str) -> DataFrame:
    """A staged clean partition, read with the contract schema (no inference job)."""
    return spark.read.schema(LOG_TABLES[table]).parquet(str(write.staging_path(data_root, table, ds)))


def _catalog_ids(spark: SparkSession, data_root: Path, ds: str) -> DataFrame:
    """The entity ids of the day's (staged) clean catalog."""
    return _read_staged(spark, data_root, "catalog", ds).select("entity_id")


def _search_status(spark: SparkSession, data_root: Path, ds: str) -> DataFrame:
    """Every search id of the day's raw searches, with whether a row of it was accepted."""
    clean = _read_staged(spark, data_root, "searches", ds).select("search_id", F.lit(True).alias("_search_clean"))
    rejected = (
        spark.read.schema(write.QUARANTINE_SCHEMA)
        .parquet(str(partition_path(data_root, "quarantine", "searches", ds)))
        .filter(F.col("key").isNotNull())
        .select(F.col("key").alias("search_id"), F.lit(False).alias("_search_clean"))
    )
    return clean.unionByName(rejected).groupBy("search_id").agg(F.max("_search_clean").alias("_search_clean"))


def _verdicts(spark: SparkSession, data_root: Path, table: str, ds: str, raw: DataFrame) -> DataFrame:
    """The verdict of every raw row: a slim frame ``_src``, ``_row``, ``_q`` (lazy).

    Only the row-local rules read whole rows; the reference and duplicate stages work on
    the slim columns they need, so no wide row is cached or shuffled.
    """
    keep = ["_src", "_row", PRIMARY_KEYS[table]]
    keep += ["ts"] if "ts" in LOG_TABLES[table].fieldNames() else []
    keep += ["search_id", "entity_id"] if table == "engagements" else []
    checked = rules.row_verdicts(raw, table, ds, keep)
    if table == "searches":
        checked = rules.check_search_entities(checked, raw, _catalog_ids(spark, data_root, ds))
    elif table == "engagements":
        status = _search_status(spark, data_root, ds)
        checked = rules.check_engagement_refs(checked, status, _catalog_ids(spark, data_root, ds))
    return rules.mark_duplicates(checked, table).select("_src", "_row", rules.VERDICT)


def _count_back(
    data_root: Path, part: RawPartition, ds: str, threshold: float, drift: list[SchemaDrift]
) -> TableReport:
    """Count what was written, independently of the computation that wrote it.

    Row counts come from the Parquet footers of the written files, per-reason counts from
    reading the quarantine's ``reason`` column back (pyarrow, streamed): no Spark job.
    """
    table = part.table
    quarantine_dir = partition_path(data_root, "quarantine", table, ds)
    accepted = write.parquet_rows(write.staging_path(data_root, table, ds))
    quarantined = write.parquet_rows(quarantine_dir)
    by_reason = dict(sorted(write.count_values(quarantine_dir, "reason").items(), key=lambda kv: (-kv[1], kv[0])))
    if sum(by_reason.values()) != quarantined:
        raise ConservationError(
            f"{table} ds={ds}: quarantine reasons add up to {sum(by_reason.values())}, "
            f"its files hold {quarantined} rows"
        )
    return TableReport(
        table=table,
        rows_in=part.rows,
        accepted=accepted,
        quarantined=quarantined,
        by_reason=by_reason,
        threshold=threshold,
        schema_drift=tuple(drift),
    )


def validate_day(spark: SparkSession, settings: Settings, ds: str, *, run_gx: bool = True) -> ValidationReport:
    """Validate the raw logs of day ``ds`` and publish its clean partitions if it passes.

    Writes, for each of catalog, searches, engagements: ``quarantine/<table>/ds=D``
    (rejected rows with their reason) and, when the day passes, ``clean/<table>/ds=D``
    (accepted rows, contract schema); plus ``validation/ds=D/report.json`` and GX results
    in ``validation/ds=D/gx/``. Re-running a day overwrites exactly these partitions.

    A day is rejected when a table's quarantined share exceeds
    ``settings.max_rejected_share`` (GX is then skipped) or a GX expectation fails on the
    clean data. A rejected day keeps its quarantine and report but has no clean partition
    (a previously published one is removed).

    Args:
        spark: the job's session (configured with ``ltrr.spark_conf.session_conf``).
        settings: the run's settings (``data_root``, ``max_rejected_share``).
        ds: the day, ``YYYY-MM-DD``.
        run_gx: run the GX suites on the clean data (jobs always do; tests that only check
            row rules turn it off because each Spark suite costs seconds).

    Returns:
        The report; ``report.passed`` tells whether the day passed
        (``report.raise_for_status()`` turns a rejection into ``DayRejectedError``).

    Raises:
        MissingPartitionError: a raw partition is missing (nothing is written then).
        ConservationError: written rows do not add up to input rows (a bug).
    """
    parse_ds(ds)
    root = settings.data_root
    threshold = settings.max_rejected_share
    partitions = {table: inspect_partition(root, table, ds) for table in TABLES}
    out_dir = validation_dir(root, ds)
    # A re-run first withdraws the previous verdict: if it dies midway, no stale report remains.
    (out_dir / REPORT_FILE).unlink(missing_ok=True)
    shutil.rmtree(out_dir / "gx", ignore_errors=True)

    tables: dict[str, TableReport] = {}
    for table in TABLES:
        started = time.perf_counter()
        part = partitions[table]
        raw, drift = read_raw(spark, part)
        write.write_table(raw, _verdicts(spark, root, table, ds, raw), root, table, ds)
        tables[table] = _count_back(root, part, ds, threshold, drift)
        log.info("validated %s ds=%s: %s in %.1fs", table, ds, tables[table].by_reason, time.perf_counter() - started)

    broken = [t for t in tables.values() if not t.conserved]
    if broken:
        for table in TABLES:
            write.discard(root, table, ds)
        detail = "; ".join(
            f"{t.table}: in {t.rows_in} != accepted {t.accepted} + quarantined {t.quarantined}" for t in broken
        )
        raise ConservationError(f"ds {ds}: row counts not conserved: {detail}")

    problems = [t.threshold_message() for t in tables.values() if t.over_threshold]
    gx_ran = False
    if run_gx and not problems:
        frames = {t: _read_staged(spark, root, t, ds) for t in TABLES}
        for table, outcome in validate_clean_tables(frames, ds, out_dir).items():
            tables[table] = dataclasses.replace(tables[table], gx=outcome)
            problems += [f"{table}: GX {failure}" for failure in outcome.failed]
        gx_ran = True

    status = REJECTED if problems else ACCEPTED
    for table in TABLES:
        if status == ACCEPTED:
            write.publish(root, table, ds)
        else:
            write.discard(root, table, ds)
    report = ValidationReport(ds, status, threshold, tables, tuple(problems), gx_ran)
    path = write_report(report, out_dir)
    return dataclasses.replace(report, report_path=path)
