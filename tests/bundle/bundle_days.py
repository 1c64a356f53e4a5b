"""Write one day of pipeline outputs as the jobs lay them out, small enough for unit tests.

Only the *inputs* of publishing are faked: clean partitions, validation report and GX
results, the Q2E artifact (Spark-style part files with random ids, ``_SUCCESS``, ``.crc``), the
embeddings artifact (Parquet factors, a real Annoy index, metrics) and a retrieval artifact
(placeholder index files: publishing never opens them). Everything the bundle
code does with them (copy, hash, publish, MLflow, load) is real.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

DIMS = 5
"""Dimensions of the fake Annoy index (factors + 1, as the embeddings job augments them)."""


@dataclass(frozen=True)
class DaySpec:
    """What to write for one day (defaults: a day where every gate passes)."""

    ds: str
    seed: int = 0
    queries: int = 40
    q2e: str = "passed"  # passed | failed | rejected | missing
    embeddings: str = "passed"  # passed | failed | missing
    retrieval: str = "passed"  # passed | missing
    inputs: str = "accepted"


def _spark_part(folder: Path, table: pa.Table, suffix: str) -> None:
    """Write ``table`` the way Spark names its output (random id, _SUCCESS, .crc files)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"part-00000-{uuid.uuid4()}-c000.{suffix}.parquet"
    pq.write_table(table, folder / name, compression="zstd" if suffix == "zstd" else "snappy")
    (folder / f".{name}.crc").write_bytes(b"crc")
    (folder / "_SUCCESS").write_bytes(b"")
    (folder / "._SUCCESS.crc").write_bytes(b"crc")


def gx_result(success: bool, observed: int) -> dict:
    """A GX-like validation result, with the run-specific noise real ones carry."""
    return {
        "id": None,
        "meta": {
            "batch_markers": {"ge_load_time": f"2026{uuid.uuid4().int % 10**6:06d}T000000Z"},
            "run_id": {"run_name": None, "run_time": f"2026-11-27T{uuid.uuid4().int % 24:02d}:00:00+00:00"},
            "validation_id": str(uuid.uuid4()),
            "validation_time": "2026-11-27T23:34:24+00:00",
        },
        "results": [
            {
                "expectation_config": {"id": str(uuid.uuid4()), "type": "expect_table_row_count_to_be_between"},
                "result": {"observed_value": observed},
                "success": success,
            }
        ],
        "success": success,
    }


def _json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def q2e_rows(spec: DaySpec) -> list[tuple[str, list[str], list[float]]]:
    """The serving rows of the day's fake memory table: ``(query_key, entity_ids, scores)``."""
    rng = np.random.default_rng(spec.seed)
    rows = []
    for q in range(spec.queries):
        n = int(rng.integers(1, 6))
        entities = [f"e{int(x)}" for x in rng.choice(500, size=n, replace=False)]
        scores = sorted((round(float(s), 6) for s in rng.random(n)), reverse=True)
        rows.append((f"query {q:03d}", entities, scores))
    return rows


def write_day(data_root: Path, spec: DaySpec) -> dict:
    """Write the day's inputs and artifacts under ``data_root``.

    Returns:
        What was written that tests compare against: row counts per input table, the q2e
        serving rows, the item vectors of the Annoy index.
    """
    ds = spec.ds
    rng = np.random.default_rng(spec.seed + 1000)
    counts = {"catalog": 30 + spec.seed, "searches": 50 + spec.seed, "engagements": 20 + spec.seed}
    for table, n in counts.items():
        _spark_part(
            data_root / "clean" / table / f"ds={ds}", pa.table({"id": [f"{table}-{i}" for i in range(n)]}), "snappy"
        )
    validation = data_root / "validation" / f"ds={ds}"
    _json(
        validation / "report.json",
        {
            "ds": ds,
            "status": spec.inputs,
            "problems": [] if spec.inputs == "accepted" else ["searches: 5.0% of rows quarantined > threshold 2.0%"],
            "gx_ran": True,
            "tables": {t: {"in": n, "accepted": n, "quarantined": 0} for t, n in counts.items()},
        },
    )
    _json(validation / "gx" / "searches.json", gx_result(True, counts["searches"]))

    rows = q2e_rows(spec)
    q2e = data_root / "artifacts" / "q2e" / f"ds={ds}"
    if spec.q2e in ("passed", "failed"):
        ok = spec.q2e == "passed"
        pairs = [(k, e, r + 1, s) for k, es, ss in rows for r, (e, s) in enumerate(zip(es, ss, strict=True))]
        _spark_part(
            q2e / "table",
            pa.table(
                {
                    "query_key": [p[0] for p in pairs],
                    "entity_id": [p[1] for p in pairs],
                    "rank": pa.array([p[2] for p in pairs], pa.int32()),
                    "score": [p[3] for p in pairs],
                }
            ),
            "zstd",
        )
        _spark_part(
            q2e / "serving",
            pa.table(
                {
                    "query_key": [r[0] for r in rows],
                    "entity_ids": [r[1] for r in rows],
                    "scores": [r[2] for r in rows],
                }
            ),
            "zstd",
        )
        _json(q2e / "examination.json", {"method": "randomized_ctr_isotonic", "curve": [1.0, 0.7, 0.5]})
        _json(q2e / "validation.json", gx_result(ok, len(pairs)))
        _json(
            q2e / "report.json",
            {
                "ds": ds,
                "window": {"start": "2026-01-01", "end": ds, "missing_days": []},
                "params": {"top_n": 50, "half_life_days": 7.0, "window_days": 30},
                "global_rate": 0.19,
                "rows": {"pairs": len(pairs), "queries": len(rows)},
                "validation": {
                    "success": ok,
                    "failed": [] if ok else ["expect_column_values_to_not_be_null(score): 3 unexpected"],
                },
            },
        )
    elif spec.q2e == "rejected":
        _json(validation / "q2e_rejected.json", gx_result(False, 0))

    vectors = rng.normal(size=(25, DIMS)).astype(np.float32)
    emb = data_root / "artifacts" / "embeddings" / f"ds={ds}"
    if spec.embeddings in ("passed", "failed"):
        from annoy import AnnoyIndex

        emb.mkdir(parents=True, exist_ok=True)
        index = AnnoyIndex(DIMS, "angular")
        index.set_seed(7)
        for i, v in enumerate(vectors):
            index.add_item(i, v.tolist())
        index.build(5, n_jobs=1)  # a multi-threaded build is not byte-deterministic
        index.save(str(emb / "items.ann"))
        index.unload()
        ids = [f"e{i}" for i in range(len(vectors))]
        pq.write_table(
            pa.table({"entity_idx": list(range(len(ids))), "entity_id": ids, "factors": vectors.tolist()}),
            emb / "item_factors.parquet",
        )
        ok = spec.embeddings == "passed"
        _json(emb / "validation" / "items.json", gx_result(True, len(ids)))
        _json(emb / "validation.json", {"success": True, "suites": {"items": {"success": True}}})
        _json(
            emb / "metrics.json",
            {
                "ds": ds,
                "params": {"factors": DIMS - 1, "n_trees": 5, "seed": 7},
                "interactions": {"window": {"start": "2025-12-20", "end": ds, "missing_days": []}},
                "index": {"items": len(ids), "dims": DIMS, "n_trees": 5},
                "recall": {"recall": 0.99 if ok else 0.5, "threshold": 0.95, "passed": ok, "k": 10},
                "rows": {"entities": len(ids), "users": 3},
                "validation": {"success": True},
            },
        )
    if spec.retrieval == "passed":
        ret = data_root / "artifacts" / "retrieval" / f"ds={ds}"
        (ret / "lexical").mkdir(parents=True, exist_ok=True)
        (ret / "semantic").mkdir(parents=True, exist_ok=True)
        entities = [f"e{i}" for i in range(counts["catalog"])]
        pq.write_table(
            pa.table({"entity_id": entities, "title": [f"title {e}" for e in entities]}), ret / "catalog.parquet"
        )
        pq.write_table(
            pa.table({"table": ["entity"], "key1": ["e0"], "key2": [None], "n1": [3], "n2": [1]}),
            ret / "counters.parquet",
        )
        (ret / "lexical" / "entity_ids.txt").write_text("\n".join(entities) + "\n")
        _json(ret / "lexical" / "lexical.json", {"format_version": 1, "documents": len(entities)})
        _json(ret / "semantic" / "semantic.json", {"format_version": 1, "dims": 4})
        _json(ret / "validation.json", gx_result(True, 1))
        _json(
            ret / "report.json",
            {
                "ds": ds,
                "passed": True,
                "reasons": [],
                "entities": len(entities),
                "params": {"semantic_dims": 4, "min_title_recall": 0.7},
                "validation": {"success": True},
            },
        )
    return {"counts": counts, "q2e_rows": rows, "vectors": vectors}


def commit_day(settings, spec: DaySpec) -> tuple[str, dict]:
    """Write a day and commit its bundle to the store without MLflow (assemble + commit only).

    Returns:
        ``(bundle URL, what write_day wrote)``.
    """
    from ltrr.bundle.assemble import assemble_day
    from ltrr.bundle.store import BundleStore

    written = write_day(settings.data_root, spec)
    store = BundleStore(settings.bundle_store)
    staging = store.new_staging()
    manifest = assemble_day(settings, spec.ds, staging)
    store.commit(staging, manifest)
    return store.url_of(manifest.bundle_version), written
