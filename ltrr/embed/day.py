"""One night of the embeddings: train, index, gate, validate, evaluate and publish ``ds``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import time
from pathlib import Path

import numpy as np
from pyspark.sql import SparkSession

from ltrr.config import Settings
from ltrr.embed import ann, train
from ltrr.embed.artifact import ARTIFACT, write_vectors
from ltrr.embed.checks import factor_expectations, vector_frame
from ltrr.embed.evaluate import evaluate_next_day
from ltrr.embed.index import EmbeddingIndex
from ltrr.embed.interactions import ARTIFACT as INTERACTIONS
from ltrr.embed.params import EmbedParams
from ltrr.memory.artifact import publish, staging_dir, write_json
from ltrr.validate.gx_runner import new_context, run_suite
from ltrr.zones import artifact_dir, validation_dir


class EmbeddingsRejected(RuntimeError):
    """The day's embeddings failed a gate (recall or a GX suite); nothing was published."""


def rejection_path(data_root: Path, ds: str) -> Path:
    """Where a rejected build leaves the reason (read by the DAG's ``embeddings_gate``)."""
    return validation_dir(data_root, ds) / "embeddings_rejected.json"


def _previous_artifact(data_root: Path, ds: str, lookback: int) -> Path | None:
    day = dt.date.fromisoformat(ds)
    for offset in range(1, lookback + 1):
        candidate = artifact_dir(data_root, (day - dt.timedelta(days=offset)).isoformat(), ARTIFACT)
        if (candidate / "metrics.json").is_file():
            return candidate
    return None


def _reject(path: Path, ds: str, reason: str, details: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {"ds": ds, "reason": reason, **details})


def _validate(spark: SparkSession, staging: Path, tables: dict, params: EmbedParams) -> dict:
    """Run the three factor suites; returns ``{table: GxResult}``."""
    import great_expectations as gx

    context = new_context(gx)
    results = {}
    for name, (ids, vectors, extra) in tables.items():
        frame = spark.createDataFrame(vector_frame(ids, vectors))
        results[name] = run_suite(
            frame,
            suite_name=f"ltrr-embeddings-{name}",
            expectations=lambda gx, ids=ids, extra=extra: factor_expectations(
                gx, rows=len(ids), max_norm=params.max_norm, **extra
            ),
            result_path=staging / "validation" / f"{name}.json",
            context=context,
        )
    return results


def train_embeddings_day(spark: SparkSession, settings: Settings, ds: str) -> dict:
    """Train the day's factors, build the Annoy index, gate, validate and publish them.

    Reads ``artifacts/interactions/ds=D/`` (written by ``jobs/build_interactions.py``); fits
    the factor model; derives query vectors; builds the MIPS index; measures recall@10
    against exact search (the recall gate); validates the factor tables with GX; evaluates
    the previous day's model on this day's positive pairs; writes everything under
    ``artifacts/embeddings/ds=D/`` atomically.

    Args:
        spark: the job's session (GX validates Spark frames).
        settings: run settings (``embed_*``, ``seed``).
        ds: the day.

    Returns:
        The metrics (written as ``metrics.json``) plus ``timings_s`` (not written).

    Raises:
        FileNotFoundError: when the day's interactions artifact is missing.
        EmbeddingsRejected: when recall is below the threshold or a suite fails; nothing is
            published and the reason is kept under ``validation/ds=D/embeddings_rejected.json``.
    """
    params = EmbedParams.from_settings(settings)
    root = settings.data_root
    rejected = rejection_path(root, ds)
    rejected.unlink(missing_ok=True)
    source = artifact_dir(root, ds, INTERACTIONS)
    data = train.load_interactions(source)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    raw_users, raw_items = train.train_factors(data.matrix, params)
    timings["fit_s"] = time.perf_counter() - start
    # Vectors as served: factors plus the popularity-prior coordinate (0 in search queries
    # other than users', so related and query searches rank by factor similarity alone).
    user_factors, item_factors, prior = train.popularity_prior(
        raw_users, raw_items, data.entity_weight, params.popularity_weight
    )
    raw_queries, query_weight = train.query_vectors(data.query_matrix, raw_items)
    queries = np.hstack([raw_queries, np.zeros((len(raw_queries), 1), dtype=np.float32)])
    query_entities = data.query_matrix.getnnz(axis=1)
    entity_queries = item_factors.copy()
    entity_queries[:, -1] = 0.0

    final = artifact_dir(root, ds, ARTIFACT)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    try:
        write_vectors(
            staging / "item_factors.parquet",
            "entity_idx",
            "entity_id",
            data.entity_ids,
            item_factors,
            weight=data.entity_weight,
        )
        write_vectors(staging / "user_factors.parquet", "user_idx", "user_id", data.user_ids, user_factors)
        write_vectors(
            staging / "query_vectors.parquet",
            "query_idx",
            "query_key",
            data.query_keys,
            queries,
            "vector",
            weight=query_weight,
            entities=query_entities.astype("int64"),
        )
        start = time.perf_counter()
        index_size = ann.build_index(item_factors, params.n_trees, params.seed, staging / "items.ann")
        timings["index_build_s"] = time.perf_counter() - start

        start = time.perf_counter()
        index = ann.load_index(staging / "items.ann", item_factors.shape[1] + 1)
        recall, ladder = ann.tune_search_k(
            index,
            user_factors,
            entity_queries,
            item_factors,
            search_k=params.search_k,
            max_search_k=params.max_search_k,
            sample=params.recall_sample,
            threshold=params.recall_threshold,
            seed=params.seed,
        )
        index.unload()
        timings["recall_gate_s"] = time.perf_counter() - start
        if not recall.passed:
            _reject(rejected, ds, "recall", {"recall": {**recall.to_dict(), "ladder": ladder}})
            raise EmbeddingsRejected(
                f"embeddings of {ds}: Annoy recall@{recall.k} {recall.recall:.4f} (users {recall.recall_users:.4f}, "
                f"entities {recall.recall_entities:.4f}) is below the threshold {recall.threshold} at search_k "
                f"{recall.search_k} with {params.n_trees} trees; raise LTRR_EMBED_MAX_SEARCH_K or "
                f"LTRR_EMBED_N_TREES (nothing published; see {rejected})"
            )
        # Serving searches at the value that met the threshold (EmbeddingIndex.load's default).
        params = dataclasses.replace(params, search_k=recall.search_k)

        start = time.perf_counter()
        suites = _validate(
            spark,
            staging,
            {
                "items": (data.entity_ids, item_factors, {"index_size": index_size}),
                "users": (data.user_ids, user_factors, {}),
                "queries": (data.query_keys, queries, {}),
            },
            params,
        )
        timings["validation_s"] = time.perf_counter() - start
        validation = {name: result.to_dict() for name, result in suites.items()}
        failed = [f"{name}: {line}" for name, result in suites.items() for line in result.failed]
        if failed:
            _reject(rejected, ds, "validation", {"validation": validation})
            raise EmbeddingsRejected(
                f"embeddings of {ds} failed validation: {'; '.join(failed)} (nothing published; see {rejected})"
            )
        write_json(staging / "validation.json", {"success": True, "suites": validation})

        evaluation = None
        previous = _previous_artifact(root, ds, params.window_days)
        if previous is not None:
            evaluation = {
                "model_ds": previous.name[3:],
                "pairs_ds": ds,
                **evaluate_next_day(
                    EmbeddingIndex.load(previous), source / "day_pairs", params.eval_k, params.eval_max_users
                ),
            }
        interactions_report = json.loads((source / "report.json").read_text())
        metrics = {
            "ds": ds,
            "params": params.to_dict(),
            "interactions": {
                "window": interactions_report["window"],
                "engagements": interactions_report["engagements"],
                "non_positive_pairs": interactions_report["non_positive_pairs"],
            },
            "rows": {
                "users": len(data.user_ids),
                "entities": len(data.entity_ids),
                "queries": len(data.query_keys),
                "pairs": int(data.matrix.nnz),
            },
            "index": {
                "items": index_size,
                "dims": int(item_factors.shape[1]) + 1,
                "n_trees": params.n_trees,
                "bytes": (staging / "items.ann").stat().st_size,
            },
            "popularity_prior": prior,
            "recall": {**recall.to_dict(), "ladder": ladder},
            "validation": {"success": True},
            "previous_model_on_this_day": evaluation,
        }
        write_json(staging / "metrics.json", metrics)
        publish(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    # Timings vary run to run: returned (and logged by the job), kept out of the artifact so
    # the same inputs give the same bytes.
    return {
        **json.loads((final / "metrics.json").read_text()),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
