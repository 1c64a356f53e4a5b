"""Writing the world's files: Parquet parts, atomic partition publishing, ``world.json``.

A day's partitions are written into hidden temporary directories beside their final place
(``<table>/.tmp-ds=D-<pid>``) and renamed into place only when the whole day is written, so a
reader never sees a half-written day; re-running a day replaces the old partition (the old one
is renamed away first, then deleted).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ltrr.schemas import arrow_schema
from ltrr.zones import partition_path

PARQUET_OPTIONS = {"compression": "zstd", "use_dictionary": True, "write_statistics": True}


def list_array(offsets: list[int], children: list[pa.Array], list_type: pa.ListType) -> pa.Array:
    """A list<struct> array from flat child columns and list offsets, typed exactly as ``list_type``."""
    struct_type = list_type.value_type
    values = pa.StructArray.from_arrays(children, fields=list(struct_type))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values, type=list_type)


def table_from_columns(table: str, columns: dict[str, pa.Array]) -> pa.Table:
    """An Arrow table with exactly ``arrow_schema(table)`` (field order, types, nullability)."""
    schema = arrow_schema(table)
    missing = [f.name for f in schema if f.name not in columns]
    if missing:
        raise ValueError(f"{table}: missing columns {missing}")
    return pa.Table.from_arrays([columns[f.name].cast(f.type) for f in schema], schema=schema)


class DayWriter:
    """Stages one day's partitions of several tables, then publishes them together.

    Args:
        data_root: the output root (``--out``).
        ds: the day, ``YYYY-MM-DD``.
        tables: (zone, table) pairs to write.
    """

    def __init__(self, data_root: Path, ds: str, tables: list[tuple[str, str]]) -> None:
        self.final: dict[str, Path] = {}
        self.staging: dict[str, Path] = {}
        for zone, table in tables:
            final = partition_path(data_root, zone, table, ds)
            staging = final.parent / f".tmp-ds={ds}-{os.getpid()}"
            if staging.exists():
                shutil.rmtree(staging)
            staging.mkdir(parents=True)
            self.final[table] = final
            self.staging[table] = staging
        self.rows = {table: 0 for _, table in tables}

    def write(self, table: str, part: int, data: pa.Table) -> None:
        """Write one part file of a table into its staging directory."""
        if data.schema != arrow_schema(table):
            raise ValueError(f"{table}: table does not match arrow_schema({table!r})")
        pq.write_table(data, self.staging[table] / f"part-{part:05d}.parquet", **PARQUET_OPTIONS)
        self.rows[table] += data.num_rows

    def publish(self) -> None:
        """Move every staged partition into place (replacing an older version of the day)."""
        for table, staging in self.staging.items():
            final = self.final[table]
            old = final.parent / f".old-{final.name}-{os.getpid()}"
            if final.exists():
                final.rename(old)
            staging.rename(final)
            if old.exists():
                shutil.rmtree(old)

    def abort(self) -> None:
        """Remove the staging directories (after an error)."""
        for staging in self.staging.values():
            shutil.rmtree(staging, ignore_errors=True)


def write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON (sorted keys, stable formatting) via a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
