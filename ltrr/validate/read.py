"""Read one day's raw partition of a log table and conform it to the contract schema.

Raw files come from serving or the simulator, written by whatever Parquet writer they use,
so a file's column types may differ from the contract (an ``int64`` position, a ``string``
propensity). Files are grouped by their physical schema (read from the Parquet footers on
the driver, no data read): files that Spark can read with the contract schema are read in
one go; every other group is read with its own schema and each differing column is
``try_cast`` to the contract type. A value that fails the cast is not lost: the row keeps
it in ``_cast_raw`` and its original JSON in ``_orig`` and is later quarantined as
``malformed_value:<column>``.

Besides the contract columns, the returned frame carries the meta columns listed in
:data:`META_COLUMNS`; ``_src``/``_row`` (file name and row index within the file, from
Spark's ``_metadata``) identify every input row deterministically, so re-reads of the same
files give the same row identities without caching.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ltrr.schemas import LOG_TABLES, arrow_schema
from ltrr.zones import partition_path

META_COLUMNS = ("_src", "_row", "_cast_col", "_cast_raw", "_orig")
"""Meta columns added to every raw frame: source file name, row index in the file, first
column whose cast failed (or null), that column's original value as text, and the original
row as JSON for files whose schema differed from the contract (null otherwise)."""

JSON_OPTIONS = {"ignoreNullFields": "false", "timestampFormat": "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"}
"""``to_json`` options for quarantine records: keep nulls visible, keep microseconds."""


class MissingPartitionError(FileNotFoundError):
    """A raw partition the day needs does not exist or holds no data files."""


@dataclass(frozen=True)
class SchemaDrift:
    """How one group of raw files differs from the contract (reported in ``report.json``).

    Attributes:
        files: names of the files in the group.
        cast: columns whose type differs and that were cast to the contract type.
        missing: contract columns absent from the files (read as null).
        extra: columns not in the contract (ignored; kept in quarantine records).
    """

    files: tuple[str, ...]
    cast: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    def to_dict(self) -> dict[str, list[str]]:
        """JSON-ready form."""
        return {
            "files": list(self.files),
            "cast": list(self.cast),
            "missing": list(self.missing),
            "extra": list(self.extra),
        }


@dataclass(frozen=True)
class RawPartition:
    """The data files of one raw partition, and what their footers say.

    Attributes:
        table: log table name.
        path: the partition directory.
        files: data files (hidden ``_``/``.`` files excluded, as Spark does), sorted.
        rows: total row count from the Parquet footers (independent of Spark).
        schema_groups: file groups keyed by their physical schema text.
    """

    table: str
    path: Path
    files: tuple[Path, ...]
    rows: int
    schema_groups: dict[str, tuple[Path, ...]] = field(default_factory=dict)


def inspect_partition(data_root: Path, table: str, ds: str) -> RawPartition:
    """List a raw partition's data files and read their footers (schema, row count).

    Args:
        data_root: root of the zones.
        table: one of ``ltrr.schemas.LOG_TABLES``.
        ds: the day, ``YYYY-MM-DD``.

    Returns:
        The partition's files, total rows and files grouped by physical schema.

    Raises:
        MissingPartitionError: the directory does not exist or contains no data files.
    """
    path = partition_path(data_root, "raw", table, ds)
    if not path.is_dir():
        raise MissingPartitionError(f"raw partition missing: {path} (table {table!r}, ds {ds})")
    files = tuple(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(("_", "."))))
    if not files:
        raise MissingPartitionError(f"raw partition has no data files: {path} (table {table!r}, ds {ds})")
    rows = 0
    groups: dict[str, list[Path]] = {}
    for file in files:
        meta = pq.ParquetFile(file)
        rows += meta.metadata.num_rows
        groups.setdefault(meta.schema_arrow.remove_metadata().to_string(), []).append(file)
    return RawPartition(table, path, files, rows, {k: tuple(v) for k, v in groups.items()})


def _nullable(dtype: T.DataType) -> T.DataType:
    """``dtype`` with every level nullable (Parquet reads are nullable; compare types only)."""
    if isinstance(dtype, T.StructType):
        return T.StructType([T.StructField(f.name, _nullable(f.dataType), True) for f in dtype.fields])
    if isinstance(dtype, T.ArrayType):
        return T.ArrayType(_nullable(dtype.elementType), True)
    if isinstance(dtype, T.MapType):
        return T.MapType(_nullable(dtype.keyType), _nullable(dtype.valueType), True)
    return dtype


def _as_text(column: Column, dtype: T.DataType) -> Column:
    """A value as readable text: JSON for nested types, a plain cast otherwise."""
    if isinstance(dtype, T.StructType | T.ArrayType | T.MapType):
        return F.to_json(column, JSON_OPTIONS)
    return column.cast("string")


def _with_meta(df: DataFrame) -> DataFrame:
    return df.withColumn("_src", F.col("_metadata.file_name")).withColumn("_row", F.col("_metadata.row_index"))


def _read_conforming(spark: SparkSession, schema: T.StructType, files: list[Path]) -> DataFrame:
    df = _with_meta(spark.read.schema(schema).parquet(*[str(f) for f in files]))
    return df.select(
        *[f.name for f in schema.fields],
        "_src",
        "_row",
        F.lit(None).cast("string").alias("_cast_col"),
        F.lit(None).cast("string").alias("_cast_raw"),
        F.lit(None).cast("string").alias("_orig"),
    )


def _read_drifted(
    spark: SparkSession, schema: T.StructType, files: list[Path], file_schema: T.StructType
) -> tuple[DataFrame, SchemaDrift]:
    """Read files with their own schema and cast each differing column to the contract."""
    df = _with_meta(spark.read.schema(file_schema).parquet(*[str(f) for f in files]))
    present = {f.name: f.dataType for f in file_schema.fields}
    wanted = {f.name for f in schema.fields}
    columns: list[Column] = []
    failures: list[tuple[str, Column, Column]] = []
    cast, missing = [], []
    for fld in schema.fields:
        if fld.name not in present:
            missing.append(fld.name)
            columns.append(F.lit(None).cast(fld.dataType).alias(fld.name))
            continue
        src_type = present[fld.name]
        original = F.col(fld.name)
        if _nullable(src_type) == _nullable(fld.dataType):
            columns.append(original)
            continue
        cast.append(fld.name)
        converted = original.try_cast(fld.dataType)
        try:
            df.select(converted).schema  # noqa: B018  (analysis only: is the cast allowed at all?)
        except AnalysisException:
            converted = F.lit(None).cast(fld.dataType)
        columns.append(converted.alias(fld.name))
        failures.append((fld.name, original.isNotNull() & converted.isNull(), _as_text(original, src_type)))
    cast_col: Column = F.lit(None).cast("string")
    cast_raw: Column = F.lit(None).cast("string")
    if failures:
        cast_col = F.when(failures[0][1], F.lit(failures[0][0]))
        cast_raw = F.when(failures[0][1], failures[0][2])
        for name, failed, raw in failures[1:]:
            cast_col = cast_col.when(failed, F.lit(name))
            cast_raw = cast_raw.when(failed, raw)
    original_json = F.to_json(F.struct(*[F.col(n) for n in present]), JSON_OPTIONS)
    out = df.select(
        *columns,
        "_src",
        "_row",
        cast_col.alias("_cast_col"),
        cast_raw.alias("_cast_raw"),
        original_json.alias("_orig"),
    )
    drift = SchemaDrift(
        files=tuple(f.name for f in files),
        cast=tuple(cast),
        missing=tuple(missing),
        extra=tuple(sorted(set(present) - wanted)),
    )
    return out, drift


def _canonical(dtype: pa.DataType) -> pa.DataType:
    """An Arrow type with nullability, list item names and metadata normalised away."""
    if pa.types.is_list(dtype):
        return pa.list_(_canonical(dtype.value_type))
    if pa.types.is_struct(dtype):
        return pa.struct([pa.field(f.name, _canonical(f.type)) for f in dtype])
    if pa.types.is_map(dtype):
        return pa.map_(_canonical(dtype.key_type), _canonical(dtype.item_type))
    return dtype


def _canonical_schema(schema: pa.Schema) -> dict[str, pa.DataType]:
    """Column name -> canonical type: files equal to the contract's are read with its schema.

    Anything else (another type, a missing or extra column, ``large_string``, a timestamp
    in another unit) takes the slower, always-correct path through Spark's own inference.
    """
    return {f.name: _canonical(f.type) for f in schema}


def read_raw(spark: SparkSession, partition: RawPartition) -> tuple[DataFrame, list[SchemaDrift]]:
    """Read a raw partition as contract columns plus :data:`META_COLUMNS`.

    Args:
        spark: the job's session.
        partition: the partition, from :func:`inspect_partition`.

    Returns:
        The conformed frame (one row per input row, nothing dropped) and the schema
        drift of every file group that differed from the contract (empty when none did).
    """
    schema = LOG_TABLES[partition.table]
    contract = _canonical_schema(arrow_schema(partition.table))
    conforming: list[Path] = []
    frames: list[DataFrame] = []
    drifts: list[SchemaDrift] = []
    for files in partition.schema_groups.values():
        if _canonical_schema(pq.read_schema(files[0])) == contract:
            conforming.extend(files)
            continue
        # Only files that differ pay for Spark's schema inference (a job per group).
        file_schema = spark.read.parquet(str(files[0])).schema
        frame, drift = _read_drifted(spark, schema, list(files), file_schema)
        frames.append(frame)
        if drift.cast or drift.missing or drift.extra:  # else only the physical types differed
            drifts.append(drift)
    if conforming:
        frames.insert(0, _read_conforming(spark, schema, sorted(conforming)))
    result = frames[0]
    for frame in frames[1:]:
        result = result.unionByName(frame)
    return result, drifts
