"""Great Expectations suites over a day's clean tables (GX 1.x API, Spark data source).

The row rules already keep bad rows out of ``clean``; these suites are the independent
second opinion on what was actually written (read back from the staged Parquet), and the
place data-quality expectations that are not row rules live (row count > 0). A failed
expectation fails the day.

Spark validation costs seconds per suite, mostly per-metric job overhead, so each table
gets exactly one suite, run through the shared ``ltrr.validate.gx_runner.run_suite`` (one
ephemeral context for the day, frame cached while GX runs, ``BASIC`` results), and GX is
handed only the few columns it needs (derived ones such as ``min_shown_position`` computed
with Spark first).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ltrr import schemas
from ltrr.validate.gx_runner import GxResult, new_context, run_suite


def gx_columns(table: str, ds: str) -> dict[str, Column]:
    """The columns each suite looks at (contract columns or values derived from them)."""
    ts_day = F.date_format(F.col("ts"), "yyyy-MM-dd")
    if table == "catalog":
        return {"entity_id": F.col("entity_id"), "entity_type": F.col("entity_type")}
    if table == "searches":
        return {
            "search_id": F.col("search_id"),
            "ts_day": ts_day,
            "device": F.col("device"),
            "propensity": F.col("propensity"),
            "min_candidate_rank": F.array_min(F.col("candidates.rank")),
            "min_shown_position": F.array_min(F.col("shown.position")),
        }
    if table == "engagements":
        return {
            "engagement_id": F.col("engagement_id"),
            "search_id": F.col("search_id"),
            "ts_day": ts_day,
            "action": F.col("action"),
            "position": F.col("position"),
            "amount_ms": F.col("amount_ms"),
        }
    raise ValueError(f"no GX suite for table {table!r}")


def table_expectations(gx: Any, table: str, ds: str) -> list[Any]:
    """The expectations of a clean table's suite, over the columns of :func:`gx_columns`.

    Args:
        gx: the ``great_expectations`` module (imported lazily by ``run_suite``).
        table: one of ``ltrr.schemas.LOG_TABLES``.
        ds: the day (every ``ts`` must fall on it).

    Returns:
        The expectation objects.
    """
    E = gx.expectations
    key = schemas.PRIMARY_KEYS[table]
    expectations: list[Any] = [
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectColumnValuesToNotBeNull(column=key),
        E.ExpectColumnValuesToBeUnique(column=key),
    ]
    if table == "catalog":
        expectations += [
            E.ExpectColumnValuesToBeInSet(column="entity_type", value_set=list(schemas.ENTITY_TYPES)),
        ]
    elif table == "searches":
        expectations += [
            E.ExpectColumnValuesToBeInSet(column="ts_day", value_set=[ds]),
            E.ExpectColumnValuesToBeInSet(column="device", value_set=list(schemas.DEVICES)),
            E.ExpectColumnValuesToBeBetween(column="propensity", min_value=0, max_value=1, strict_min=True),
            E.ExpectColumnValuesToBeBetween(column="min_candidate_rank", min_value=1),
            E.ExpectColumnValuesToBeBetween(column="min_shown_position", min_value=1),
        ]
    elif table == "engagements":
        expectations += [
            E.ExpectColumnValuesToNotBeNull(column="search_id"),
            E.ExpectColumnValuesToBeInSet(column="ts_day", value_set=[ds]),
            E.ExpectColumnValuesToBeInSet(column="action", value_set=list(schemas.ACTIONS)),
            E.ExpectColumnValuesToBeBetween(column="position", min_value=1),
            E.ExpectColumnValuesToBeBetween(column="amount_ms", min_value=0),
        ]
    return expectations


def validate_clean_tables(frames: dict[str, DataFrame], ds: str, out_dir: Path) -> dict[str, GxResult]:
    """Run each table's suite on its clean frame and write the GX results as JSON.

    Args:
        frames: table name -> clean frame (contract columns); GX runs on their session
            and never creates one.
        ds: the day.
        out_dir: the day's validation folder; results go to ``gx/<table>.json``.

    Returns:
        Table name -> outcome (``result_file`` relative to ``out_dir``).
    """
    import great_expectations as gx

    context = new_context(gx)  # one context for the day's suites
    outcomes: dict[str, GxResult] = {}
    for table, frame in frames.items():
        slim = frame.select(*[column.alias(name) for name, column in gx_columns(table, ds).items()])
        result = run_suite(
            slim,
            suite_name=f"ltrr-clean-{table}",
            expectations=lambda gx_module, table=table: table_expectations(gx_module, table, ds),
            result_path=out_dir / "gx" / f"{table}.json",
            context=context,
        )
        outcomes[table] = dataclasses.replace(result, table=table, result_file=f"gx/{table}.json")
    return outcomes
