"""Normalized keys in Spark: raw queries and catalog metadata mapped through ``normalize_query``.

The normalization is the Python function serving uses (``ltrr.text.normalize_query``),
applied with a vectorized pandas UDF to *distinct* strings only, so the Python cost grows
with the number of distinct queries and titles, not with the number of log rows.
"""

# No ``from __future__ import annotations`` here: pandas_udf reads the type hints of the
# function it wraps at definition time, and needs them as real objects.
import pandas as pd
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.functions import pandas_udf

from ltrr.text.normalize import normalize_query

KEY_KINDS = ("title", "artist", "title_artist", "artist_title")
"""Metadata keys an entity can be found by (see docs/memory.md)."""


def _normalize_series(values: pd.Series) -> pd.Series:
    return values.map(normalize_query)


def _normalize_column(column: str) -> Column:
    return pandas_udf(_normalize_series, "string")(F.col(column))


def query_keys(searches: DataFrame) -> DataFrame:
    """Map every distinct raw query of ``searches`` to its normalized key.

    Args:
        searches: a DataFrame with a string column ``query``.

    Returns:
        Columns ``query`` (raw) and ``query_key`` (normalized; may be empty).
    """
    distinct = searches.select("query").where(F.col("query").isNotNull()).distinct()
    return distinct.withColumn("query_key", _normalize_column("query"))


def entity_keys(catalog: DataFrame) -> DataFrame:
    """The normalized metadata keys of every catalog entity.

    Kinds: ``title`` (the entity's own name: a track's title, an artist's name),
    ``artist`` (the artist or publisher name, for entities that are not the artist itself),
    ``title_artist`` and ``artist_title`` (the two written together, as people type them).

    Args:
        catalog: the catalog snapshot (contract schema).

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
    distinct_texts = texts.select("text").distinct().withColumn("query_key", _normalize_column("text"))
    return (
        texts.join(distinct_texts, "text")
        .select("entity_id", "added_ds", "kind", "query_key")
        .where(F.col("query_key") != "")
        .distinct()
    )
