"""Memory retrieval: the entities that worked for a query before (the Q2E memory's top list).

Serving loads the memory's compact form (``q2e/serving`` in a bundle: one row per normalized
query, its entities in rank order with their smoothed engagement scores, see docs/memory.md)
into a dictionary. A request's query goes through the pipeline's own normalization
(``ltrr.text.normalize_query``), so "Beyoncé!" and "beyonce" find the same list. An unseen
query, an empty one, or a zero budget gives an empty result: other strategies fill the plan.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa

from ltrr.text.normalize import normalize_query


class MemoryIndex:
    """Query key -> (entity ids best first, scores), read-only after construction (thread-safe).

    Args:
        lists: normalized query key -> (entity ids, scores), both best first.
        normalize: the query normalization (the pipeline's by default).
    """

    def __init__(
        self,
        lists: dict[str, tuple[list[str], list[float]]],
        normalize: Callable[[str], str] = normalize_query,
    ) -> None:
        self._lists = lists
        self._normalize = normalize

    @classmethod
    def from_table(cls, table: pa.Table) -> MemoryIndex:
        """Build from the memory's serving form.

        Args:
            table: ``query_key, entity_ids (list<string>), scores (list<double>)``, entities in
                rank order (``Bundle.q2e_serving()``).

        Returns:
            The index.

        Raises:
            ValueError: when a row's entity and score lists differ in length.
        """
        keys = table.column("query_key").to_pylist()
        entities = table.column("entity_ids").to_pylist()
        scores = table.column("scores").to_pylist()
        lists: dict[str, tuple[list[str], list[float]]] = {}
        for key, ids, values in zip(keys, entities, scores, strict=True):
            ids, values = ids or [], values or []
            if len(ids) != len(values):
                raise ValueError(f"memory row {key!r}: {len(ids)} entities but {len(values)} scores")
            lists[key] = (list(ids), [float(v) for v in values])
        return cls(lists)

    def __len__(self) -> int:
        return len(self._lists)

    def __contains__(self, query: str) -> bool:
        return self._normalize(query or "") in self._lists

    def search(self, query: str, budget: int) -> tuple[list[str], list[float]]:
        """The memory's best ``budget`` entities for a raw query.

        Args:
            query: the raw query (normalized here).
            budget: maximum number of results.

        Returns:
            (entity ids, scores), best first; empty for an unseen or empty query.
        """
        if budget <= 0:
            return [], []
        key = self._normalize(query or "")
        if not key:
            return [], []
        ids, scores = self._lists.get(key, ((), ()))
        return list(ids[:budget]), list(scores[:budget])
