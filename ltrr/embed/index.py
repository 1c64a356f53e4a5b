"""``EmbeddingIndex``: what serving loads from an embeddings artifact, with explicit fallbacks.

Vectors carry the popularity prior as their last coordinate (``ltrr.embed.train.popularity_prior``):
the user's is the prior's coefficient, the entity's its log engagement weight.

- ``personalized(user_id, k)``: the user's vector → the k entities of largest inner product
  (Annoy MIPS index), i.e. factor affinity plus the popularity prior. A user with no history
  in the window has no vector: the fallback is the popularity list (entities by decayed
  engagement weight), ``source="popular_fallback"``.
- ``related(entity_id, k)``: the entity's vector, prior coordinate set to 0 → the k nearest
  other entities by inner product of factors. An entity with no engagement in the window has no vector: an empty result,
  ``source="no_history"`` (other strategies still fill the candidate budget).
- ``related_to_query(query, k)``: the normalized query's vector (engagement-weighted mean of
  the entities engaged for it) → nearest entities; an unseen query gives an empty result.
- ``affinity(user_id, entity_id)``: inner product of the two vectors, prior included (the
  personalized score; a ranker feature), or None when either has no vector.

None of these raises on unknown ids, empty strings or k <= 0: serving never crashes on
missing history. Loading is the only step that raises (a missing or inconsistent artifact).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ltrr.embed.ann import load_index
from ltrr.text.normalize import normalize_query

PERSONALIZED = "personalized"
POPULAR_FALLBACK = "popular_fallback"
RELATED = "related"
NO_HISTORY = "no_history"


@dataclass(frozen=True)
class Retrieved:
    """Entities one strategy returned, best first.

    Attributes:
        entity_ids: the entities.
        scores: inner product with the query vector (or the popularity weight for the fallback).
        source: ``personalized``, ``related``, ``popular_fallback`` or ``no_history``.
    """

    entity_ids: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    source: str = NO_HISTORY


def read_vectors(path: Path, id_column: str, vector_column: str = "factors") -> tuple[np.ndarray, np.ndarray, dict]:
    """Read a factor table written by ``ltrr.embed.artifact``.

    Args:
        path: the Parquet file.
        id_column: the id column (``entity_id``, ``user_id``, ``query_key``).
        vector_column: the list<float> column.

    Returns:
        ``(ids, vectors, extra)``: ids in index order, a rows × dims float32 array, and the
        remaining numeric columns as arrays.
    """
    table = pq.read_table(path)
    ids = np.asarray(table.column(id_column).to_pylist(), dtype=object)
    column = table.column(vector_column).combine_chunks()
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32)
    dims = len(flat) // len(ids) if len(ids) else 0
    vectors = flat.reshape(len(ids), dims)
    extra = {
        name: table.column(name).to_numpy()
        for name in table.column_names
        if name not in (id_column, vector_column) and not pa.types.is_string(table.schema.field(name).type)
    }
    return ids, vectors, extra


class EmbeddingIndex:
    """Vectors, id maps and the Annoy index of one embeddings artifact (read-only)."""

    def __init__(
        self,
        *,
        entity_ids: np.ndarray,
        item_factors: np.ndarray,
        entity_weight: np.ndarray,
        user_ids: np.ndarray,
        user_factors: np.ndarray,
        query_keys: np.ndarray,
        query_vectors: np.ndarray,
        ann: Any,
        search_k: int,
        exact: bool = False,
    ) -> None:
        self.entity_ids = entity_ids
        self.item_factors = item_factors
        self.user_ids = user_ids
        self.user_factors = user_factors
        self.query_vectors = query_vectors
        self.search_k = int(search_k)
        self.exact = bool(exact)
        self._ann = ann
        self._entity_row = {e: i for i, e in enumerate(entity_ids)}
        self._user_row = {u: i for i, u in enumerate(user_ids)}
        self._query_row = {q: i for i, q in enumerate(query_keys)}
        # Popularity fallback: decayed engagement weight, ties by dense index.
        self.popular = np.lexsort((np.arange(len(entity_weight)), -np.asarray(entity_weight)))
        self.entity_weight = np.asarray(entity_weight, dtype=np.float64)

    @classmethod
    def load(cls, path: Path | str, search_k: int | None = None, exact_max_items: int | None = None) -> EmbeddingIndex:
        """Load an artifact folder (``artifacts/embeddings/ds=D/`` or its copy in a bundle).

        Args:
            path: the folder.
            search_k: Annoy ``search_k`` for queries; default the value the artifact was
                gated at (``metrics.json``).
            exact_max_items: search exactly (one matrix-vector product over every item vector)
                instead of through Annoy when the index has at most this many items. At the
                gated ``search_k`` Annoy visits most of a medium index anyway, and the exact
                product is several times faster there (docs/performance.md). None: always Annoy.

        Returns:
            The index (the Annoy file is memory-mapped).

        Raises:
            FileNotFoundError: when a file of the artifact is missing.
            ValueError: when the index and the vectors disagree in size.
        """
        folder = Path(path)
        missing = [
            n
            for n in (
                "item_factors.parquet",
                "user_factors.parquet",
                "query_vectors.parquet",
                "items.ann",
                "metrics.json",
            )
            if not (folder / n).is_file()
        ]
        if missing:
            raise FileNotFoundError(f"embeddings artifact at {folder} is missing {', '.join(missing)}")
        metrics = json.loads((folder / "metrics.json").read_text())
        entity_ids, items, extra = read_vectors(folder / "item_factors.parquet", "entity_id")
        user_ids, users, _ = read_vectors(folder / "user_factors.parquet", "user_id")
        query_keys, queries, _ = read_vectors(folder / "query_vectors.parquet", "query_key", "vector")
        ann = load_index(folder / "items.ann", items.shape[1] + 1)
        if ann.get_n_items() != len(entity_ids):
            raise ValueError(f"{folder}: index has {ann.get_n_items()} items, item_factors {len(entity_ids)} rows")
        return cls(
            entity_ids=entity_ids,
            item_factors=items,
            entity_weight=extra["weight"],
            user_ids=user_ids,
            user_factors=users,
            query_keys=query_keys,
            query_vectors=queries,
            ann=ann,
            search_k=metrics["params"]["search_k"] if search_k is None else search_k,
            exact=exact_max_items is not None and len(entity_ids) <= exact_max_items,
        )

    def __len__(self) -> int:
        return len(self.entity_ids)

    def _nearest(self, vector: np.ndarray, k: int, exclude: int | None, source: str) -> Retrieved:
        if self.exact:
            return self._exact_nearest(vector, k, exclude, source)
        wanted = k + (1 if exclude is not None else 0)
        rows = self._ann.get_nns_by_vector(np.append(vector, 0.0).tolist(), wanted, search_k=self.search_k)
        rows = [r for r in rows if r != exclude][:k]
        scores = (self.item_factors[rows] @ vector).astype(float).tolist() if rows else []
        return Retrieved([str(self.entity_ids[r]) for r in rows], scores, source)

    def _exact_nearest(self, vector: np.ndarray, k: int, exclude: int | None, source: str) -> Retrieved:
        """The k items of largest inner product, exactly; ties by dense index."""
        scores = self.item_factors @ np.asarray(vector, dtype=np.float32)
        if exclude is not None:
            scores[exclude] = -np.inf
        n = len(scores) - (1 if exclude is not None else 0)
        k = min(k, n)
        if k <= 0:
            return Retrieved(source=source)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        rows = top[np.lexsort((top, -scores[top]))]
        rows = rows[np.isfinite(scores[rows])][:k]
        return Retrieved([str(self.entity_ids[r]) for r in rows], scores[rows].astype(float).tolist(), source)

    def popular_top(self, k: int) -> Retrieved:
        """The k entities of largest decayed engagement weight (the no-history fallback)."""
        rows = self.popular[: max(int(k), 0)]
        return Retrieved([str(self.entity_ids[r]) for r in rows], self.entity_weight[rows].tolist(), POPULAR_FALLBACK)

    def personalized(self, user_id: str | None, k: int) -> Retrieved:
        """The user's top-k entities by inner product; the popularity list for unknown users."""
        if k <= 0:
            return Retrieved(source=PERSONALIZED)
        row = self._user_row.get(user_id) if user_id else None
        if row is None:
            return self.popular_top(k)
        return self._nearest(self.user_factors[row], k, None, PERSONALIZED)

    def related(self, entity_id: str | None, k: int) -> Retrieved:
        """The k entities nearest to an entity (itself excluded); empty for unknown entities."""
        row = self._entity_row.get(entity_id) if entity_id else None
        if row is None or k <= 0:
            return Retrieved(source=NO_HISTORY if row is None else RELATED)
        vector = self.item_factors[row].copy()
        vector[-1] = 0.0  # the popularity-prior coordinate: related is pure factor similarity
        return self._nearest(vector, k, row, RELATED)

    def related_to_query(self, query: str | None, k: int) -> Retrieved:
        """The k entities nearest to a query's vector; empty for queries never engaged with."""
        row = self._query_row.get(normalize_query(query)) if query else None
        if row is None or k <= 0:
            return Retrieved(source=NO_HISTORY if row is None else RELATED)
        return self._nearest(self.query_vectors[row], k, None, RELATED)

    def affinity(self, user_id: str | None, entity_id: str | None) -> float | None:
        """Inner product of the user's and the entity's vectors, None when either is unknown."""
        u = self._user_row.get(user_id) if user_id else None
        e = self._entity_row.get(entity_id) if entity_id else None
        if u is None or e is None:
            return None
        return float(self.user_factors[u] @ self.item_factors[e])
