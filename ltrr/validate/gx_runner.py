"""Run one Great Expectations suite on a Spark or pandas DataFrame (GX 1.x API), the shared way.

Every artifact and table suite of ltrr goes through ``run_suite``: an ephemeral context
(no files, no analytics, no progress bars), a Spark (or pandas) data source, a whole-dataframe batch,
one ``ValidationDefinition``; the result is written as JSON and summarised as a ``GxResult``.
Spark validation costs seconds per suite, so callers hand GX only the columns it needs and
the frame is cached while GX runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame


@dataclass(frozen=True)
class GxResult:
    """Outcome of one suite.

    Attributes:
        table: what was validated (the suite's subject).
        success: whether every expectation passed.
        evaluated: number of expectations evaluated.
        failed: one line per failed expectation, e.g.
            ``expect_column_values_to_be_unique(engagement_id): 3 unexpected``.
        result_file: where the GX result JSON was written (relative name, for reports).
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


def describe_failure(result: Any) -> str:
    """One readable line for a failed expectation result."""
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    target = kwargs.pop("column", None) or kwargs.pop("column_list", None)
    if target is None and "column_A" in kwargs:
        target = f"{kwargs['column_A']}, {kwargs['column_B']}"
    label = f"{config.type}({target})" if target else config.type
    details = result.result or {}
    if "unexpected_count" in details:
        return f"{label}: {details['unexpected_count']} unexpected"
    if "observed_value" in details:
        return f"{label}: observed {details['observed_value']}"
    return label


def new_context(gx: Any) -> Any:
    """An ephemeral GX context: in-memory stores, no analytics, no progress bars."""
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


def write_data_docs_page(result: Any, path: Path) -> Path:
    """Render a GX validation result as a Data Docs HTML page (GX's own renderer and template).

    The page is for people reading a run (which expectation failed, on how many rows); the
    JSON beside it stays the machine-readable record. GX puts a render time and random element
    ids in the page, so two renderings of one result differ: the bundle hashes a page as the
    result it renders (``ltrr.bundle.assemble``).

    Args:
        result: the ``ExpectationSuiteValidationResult`` of a run.
        path: the HTML file to write.

    Returns:
        ``path``.
    """
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    html = DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(result))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


def run_suite(
    frame: DataFrame | pd.DataFrame,
    *,
    suite_name: str,
    expectations: Callable[[Any], list[Any]],
    result_path: Path,
    context: Any | None = None,
) -> GxResult:
    """Validate ``frame`` against a suite and write the result JSON.

    Args:
        frame: the (slim) Spark DataFrame to validate, or a pandas DataFrame (small frames
            such as per-search summaries, validated in milliseconds).
        suite_name: name of the suite (also the subject in the summary).
        expectations: builds the expectation objects from the ``great_expectations`` module
            (so callers need not import GX at module level).
        result_path: where to write the GX result JSON.
        context: a GX context to reuse across suites of one job (default: a new one).

    Returns:
        The summary of the run.
    """
    import great_expectations as gx

    context = context or new_context(gx)
    is_spark = isinstance(frame, DataFrame)
    add_source = context.data_sources.add_or_update_spark if is_spark else context.data_sources.add_or_update_pandas
    source = add_source(name=f"{suite_name}-source")
    batch = source.add_dataframe_asset(name=suite_name).add_batch_definition_whole_dataframe("whole")
    suite = gx.ExpectationSuite(name=suite_name)
    for expectation in expectations(gx):
        suite.add_expectation(expectation)
    suite = context.suites.add(suite)
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{suite_name}-run", data=batch, suite=suite)
    )
    cached = frame.cache() if is_spark else frame
    try:
        result = definition.run(batch_parameters={"dataframe": cached}, result_format="BASIC")
    finally:
        if is_spark:
            cached.unpersist()
    result_path = Path(result_path)
    result_path.parent.mkdir(parents=True, exist_ok=True)
    result_path.write_text(json.dumps(result.to_json_dict(), indent=2, sort_keys=True, default=str) + "\n")
    write_data_docs_page(result, result_path.with_suffix(".html"))
    failed = tuple(describe_failure(r) for r in result.results if not r.success)
    return GxResult(suite_name, bool(result.success), len(result.results), failed, result_path.name)
