"""A short, printable summary of what the nightly pipeline produced for one day."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ltrr.config import Settings
from ltrr.schemas import LOG_TABLES
from ltrr.zones import artifact_dir, partition_path, validation_dir


def validated_days(settings: Settings) -> list[str]:
    """Days that have a validation report, sorted."""
    root = Path(settings.data_root) / "validation"
    if not root.is_dir():
        return []
    return sorted(p.name[3:] for p in root.glob("ds=*") if (p / "report.json").is_file())


def day_summary(settings: Settings, ds: str) -> dict[str, Any]:
    """Collect a day's validation status, row counts and output locations.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        ``{"ds", "status", "message", "tables": {name: {...counts, "clean", "quarantine"}}, "report"}``;
        status is ``missing`` when validation has not run for the day.
    """
    report_path = validation_dir(settings.data_root, ds) / "report.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    tables = {}
    for table in LOG_TABLES:
        stats = dict(report.get("tables", {}).get(table, {}))
        stats["clean"] = str(partition_path(settings.data_root, "clean", table, ds))
        stats["quarantine"] = str(partition_path(settings.data_root, "quarantine", table, ds))
        tables[table] = stats
    memory_report = artifact_dir(settings.data_root, ds) / "report.json"
    return {
        "retrieval": retrieval_outcome(settings, ds),
        "ranker": ranker_outcome(settings, ds),
        "policy": policy_outcome(settings, ds),
        "ds": ds,
        "memory": json.loads(memory_report.read_text()) if memory_report.is_file() else None,
        "memory_dir": str(memory_report.parent),
        "status": report.get("status", "missing"),
        "message": "; ".join(report.get("problems", [])),
        "tables": tables,
        "report": str(report_path),
    }


def retrieval_outcome(settings: Settings, ds: str) -> dict[str, Any] | None:
    """The retrieval artifact of the day: its report when published, the refusal when refused, else None."""
    published = artifact_dir(settings.data_root, ds, "retrieval") / "report.json"
    refused = validation_dir(settings.data_root, ds) / "retrieval_rejected.json"
    for path in (published, refused):
        if path.is_file():
            return json.loads(path.read_text())
    return None


def _retrieval_line(report: dict[str, Any]) -> str:
    if not report.get("passed"):
        return f"  retrieval artifact: refused ({'; '.join(report.get('reasons') or [])})"
    recall = report["lexical"]["title_recall@10"]["recall"]
    counters = report["counters"]
    return (
        f"  retrieval artifact: {report['entities']:,} entities indexed (lexical exact-title recall@10 "
        f"{recall:.1%}), semantic {report['semantic']['dims']} dims, counters {counters['rows']:,} rows "
        f"({counters['source']})"
    )


def ranker_outcome(settings: Settings, ds: str) -> dict[str, Any]:
    """What the ranker job did for ``ds``: published, kept, refused, skipped or missing, with NDCG@10.

    For ``kept`` (the day's model was refused and the champion ranker carried forward), the
    reasons and NDCG@10 are those of the refused model, and ``kept_from`` names the champion.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        ``{"status", "reasons", "ndcg@10"}`` (``ndcg@10`` as in the job's report, or ``{}``).
    """
    status, reasons, record = _recorded_outcome(settings, ds, "ranker")
    outcome = {"status": status, "reasons": reasons, "ndcg@10": record.get("ndcg@10") or {}}
    if status == "kept":
        outcome["kept_from"] = record.get("kept_from")
    return outcome


def _recorded_outcome(settings: Settings, ds: str, artifact: str) -> tuple[str, list[str], dict[str, Any]]:
    """A model job's outcome from what it left: its artifact's report, or its refused/skipped record.

    The status is the report's ``outcome`` when it has one (the policy's ``kept``), else
    ``published``, ``refused``, ``skipped`` by the file found, or ``missing``.
    """
    folder = validation_dir(settings.data_root, ds)
    for status, path in (
        ("published", artifact_dir(settings.data_root, ds, artifact) / "report.json"),
        ("refused", folder / f"{artifact}_rejected.json"),
        ("skipped", folder / f"{artifact}_skipped.json"),
    ):
        if path.is_file():
            record = json.loads(path.read_text())
            if status == "published":
                status = record.get("outcome", status)
            reasons = record.get("reasons") or ([record["reason"]] if "reason" in record else [])
            if status == "kept" and isinstance(record.get("refused"), dict):
                # A kept ranker's report is the champion's; today's refusal is under "refused".
                reasons = record["refused"].get("reasons") or []
                record = {**record, "ndcg@10": record["refused"].get("ndcg@10") or {}}
            return status, reasons, record
    return "missing", [], {}


def policy_outcome(settings: Settings, ds: str) -> dict[str, Any]:
    """What the policy job did for ``ds``: published, kept, refused, skipped or missing, with its gate.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        ``{"status", "reasons", "dr", "logged", "detectable_gap"}`` (the new policy's DR estimate
        as a ``PolicyValue`` dict and the logged policy's value, or None when no policy was
        evaluated; the smallest plan gap the training logs detect, ``ltrr.bandit.evidence``,
        or None for records written before it existed).
    """
    status, reasons, record = _recorded_outcome(settings, ds, "policy")
    gate = record.get("gate") or {}
    evidence = record.get("evidence") or {}
    return {
        "status": status,
        "reasons": reasons,
        "dr": gate.get("new"),
        "logged": gate.get("champion"),
        "detectable_gap": evidence.get("median_detectable_gap"),
    }


def _policy_line(policy: dict[str, Any]) -> str:
    line = f"  plan policy: {policy['status']}"
    dr, logged = policy.get("dr"), policy.get("logged")
    if dr and logged:
        line += (
            f"; DR value {dr['value']:.4f} [{dr['ci_low']:.4f}, {dr['ci_high']:.4f}] "
            f"vs logged {logged['value']:.4f} on {logged['n']:,} searches"
        )
    if policy.get("detectable_gap") is not None:
        line += f"; the training logs separate plans {policy['detectable_gap']:.3f} apart or more"
    if policy["status"] in ("kept", "refused", "skipped") and policy["reasons"]:
        line += f"; {policy['reasons'][0]}"
    return line


def _ranker_line(ranker: dict[str, Any]) -> str:
    line = f"  ranker: {ranker['status']}"
    if ranker["status"] == "kept":
        line += f" (the ranker of {ranker.get('kept_from')} serves; the day's model was refused)"
    for scope in ("observable", "truth"):
        figures = ranker["ndcg@10"].get(scope) or {}
        if "model" in figures:
            others = ", ".join(f"{name} {v['mean']:.3f}" for name, v in figures.items() if name != "model")
            line += f"; NDCG@10 {scope}: model {figures['model']['mean']:.3f} ({others})"
    if ranker["status"] in ("refused", "skipped", "kept") and ranker["reasons"]:
        line += f"; {ranker['reasons'][0]}"
    return line


def format_day_summary(summary: dict[str, Any]) -> str:
    """Render ``day_summary`` as a small text table."""
    lines = [f"day {summary['ds']}: validation {summary['status']}"]
    if summary["message"]:
        lines.append(f"  {summary['message']}")
    lines.append(f"  {'table':<12} {'in':>10} {'accepted':>10} {'quarantined':>12}  top reasons")
    for table, stats in summary["tables"].items():
        reasons = stats.get("by_reason") or {}
        top = ", ".join(f"{r}: {n}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])[:3])
        lines.append(
            f"  {table:<12} {stats.get('in', '-'):>10} {stats.get('accepted', '-'):>10} "
            f"{stats.get('quarantined', '-'):>12}  {top}"
        )
    memory = summary.get("memory")
    if memory:
        rows = memory["rows"]
        lines.append(
            f"  memory table: {rows['pairs']:,} pairs, {rows['queries']:,} queries, {rows['entities']:,} entities "
            f"(examination curve: {memory['examination']['method']})"
        )
        evaluation = memory.get("previous_table_on_this_day")
        if evaluation:
            line = f"  table of {evaluation['table_ds']} on this day: coverage {evaluation['coverage']['rate']:.1%}"
            recall = evaluation.get("recall")
            if recall:
                by_class = ", ".join(f"{k} {v['rate']:.1%}" for k, v in recall["by_query_class"].items())
                line += f"; intended entity in top-N: {recall['overall']['rate']:.1%} ({by_class})"
            lines.append(line)
    if summary.get("retrieval"):
        lines.append(_retrieval_line(summary["retrieval"]))
    if summary.get("ranker"):
        lines.append(_ranker_line(summary["ranker"]))
    if summary.get("policy"):
        lines.append(_policy_line(summary["policy"]))
    lines.append("  outputs:")
    for stats in summary["tables"].values():
        lines.append(f"    clean      {stats['clean']}")
        lines.append(f"    quarantine {stats['quarantine']}")
    lines.append(f"    report     {summary['report']}")
    if summary.get("memory"):
        lines.append(f"    memory     {summary['memory_dir']}")
    return "\n".join(lines)
