"""Write a classified table: accepted rows to ``clean`` (staged), rejected rows to ``quarantine``.

Layout of one table and day D (see ``docs/validation.md``)::

    <data_root>/quarantine/<table>/ds=D/     rejected rows (QUARANTINE_SCHEMA), written in place
    <data_root>/clean/<table>/_staging/ds=D/ accepted rows, contract schema, until the day is decided
    <data_root>/clean/<table>/ds=D/          accepted rows, published only when the day is accepted

The ``_staging`` folder starts with ``_`` so Spark's partition discovery never sees it.
Publishing swaps folders with renames (the old partition is moved aside first, then
removed), so a reader never sees a half-written clean partition. Every write overwrites
exactly its own partition folder: re-running a day gives the same result.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ltrr import schemas
from ltrr.validate.read import JSON_OPTIONS
from ltrr.validate.rules import VERDICT
from ltrr.zones import partition_path, table_path

QUARANTINE_SCHEMA = T.StructType(
    [
        T.StructField("key", T.StringType(), True),
        T.StructField("reason", T.StringType(), False),
        T.StructField("rule", T.StringType(), False),
        T.StructField("column", T.StringType(), True),
        T.StructField("raw_value", T.StringType(), True),
        T.StructField("record", T.StringType(), False),
        T.StructField("source_file", T.StringType(), False),
        T.StructField("row_index", T.LongType(), False),
    ]
)
"""Columns of a quarantine partition (``ds`` is the partition folder, as everywhere).

- ``key``: the row's primary key as text (null when missing or unreadable);
- ``reason``: the stable reason code, e.g. ``malformed_value:action``;
- ``rule``: the reason without its detail, e.g. ``malformed_value`` (for grouping);
- ``column``: the column (dotted path) the rule blames, null when none;
- ``raw_value``: the offending value as text (the unknown id, the bad propensity ...);
- ``record``: the whole input row as JSON, with its original types and values;
- ``source_file``, ``row_index``: where the row is in the raw partition.
"""


def staging_path(data_root: Path, table: str, ds: str) -> Path:
    """Where a table's accepted rows wait until the day passes validation."""
    return table_path(data_root, "clean", table) / "_staging" / f"ds={ds}"


BROADCAST_REJECTED_ROWS = 2_000_000
"""Up to this many rejected rows, their ids are broadcast to split the raw rows (no shuffle)."""


def quarantine_rows(rejected: DataFrame, table: str) -> DataFrame:
    """Rejected raw rows (with their verdict ``_q``) as :data:`QUARANTINE_SCHEMA` columns."""
    contract = schemas.LOG_TABLES[table]
    record: Column = F.coalesce(
        F.col("_orig"), F.to_json(F.struct(*[F.col(f.name) for f in contract.fields]), JSON_OPTIONS)
    )
    reason = F.col(f"{VERDICT}.reason")
    return rejected.select(
        F.col(schemas.PRIMARY_KEYS[table]).cast("string").alias("key"),
        reason.alias("reason"),
        F.substring_index(reason, ":", 1).alias("rule"),
        F.col(f"{VERDICT}.column").alias("column"),
        F.col(f"{VERDICT}.raw_value").alias("raw_value"),
        record.alias("record"),
        F.col("_src").alias("source_file"),
        F.col("_row").alias("row_index"),
    )


def clean_rows(accepted: DataFrame, table: str) -> DataFrame:
    """Accepted raw rows with exactly the contract columns."""
    return accepted.select(*[F.col(f.name) for f in schemas.LOG_TABLES[table].fields])


def write_table(raw: DataFrame, verdicts: DataFrame, data_root: Path, table: str, ds: str) -> int:
    """Split a table's raw rows by their verdicts: quarantine partition and staged clean one.

    The slim verdicts are computed once (persisted); the raw rows are streamed twice, once
    joined with the rejected ids (quarantine), once anti-joined (clean). The rejected ids
    are broadcast when there are few of them (the normal case), so whole rows are never
    shuffled.

    Args:
        raw: the conformed raw frame (contract columns and ``_src``, ``_row`` ...).
        verdicts: ``_src``, ``_row``, ``_q`` for every raw row.
        data_root: root of the zones.
        table: the table name.
        ds: the day.

    Returns:
        The number of rejected rows (as computed; the caller counts what was written).
    """
    verdicts = verdicts.persist()
    try:
        rejected = verdicts.filter(F.col(VERDICT).isNotNull())
        n_rejected = rejected.count()
        if n_rejected <= BROADCAST_REJECTED_ROWS:
            rejected = F.broadcast(rejected)
        quarantine_rows(raw.join(rejected, ["_src", "_row"], "inner"), table).write.mode("overwrite").parquet(
            str(partition_path(data_root, "quarantine", table, ds))
        )
        staged = staging_path(data_root, table, ds)
        if staged.exists():
            shutil.rmtree(staged)
        accepted = raw.join(rejected.select("_src", "_row"), ["_src", "_row"], "left_anti")
        clean_rows(accepted, table).write.mode("overwrite").parquet(str(staged))
    finally:
        verdicts.unpersist()
    return n_rejected


def _data_files(path: Path) -> list[Path]:
    return sorted(
        p for p in path.iterdir() if p.is_file() and p.suffix == ".parquet" and not p.name.startswith(("_", "."))
    )


def parquet_rows(path: Path) -> int:
    """Rows in a written partition, from its Parquet footers (no Spark involved)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in _data_files(path))


def count_values(path: Path, column: str) -> dict[str, int]:
    """Occurrences of each value of a string column of a written partition.

    Streams the column batch by batch with pyarrow, so driver memory stays bounded by
    the number of distinct values, not the number of rows.
    """
    counts: dict[str, int] = {}
    for file in _data_files(path):
        for batch in pq.ParquetFile(file).iter_batches(columns=[column], batch_size=65_536):
            for item in pc.value_counts(batch.column(0)).to_pylist():
                counts[item["values"]] = counts.get(item["values"], 0) + item["counts"]
    return counts


def publish(data_root: Path, table: str, ds: str) -> Path:
    """Move a staged clean partition into place, replacing any previous one.

    Returns:
        The published partition folder.
    """
    staged = staging_path(data_root, table, ds)
    target = partition_path(data_root, "clean", table, ds)
    old = staged.with_name(f"ds={ds}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        target.rename(old)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged.rename(target)
    if old.exists():
        shutil.rmtree(old)
    return target


def discard(data_root: Path, table: str, ds: str) -> None:
    """Remove a table's staged and published clean partition of a rejected day."""
    for path in (staging_path(data_root, table, ds), partition_path(data_root, "clean", table, ds)):
        if path.exists():
            shutil.rmtree(path)
