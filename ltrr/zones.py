"""Where each log zone and partition lives under ``Settings.data_root``.

Zones: ``raw`` (what serving wrote), ``clean`` (rows that passed validation), ``quarantine``
(rejected rows, each with a reason), ``validation`` (per-day reports and GX results), and
``sim`` (the simulator's ground truth and world description), ``artifacts`` (what the jobs
build from the clean logs, e.g. ``artifacts/q2e/ds=D/``). Every task reads and writes
one ``ds`` partition, so any day can be retried or backfilled on its own.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

ZONES = ("raw", "clean", "quarantine", "validation", "sim", "artifacts")


def parse_ds(ds: str) -> dt.date:
    """Parse a ``YYYY-MM-DD`` day, with a clear error for anything else."""
    try:
        return dt.date.fromisoformat(ds)
    except (TypeError, ValueError):
        raise ValueError(f"ds must be a day as YYYY-MM-DD, got {ds!r}") from None


def table_path(data_root: Path, zone: str, table: str) -> Path:
    """The folder of a table in a zone (its ``ds=`` partitions live below it)."""
    if zone not in ZONES:
        raise ValueError(f"unknown zone {zone!r}; expected one of {ZONES}")
    return Path(data_root) / zone / table


def partition_path(data_root: Path, zone: str, table: str, ds: str) -> Path:
    """The folder of one day's partition of a table in a zone."""
    parse_ds(ds)
    return table_path(data_root, zone, table) / f"ds={ds}"


def validation_dir(data_root: Path, ds: str) -> Path:
    """Where the validation job keeps the day's report and GX results."""
    parse_ds(ds)
    return Path(data_root) / "validation" / f"ds={ds}"


def raw_days(data_root: Path, table: str = "searches") -> list[str]:
    """The days that have a raw partition of ``table``, sorted."""
    root = table_path(data_root, "raw", table)
    if not root.is_dir():
        return []
    return sorted(p.name[3:] for p in root.iterdir() if p.name.startswith("ds=") and p.is_dir())


def artifact_dir(data_root: Path, ds: str, name: str = "q2e") -> Path:
    """Where the day's artifact ``name`` (e.g. the Q2E memory table) lives."""
    parse_ds(ds)
    return Path(data_root) / "artifacts" / name / f"ds={ds}"
