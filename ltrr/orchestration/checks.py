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


def require_training_set(settings: Settings, ds: str) -> dict:
    """Check that the training-set job published the day's rows, and fail when they were rejected.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        The row and label counts of the artifact's report.

    Raises:
        DayRejected: when the rows failed a validation suite.
        FileNotFoundError: when no artifact exists for the day.
    """
    return _require_rows_artifact(settings, ds, "training_set", "training rows", "build_training_set")


def require_bandit_dataset(settings: Settings, ds: str) -> dict:
    """Check that the bandit-dataset job published the day's rows, and fail when they were rejected.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        The conservation counts of the artifact's report.

    Raises:
        DayRejected: when the rows failed validation (or a plan was logged inconsistently).
        FileNotFoundError: when no artifact exists for the day.
    """
    return _require_rows_artifact(settings, ds, "bandit_dataset", "bandit rows", "build_bandit_dataset")


def _require_rows_artifact(settings: Settings, ds: str, artifact: str, what: str, job: str) -> dict:
    """The ``counts`` of a published rows artifact; DayRejected when its job rejected the rows."""
    rejected = validation_dir(settings.data_root, ds) / f"{artifact}_rejected.json"
    if rejected.is_file():
        raise DayRejected(f"{what} of {ds} failed validation (see {rejected})")
    report_path = artifact_dir(settings.data_root, ds, artifact) / "report.json"
    if not report_path.is_file():
        raise FileNotFoundError(f"no {artifact} artifact for {ds} at {report_path.parent}; did {job} run?")
    return json.loads(report_path.read_text())["counts"]


def require_ranker_outcome(settings: Settings, ds: str) -> dict:
    """Check the ranker job's outcome; every recorded outcome lets the bundle publish.

    A refused model is never published: when an earlier ranker exists the job carried it
    forward (``kept``), otherwise the bundle ships without a ranker (``refused``), as the
    bundles before it did. Either way memory, embeddings, retrieval and policy still refresh.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        ``{"status": "published", "gate": ..., "ndcg@10": ...}``,
        ``{"status": "kept", "kept_from": ..., "refused_because": [...]}``,
        ``{"status": "refused", "reason": ...}`` or ``{"status": "skipped", "reason": ...}``.

    Raises:
        FileNotFoundError: when the job left no record at all.
    """
    folder = validation_dir(settings.data_root, ds)
    rejected = folder / "ranker_rejected.json"
    report_path = artifact_dir(settings.data_root, ds, "ranker") / "report.json"
    if report_path.is_file():
        report = json.loads(report_path.read_text())
        if report.get("outcome") == "kept":
            return {
                "status": "kept",
                "kept_from": report.get("kept_from"),
                "refused_because": (report.get("refused") or {}).get("reasons", []),
            }
        return {"status": "published", "gate": report.get("gate"), "ndcg@10": report.get("ndcg@10")}
    if rejected.is_file():
        record = json.loads(rejected.read_text())
        return {"status": "refused", "reason": "; ".join(record.get("reasons", [])) + f" (see {rejected})"}
    skipped = folder / "ranker_skipped.json"
    if skipped.is_file():
        return {"status": "skipped", "reason": json.loads(skipped.read_text()).get("reason")}
    raise FileNotFoundError(
        f"the ranker job left no record for {ds} (no artifact, rejection or skip); did train_ranker run?"
    )
