"""The GX suites of the ranker's training rows: what must hold before a model learns from them.

Two suites, both validated by GX on small pandas frames that one Spark pass each produces:
a one-row summary of the rows (keys, uniqueness, label range, feature ranges, the share of
missing values of features that should almost always be present) and one row per search (no
empty groups, every search that has rows has something shown).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ltrr.rank.labels import MAX_LABEL
from ltrr.schemas import DEVICES, ENTITY_TYPES, STRATEGIES

UNIT_INTERVAL = (
    "q2e_score",
    "popularity",
    "title_exact",
    "title_jaccard",
    "query_coverage",
    "artist_in_query",
    "user_genre_share",
    "q2e_predicted",
    "query_is_entity_name",
)
"""Features that are shares, flags or scores in [0, 1]."""

NON_NEGATIVE = (
    "age_days",
    "entity_impressions",
    "entity_positives",
    "user_positives",
    "user_artist_positives",
    "query_searches",
    "query_chars",
    "query_tokens",
    "q2e_evidence",
)
"""Counts and log1p counts."""

MAX_MISSING: dict[str, float] = {
    "popularity": 0.001,
    "entity_type": 0.001,
    "age_days": 0.001,
    "n_strategies": 0.001,
    "best_rank": 0.001,
    "query_chars": 0.0,
    "query_tokens": 0.0,
    "hour": 0.001,
    "weekday": 0.001,
    "device": 0.001,
    "locale": 0.001,
}
"""Largest share of missing values allowed per feature (features not listed may be missing:
provenance of strategies that did not retrieve the candidate, memory for unseen queries,
affinity for unknown users)."""


RANGES: dict[str, tuple[float | None, float | None]] = {
    **{c: (0.0, 1.0) for c in UNIT_INTERVAL},
    **{c: (0.0, None) for c in NON_NEGATIVE},
    **{f"{s}_rank": (1.0, None) for s in STRATEGIES},
    "best_rank": (1.0, None),
    "n_strategies": (1.0, float(len(STRATEGIES))),
    "entity_type": (0.0, len(ENTITY_TYPES) - 1.0),
    "device": (0.0, len(DEVICES) - 1.0),
    "weekday": (0.0, 6.0),
    "hour": (0.0, 23.0),
}
"""Allowed [min, max] of features (None: unbounded on that side); genre and locale codes are
checked against the hash buckets of the run."""


def rows_summary(rows: DataFrame, feature_names: tuple[str, ...]) -> pd.DataFrame:
    """One pass over the rows: the facts the rows suite checks, as a one-row pandas frame.

    GX on Spark runs one or more Spark jobs per expectation (tens of seconds for a suite of
    this size); the summary needs one wide aggregation and one narrow one, and GX then checks
    it in milliseconds. Duplicates are counted by a group-by of the two key columns alone: a
    ``countDistinct`` inside the wide aggregation makes Spark first aggregate by the distinct
    columns, one buffer of all 130 aggregates per (search, entity) pair, which took 411 s on
    a large day's 26.5M rows against 72 s + 52 s for the two passes (2 shared cores).

    Args:
        rows: the written training rows.
        feature_names: the feature columns.

    Returns:
        Columns ``rows``, ``null_<key>`` (null keys), ``duplicate_pairs`` (rows beyond the first
        of each (search, entity), null keys included), ``bad_labels``
        (labels outside 0..MAX_LABEL), ``labels_off_shown`` (a label without a shown position
        or the reverse), ``min_shown_position``, and per feature ``<f>__min``, ``<f>__max``,
        ``<f>__missing`` (share of nulls).
    """
    label, shown = F.col("label"), F.col("shown_position")
    exprs = [F.count(F.lit(1)).alias("rows")]
    exprs += [
        F.sum(F.col(k).isNull().cast("long")).alias(f"null_{k}") for k in ("search_id", "entity_id", "ds", "user_id")
    ]
    exprs += [
        F.sum((label.isNotNull() & ((label < 0) | (label > MAX_LABEL))).cast("long")).alias("bad_labels"),
        F.sum((label.isNull() != shown.isNull()).cast("long")).alias("labels_off_shown"),
        F.min(shown).cast("double").alias("min_shown_position"),
    ]
    for name in feature_names:
        column = F.col(name)
        exprs += [
            F.min(column).alias(f"{name}__min"),
            F.max(column).alias(f"{name}__max"),
            F.avg(column.isNull().cast("double")).alias(f"{name}__missing"),
        ]
    out = rows.agg(*exprs).toPandas()
    repeats = (
        rows.groupBy("search_id", "entity_id")
        .count()
        .where(F.col("count") > 1)
        .agg(F.sum(F.col("count") - 1).alias("duplicate_pairs"))
        .first()
    )
    out["duplicate_pairs"] = int(repeats["duplicate_pairs"] or 0)
    return out


def rows_expectations(gx: Any, params: Any) -> list[Any]:
    """Expectations of the one-row summary of the training rows (``rows_summary``).

    Args:
        gx: the ``great_expectations`` module.
        params: ``TrainingSetParams`` (hash buckets).

    Returns:
        Expectation objects: keys never null, (search, entity) unique, labels in 0..3 exactly on
        shown rows, positions from 1, every feature within its range, and the share of missing
        values of always-present features below ``MAX_MISSING``.
    """
    E = gx.expectations
    zero = [f"null_{k}" for k in ("search_id", "entity_id", "ds", "user_id")]
    zero += ["duplicate_pairs", "bad_labels", "labels_off_shown"]
    out: list[Any] = [E.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=0) for c in zero]
    out.append(E.ExpectColumnValuesToBeBetween(column="min_shown_position", min_value=1))
    ranges = {
        **RANGES,
        "genre": (0.0, params.hash_buckets - 1.0),
        "locale": (0.0, params.hash_buckets - 1.0),
    }
    for name, (low, high) in ranges.items():
        if low is not None:
            out.append(E.ExpectColumnValuesToBeBetween(column=f"{name}__min", min_value=low))
        if high is not None:
            out.append(E.ExpectColumnValuesToBeBetween(column=f"{name}__max", max_value=high))
    for name, share in MAX_MISSING.items():
        out.append(E.ExpectColumnValuesToBeBetween(column=f"{name}__missing", min_value=0.0, max_value=share))
    return out


def search_groups(rows: DataFrame) -> pd.DataFrame:
    """One row per search of the training rows (small: one per search of the day).

    Returns:
        ``search_id, rows, shown_rows, labelled_rows, positive_rows``.
    """
    return (
        rows.groupBy("search_id")
        .agg(
            F.count("*").alias("rows"),
            F.count("shown_position").alias("shown_rows"),
            F.count("label").alias("labelled_rows"),
            F.sum((F.col("label") > 0).cast("int")).alias("positive_rows"),
        )
        .orderBy("search_id")
        .toPandas()
    )


def group_expectations(gx: Any) -> list[Any]:
    """Expectations of the per-search summary: no empty groups, labels exactly on shown rows."""
    E = gx.expectations
    return [
        E.ExpectColumnValuesToBeUnique(column="search_id"),
        E.ExpectColumnValuesToBeBetween(column="rows", min_value=1),
        E.ExpectColumnValuesToBeBetween(column="shown_rows", min_value=1),
        E.ExpectColumnPairValuesToBeEqual(column_A="shown_rows", column_B="labelled_rows"),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="rows", column_B="shown_rows", or_equal=True),
    ]


METRIC_SCOPES = ("observable", "observable_label", "truth")
"""Metric blocks of the ranker's ``metrics.json`` (``truth`` only on the simulated world)."""


def metrics_frame(metrics: dict) -> pd.DataFrame:
    """The ranker's NDCG figures as one row per (scope, scorer, k), for the metrics suite.

    Args:
        metrics: the content of the ranker's ``metrics.json``.

    Returns:
        ``scope, scorer, k, mean, ci_low, ci_high, n_queries`` (empty blocks are skipped).
    """
    rows = []
    for scope in METRIC_SCOPES:
        block = metrics.get(scope)
        if not block:
            continue
        for scorer, by_k in block["scorers"].items():
            for key, value in by_k.items():
                rows.append(
                    {
                        "scope": scope,
                        "scorer": scorer,
                        "k": int(key.split("@")[1]),
                        "mean": value["mean"],
                        "ci_low": value["ci_low"],
                        "ci_high": value["ci_high"],
                        "n_queries": int(block["n_queries"]),
                    }
                )
    return pd.DataFrame(rows, columns=["scope", "scorer", "k", "mean", "ci_low", "ci_high", "n_queries"])


def metrics_expectations(gx: Any) -> list[Any]:
    """Expectations of the ranker metrics: NDCG in [0, 1], intervals around the mean, enough queries."""
    E = gx.expectations
    out = [E.ExpectTableRowCountToBeBetween(min_value=1)]
    out += [E.ExpectColumnValuesToNotBeNull(column=c) for c in ("mean", "ci_low", "ci_high")]
    out += [
        E.ExpectColumnValuesToBeBetween(column=c, min_value=0.0, max_value=1.0) for c in ("mean", "ci_low", "ci_high")
    ]
    out += [
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="mean", column_B="ci_low", or_equal=True),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="ci_high", column_B="mean", or_equal=True),
        E.ExpectColumnValuesToBeBetween(column="n_queries", min_value=30),
        E.ExpectColumnValuesToBeInSet(column="scope", value_set=list(METRIC_SCOPES)),
    ]
    return out
