"""Input validation of a day's raw logs (catalog, searches, engagements).

Rows that break a rule go to the quarantine zone with a stable reason code, accepted rows
to the clean zone, and a ``report.json`` plus Great Expectations results to the validation
zone; a day whose rejected share exceeds ``Settings.max_rejected_share`` (or whose clean
data fails GX) is rejected. See ``docs/validation.md``.

Public API: :func:`validate_day`, :class:`ValidationReport`, :class:`TableReport`,
:func:`read_report`, the errors, and the reason codes in
:mod:`ltrr.validate.reasons`. Importing this package does not import Great Expectations.
"""

from ltrr.validate.day import TABLES, validate_day
from ltrr.validate.read import MissingPartitionError
from ltrr.validate.report import (
    ConservationError,
    DayRejectedError,
    TableReport,
    ValidationReport,
    read_report,
)

__all__ = [
    "TABLES",
    "ConservationError",
    "DayRejectedError",
    "MissingPartitionError",
    "TableReport",
    "ValidationReport",
    "read_report",
    "validate_day",
]
