"""Checks the nightly DAG runs between its steps (pure functions over the data zones)."""

from __future__ import annotations

import json

from ltrr.config import Settings
from ltrr.schemas import LOG_TABLES
from ltrr.zones import artifact_dir, partition_path, validation_dir


class MissingInput(FileNotFoundError):
    """A raw partition the day needs does not exist (yet)."""


class DayRejected(RuntimeError):
    """Validation rejected the day; the message names the table, share and rules."""


def require_raw_partitions(settings: Settings, ds: str) -> dict[str, str]:
    """Check that every raw log table has a partition for ``ds``.

    Args:
        settings: run settings (``data_root``).
        ds: the day, ``YYYY-MM-DD``.

    Returns:
        Table name to the partition path.

    Raises:
        MissingInput: naming every missing partition.
    """
    paths = {table: partition_path(settings.data_root, "raw", table, ds) for table in LOG_TABLES}
    missing = [str(p) for p in paths.values() if not p.is_dir() or not any(p.glob("*.parquet"))]
    if missing:
        raise MissingInput(f"raw input for {ds} is missing: {', '.join(missing)}")
    return {table: str(path) for table, path in paths.items()}


def require_accepted_day(settings: Settings, ds: str) -> dict:
    """Read the day's validation report and fail when the day was rejected.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        A compact summary (per table: in, accepted, quarantined) for XCom and logs.

    Raises:
        FileNotFoundError: when validation has not written a report for the day.
        DayRejected: when the day did not pass; the message lists the problems (table,
            share, threshold and top rules, or failed GX expectations).
    """
    from ltrr.validate.report import ACCEPTED, read_report

    report = read_report(settings.data_root, ds)
    if report.get("status") != ACCEPTED:
        raise DayRejected(f"validation rejected {ds}: " + "; ".join(report.get("problems", [])))
    return {
        table: {k: stats.get(k) for k in ("in", "accepted", "quarantined")}
        for table, stats in report.get("tables", {}).items()
    }


def require_published_memory(settings: Settings, ds: str) -> dict:
    """Check that the memory job published the day's table, and fail when it was rejected.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        The row counts and next-day figures of the artifact's report.

    Raises:
        DayRejected: when the table failed its validation suite.
        FileNotFoundError: when no artifact exists for the day.
    """
    rejected = validation_dir(settings.data_root, ds) / "q2e_rejected.json"
    if rejected.is_file():
        result = json.loads(rejected.read_text())
        failed = [
            r.get("expectation_config", {}).get("type", "?") for r in result.get("results", []) if not r.get("success")
        ]
        raise DayRejected(f"memory table of {ds} failed validation: {', '.join(failed)} (see {rejected})")
    report_path = artifact_dir(settings.data_root, ds) / "report.json"
    if not report_path.is_file():
        raise FileNotFoundError(f"no memory artifact for {ds} at {report_path.parent}; did build_q2e run?")
    report = json.loads(report_path.read_text())
    return {"rows": report["rows"], "previous_table_on_this_day": report.get("previous_table_on_this_day")}
