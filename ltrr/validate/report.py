"""The outcome of validating a day: per-table counts, the threshold verdict, ``report.json``.

``report.json`` in ``<data_root>/validation/ds=D/`` is the record downstream jobs gate on
(``ltrr.orchestration.checks.require_accepted_day`` in the DAG, :func:`read_report` here):
a day whose report is missing or whose ``status`` is not ``accepted`` has no usable clean
data. Its content is deterministic (no clock times), so re-running a day rewrites
the same report.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltrr.schemas import SCHEMA_VERSION
from ltrr.validate.gx_runner import GxResult
from ltrr.validate.read import SchemaDrift
from ltrr.zones import validation_dir

REPORT_FILE = "report.json"
ACCEPTED = "accepted"
"""``status`` of a day that passed: its clean partitions are published."""
REJECTED = "rejected"
"""``status`` of a day that failed: no clean partition, quarantine and report kept."""
TOP_REASONS = 3
"""How many reasons a rejection message lists."""


class DayRejectedError(RuntimeError):
    """The day failed validation; the message says which table, share, threshold and rules."""


class ConservationError(RuntimeError):
    """Rows were lost or duplicated between input and outputs (a bug, never a data issue)."""


@dataclass(frozen=True)
class TableReport:
    """Validation outcome of one table of the day.

    Attributes:
        table: table name.
        rows_in: input rows (from the raw Parquet footers).
        accepted: rows written to ``clean`` (read back).
        quarantined: rows written to ``quarantine`` (read back).
        by_reason: quarantined rows per reason code, largest first.
        threshold: the allowed rejected share.
        schema_drift: raw file groups whose physical schema differed from the contract.
        gx: the GX suite outcome, or None when GX did not run.
    """

    table: str
    rows_in: int
    accepted: int
    quarantined: int
    by_reason: dict[str, int]
    threshold: float
    schema_drift: tuple[SchemaDrift, ...] = ()
    gx: GxResult | None = None

    @property
    def rejected_share(self) -> float:
        """Quarantined rows over input rows (0 for an empty table)."""
        return self.quarantined / self.rows_in if self.rows_in else 0.0

    @property
    def over_threshold(self) -> bool:
        """Whether the rejected share exceeds the threshold (strictly)."""
        return self.rejected_share > self.threshold

    @property
    def conserved(self) -> bool:
        """Whether ``rows_in == accepted + quarantined``."""
        return self.rows_in == self.accepted + self.quarantined

    def threshold_message(self) -> str:
        """E.g. ``searches: 5.2% of 2,000 rows quarantined > threshold 2.0% (null_id: 24, ...)``."""
        share, limit = _pct_pair(self.rejected_share, self.threshold)
        top = ", ".join(f"{reason}: {count:,}" for reason, count in list(self.by_reason.items())[:TOP_REASONS])
        return f"{self.table}: {share} of {self.rows_in:,} rows quarantined > threshold {limit} ({top})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the per-table entry of ``report.json``)."""
        return {
            "in": self.rows_in,
            "accepted": self.accepted,
            "quarantined": self.quarantined,
            "by_reason": dict(self.by_reason),
            "rejected_share": round(self.rejected_share, 6),
            "over_threshold": self.over_threshold,
            "schema_drift": [d.to_dict() for d in self.schema_drift],
            "gx": self.gx.to_dict() if self.gx else None,
        }


def _pct_pair(share: float, threshold: float) -> tuple[str, str]:
    """Format two shares as percentages with enough decimals to tell them apart."""
    for digits in (1, 2, 3, 4):
        a, b = f"{share:.{digits}%}", f"{threshold:.{digits}%}"
        if a != b:
            return a, b
    return f"{share:.4%}", f"{threshold:.4%}"


@dataclass(frozen=True)
class ValidationReport:
    """What ``validate_day`` found and did.

    Attributes:
        ds: the day.
        status: ``accepted`` (clean partitions published) or ``rejected`` (no clean
            partition of the day is left; quarantine and this report are written).
        threshold: ``Settings.max_rejected_share`` used.
        tables: table name -> outcome, in processing order (catalog, searches, engagements).
        problems: one line per reason for rejection (threshold or GX failures).
        gx_ran: whether the GX suites ran (not when the threshold already rejected the day).
        report_path: where ``report.json`` was written.
    """

    ds: str
    status: str
    threshold: float
    tables: dict[str, TableReport]
    problems: tuple[str, ...] = ()
    gx_ran: bool = False
    report_path: Path | None = field(default=None, compare=False)

    @property
    def passed(self) -> bool:
        """Whether the day passed validation."""
        return self.status == ACCEPTED

    @property
    def message(self) -> str:
        """One line: ``ds D accepted ...`` or ``ds D rejected: <problems>``."""
        if self.passed:
            return f"ds {self.ds} accepted: every table within threshold {self.threshold:.1%}" + (
                ", GX suites passed" if self.gx_ran else ", GX not run"
            )
        return f"ds {self.ds} rejected: " + "; ".join(self.problems)

    def raise_for_status(self) -> ValidationReport:
        """Return self when the day passed.

        Raises:
            DayRejectedError: when it did not, with :attr:`message`.
        """
        if not self.passed:
            raise DayRejectedError(self.message)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The content of ``report.json``."""
        return {
            "ds": self.ds,
            "status": self.status,
            "message": self.message,
            "schema_version": SCHEMA_VERSION,
            "threshold": self.threshold,
            "problems": list(self.problems),
            "gx_ran": self.gx_ran,
            "tables": {name: t.to_dict() for name, t in self.tables.items()},
        }

    def summary(self) -> dict[str, Any]:
        """A compact form for one log line: status and per-table in/accepted/quarantined."""
        return {
            "ds": self.ds,
            "status": self.status,
            "tables": {
                n: {"in": t.rows_in, "accepted": t.accepted, "quarantined": t.quarantined}
                for n, t in self.tables.items()
            },
            "problems": list(self.problems),
            "report": str(self.report_path) if self.report_path else None,
        }


def write_report(report: ValidationReport, out_dir: Path) -> Path:
    """Write ``report.json`` atomically (temp file + rename) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / REPORT_FILE
    tmp = out_dir / f".{REPORT_FILE}.tmp"
    tmp.write_text(json.dumps(report.to_dict(), indent=2, sort_keys=True) + "\n")
    os.replace(tmp, target)
    return target


def read_report(data_root: Path, ds: str) -> dict[str, Any]:
    """The ``report.json`` of a day, as written by ``validate_day``.

    Raises:
        FileNotFoundError: the day was never validated (or its run did not finish).
    """
    path = validation_dir(data_root, ds) / REPORT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no validation report for ds {ds}: {path} (run jobs/validate_inputs.py --ds {ds})")
    return json.loads(path.read_text())
