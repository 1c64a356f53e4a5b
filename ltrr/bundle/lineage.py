"""Where a bundle came from: the clean input partitions it was built from, and the code version."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import ltrr
from ltrr.bundle.hashing import sha256_file
from ltrr.zones import parse_ds, partition_path, validation_dir

INPUT_TABLES = ("catalog", "searches", "engagements")
"""The log tables recorded as inputs (``ltrr.schemas.LOG_TABLES``; named here to keep pyspark out)."""


def days_between(start: str, end: str) -> list[str]:
    """Every day from ``start`` to ``end`` inclusive, as ``YYYY-MM-DD``."""
    first, last = parse_ds(start), parse_ds(end)
    if last < first:
        raise ValueError(f"data interval ends before it starts: {start} > {end}")
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def partition_hash(folder: Path) -> tuple[str, int]:
    """Content hash of a Parquet partition, independent of its file names.

    Args:
        folder: the partition folder (``*.parquet`` files; Spark's ``.crc``/``_SUCCESS`` ignored).

    Returns:
        ``(sha256:<hex> over the sorted file digests, number of files)``.
    """
    digests = sorted(sha256_file(p)[0] for p in folder.glob("*.parquet") if not p.name.startswith((".", "_")))
    return "sha256:" + hashlib.sha256("\n".join(digests).encode()).hexdigest(), len(digests)


def _accepted_rows(data_root: Path, ds: str) -> dict[str, int]:
    path = validation_dir(data_root, ds) / "report.json"
    if not path.is_file():
        return {}
    tables = json.loads(path.read_text()).get("tables") or {}
    return {t: int(v["accepted"]) for t, v in tables.items() if isinstance(v, dict) and "accepted" in v}


def input_lineage(
    data_root: Path, start: str, end: str, tables: tuple[str, ...] = INPUT_TABLES
) -> list[dict[str, Any]]:
    """The clean partitions of the data interval: path, row count and content hash of each.

    Row counts come from each day's validation report (``tables.<t>.accepted``); days or
    tables without a clean partition are left out (the artifacts' reports list missing days).

    Args:
        data_root: ``Settings.data_root``.
        start: first day of the interval.
        end: last day of the interval.
        tables: the log tables to record.

    Returns:
        One dict per partition (the manifest's ``inputs``), sorted by day then table.
    """
    entries = []
    for day in days_between(start, end):
        rows = _accepted_rows(data_root, day)
        for table in tables:
            folder = partition_path(data_root, "clean", table, day)
            if not folder.is_dir():
                continue
            digest, files = partition_hash(folder)
            entries.append(
                {
                    "table": table,
                    "ds": day,
                    "path": folder.relative_to(data_root).as_posix(),
                    "rows": rows.get(table),
                    "files": files,
                    "content_hash": digest,
                }
            )
    return entries


def code_version() -> dict[str, str | None]:
    """The package version and, in a git checkout, ``git describe --always --dirty``.

    Returns:
        ``{"package": "0.1.0", "git": "1fe594d-dirty" | None}``.
    """
    repo = Path(ltrr.__file__).resolve().parents[1]
    described = None
    if (repo / ".git").exists():
        try:
            proc = subprocess.run(
                ["git", "-C", str(repo), "describe", "--always", "--dirty", "--tags"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
            described = proc.stdout.strip() or None if proc.returncode == 0 else None
        except (OSError, subprocess.SubprocessError):
            described = None
    return {"package": ltrr.__version__, "git": described}
