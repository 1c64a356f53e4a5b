"""Normalized keys in Spark: raw queries and catalog metadata mapped through ``normalize_query``.

The normalization is the Python function serving uses (``ltrr.text.normalize_query``),
applied to *distinct* strings only, so the Python cost grows with the number of distinct
queries and titles, not with the number of log rows. Up to ``DRIVER_KEY_LIMIT`` distinct
queries are normalized on the driver (no Python worker start-up: 2-4 s for 300k queries);
beyond that, by a vectorized pandas UDF on the executors.
"""

# No ``from __future__ import annotations`` here: pandas_udf reads the type hints of the
# function it wraps at definition time, and needs them as real objects.
import pandas as pd
import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf

from ltrr.text.normalize import normalize_query

DRIVER_KEY_LIMIT = 1_000_000
"""Most distinct raw queries normalized on the driver; more go through the pandas UDF."""

KEY_KINDS = ("title", "artist", "title_artist", "artist_title")
"""Metadata keys an entity can be found by (see docs/memory.md)."""


def _normalize_series(values: pd.Series) -> pd.Series:
    return values.map(normalize_query)


def _normalize_column(column: str) -> Column:
    return pandas_udf(_normalize_series, "string")(F.col(column))


def _with_keys(distinct: DataFrame, column: str, driver_limit: int) -> DataFrame:
    """Add ``query_key = normalize_query(column)`` to a frame of distinct strings."""
    sample = distinct.limit(driver_limit + 1).toArrow()
    if sample.num_rows > driver_limit:
        return distinct.withColumn("query_key", _normalize_column(column))
    raw = sample.column(column).to_pylist()
    keys = [normalize_query(text) for text in raw]
    mapping = pa.table({column: pa.array(raw, pa.string()), "query_key": pa.array(keys, pa.string())})
    return F.broadcast(distinct.sparkSession.createDataFrame(mapping))


def query_keys(searches: DataFrame, driver_limit: int = DRIVER_KEY_LIMIT) -> DataFrame:
    """Map every distinct raw query of ``searches`` to its normalized key.

    With at most ``driver_limit`` distinct queries, they are collected and normalized on the
    driver and the mapping is returned as a broadcast-hinted local table (the usual case:
    queries repeat, so even 5M searches have a few 100k distinct ones). Otherwise the
    mapping is computed on the executors with a pandas UDF.

    Args:
        searches: a DataFrame with a string column ``query``.
        driver_limit: most distinct queries normalized on the driver.

    Returns:
        Columns ``query`` (raw) and ``query_key`` (normalized; may be empty).
    """
    distinct = searches.select("query").where(F.col("query").isNotNull()).distinct()
    return _with_keys(distinct, "query", driver_limit)


def entity_keys(catalog: DataFrame, driver_limit: int = DRIVER_KEY_LIMIT) -> DataFrame:
    """The normalized metadata keys of every catalog entity.

    Kinds: ``title`` (the entity's own name: a track's title, an artist's name),
    ``artist`` (the artist or publisher name, for entities that are not the artist itself),
    ``title_artist`` and ``artist_title`` (the two written together, as people type them).

    Args:
        catalog: the catalog snapshot (contract schema).
        driver_limit: most distinct texts normalized on the driver (see ``query_keys``).

    Returns:
        Distinct rows ``entity_id, added_ds, kind, query_key``.
    """
    title = catalog.select("entity_id", "added_ds", F.lit("title").alias("kind"), F.col("title").alias("text"))
    others = catalog.where(F.col("artist").isNotNull() & (F.col("entity_type") != "artist"))
    artist = others.select("entity_id", "added_ds", F.lit("artist").alias("kind"), F.col("artist").alias("text"))
    title_artist = others.select(
        "entity_id",
        "added_ds",
        F.lit("title_artist").alias("kind"),
        F.concat_ws(" ", "title", "artist").alias("text"),
    )
    artist_title = others.select(
        "entity_id",
        "added_ds",
        F.lit("artist_title").alias("kind"),
        F.concat_ws(" ", "artist", "title").alias("text"),
    )
    texts = title.unionByName(artist).unionByName(title_artist).unionByName(artist_title)
    distinct_texts = _with_keys(texts.select("text").distinct(), "text", driver_limit)
    return (
        texts.join(distinct_texts, "text")
        .select("entity_id", "added_ds", "kind", "query_key")
        .where(F.col("query_key") != "")
        .distinct()
    )
