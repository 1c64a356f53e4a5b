"""Fit the factor model on the interaction matrix, and derive query vectors from entity vectors.

Model fitting runs on one machine on the matrix Spark prepared (``interactions``). BLAS is
held at one thread during the fit (implicit's solvers parallelize themselves; a threaded
OpenBLAS underneath would oversubscribe the cores and implicit warns about it), the model's
random state is the run's seed, and BPR runs single-threaded: the same seed and matrix give
byte-identical factors.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy import sparse

from ltrr.embed.params import EmbedParams


@dataclass(frozen=True)
class Interactions:
    """The interaction matrix and its id maps, as loaded from ``artifacts/interactions/ds=D/``.

    Attributes:
        matrix: users × entities CSR matrix of confidences (float32).
        user_ids: user id of each row (``user_idx`` order).
        entity_ids: entity id of each column (``entity_idx`` order).
        entity_weight: total decayed engagement weight per entity (the popularity fallback).
        query_keys: normalized query of each row of ``query_matrix``.
        query_matrix: queries × entities CSR matrix of decayed engagement weights.
    """

    matrix: sparse.csr_matrix
    user_ids: np.ndarray
    entity_ids: np.ndarray
    entity_weight: np.ndarray
    query_keys: np.ndarray
    query_matrix: sparse.csr_matrix


def _dense_ids(table: pa.Table, idx: str, key: str) -> np.ndarray:
    """The ids in index order, checking the index is exactly 0..n-1."""
    order = np.asarray(table.column(idx).to_numpy(), dtype=np.int64)
    ids = np.asarray(table.column(key).to_pylist(), dtype=object)
    if len(order) and not np.array_equal(np.sort(order), np.arange(len(order))):
        raise ValueError(f"{idx} is not dense 0..{len(order) - 1}")
    out = np.empty(len(order), dtype=object)
    out[order] = ids
    return out


def load_interactions(folder: Path) -> Interactions:
    """Read an interactions artifact into sparse matrices.

    Args:
        folder: ``artifacts/interactions/ds=D/``.

    Returns:
        The matrices and id maps.

    Raises:
        FileNotFoundError: when the folder is not a published interactions artifact.
        ValueError: when its ids are not dense.
    """
    folder = Path(folder)
    if not (folder / "report.json").is_file():
        raise FileNotFoundError(f"no interactions artifact at {folder}; run jobs/build_interactions.py first")
    users = pq.read_table(folder / "users")
    entities = pq.read_table(folder / "entities")
    user_ids = _dense_ids(users, "user_idx", "user_id")
    entity_ids = _dense_ids(entities, "entity_idx", "entity_id")
    weight = np.zeros(len(entity_ids))
    weight[entities.column("entity_idx").to_numpy()] = entities.column("weight").to_numpy()
    pairs = pq.read_table(folder / "pairs", columns=["user_idx", "entity_idx", "confidence"])
    matrix = sparse.csr_matrix(
        (
            pairs.column("confidence").to_numpy().astype(np.float32),
            (pairs.column("user_idx").to_numpy(), pairs.column("entity_idx").to_numpy()),
        ),
        shape=(len(user_ids), len(entity_ids)),
        dtype=np.float32,
    )
    queries = pq.read_table(folder / "query_entities", columns=["query_key", "entity_idx", "weight"])
    keys, rows = np.unique(np.asarray(queries.column("query_key").to_pylist(), dtype=object), return_inverse=True)
    query_matrix = sparse.csr_matrix(
        (queries.column("weight").to_numpy(), (rows, queries.column("entity_idx").to_numpy())),
        shape=(len(keys), len(entity_ids)),
    )
    return Interactions(matrix, user_ids, entity_ids, weight, keys, query_matrix)


def train_factors(matrix: sparse.csr_matrix, params: EmbedParams) -> tuple[np.ndarray, np.ndarray]:
    """Fit implicit ALS (or BPR) on a users × entities confidence matrix.

    Args:
        matrix: CSR confidences (``1 + alpha * weight`` for positive pairs, empty elsewhere:
            implicit reads an empty cell as preference 0 with confidence 1).
        params: model, factors, regularization, iterations, learning rate, threads, seed.

    Returns:
        ``(user_factors, item_factors)`` as C-contiguous float32 arrays (BPR's carry an
        extra bias column: its user column is 1, so the inner product includes the bias).
    """
    # Import first: threadpool_limits only limits the BLAS libraries already loaded.
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.cpu.bpr import BayesianPersonalizedRanking
    from threadpoolctl import threadpool_limits

    matrix = sparse.csr_matrix(matrix, dtype=np.float32)
    with threadpool_limits(1, "blas"):
        if params.model == "als":
            model = AlternatingLeastSquares(
                factors=params.factors,
                regularization=params.regularization,
                alpha=1.0,  # the matrix already holds the confidences
                iterations=params.iterations,
                num_threads=params.num_threads,
                random_state=params.seed,
            )
        elif params.model == "bpr":
            model = BayesianPersonalizedRanking(
                factors=params.factors,
                learning_rate=params.learning_rate,
                regularization=params.regularization,
                iterations=params.iterations,
                num_threads=1,  # Hogwild updates from several threads are not reproducible
                random_state=params.seed,
            )
        else:
            raise ValueError(f"unknown embedding model {params.model!r}; expected 'als' or 'bpr'")
        model.fit(matrix, show_progress=False)
    users = np.ascontiguousarray(model.user_factors, dtype=np.float32)
    items = np.ascontiguousarray(model.item_factors, dtype=np.float32)
    return users, items


def query_vectors(query_matrix: sparse.csr_matrix, item_factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Engagement-weighted mean of the entity vectors engaged for each query.

    Args:
        query_matrix: queries × entities decayed engagement weights (positive).
        item_factors: entities × factors.

    Returns:
        ``(vectors, total_weight)``: one vector per query row (float32), and the weight it
        averages over (rows with no weight get a zero vector and weight 0).
    """
    total = np.asarray(query_matrix.sum(axis=1)).ravel()
    summed = query_matrix @ item_factors.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        vectors = np.where(total[:, None] > 0, summed / total[:, None], 0.0)
    return np.ascontiguousarray(vectors, dtype=np.float32), total


def popularity_prior(
    user_factors: np.ndarray, item_factors: np.ndarray, entity_weight: np.ndarray, weight: float
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Append the popularity prior as one more coordinate of every vector.

    The personalized score becomes ``u·v + b · log(1 + w_e)``, ``w_e`` the entity's decayed
    engagement weight: the user vector gets ``b`` as its last coordinate, the entity vector
    ``log(1 + w_e)``, so the Annoy MIPS index ranks by the blended score unchanged. ``b`` is
    ``weight`` times the RMS of ``u·v`` over all user-entity pairs divided by the mean
    log-weight, so ``weight`` does not depend on the scale of the factors. With a few
    engagements per user, factors alone lose to popularity on next-day engagements; the blend
    re-ranks popular entities by the user's tastes (docs/embeddings.md has the measurements).
    Related and query searches put 0 in that coordinate of their query vector: entity-to-entity
    similarity stays pure factor similarity.

    Args:
        user_factors: users × factors.
        item_factors: entities × factors.
        entity_weight: decayed engagement weight per entity (non-negative).
        weight: the dimensionless prior weight (0 keeps the factor scores unchanged).

    Returns:
        ``(user_vectors, entity_vectors, details)``, both with one more column (float32), and
        the effective coefficient ``b`` with its parts, for the metrics.
    """
    users = np.asarray(user_factors, dtype=np.float64)
    items = np.asarray(item_factors, dtype=np.float64)
    prior = np.log1p(np.maximum(np.asarray(entity_weight, dtype=np.float64), 0.0))
    # mean over all pairs of (u·v)² = trace((UᵀU)(VᵀV)) / (n_users n_entities), without the n×m matrix.
    rms = float(np.sqrt(max(np.trace((users.T @ users) @ (items.T @ items)), 0.0) / max(len(users) * len(items), 1)))
    mean_prior = float(prior.mean()) if len(prior) else 0.0
    coefficient = float(weight) * rms / mean_prior if mean_prior > 0 else 0.0
    user_vectors = np.hstack([users, np.full((len(users), 1), coefficient)]).astype(np.float32)
    entity_vectors = np.hstack([items, prior[:, None]]).astype(np.float32)
    details = {
        "weight": float(weight),
        "coefficient": coefficient,
        "rms_factor_score": rms,
        "mean_log_weight": mean_prior,
    }
    return user_vectors, entity_vectors, details
