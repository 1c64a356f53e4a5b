"""Annoy index for maximum inner product search (MIPS), exact search, and the recall gate.

Annoy has no inner-product metric. The augmented angular trick (Bachrach et al. 2014, "Speeding
Up the Xbox Recommender System Using a Euclidean Transformation for Inner-Product Spaces"; the
same transform as ``implicit.utils.augment_inner_product_matrix``) gives every entity vector
one extra coordinate ``sqrt(M² - |v|²)``, M the largest norm, so all augmented vectors have
norm M; a query gets 0 there. The cosine between ``[q, 0]`` and ``[v, sqrt(M² - |v|²)]`` is then
``q·v / (|q| M)``: ranking by angle is ranking by inner product. Annoy indexes cannot be
appended to, so the index is rebuilt every night; item ids in the index are the dense
``entity_idx`` (0..n-1) of the id map.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

RECALL_K = 10


class RecallGateFailed(RuntimeError):
    """Annoy's recall@10 against exact search is below the configured threshold."""


def augment(item_factors: np.ndarray) -> tuple[float, np.ndarray]:
    """Append the MIPS coordinate so every entity vector has the largest norm.

    Args:
        item_factors: entities × factors.

    Returns:
        ``(max_norm, augmented)`` with ``augmented`` entities × (factors + 1), float32.
    """
    items = np.asarray(item_factors, dtype=np.float64)
    norms = np.linalg.norm(items, axis=1)
    max_norm = float(norms.max()) if len(norms) else 0.0
    extra = np.sqrt(np.maximum(max_norm**2 - norms**2, 0.0))
    return max_norm, np.hstack([items, extra[:, None]]).astype(np.float32)


def build_index(item_factors: np.ndarray, n_trees: int, seed: int, path: Path) -> int:
    """Build the Annoy MIPS index of the entity vectors and save it.

    Built with one thread and a fixed seed: Annoy's multi-threaded build is not
    reproducible, and the same vectors must give a byte-identical file.

    Args:
        item_factors: entities × factors; row i is item i of the index (dense ids).
        n_trees: number of trees.
        seed: Annoy's random seed.
        path: the ``.ann`` file to write.

    Returns:
        The number of items in the index.
    """
    from annoy import AnnoyIndex

    _, augmented = augment(item_factors)
    index = AnnoyIndex(augmented.shape[1], "angular")
    index.set_seed(int(seed))
    for i, vector in enumerate(augmented):
        index.add_item(i, vector)
    index.build(int(n_trees), n_jobs=1)
    index.save(str(path))
    n = index.get_n_items()
    index.unload()
    return n


def load_index(path: Path, dims: int) -> Any:
    """Memory-map a saved index.

    Args:
        path: the ``.ann`` file.
        dims: the augmented width (vector length + 1).

    Returns:
        The ``annoy.AnnoyIndex`` (read-only; ``unload()`` it when done).
    """
    from annoy import AnnoyIndex

    index = AnnoyIndex(int(dims), "angular")
    index.load(str(path))
    return index


def ann_search(index: Any, queries: np.ndarray, k: int, search_k: int) -> list[list[int]]:
    """The top-``k`` items of each query vector by inner product, through the index.

    Args:
        index: a loaded Annoy MIPS index.
        queries: queries × factors (not augmented: a 0 is appended here).
        k: neighbours per query.
        search_k: Annoy's ``search_k`` (nodes inspected).

    Returns:
        One list of item indexes per query, best first.
    """
    out = []
    for q in np.asarray(queries, dtype=np.float32):
        out.append(index.get_nns_by_vector(np.append(q, 0.0).tolist(), k, search_k=int(search_k)))
    return out


def exact_top_k(queries: np.ndarray, items: np.ndarray, k: int, batch: int = 1024) -> np.ndarray:
    """Exact top-``k`` items by inner product (brute force, batched), best first.

    Args:
        queries: queries × factors.
        items: items × factors.
        k: neighbours per query (at most the number of items).
        batch: queries scored per matrix product (bounds memory to batch × items).

    Returns:
        queries × k item indexes.
    """
    items64 = np.asarray(items, dtype=np.float64)
    k = min(k, len(items64))
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), batch):
        scores = np.asarray(queries[start : start + batch], dtype=np.float64) @ items64.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        part_scores = np.take_along_axis(scores, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        out[start : start + batch] = np.take_along_axis(part, order, axis=1)
    return out


def recall_at_k(approx: list[list[int]], exact: np.ndarray) -> float:
    """Mean share of each query's exact top-k found by the approximate search."""
    if len(exact) == 0:
        return 1.0
    k = exact.shape[1]
    return float(np.mean([len(set(a[:k]) & set(e.tolist())) / k for a, e in zip(approx, exact, strict=True)]))


@dataclass(frozen=True)
class RecallReport:
    """Recall@10 of the index against exact search, by query kind.

    Attributes:
        k: the recall cut-off (10, or the number of items when fewer).
        search_k: the Annoy ``search_k`` measured.
        users: users sampled as queries (personalized strategy).
        entities: entities sampled as queries (related strategy).
        recall_users: recall@k over the sampled users.
        recall_entities: recall@k over the sampled entities.
        recall: the gated figure, the lower of the two.
        threshold: the configured threshold.
        passed: ``recall >= threshold``.
    """

    k: int
    search_k: int
    users: int
    entities: int
    recall_users: float
    recall_entities: float
    recall: float
    threshold: float
    passed: bool

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return asdict(self)


def measure_recall(
    index: Any,
    user_queries: np.ndarray,
    entity_queries: np.ndarray,
    items: np.ndarray,
    *,
    search_k: int,
    sample: int,
    threshold: float,
    seed: int,
) -> RecallReport:
    """Recall@10 of the Annoy index against exact inner-product search on sampled queries.

    Args:
        index: the loaded MIPS index over ``items``.
        user_queries: the user vectors (personalized searches); a seeded sample are queries.
        entity_queries: the query vector of each entity as the related strategy searches
            with it; a seeded sample are queries.
        items: the indexed entity vectors (the exact search runs over all of them).
        search_k: Annoy ``search_k`` (the value serving uses).
        sample: users and entities sampled, each (all of them when fewer).
        threshold: least recall that passes.
        seed: sampling seed.

    Returns:
        The report; ``passed`` says whether the lower of the two recalls meets the threshold.
    """
    rng = np.random.default_rng(seed)
    k = min(RECALL_K, len(items))
    recalls = []
    sizes = []
    for vectors in (user_queries, entity_queries):
        rows = np.sort(rng.choice(len(vectors), size=min(sample, len(vectors)), replace=False))
        queries = vectors[rows]
        recalls.append(recall_at_k(ann_search(index, queries, k, search_k), exact_top_k(queries, items, k)))
        sizes.append(len(rows))
    recall = min(recalls)
    return RecallReport(
        k=k,
        search_k=int(search_k),
        users=sizes[0],
        entities=sizes[1],
        recall_users=recalls[0],
        recall_entities=recalls[1],
        recall=recall,
        threshold=float(threshold),
        passed=recall >= threshold,
    )


def tune_search_k(
    index: Any,
    user_queries: np.ndarray,
    entity_queries: np.ndarray,
    items: np.ndarray,
    *,
    search_k: int,
    max_search_k: int,
    sample: int,
    threshold: float,
    seed: int,
) -> tuple[RecallReport, list[dict]]:
    """The smallest ``search_k`` of a doubling ladder whose recall@10 meets the threshold.

    How many nodes Annoy must inspect for a given recall grows with the catalog: on the large
    simulated world (45,000 entity vectors on its first day) recall@10 was 0.76 at 100,000
    and 0.97 at 400,000. A fixed ``search_k`` that suits the medium world stops the large one's
    nightly at the gate. So the gate starts at the configured value and doubles it, up to
    ``max_search_k`` (which bounds the cost of a query), and the artifact records the value
    that met the threshold for serving to use. Every rung samples the same queries.

    Args:
        index: the loaded MIPS index over ``items``.
        user_queries: the user vectors (see :func:`measure_recall`).
        entity_queries: the entity query vectors (see :func:`measure_recall`).
        items: the indexed entity vectors.
        search_k: the first rung (``LTRR_EMBED_SEARCH_K``).
        max_search_k: the last rung (``LTRR_EMBED_MAX_SEARCH_K``); below ``search_k`` it is
            ``search_k``, a single rung.
        sample: users and entities sampled, each.
        threshold: least recall that passes.
        seed: sampling seed.

    Returns:
        The report of the last rung measured (``passed`` False when even ``max_search_k``
        misses the threshold) and the ladder, ``[{"search_k", "recall"}, ...]`` in order.
    """
    ladder: list[dict] = []
    rung = int(search_k)
    while True:
        report = measure_recall(
            index, user_queries, entity_queries, items, search_k=rung, sample=sample, threshold=threshold, seed=seed
        )
        ladder.append({"search_k": rung, "recall": report.recall})
        if report.passed or rung >= max_search_k:
            return report, ladder
        rung = min(2 * rung, int(max_search_k))
