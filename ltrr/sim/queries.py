"""Search intents and their queries: what each customer wants and the clean query for it.

Four intent types (``INTENT_SHARES``):

- ``direct``: a specific entity; the type is drawn from ``DIRECT_TYPE_SHARES``, then a genre
  (or topic, for podcasts and episodes) from the user's taste weighted by the genre's total
  demand, then the entity in proportion to its demand. Clean query: its title or name.
- ``broad``: a mood/genre need ("love songs", "chill", "jazz music") from ``BROAD_TEMPLATES``;
  the genre comes from the user's taste, the mood from ``MOOD_WEIGHTS``. The intended entity is
  a track, playlist or album of that genre (and mood) drawn by demand.
- ``topic``: podcasts about a topic ("history podcast"); topic from the user's topic taste;
  intended entity a podcast or episode with that topic.
- ``ambiguous``: one common word ("love") that is both a title word and a need; intended
  entity a music entity whose title has the word.

Query classes: the expected frequency of every clean query is computed from the same model
(population average over users, weighted by activity). Sorted by expected frequency, the top
queries that together make ``HEAD_SHARE`` of the expected traffic are ``head``, the next
``TORSO_SHARE`` are ``torso``, the rest ``tail``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr.schemas import ENTITY_TYPES, INTENT_TYPES
from ltrr.sim import surface as S
from ltrr.sim import words as W
from ltrr.sim.catalog import ALBUM, ARTIST, EPISODE, MUSIC_TYPES, PLAYLIST, PODCAST, TRACK, CatalogArrays
from ltrr.sim.users import Users

DIRECT, BROAD, TOPIC, AMBIGUOUS = range(4)
assert INTENT_TYPES == ("direct", "broad", "topic", "ambiguous")
INTENT_SHARES = (0.55, 0.25, 0.10, 0.10)
DIRECT_TYPE_SHARES = (0.45, 0.30, 0.08, 0.05, 0.08, 0.04)
"""Type of the wanted entity of a direct query, in ``ENTITY_TYPES`` order."""
BROAD_TYPES = ((TRACK, 0.6), (PLAYLIST, 0.3), (ALBUM, 0.1))
TOPIC_TYPES = ((PODCAST, 0.5), (EPISODE, 0.5))
AMBIGUOUS_WORD_WEIGHTS = tuple(1.0 / (i + 1) ** 0.8 for i in range(len(W.AMBIGUOUS_WORDS)))
HEAD_SHARE = 0.30
TORSO_SHARE = 0.40
QUERY_CLASSES = ("head", "torso", "tail")

_MOOD_P = np.array(W.MOOD_WEIGHTS) / sum(W.MOOD_WEIGHTS)
_BROAD_TPL = [t for t, _ in W.BROAD_TEMPLATES]
_BROAD_P = np.array([w for _, w in W.BROAD_TEMPLATES]) / sum(w for _, w in W.BROAD_TEMPLATES)
_TOPIC_TPL = [t for t, _ in W.TOPIC_TEMPLATES]
_TOPIC_P = np.array([w for _, w in W.TOPIC_TEMPLATES]) / sum(w for _, w in W.TOPIC_TEMPLATES)


@dataclass
class Pool:
    """Entities an intent can target, sorted by group, with cumulative demand for sampling."""

    rows: np.ndarray
    cum: np.ndarray
    group_start: np.ndarray
    group_weight: np.ndarray

    @classmethod
    def build(cls, rows: np.ndarray, groups: np.ndarray, weight: np.ndarray, n_groups: int) -> Pool:
        """A pool of ``rows`` (with their group and demand) over ``n_groups`` groups."""
        order = np.lexsort((rows, groups))
        rows, groups, weight = rows[order], groups[order], weight[order]
        group_weight = np.bincount(groups, weights=weight, minlength=n_groups)[:n_groups]
        starts = np.concatenate([[0.0], np.cumsum(group_weight)[:-1]])
        return cls(rows=rows, cum=np.cumsum(weight), group_start=starts, group_weight=group_weight)

    @property
    def total(self) -> float:
        return float(self.group_weight.sum())

    def sample(self, u: np.ndarray, group: np.ndarray | None = None) -> np.ndarray:
        """Draw rows in proportion to demand (within ``group`` when given)."""
        target = u * self.total if group is None else self.group_start[group] + u * self.group_weight[group]
        idx = np.searchsorted(self.cum, target, side="right")
        return self.rows[np.minimum(idx, len(self.rows) - 1)]

    def sample_by_taste(self, taste: np.ndarray, u_group: np.ndarray, u_row: np.ndarray) -> np.ndarray:
        """Two-stage draw: group ~ taste x group demand, then row ~ demand within the group."""
        w = taste * self.group_weight[None, :]
        cum = np.cumsum(w, axis=1)
        group = (cum < (u_group * cum[:, -1])[:, None]).sum(axis=1)
        group = np.minimum(group, len(self.group_weight) - 1)
        return self.sample(u_row, group)


@dataclass
class Intents:
    """The intents of one chunk of searches (one entry per search).

    Attributes:
        itype: intent type code (index into ``INTENT_TYPES``).
        target: intended entity row.
        genre: broad: the genre in the query, or the user's implicit genre; -1 otherwise.
        genre_in_query: broad: whether the query names the genre.
        mood: broad: mood code in the query, -1 if none. Ambiguous: the word's mood code, or -1.
        topic: topic code for topic intents, -1 otherwise.
        word: ambiguous word code, -1 otherwise.
        canonical: the clean query.
        surface: the typed query.
        has_typo: whether the surface form has a typo.
        query_class: head/torso/tail code (index into ``QUERY_CLASSES``).
    """

    itype: np.ndarray
    target: np.ndarray
    genre: np.ndarray
    genre_in_query: np.ndarray
    mood: np.ndarray
    topic: np.ndarray
    word: np.ndarray
    canonical: list[str]
    surface: list[str]
    has_typo: np.ndarray
    query_class: np.ndarray


class QueryModel:
    """The day's intent model: target pools, expected query frequencies, query classes.

    Args:
        cat: catalog arrays of the day.
        artist_names: lower-cased ``artist`` field of each entity (for "<title> <artist>").
        titles: lower-cased titles (podcast titles for episode queries).
        users: the customers.
        day: the day's ordinal (demand includes the freshness boost of that day).
    """

    def __init__(self, cat: CatalogArrays, artist_names: list[str], titles: list[str], users: Users, day: int):
        self.cat = cat
        self.users = users
        self.artist_names = artist_names
        self.titles = titles
        demand = cat.demand(day)
        self.demand = demand
        live = demand > 0
        n_genres, n_topics = len(W.GENRES), len(W.TOPICS)
        self.direct_pools: dict[int, Pool] = {}
        for t in range(len(ENTITY_TYPES)):
            rows = np.flatnonzero(live & (cat.etype == t) & (cat.group >= 0))
            n_groups = n_topics if t in (PODCAST, EPISODE) else n_genres
            self.direct_pools[t] = Pool.build(rows, cat.group[rows], demand[rows], n_groups)
        self._pool_cache: dict[tuple, Pool | None] = {}
        music = live & np.isin(cat.etype, MUSIC_TYPES)
        self.word_pools: list[Pool | None] = []
        for w in range(len(W.AMBIGUOUS_WORDS)):
            rows = np.flatnonzero(music & ((cat.word_mask >> w) & 1).astype(bool))
            self.word_pools.append(Pool.build(rows, cat.group[rows], demand[rows], n_genres) if len(rows) else None)
        word_w = np.array(AMBIGUOUS_WORD_WEIGHTS) * np.array([p is not None for p in self.word_pools])
        self.word_p = word_w / word_w.sum() if word_w.sum() > 0 else word_w
        spoken = live & ((cat.etype == PODCAST) | (cat.etype == EPISODE))
        has_topic = np.array([bool(np.any(spoken & ((cat.topic_mask >> k) & 1).astype(bool))) for k in range(n_topics)])
        self.topic_available = has_topic
        topic_taste = users.topic_taste * has_topic[None, :]
        self.topic_taste = topic_taste / np.maximum(topic_taste.sum(axis=1, keepdims=True), 1e-12)
        self.class_of: dict[str, int] = {}
        self.expected: dict[str, float] = {}
        self._classify()

    # ---- expected frequencies and classes -------------------------------------------------
    def _classify(self) -> None:
        users, cat = self.users, self.cat
        a = users.activity
        freq: dict[str, float] = {}
        for t, share in enumerate(DIRECT_TYPE_SHARES):
            pool = self.direct_pools[t]
            if not len(pool.rows):
                continue
            taste = self.topic_taste if t in (PODCAST, EPISODE) else users.genre_taste
            z = taste @ pool.group_weight
            w_group = (a / np.maximum(z, 1e-300)) @ taste
            p = INTENT_SHARES[DIRECT] * share * self.demand[pool.rows] * w_group[cat.group[pool.rows]]
            for row, prob in zip(pool.rows.tolist(), p.tolist(), strict=True):
                key = cat.name_keys[row]
                freq[key] = freq.get(key, 0.0) + prob
        genre_mean = a @ users.genre_taste
        for tpl, p_tpl in zip(_BROAD_TPL, _BROAD_P, strict=True):
            has_g, has_m = "{genre}" in tpl, "{mood}" in tpl
            genres = range(len(W.GENRES)) if has_g else [None]
            moods = range(len(W.MOODS)) if has_m else [None]
            for g in genres:
                for m in moods:
                    prob = INTENT_SHARES[BROAD] * p_tpl
                    prob *= genre_mean[g] if g is not None else 1.0
                    prob *= _MOOD_P[m] if m is not None else 1.0
                    key = _format_broad(tpl, g, m)
                    freq[key] = freq.get(key, 0.0) + prob
        topic_mean = a @ self.topic_taste
        for tpl, p_tpl in zip(_TOPIC_TPL, _TOPIC_P, strict=True):
            for k, topic in enumerate(W.TOPICS):
                if self.topic_available[k]:
                    key = tpl.format(topic=topic)
                    freq[key] = freq.get(key, 0.0) + INTENT_SHARES[TOPIC] * p_tpl * topic_mean[k]
        for w, word in enumerate(W.AMBIGUOUS_WORDS):
            freq[word] = freq.get(word, 0.0) + INTENT_SHARES[AMBIGUOUS] * self.word_p[w]
        ranked = sorted(freq.items(), key=lambda kv: (-kv[1], kv[0]))
        total = sum(p for _, p in ranked)
        before = 0.0
        for key, prob in ranked:
            share_before = before / total
            self.class_of[key] = (
                0 if share_before < HEAD_SHARE else (1 if share_before < HEAD_SHARE + TORSO_SHARE else 2)
            )
            before += prob
        self.expected = {k: p / total for k, p in ranked}

    def class_counts(self) -> dict[str, int]:
        """Number of distinct clean queries per class (for ``world.json``)."""
        counts = np.bincount(np.fromiter(self.class_of.values(), dtype=np.int64), minlength=3)
        return {name: int(c) for name, c in zip(QUERY_CLASSES, counts, strict=True)}

    # ---- sampling -------------------------------------------------------------------------
    def _pool(self, key: tuple) -> Pool | None:
        if key not in self._pool_cache:
            cat, demand = self.cat, self.demand
            kind = key[0]
            live = demand > 0
            if kind == "broad":
                _, t, g, m = key
                base = live & (cat.etype == t)
                mask = base & (cat.group == g)
                if m >= 0:
                    with_mood = mask & ((cat.mood_mask >> m) & 1).astype(bool)
                    mask = with_mood if with_mood.any() else mask
                if not mask.any():
                    mask = base
            else:  # topic
                _, t, k = key
                base = live & (cat.etype == t)
                mask = base & ((cat.topic_mask >> k) & 1).astype(bool)
                if not mask.any():
                    other = EPISODE if t == PODCAST else PODCAST
                    mask = live & (cat.etype == other) & ((cat.topic_mask >> k) & 1).astype(bool)
            rows = np.flatnonzero(mask)
            self._pool_cache[key] = (
                Pool.build(rows, np.zeros(len(rows), np.int64), demand[rows], 1) if len(rows) else None
            )
        return self._pool_cache[key]

    def sample(self, user: np.ndarray, rng: np.random.Generator) -> Intents:
        """Draw the intents, clean and typed queries of one chunk of searches.

        Args:
            user: user row per search.
            rng: the chunk's traffic generator.

        Returns:
            The chunk's intents.
        """
        n = len(user)
        users = self.users
        itype = rng.choice(4, size=n, p=INTENT_SHARES)
        u = rng.random((n, 4))
        target = np.full(n, -1, dtype=np.int64)
        genre = np.full(n, -1, dtype=np.int64)
        genre_in_query = np.zeros(n, dtype=bool)
        mood = np.full(n, -1, dtype=np.int64)
        topic = np.full(n, -1, dtype=np.int64)
        word = np.full(n, -1, dtype=np.int64)
        template = np.full(n, -1, dtype=np.int64)
        sub_type = np.full(n, -1, dtype=np.int64)
        # direct
        d = np.flatnonzero(itype == DIRECT)
        d_type = rng.choice(len(ENTITY_TYPES), size=len(d), p=DIRECT_TYPE_SHARES)
        for t in range(len(ENTITY_TYPES)):
            sel = d[d_type == t]
            pool = self.direct_pools[t]
            if not len(sel) or not len(pool.rows):
                continue
            taste = self.topic_taste if t in (PODCAST, EPISODE) else users.genre_taste
            target[sel] = pool.sample_by_taste(taste[user[sel]], u[sel, 0], u[sel, 1])
            sub_type[sel] = t
        # broad
        b = np.flatnonzero(itype == BROAD)
        template[b] = rng.choice(len(_BROAD_TPL), size=len(b), p=_BROAD_P)
        genre[b] = _rows_choice(users.genre_taste[user[b]], u[b, 0])
        b_mood = rng.choice(len(W.MOODS), size=len(b), p=_MOOD_P)
        has_m = np.array(["{mood}" in _BROAD_TPL[i] for i in template[b]], dtype=bool)
        genre_in_query[b] = np.array(["{genre}" in _BROAD_TPL[i] for i in template[b]], dtype=bool)
        mood[b] = np.where(has_m, b_mood, -1)
        types, p_types = zip(*BROAD_TYPES, strict=True)
        sub_type[b] = np.asarray(types)[rng.choice(len(types), size=len(b), p=p_types)]
        self._sample_keyed(b, [("broad", int(sub_type[i]), int(genre[i]), int(mood[i])) for i in b], u[:, 1], target)
        # topic
        k = np.flatnonzero(itype == TOPIC)
        template[k] = rng.choice(len(_TOPIC_TPL), size=len(k), p=_TOPIC_P)
        topic[k] = _rows_choice(self.topic_taste[user[k]], u[k, 0])
        types, p_types = zip(*TOPIC_TYPES, strict=True)
        sub_type[k] = np.asarray(types)[rng.choice(len(types), size=len(k), p=p_types)]
        self._sample_keyed(k, [("topic", int(sub_type[i]), int(topic[i])) for i in k], u[:, 1], target)
        # ambiguous
        a = np.flatnonzero(itype == AMBIGUOUS)
        word[a] = rng.choice(len(W.AMBIGUOUS_WORDS), size=len(a), p=self.word_p)
        for w in np.unique(word[a]):
            sel = a[word[a] == w]
            pool = self.word_pools[w]
            target[sel] = pool.sample_by_taste(users.genre_taste[user[sel]], u[sel, 2], u[sel, 3])
            if W.AMBIGUOUS_WORDS[w] in W.MOODS:
                mood[sel] = W.MOODS.index(W.AMBIGUOUS_WORDS[w])
        # Fallback (empty pools): the most demanded music entity; never expected in practice.
        missing = target < 0
        if missing.any():
            target[missing] = int(np.argmax(self.demand))
        uni = rng.random((n, S.N_UNIFORMS))
        canonical, surface, has_typo = self._texts(itype, target, template, genre, mood, topic, word, uni)
        query_class = np.fromiter((self.class_of.get(c, 2) for c in canonical), dtype=np.int64, count=n)
        return Intents(
            itype=itype.astype(np.int64),
            target=target,
            genre=genre,
            genre_in_query=genre_in_query,
            mood=mood,
            topic=topic,
            word=word,
            canonical=canonical,
            surface=surface,
            has_typo=has_typo,
            query_class=query_class,
        )

    def _sample_keyed(self, sel: np.ndarray, keys: list[tuple], u: np.ndarray, target: np.ndarray) -> None:
        groups: dict[tuple, list[int]] = {}
        for i, key in zip(sel.tolist(), keys, strict=True):
            groups.setdefault(key, []).append(i)
        for key in sorted(groups):
            idx = np.asarray(groups[key], dtype=np.int64)
            pool = self._pool(key)
            if pool is not None:
                target[idx] = pool.sample(u[idx])

    def _texts(self, itype, target, template, genre, mood, topic, word, uni) -> tuple[list[str], list[str], np.ndarray]:
        cat = self.cat
        canonical: list[str] = []
        surface: list[str] = []
        has_typo = np.zeros(len(itype), dtype=bool)
        uni_rows = uni.tolist()
        for i, it in enumerate(itype.tolist()):
            if it == DIRECT:
                row = int(target[i])
                clean = cat.name_keys[row]
                etype = int(cat.etype[row])
                parent = int(cat.parent_idx[row])
                podcast = self.titles[parent] if etype == EPISODE and parent >= 0 else ""
                artist = self.artist_names[row] if etype in (TRACK, ALBUM) else ""
                text, typo = S.direct_surface(clean, ENTITY_TYPES[etype], artist, podcast, uni_rows[i])
            elif it == BROAD:
                g = int(genre[i]) if "{genre}" in _BROAD_TPL[template[i]] else None
                m = int(mood[i]) if mood[i] >= 0 else None
                clean = _format_broad(_BROAD_TPL[template[i]], g, m)
                text, typo = S.generic_surface(clean, "broad", uni_rows[i])
            elif it == TOPIC:
                clean = _TOPIC_TPL[template[i]].format(topic=W.TOPICS[topic[i]])
                text, typo = S.generic_surface(clean, "topic", uni_rows[i])
            else:
                clean = W.AMBIGUOUS_WORDS[word[i]]
                text, typo = S.generic_surface(clean, "ambiguous", uni_rows[i])
            canonical.append(clean)
            surface.append(text)
            has_typo[i] = typo
        return canonical, surface, has_typo


def _format_broad(template: str, genre: int | None, mood: int | None) -> str:
    return template.format(
        genre=W.GENRES[genre] if genre is not None else "", mood=W.MOODS[mood] if mood is not None else ""
    ).strip()


def _rows_choice(weights: np.ndarray, u: np.ndarray) -> np.ndarray:
    """One categorical draw per row of a (n x k) weight matrix, using uniforms ``u``."""
    if not len(weights):
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(weights, axis=1)
    idx = (cum < (u * cum[:, -1])[:, None]).sum(axis=1)
    return np.minimum(idx, weights.shape[1] - 1).astype(np.int64)


__all__ = ["AMBIGUOUS", "ARTIST", "BROAD", "DIRECT", "QUERY_CLASSES", "TOPIC", "Intents", "QueryModel"]
