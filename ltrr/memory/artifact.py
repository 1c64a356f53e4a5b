"""Write the memory artifact of one day: the table, its serving form and what it was built from.

Layout (``<data_root>/artifacts/q2e/ds=D/``)::

    table/            Parquet: one row per (query_key, entity_id) in the top-N, all statistics
    serving/          Parquet, one file: one row per query_key with ranked entity_ids and scores
    examination.json  the examination curve used for debiasing (estimated or carried over)
    validation.json   GX result of the table suite
    report.json       row counts, parameters, global rate, coverage and recall figures

The day's folder is written under a temporary name and renamed into place last, so a
reader never sees half an artifact and a re-run replaces the day atomically.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ltrr.zones import artifact_dir

__all__ = ["SERVING_COLUMNS", "artifact_dir", "publish", "serving_form", "staging_dir", "write_json", "write_table"]

SERVING_COLUMNS = ("query_key", "entity_ids", "scores")


def serving_form(table: DataFrame) -> DataFrame:
    """The compact form serving loads: one row per query, entities in rank order.

    Args:
        table: the memory table (``query_key, entity_id, rank, score`` at least).

    Returns:
        ``query_key, entity_ids array<string>, scores array<double>``, sorted by key.
    """
    ranked = F.array_sort(F.collect_list(F.struct("rank", "entity_id", "score")))
    return (
        table.groupBy("query_key")
        .agg(ranked.alias("ranked"))
        .select(
            "query_key",
            F.col("ranked.entity_id").alias("entity_ids"),
            F.col("ranked.score").alias("scores"),
        )
        .orderBy("query_key")
    )


def staging_dir(final: Path) -> Path:
    """A fresh temporary folder beside ``final`` (same filesystem, so rename is atomic)."""
    return final.parent / f".{final.name}.tmp-{uuid.uuid4().hex[:8]}"


def write_json(path: Path, data: dict) -> None:
    """Write JSON with sorted keys (stable bytes for the same content)."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def publish(staging: Path, final: Path) -> None:
    """Move a fully written staging folder into place, replacing an earlier version.

    The old version is renamed aside first and removed after the new one is in place, so at
    every moment ``final`` is either the complete old or the complete new artifact.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if final.exists():
        old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:8]}"
        final.rename(old)
    staging.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_table(table: DataFrame, staging: Path) -> None:
    """Write the table and its serving form (sorted, so the bytes are reproducible)."""
    (
        table.repartition(1)
        .sortWithinPartitions("query_key", "rank")
        .write.mode("overwrite")
        .option("compression", "zstd")
        .parquet(str(staging / "table"))
    )
    serving_form(table).coalesce(1).write.mode("overwrite").option("compression", "zstd").parquet(
        str(staging / "serving")
    )
