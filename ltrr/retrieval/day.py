"""One night of the retrieval artifact: what serving needs besides the learned models, for ``ds``.

``artifacts/retrieval/ds=D/`` holds the catalog-derived indexes and the counters a serving
process reads, built from the clean catalog snapshot of D and the counters of the window
ending at D, so that a ``Searcher`` serving day D + 1 from the bundle of D sees exactly what
the training side saw for a search of D + 1:

- ``catalog.parquet``: the catalog snapshot of D (entity metadata for the ranker's features,
  the popular strategy and entity names);
- ``lexical/``: the BM25 index (``ltrr.retrieval.lexical``, tantivy) built from that snapshot,
  the same implementation the day-0 engine serves with;
- ``semantic/``: the LSA index over entity text (``ltrr.retrieval.semantic``);
- ``counters.parquet``: the counters (``sql/rank/history_stats.sql``, long form) as of D,
  copied from the training-set artifact of D (empty, and reported so, when that day has none);
- ``validation.json``: the GX suite of the counters and catalog keys;
- ``report.json``: counts, the self-retrieval checks and the gate (the publication marker).

Gate (``retrieval_rejected.json`` under ``validation/ds=D/`` when it fails, nothing published):
the GX suite passes, and lexical search by an entity's exact title finds it (or an entity with
the identical title) in the top 10 for at least ``retrieval_min_title_recall`` of a
deterministic sample of entities (an index that lost documents or fields fails it). The
semantic index's share of entities with a vector is reported.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ltrr.config import Settings
from ltrr.memory.artifact import publish, staging_dir, write_json
from ltrr.rank.training_set import HISTORY_TABLES
from ltrr.retrieval.lexical import LexicalIndex
from ltrr.timing import StepTimer
from ltrr.validate.gx_runner import run_suite
from ltrr.zones import artifact_dir, partition_path, validation_dir

ARTIFACT = "retrieval"
TITLE_SAMPLE = 500
"""Entities whose exact title is searched by the self-retrieval check."""
TITLE_TOP = 10

COUNTER_SCHEMA = pa.schema(
    [
        pa.field("table", pa.string(), nullable=False),
        pa.field("key1", pa.string()),
        pa.field("key2", pa.string()),
        pa.field("n1", pa.int64(), nullable=False),
        pa.field("n2", pa.int64(), nullable=False),
    ]
)


class RetrievalRejected(RuntimeError):
    """The day's retrieval artifact failed its gate; nothing was published."""


def rejection_path(data_root: Path, ds: str) -> Path:
    """Where a refused build leaves its reasons."""
    return validation_dir(data_root, ds) / "retrieval_rejected.json"


def read_counters(data_root: Path, ds: str) -> tuple[pa.Table, str]:
    """The counters as of ``ds`` from the training-set artifact, or an empty table.

    Returns:
        (table with :data:`COUNTER_SCHEMA`, source: ``training_set`` or ``absent``).
    """
    folder = artifact_dir(data_root, ds, "training_set") / "history"
    if not folder.is_dir():
        return COUNTER_SCHEMA.empty_table(), "absent"
    table = pq.read_table(folder).select(COUNTER_SCHEMA.names).cast(COUNTER_SCHEMA)
    return table.sort_by([("table", "ascending"), ("key1", "ascending"), ("key2", "ascending")]), "training_set"


def title_self_recall(index: LexicalIndex, catalog: pa.Table, sample: int = TITLE_SAMPLE, top: int = TITLE_TOP) -> dict:
    """How often exact-title search finds a sampled entity (or one with the very same title).

    The sample is every k-th catalog row (deterministic). Many entities share a title
    ("Intro", a title track and its album), and any of them is a correct answer for the title
    alone, so the gated figure ``recall`` counts a hit when the top ``top`` holds the entity or
    another entity whose normalized title is identical; ``strict_recall`` (the entity itself)
    is reported beside it.

    Returns:
        ``{"sampled", "found", "recall", "strict_recall"}``.
    """
    from ltrr.text.normalize import normalize_query

    n = catalog.num_rows
    if n == 0:
        return {"sampled": 0, "found": 0, "recall": None, "strict_recall": None}
    step = max(n // sample, 1)
    rows = list(range(0, n, step))[:sample]
    titles = catalog.column("title").to_pylist()
    ids = catalog.column("entity_id").to_pylist()
    row_of = {e: i for i, e in enumerate(ids)}
    found = strict = 0
    for r in rows:
        got, _ = index.search_rows(titles[r] or "", top)
        hits = [index.entity_ids[g] for g in got]
        key = normalize_query(titles[r] or "")
        strict += ids[r] in hits
        found += ids[r] in hits or any(normalize_query(titles[row_of[h]] or "") == key for h in hits if h in row_of)
    return {
        "sampled": len(rows),
        "found": found,
        "recall": found / len(rows),
        "strict_recall": strict / len(rows),
    }


def counter_expectations(gx: Any) -> list[Any]:
    """The counters suite: known tables, keys present, counts non-negative."""
    E = gx.expectations
    return [
        E.ExpectColumnValuesToBeInSet(column="table", value_set=list(HISTORY_TABLES)),
        E.ExpectColumnValuesToNotBeNull(column="key1"),
        E.ExpectColumnValuesToBeBetween(column="n1", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="n2", min_value=0),
        E.ExpectCompoundColumnsToBeUnique(column_list=["table", "key1", "key2"], ignore_row_if="never"),
    ]


def build_retrieval_day(settings: Settings, ds: str) -> dict:
    """Build, check and publish ``artifacts/retrieval/ds=D/``.

    Args:
        settings: run settings (data root, seed, semantic dimensions, the gate's threshold).
        ds: the day.

    Returns:
        The report (also written as ``report.json``).

    Raises:
        FileNotFoundError: the day has no clean catalog.
        RetrievalRejected: the gate failed (the reasons are in ``retrieval_rejected.json``).
    """
    from ltrr.retrieval.semantic import SemanticIndex

    root = Path(settings.data_root)
    rejected = rejection_path(root, ds)
    rejected.unlink(missing_ok=True)
    catalog_dir = partition_path(root, "clean", "catalog", ds)
    if not catalog_dir.is_dir():
        raise FileNotFoundError(f"no clean catalog for {ds} at {catalog_dir}")
    catalog = pq.read_table(catalog_dir)
    catalog = catalog.sort_by([("entity_id", "ascending")])
    counters, counters_source = read_counters(root, ds)

    final = artifact_dir(root, ds, ARTIFACT)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    timer = StepTimer()
    lap, timings = timer.lap, timer.timings

    try:
        pq.write_table(catalog, staging / "catalog.parquet", compression="zstd")
        pq.write_table(counters, staging / "counters.parquet", compression="zstd")
        lexical = LexicalIndex.build(catalog, path=staging / "lexical")
        lap("lexical_s")
        semantic = SemanticIndex.build(catalog, dims=settings.semantic_dims, seed=settings.seed)
        semantic.save(staging / "semantic")
        lap("semantic_s")
        recall = title_self_recall(lexical, catalog)
        with_vector = float(np.mean(np.any(semantic.vectors != 0, axis=1))) if catalog.num_rows else 0.0
        lap("checks_s")
        gx_counters = run_suite(
            counters.to_pandas() if counters.num_rows else pd.DataFrame(columns=COUNTER_SCHEMA.names),
            suite_name="ltrr-retrieval-counters",
            expectations=counter_expectations,
            result_path=staging / "validation.json",
        )
        lap("validation_s")
        reasons = [f"counters suite: {f}" for f in gx_counters.failed]
        ids = catalog.column("entity_id")
        if ids.null_count or len(pa.compute.unique(ids)) != catalog.num_rows:
            reasons.append("catalog: entity ids are null or not unique")
        threshold = settings.retrieval_min_title_recall
        if catalog.num_rows and (recall["recall"] or 0.0) < threshold:
            reasons.append(f"lexical: exact-title recall@{TITLE_TOP} {recall['recall']:.3f} is below {threshold}")
        report = {
            "ds": ds,
            "passed": not reasons,
            "reasons": reasons,
            "entities": catalog.num_rows,
            "counters": {"rows": counters.num_rows, "source": counters_source},
            "lexical": {"documents": len(lexical), f"title_recall@{TITLE_TOP}": recall},
            "semantic": {"dims": semantic.dims, "share_with_vector": round(with_vector, 6)},
            "validation": gx_counters.to_dict(),
            "params": {
                "semantic_dims": settings.semantic_dims,
                "seed": settings.seed,
                "min_title_recall": threshold,
                "title_sample": TITLE_SAMPLE,
            },
        }
        if reasons:
            rejected.parent.mkdir(parents=True, exist_ok=True)
            write_json(rejected, {**report, "timings": timings})
            raise RetrievalRejected(f"retrieval artifact of {ds} refused: {'; '.join(reasons)}")
        write_json(staging / "report.json", report)
        publish(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {**report, "timings": timings}
