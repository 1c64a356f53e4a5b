"""Great Expectations suites over a day's clean tables (GX 1.x API, Spark data source).

The row rules already keep bad rows out of ``clean``; these suites are the independent
second opinion on what was actually written (read back from the staged Parquet), and the
place data-quality expectations that are not row rules live (row count > 0). A failed
expectation fails the day.

Spark validation costs seconds per suite, mostly per-metric job overhead, so each table
gets exactly one suite, GX is handed only the few columns it needs (derived ones such as
``min_shown_position`` computed with Spark first), the frame is cached while GX runs, and results
use the ``BASIC`` format (counts and a few unexpected values, no full lists).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ltrr import schemas


@dataclass(frozen=True)
class GxResult:
    """Outcome of one table's suite.

    Attributes:
        table: the table validated.
        success: whether every expectation passed.
        evaluated: number of expectations evaluated.
        failed: one line per failed expectation, e.g.
            ``expect_column_values_to_be_unique(engagement_id): 3 unexpected``.
        result_file: the GX result JSON, relative to the day's validation folder.
    """

    table: str
    success: bool
    evaluated: int
    failed: tuple[str, ...]
    result_file: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "success": self.success,
            "evaluated": self.evaluated,
            "failed": list(self.failed),
            "result_file": self.result_file,
        }


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


def build_suite(gx: Any, table: str, ds: str) -> Any:
    """The expectation suite of a clean table (``gx`` is the imported module).

    Args:
        gx: the ``great_expectations`` module (imported lazily by the caller).
        table: one of ``ltrr.schemas.LOG_TABLES``.
        ds: the day (every ``ts`` must fall on it).

    Returns:
        An unsaved ``ExpectationSuite`` named ``ltrr-clean-<table>``.
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
    suite = gx.ExpectationSuite(name=f"ltrr-clean-{table}")
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite


def _describe_failure(result: Any) -> str:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    target = kwargs.pop("column", None)
    label = f"{config.type}({target})" if target else config.type
    details = result.result or {}
    if "unexpected_count" in details:
        return f"{label}: {details['unexpected_count']} unexpected"
    if "observed_value" in details:
        return f"{label}: observed {details['observed_value']}"
    return label


def _new_context(gx: Any) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def validate_clean_tables(frames: dict[str, DataFrame], ds: str, out_dir: Path) -> dict[str, GxResult]:
    """Run each table's suite on its clean frame and write the GX results as JSON.

    Args:
        frames: table name -> clean frame (contract columns); GX runs on their session
            and never creates one.
        ds: the day.
        out_dir: the day's validation folder; results go to ``gx/<table>.json``.

    Returns:
        Table name -> outcome.
    """
    import great_expectations as gx

    context = _new_context(gx)
    source = context.data_sources.add_spark(name="ltrr_clean")
    gx_dir = out_dir / "gx"
    gx_dir.mkdir(parents=True, exist_ok=True)
    outcomes: dict[str, GxResult] = {}
    for table, frame in frames.items():
        columns = gx_columns(table, ds)
        slim = frame.select(*[c.alias(n) for n, c in columns.items()]).cache()
        try:
            batch = source.add_dataframe_asset(name=table).add_batch_definition_whole_dataframe("whole_day")
            suite = context.suites.add(build_suite(gx, table, ds))
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"ltrr-clean-{table}-{ds}", data=batch, suite=suite)
            )
            result = definition.run(batch_parameters={"dataframe": slim}, result_format="BASIC")
        finally:
            slim.unpersist()
        name = f"gx/{table}.json"
        (out_dir / name).write_text(json.dumps(result.to_json_dict(), indent=2, sort_keys=True, default=str) + "\n")
        failed = tuple(_describe_failure(r) for r in result.results if not r.success)
        outcomes[table] = GxResult(table, bool(result.success), len(result.results), failed, name)
    return outcomes
