"""The log contracts: ``catalog``, ``searches``, ``engagements`` and the simulator's ``truth``.

Defined once here as Spark ``StructType``s (the Arrow schemas the simulator writes with are
derived from them) and documented field by field in ``docs/schemas.md``. Every table is
Parquet, partitioned by ``ds=YYYY-MM-DD`` (the partition column is not part of the file
schema). Change a contract deliberately: bump ``SCHEMA_VERSION`` and update the doc.

``truth`` holds what only a simulator knows (the intended entity, true relevance); serving
and training code must never read it, only evaluation.
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import types as T

SCHEMA_VERSION = "1.0.0"

ENTITY_TYPES = ("track", "artist", "album", "playlist", "podcast", "episode")
ACTIONS = ("click", "play", "like", "add", "skip")
STRATEGIES = ("lexical", "memory", "personalized", "related", "popular", "semantic")
DEVICES = ("mobile", "desktop", "web", "tv", "car")
INTENT_TYPES = ("direct", "broad", "topic", "ambiguous")

CATALOG = T.StructType(
    [
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("entity_type", T.StringType(), False),
        T.StructField("title", T.StringType(), False),
        T.StructField("artist_id", T.StringType(), True),
        T.StructField("artist", T.StringType(), True),
        T.StructField("album", T.StringType(), True),
        T.StructField("parent_id", T.StringType(), True),
        T.StructField("genres", T.ArrayType(T.StringType(), False), False),
        T.StructField("topics", T.ArrayType(T.StringType(), False), False),
        T.StructField("language", T.StringType(), False),
        T.StructField("popularity", T.DoubleType(), False),
        T.StructField("duration_ms", T.LongType(), True),
        T.StructField("added_ds", T.DateType(), False),
        T.StructField("description", T.StringType(), False),
    ]
)

PLAN_STEP = T.StructType(
    [
        T.StructField("strategy", T.StringType(), False),
        T.StructField("budget", T.IntegerType(), False),
    ]
)

CANDIDATE = T.StructType(
    [
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("strategy", T.StringType(), False),
        T.StructField("rank", T.IntegerType(), False),
        T.StructField("score", T.DoubleType(), False),
    ]
)

SHOWN = T.StructType(
    [
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("position", T.IntegerType(), False),
        T.StructField("score", T.DoubleType(), False),
    ]
)

SEARCHES = T.StructType(
    [
        T.StructField("search_id", T.StringType(), False),
        T.StructField("ts", T.TimestampType(), False),
        T.StructField("user_id", T.StringType(), False),
        T.StructField("session_id", T.StringType(), False),
        T.StructField("query", T.StringType(), False),
        T.StructField("locale", T.StringType(), False),
        T.StructField("device", T.StringType(), False),
        T.StructField("context", T.MapType(T.StringType(), T.StringType(), False), False),
        T.StructField("plan_id", T.StringType(), False),
        T.StructField("plan", T.ArrayType(PLAN_STEP, False), False),
        T.StructField("propensity", T.DoubleType(), False),
        T.StructField("policy_version", T.StringType(), False),
        T.StructField("ranker_version", T.StringType(), False),
        T.StructField("bundle_version", T.StringType(), False),
        T.StructField("candidates", T.ArrayType(CANDIDATE, False), False),
        T.StructField("shown", T.ArrayType(SHOWN, False), False),
        T.StructField("shown_randomized", T.BooleanType(), False),
    ]
)

ENGAGEMENTS = T.StructType(
    [
        T.StructField("engagement_id", T.StringType(), False),
        T.StructField("search_id", T.StringType(), False),
        T.StructField("ts", T.TimestampType(), False),
        T.StructField("user_id", T.StringType(), False),
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("position", T.IntegerType(), False),
        T.StructField("action", T.StringType(), False),
        T.StructField("amount_ms", T.LongType(), True),
    ]
)

RELEVANCE = T.StructType(
    [
        T.StructField("entity_id", T.StringType(), False),
        T.StructField("relevance", T.DoubleType(), False),
    ]
)

TRUTH = T.StructType(
    [
        T.StructField("search_id", T.StringType(), False),
        T.StructField("intent_type", T.StringType(), False),
        T.StructField("intended_entity_id", T.StringType(), False),
        T.StructField("canonical_query", T.StringType(), False),
        T.StructField("query_class", T.StringType(), False),
        T.StructField("has_typo", T.BooleanType(), False),
        T.StructField("relevance", T.ArrayType(RELEVANCE, False), False),
    ]
)

LOG_TABLES: dict[str, T.StructType] = {
    "catalog": CATALOG,
    "searches": SEARCHES,
    "engagements": ENGAGEMENTS,
}
"""The raw log tables a serving system writes (input of the nightly pipeline)."""

SIM_TABLES: dict[str, T.StructType] = {"truth": TRUTH}
"""Tables only the simulator writes."""

ALL_TABLES: dict[str, T.StructType] = {**LOG_TABLES, **SIM_TABLES}

PRIMARY_KEYS: dict[str, str] = {
    "catalog": "entity_id",
    "searches": "search_id",
    "engagements": "engagement_id",
    "truth": "search_id",
}

PARTITION_COLUMN = "ds"


def _to_arrow_type(dtype: T.DataType) -> pa.DataType:
    if isinstance(dtype, T.StringType):
        return pa.string()
    if isinstance(dtype, T.IntegerType):
        return pa.int32()
    if isinstance(dtype, T.LongType):
        return pa.int64()
    if isinstance(dtype, T.DoubleType):
        return pa.float64()
    if isinstance(dtype, T.BooleanType):
        return pa.bool_()
    if isinstance(dtype, T.DateType):
        return pa.date32()
    if isinstance(dtype, T.TimestampType):
        # Microseconds in UTC: Spark's own precision (nanoseconds would not round-trip).
        return pa.timestamp("us", tz="UTC")
    if isinstance(dtype, T.ArrayType):
        return pa.list_(pa.field("element", _to_arrow_type(dtype.elementType), dtype.containsNull))
    if isinstance(dtype, T.MapType):
        return pa.map_(_to_arrow_type(dtype.keyType), _to_arrow_type(dtype.valueType))
    if isinstance(dtype, T.StructType):
        return pa.struct([_to_arrow_field(f) for f in dtype.fields])
    raise TypeError(f"no Arrow mapping for Spark type {dtype!r}")


def _to_arrow_field(field: T.StructField) -> pa.Field:
    return pa.field(field.name, _to_arrow_type(field.dataType), field.nullable)


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a table's Parquet files (without the ``ds`` partition column).

    Args:
        table: one of ``ALL_TABLES``.

    Returns:
        The Arrow schema, with the schema version in its metadata.
    """
    spark_schema = ALL_TABLES[table]
    return pa.schema(
        [_to_arrow_field(f) for f in spark_schema.fields],
        metadata={b"ltrr.schema_version": SCHEMA_VERSION.encode(), b"ltrr.table": table.encode()},
    )
