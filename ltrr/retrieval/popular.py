"""Popular retrieval: the most popular entities of the type/genre/topic a query names.

The query is matched (lower-cased, accents folded, whole words) against the catalog's tag
vocabulary (every genre, mood and topic that occurs in ``genres``/``topics``, multi-word tags
such as "hip hop" or "true crime" included) and a few type words ("podcast", "album",
"playlist", "songs", ...). Results are the entities that carry a matched tag (and have a matched
type, if any), most popular first, then, to fill the budget, the most popular entities of the
matched type, then of the whole catalog. A query that matches nothing gets the global top list.
Scores are the catalog ``popularity`` values. It needs no trained artifact, so it serves day 0.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pyarrow as pa

TYPE_WORDS: dict[str, str] = {
    "song": "track",
    "songs": "track",
    "track": "track",
    "tracks": "track",
    "single": "track",
    "artist": "artist",
    "artists": "artist",
    "band": "artist",
    "singer": "artist",
    "album": "album",
    "albums": "album",
    "ep": "album",
    "playlist": "playlist",
    "playlists": "playlist",
    "mix": "playlist",
    "podcast": "podcast",
    "podcasts": "podcast",
    "show": "podcast",
    "episode": "episode",
    "episodes": "episode",
}
"""Query words that name an entity type."""

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, drop accents and reduce to space-separated words ("Beyoncé R&B" -> "beyonce r b")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_WORD.findall(unicodedata.normalize("NFC", stripped)))


class PopularIndex:
    """Most-popular lists per tag and type (see the module docstring)."""

    def __init__(self, entity_ids: list[str], types: list[str], tags: list[list[str]], popularity: np.ndarray):
        self.entity_ids = entity_ids
        self.popularity = np.asarray(popularity, dtype=np.float64)
        # Global order: popularity desc, then catalog order (deterministic).
        self._order = np.lexsort((np.arange(len(entity_ids)), -self.popularity))
        rank = np.empty(len(entity_ids), dtype=np.int64)
        rank[self._order] = np.arange(len(entity_ids))
        self._rank = rank
        by_tag: dict[str, list[int]] = {}
        for row, row_tags in enumerate(tags):
            for tag in dict.fromkeys(fold(t) for t in row_tags):
                if tag:
                    by_tag.setdefault(tag, []).append(row)
        self._by_tag = {tag: self._sorted(np.asarray(rows)) for tag, rows in by_tag.items()}
        type_arr = np.asarray(types, dtype=object)
        self._by_type = {t: self._sorted(np.flatnonzero(type_arr == t)) for t in set(types)}
        self._type_of = type_arr
        # Longest tags first, so "hip hop" wins over "hop".
        self._tag_patterns = sorted(self._by_tag, key=lambda t: (-len(t), t))

    def _sorted(self, rows: np.ndarray) -> np.ndarray:
        return rows[np.argsort(self._rank[rows], kind="stable")] if len(rows) else rows.astype(np.int64)

    @classmethod
    def build(cls, catalog: pa.Table | Iterable[Mapping[str, Any]]) -> PopularIndex:
        """Build from an Arrow catalog table or rows with entity_id, entity_type, genres,
        topics and popularity."""
        if isinstance(catalog, pa.Table):
            cols = catalog.select(["entity_id", "entity_type", "genres", "topics", "popularity"]).to_pydict()
        else:
            rows = [dict(r) for r in catalog]
            cols = {k: [r.get(k) for r in rows] for k in ("entity_id", "entity_type", "genres", "topics", "popularity")}
        tags = [list(g or []) + list(t or []) for g, t in zip(cols["genres"], cols["topics"], strict=True)]
        pop = np.array([p or 0.0 for p in cols["popularity"]], dtype=np.float64)
        return cls([str(e) for e in cols["entity_id"]], [str(t) for t in cols["entity_type"]], tags, pop)

    def match(self, query: str) -> tuple[list[str], list[str]]:
        """The tags and entity types a query names."""
        text = f" {fold(query)} "
        tags = []
        for tag in self._tag_patterns:
            if f" {tag} " in text:
                tags.append(tag)
                text = text.replace(f" {tag} ", " ")
        types = list(dict.fromkeys(TYPE_WORDS[w] for w in text.split() if w in TYPE_WORDS))
        return tags, types

    def search_rows(self, query: str, budget: int) -> tuple[list[int], list[float]]:
        """Like :meth:`search`, returning catalog row numbers."""
        if budget <= 0:
            return [], []
        tags, types = self.match(query)
        picked: list[int] = []
        seen: set[int] = set()

        def take(rows: np.ndarray) -> None:
            start = 0
            while len(picked) < budget and start < len(rows):
                step = 2 * (budget - len(picked)) + 8
                for r in rows[start : start + step].tolist():
                    if len(picked) >= budget:
                        return
                    if r not in seen:
                        seen.add(r)
                        picked.append(r)
                start += step

        if tags:
            tagged = np.unique(np.concatenate([self._by_tag[t] for t in tags]))
            if types:
                tagged = tagged[np.isin(self._type_of[tagged], types)]
            take(self._sorted(tagged))
        for t in types:
            take(self._by_type.get(t, np.zeros(0, np.int64)))
        take(self._order)
        return picked, [float(self.popularity[r]) for r in picked]

    def search(self, query: str, budget: int) -> list[tuple[str, float]]:
        """The most popular entities for a query.

        Args:
            query: raw query text (may be empty).
            budget: maximum number of results.

        Returns:
            (entity_id, popularity) pairs, best first.
        """
        rows, scores = self.search_rows(query, budget)
        return [(self.entity_ids[r], s) for r, s in zip(rows, scores, strict=True)]
