"""The ranker's point-in-time training rows, in Spark: one row per (search, candidate) of a day.

Shown candidates are always kept; unshown ones (no label) for a hashed share of searches.

Every log-derived feature of a search on day D comes from data that existed before D:
the memory table and the embeddings of D - 1, and counters (``history_stats``) over the
window ending at D - 1. The catalog snapshot of D supplies static metadata only. So a
model trained on these rows sees exactly what serving could see when the search happened.
The SQL lives in ``sql/rank/`` (``history_stats``, ``labels``, ``training_rows``).
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ltrr.config import Settings
from ltrr.memory.keys import _normalize_column, entity_keys, query_keys
from ltrr.rank.features import HASH_BUCKETS
from ltrr.rank.labels import MIN_PLAY_MS
from ltrr.sqlfiles import load_sql

HISTORY_TABLES = ("entity", "user", "artist", "genre", "query")
"""The counter tables held (in long form) by ``history_stats``."""

HISTORY_SCHEMA = T.StructType(
    [
        T.StructField("table", T.StringType(), False),
        T.StructField("key1", T.StringType(), True),
        T.StructField("key2", T.StringType(), True),
        T.StructField("n1", T.LongType(), False),
        T.StructField("n2", T.LongType(), False),
    ]
)

MEMORY_COLUMNS = T.StructType(
    [
        T.StructField("query_key", T.StringType(), False),
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("rank", T.IntegerType(), False),
        T.StructField("score", T.DoubleType(), False),
        T.StructField("trials", T.DoubleType(), True),
        T.StructField("predicted_kind", T.StringType(), True),
    ]
)

VECTOR_SCHEMAS = {
    "user": T.StructType(
        [T.StructField("user_id", T.StringType()), T.StructField("factors", T.ArrayType(T.FloatType()))]
    ),
    "item": T.StructType(
        [T.StructField("entity_id", T.StringType()), T.StructField("factors", T.ArrayType(T.FloatType()))]
    ),
}


@dataclass(frozen=True)
class TrainingSetParams:
    """Parameters of the training-set build.

    Attributes:
        history_days: look-back window of the counters (days ending the day before).
        hash_buckets: buckets of the crc32 codes of genre and locale.
        min_play_ms: shortest play that earns label 2.
        union_share: share of searches (by a hash of the search id) whose unshown candidates
            are kept; shown candidates are always kept.
    """

    history_days: int = 30
    hash_buckets: int = HASH_BUCKETS
    min_play_ms: int = MIN_PLAY_MS
    union_share: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainingSetParams:
        """Parameters from the run settings."""
        return cls(history_days=settings.rank_history_days, union_share=settings.rank_union_share)


def with_query_keys(searches: DataFrame) -> DataFrame:
    """``searches`` with a ``query_key`` column (the serving normalization; empty for no query)."""
    keys = query_keys(searches)
    return searches.join(keys, "query", "left").withColumn("query_key", F.coalesce(F.col("query_key"), F.lit("")))


def history_stats(spark: SparkSession, searches: DataFrame, engagements: DataFrame, catalog: DataFrame) -> DataFrame:
    """Counters over a window of clean logs, in the long form of ``sql/rank/history_stats.sql``.

    Args:
        spark: the session (temp views are registered on it).
        searches: clean searches of the window, with ``query_key``.
        engagements: clean engagements of the window.
        catalog: the catalog snapshot of the window's last day.

    Returns:
        ``table, key1, key2, n1, n2`` (see the SQL file for what each table counts).
    """
    searches.createOrReplaceTempView("hist_searches")
    engagements.createOrReplaceTempView("hist_engagements")
    catalog.createOrReplaceTempView("hist_catalog")
    out = spark.sql(load_sql("rank/history_stats"))
    return out.select(
        F.col("table"),
        F.col("key1"),
        F.col("key2"),
        F.col("n1").cast("long"),
        F.col("n2").cast("long"),
    )


def catalog_features(catalog: DataFrame) -> DataFrame:
    """Static entity metadata the features read, with normalized token arrays.

    Args:
        catalog: the catalog snapshot of the day.

    Returns:
        ``entity_id, entity_type, artist_id, primary_genre, popularity, added_ds, title_key,
        title_tokens, artist_tokens, other_tokens`` (album, genres and topics).
    """

    def tokens(column: F.Column) -> F.Column:
        return F.filter(F.split(column, " "), lambda t: t != "")

    other = F.concat_ws(
        " ", F.coalesce(F.col("album"), F.lit("")), F.array_join("genres", " "), F.array_join("topics", " ")
    )
    return catalog.select(
        "entity_id",
        "entity_type",
        "artist_id",
        F.try_element_at("genres", F.lit(1)).alias("primary_genre"),
        "popularity",
        "added_ds",
        F.col("title"),
        F.coalesce(F.col("artist"), F.lit("")).alias("artist_text"),
        other.alias("other_text"),
    ).select(
        "entity_id",
        "entity_type",
        "artist_id",
        "primary_genre",
        "popularity",
        "added_ds",
        _normalize_column("title").alias("title_key"),
        tokens(_normalize_column("title")).alias("title_tokens"),
        tokens(_normalize_column("artist_text")).alias("artist_tokens"),
        tokens(_normalize_column("other_text")).alias("other_tokens"),
    )


def entity_name_keys(catalog: DataFrame) -> DataFrame:
    """Distinct normalized titles and artist names: a query equal to one looks like an entity name."""
    keys = entity_keys(catalog)
    return keys.where(F.col("kind").isin("title", "artist")).select("query_key").distinct()


def empty_memory(spark: SparkSession) -> DataFrame:
    """An empty memory table (no artifact for the previous day)."""
    return spark.createDataFrame([], MEMORY_COLUMNS)


def empty_vectors(spark: SparkSession, kind: str) -> DataFrame:
    """An empty ``user`` or ``item`` vector table (no embeddings for the previous day)."""
    return spark.createDataFrame([], VECTOR_SCHEMAS[kind])


def training_rows(
    spark: SparkSession,
    params: TrainingSetParams,
    ds: str,
    *,
    searches: DataFrame,
    engagements: DataFrame,
    catalog: DataFrame,
    memory: DataFrame,
    user_vectors: DataFrame,
    item_vectors: DataFrame,
    history: DataFrame,
) -> DataFrame:
    """Build the training rows of day ``ds``.

    Args:
        spark: the session (temp views are registered on it).
        params: build parameters.
        ds: the day of the searches.
        searches: clean searches of ``ds`` with ``query_key`` (``with_query_keys``).
        engagements: clean engagements of ``ds`` (labels only, never features).
        catalog: the catalog snapshot of ``ds``.
        memory: the memory table of the previous day (``MEMORY_COLUMNS`` at least).
        user_vectors: ``user_id, factors`` of the previous day's embeddings.
        item_vectors: ``entity_id, factors`` of the previous day's embeddings.
        history: ``history_stats`` over the window ending the previous day.

    Returns:
        One row per (search, candidate): ``ltrr.rank.features.ID_COLUMNS``, ``label``,
        ``logged_score`` and every feature of ``ltrr.rank.features.FEATURES``.
    """
    searches.createOrReplaceTempView("day_searches")
    engagements.createOrReplaceTempView("day_engagements")
    spark.sql(load_sql("rank/labels", min_play_ms=int(params.min_play_ms))).createOrReplaceTempView("day_labels")
    catalog_features(catalog).createOrReplaceTempView("catalog_features")
    entity_name_keys(catalog).createOrReplaceTempView("entity_names")
    memory.select(*MEMORY_COLUMNS.fieldNames()).createOrReplaceTempView("memory")
    user_vectors.select("user_id", "factors").createOrReplaceTempView("user_vectors")
    item_vectors.select("entity_id", "factors").createOrReplaceTempView("item_vectors")
    for table in HISTORY_TABLES:
        history.where(F.col("table") == table).createOrReplaceTempView(f"hist_{table}")
    union_per_10000 = round(params.union_share * 10_000)
    return spark.sql(
        load_sql("rank/training_rows", ds=ds, hash_buckets=int(params.hash_buckets), union_per_10000=union_per_10000)
    )
