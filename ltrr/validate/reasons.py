"""The stable reason codes of quarantined rows, and the order in which rules are applied.

A rejected input row gets exactly one quarantine row, whose ``reason`` is the *first* rule
it fails in :data:`PRECEDENCE`; that keeps ``in = accepted + quarantined`` exact. The codes
are a contract with users and dashboards (``docs/validation.md``): add codes, never rename.

``malformed_value`` carries a detail, the column (dotted path for nested fields) whose value
is bad: ``malformed_value:action``, ``malformed_value:plan.budget``. All other codes are
bare. ``rule_of("malformed_value:action")`` gives the code without the detail.
"""

from __future__ import annotations

NULL_ID = "null_id"
"""A required (non-nullable in the contract) field is null, ids included, nested ones too."""

MALFORMED_VALUE = "malformed_value"
"""A value cannot be cast to the contract type, or is outside its domain (``:<column>``)."""

TIMESTAMP_OUTSIDE_DAY = "timestamp_outside_day"
"""``ts`` is not within ``[D 00:00, D+1 00:00)`` UTC."""

PROPENSITY_OUT_OF_RANGE = "propensity_out_of_range"
"""``propensity`` is not in ``(0, 1]`` (0, > 1, NaN, infinite)."""

UNKNOWN_SEARCH = "unknown_search"
"""An engagement whose ``search_id`` is not among the day's searches at all."""

SEARCH_QUARANTINED = "search_quarantined"
"""An engagement whose search exists in the day's raw searches but was quarantined."""

UNKNOWN_ENTITY = "unknown_entity"
"""A candidate/shown entity (searches) or engaged entity not in the day's *clean* catalog."""

DUPLICATE_ID = "duplicate_id"
"""A primary key already taken by an earlier valid row (earliest ``ts``, then file, row)."""

PRECEDENCE: tuple[str, ...] = (
    f"{MALFORMED_VALUE} (cast)",
    NULL_ID,
    f"{MALFORMED_VALUE} (domain)",
    TIMESTAMP_OUTSIDE_DAY,
    PROPENSITY_OUT_OF_RANGE,
    UNKNOWN_SEARCH,
    SEARCH_QUARANTINED,
    UNKNOWN_ENTITY,
    DUPLICATE_ID,
)
"""Rules in the order they are applied; a row is quarantined by the first one it fails.

Row-local rules come first (the row cannot be trusted on its own), then rules that look at
other tables (parents before references), then duplicates: ``duplicate_id`` is only given
to a row that would otherwise have been accepted, so the row kept for a key is the first
*valid* one.
"""

ALL_RULES: tuple[str, ...] = (
    MALFORMED_VALUE,
    NULL_ID,
    TIMESTAMP_OUTSIDE_DAY,
    PROPENSITY_OUT_OF_RANGE,
    UNKNOWN_SEARCH,
    SEARCH_QUARANTINED,
    UNKNOWN_ENTITY,
    DUPLICATE_ID,
)


def malformed(column: str) -> str:
    """The reason code of a malformed value in ``column`` (``malformed_value:<column>``)."""
    return f"{MALFORMED_VALUE}:{column}"


def rule_of(reason: str) -> str:
    """The rule of a reason code, without its detail (``malformed_value:x`` -> ``malformed_value``)."""
    return reason.split(":", 1)[0]
