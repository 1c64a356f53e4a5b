"""Popular retrieval: the most popular entities of the type/genre/topic a query names.

The query is matched (lower-cased, accents folded, whole words) against the catalog's tag
vocabulary (every genre, mood and topic that occurs in ``genres``/``topics``, multi-word tags
such as "hip hop" or "true crime" included) and a few type words ("podcast", "album",
"playlist", "songs", ...). Results are the entities that carry a matched tag (and have a matched
type, if any), most popular first, then, to fill the budget, the most popular entities of the
matched type, then of the whole catalog. A query that matches nothing gets the global top list.
Score = catalog ``popularity`` + 2 for a tag match, + 1 for a type-only match, + 0 for the
global fill, so scores fall with rank. It needs no trained artifact, so it serves day 0.
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

STAGE_BONUS = (2, 1, 0)
"""Score bonus of tag matches, type-only matches and the global fill (score = bonus + popularity)."""

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
        folded: dict[str, str] = {}
        for row, row_tags in enumerate(tags):
            for t in row_tags:
                if t not in folded:
                    folded[t] = fold(t)
            for tag in dict.fromkeys(folded[t] for t in row_tags):
                if tag:
                    by_tag.setdefault(tag, []).append(row)
        self._by_tag = {tag: self._sorted(np.asarray(rows)) for tag, rows in by_tag.items()}
        type_arr = np.asarray(types, dtype=object)
        self._by_type = {t: self._sorted(np.flatnonzero(type_arr == t)) for t in set(types)}
        self._by_tag_type = {
            (tag, t): rows[type_arr[rows] == t]
            for tag, rows in self._by_tag.items()
            for t in set(type_arr[rows].tolist())
        }
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

    def _top(self, lists: list[np.ndarray], budget: int) -> np.ndarray:
        """The ``budget`` most popular distinct rows of several rank-sorted row lists."""
        if not lists:
            return np.zeros(0, dtype=np.int64)
        rows = np.unique(np.concatenate([rows[:budget] for rows in lists]))
        return self._sorted(rows)[:budget]

    def search_rows(self, query: str, budget: int) -> tuple[list[int], list[float]]:
        """Like :meth:`search`, returning catalog row numbers."""
        if budget <= 0:
            return [], []
        tags, types = self.match(query)
        empty = np.zeros(0, dtype=np.int64)
        if tags and types:
            tagged = [self._by_tag_type.get((tag, t), empty) for tag in tags for t in types]
        else:
            tagged = [self._by_tag[tag] for tag in tags]
        stages = [self._top(tagged, budget), self._top([self._by_type.get(t, empty) for t in types], budget)]
        stages.append(self._order[:budget])
        bonus = np.concatenate([np.full(len(rows), float(STAGE_BONUS[i])) for i, rows in enumerate(stages)])
        allrows = np.concatenate(stages)
        _, first = np.unique(allrows, return_index=True)
        keep = np.sort(first)[:budget]
        picked = allrows[keep]
        return picked.tolist(), np.round(bonus[keep] + self.popularity[picked], 6).tolist()

    def search(self, query: str, budget: int) -> list[tuple[str, float]]:
        """The most popular entities for a query.

        Args:
            query: raw query text (may be empty).
            budget: maximum number of results.

        Returns:
            (entity_id, score) pairs, best first (score = stage bonus + popularity).
        """
        rows, scores = self.search_rows(query, budget)
        return [(self.entity_ids[r], s) for r, s in zip(rows, scores, strict=True)]
