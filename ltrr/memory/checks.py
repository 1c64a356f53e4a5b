"""The GX suite of the memory table: what must hold before anyone may use it."""

from __future__ import annotations

from typing import Any

from pyspark.sql import Column
from pyspark.sql import functions as F

COUNT_COLUMNS = ("impressions", "clicks", "plays", "likes_adds", "skips", "positives")


def memory_columns() -> dict[str, Column]:
    """The columns the suite looks at (the table's own, plus the per-query entity count)."""
    columns = {name: F.col(name) for name in ("query_key", "entity_id", "rank", "score", *COUNT_COLUMNS)}
    columns["debiased_impressions"] = F.col("debiased_impressions")
    return columns


def memory_expectations(gx: Any, top_n: int) -> list[Any]:
    """Expectations of the memory table.

    Args:
        gx: the ``great_expectations`` module.
        top_n: most entities allowed per query.

    Returns:
        Expectation objects: keys present and unique, score in [0, 1], counts non-negative,
        clicks at most impressions, rank within 1..N (so at most N entities per query).
    """
    E = gx.expectations
    expectations = [
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectColumnValuesToNotBeNull(column="query_key"),
        E.ExpectColumnValuesToNotBeNull(column="entity_id"),
        E.ExpectCompoundColumnsToBeUnique(column_list=["query_key", "entity_id"]),
        E.ExpectCompoundColumnsToBeUnique(column_list=["query_key", "rank"]),
        E.ExpectColumnValuesToBeBetween(column="score", min_value=0, max_value=1),
        E.ExpectColumnValuesToBeBetween(column="rank", min_value=1, max_value=top_n),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="impressions", column_B="clicks", or_equal=True),
        E.ExpectColumnValuesToBeBetween(column="debiased_impressions", min_value=0),
    ]
    expectations += [E.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in COUNT_COLUMNS]
    return expectations
