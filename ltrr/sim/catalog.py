"""The simulated catalog: artists, albums, tracks, playlists, podcasts and episodes.

The catalog is kept as a :class:`CatalogState` (parallel arrays, one row per entity, dense row
numbers) that holds, next to the public fields written to ``raw/catalog``, what only the world
knows: each entity's latent demand, primary genre/topic, moods and title words.

Popularity is heavy-tailed by construction: artists, playlists and podcasts draw a Pareto
(Lomax + 1) latent demand with tail index ``ARTIST_ALPHA``/``OTHER_ALPHA``; albums and tracks
multiply their artist's demand by log-normal factors, episodes their podcast's. The public
``popularity`` column is a noisy, capped view of it in [0, 1] (a feature, not ground truth).

The initial catalog depends only on the seed and the scale (its ``added_ds`` dates are drawn
relative to the world's first day, its *epoch*). New entities are added every day: the
additions of a day depend only on (seed, scale, day) and attach to initial artists and podcasts
(or to entities added the same day), so a day's catalog is the same whichever day a run starts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields

import numpy as np
import pyarrow as pa

from ltrr.schemas import ENTITY_TYPES, arrow_schema
from ltrr.sim import names as N
from ltrr.sim import words as W
from ltrr.sim.scales import STREAM_ADDITIONS, STREAM_CATALOG, Scale, make_rng

TRACK, ARTIST, ALBUM, PLAYLIST, PODCAST, EPISODE = range(6)
assert ENTITY_TYPES == ("track", "artist", "album", "playlist", "podcast", "episode")
PREFIX = ("trk", "art", "alb", "pl", "pod", "ep")
MUSIC_TYPES = (TRACK, ARTIST, ALBUM, PLAYLIST)

ARTIST_ALPHA = 1.4
"""Pareto tail index of artist demand (smaller = heavier tail)."""
OTHER_ALPHA = 1.5
"""Pareto tail index of playlist and podcast demand."""
FRESH_BOOST = 2.0
FRESH_DAYS = 7.0
"""New entities get demand x (1 + FRESH_BOOST * exp(-age_days / FRESH_DAYS))."""
POP_CAP_QUANTILE = 0.995
"""Public popularity = raw / (this quantile of the initial catalog's raw values, per type), clipped to 1."""
NOMINAL_DURATION_MS = {ARTIST: 20 * 60_000, ALBUM: 40 * 60_000, PLAYLIST: 30 * 60_000, PODCAST: 45 * 60_000}
"""Listening time a play of a container can reach (containers have no duration of their own)."""

_GENRE_P = np.array(W.GENRE_WEIGHTS) / sum(W.GENRE_WEIGHTS)
_MOOD_P = np.array(W.MOOD_WEIGHTS) / sum(W.MOOD_WEIGHTS)
_TOPIC_W = 1.0 / np.arange(1, len(W.TOPICS) + 1) ** 0.6
_TOPIC_P = _TOPIC_W / _TOPIC_W.sum()
_GENRE_CUM = np.cumsum(_GENRE_P)
_TOPIC_CUM = np.cumsum(_TOPIC_P)


def _genre_mood_cum() -> dict[str, np.ndarray]:
    out = {}
    for genre in W.GENRES:
        p = _MOOD_P.copy()
        for mood in W.GENRE_MOOD_AFFINITY.get(genre, ()):
            p[W.MOODS.index(mood)] += 0.15
        out[genre] = np.cumsum(p / p.sum())
    return out


_MOOD_CUM = _genre_mood_cum()
_MOOD_PLAIN_CUM = np.cumsum(_MOOD_P)
_EPOCH_1970 = dt.date(1970, 1, 1).toordinal()
_WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)
_AMBIGUOUS_INDEX = {w: i for i, w in enumerate(W.AMBIGUOUS_WORDS)}


def title_word_mask(title: str) -> int:
    """Bit mask of the ambiguous words (``words.AMBIGUOUS_WORDS``) a title contains."""
    mask = 0
    for token in _WORD_RE.findall(title.lower()):
        i = _AMBIGUOUS_INDEX.get(token)
        if i is not None:
            mask |= 1 << i
    return mask


@dataclass
class CatalogState:
    """The catalog as parallel columns; row ``i`` is one entity (dense row numbers).

    Public columns mirror the ``catalog`` schema; the others are the world's hidden state:
    ``latent`` (true demand), ``group`` (primary genre for music, primary topic for podcasts and
    episodes), ``genre2``, ``mood_mask``, ``topic_mask``, ``word_mask`` (ambiguous title words),
    ``artist_idx``/``parent_idx`` (row numbers, -1 for none) and ``added`` (day ordinal).
    """

    ids: list[str] = field(default_factory=list)
    etype: list[int] = field(default_factory=list)
    title: list[str] = field(default_factory=list)
    artist_idx: list[int] = field(default_factory=list)
    artist: list[str | None] = field(default_factory=list)
    album: list[str | None] = field(default_factory=list)
    parent_idx: list[int] = field(default_factory=list)
    genres: list[list[str]] = field(default_factory=list)
    topics: list[list[str]] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    latent: list[float] = field(default_factory=list)
    duration_ms: list[int | None] = field(default_factory=list)
    added: list[int] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    group: list[int] = field(default_factory=list)
    genre2: list[int] = field(default_factory=list)
    mood_mask: list[int] = field(default_factory=list)
    topic_mask: list[int] = field(default_factory=list)
    noise: list[float] = field(default_factory=list)
    pop_cap: np.ndarray = field(default_factory=lambda: np.ones(len(ENTITY_TYPES)))

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, **values: object) -> int:
        """Append one entity (every list field must be given) and return its row number."""
        for name, value in values.items():
            getattr(self, name).append(value)
        if len(values) != len(_LIST_FIELDS):
            raise ValueError(f"add() needs every field: missing {sorted(set(_LIST_FIELDS) - set(values))}")
        return len(self.ids) - 1

    def extend(self, other: CatalogState) -> None:
        """Append another state's rows (row numbers inside ``other`` must already be global)."""
        for name in _LIST_FIELDS:
            getattr(self, name).extend(getattr(other, name))

    def arrays(self) -> CatalogArrays:
        """Numpy views of the hidden state, for vectorised sampling and relevance."""
        return CatalogArrays.from_state(self)

    def to_arrow(self) -> pa.Table:
        """The public snapshot as an Arrow table with ``arrow_schema("catalog")``."""
        etype = np.asarray(self.etype, dtype=np.int64)
        popularity = self.popularity()
        ids = self.ids
        artist_id = [ids[a] if a >= 0 else None for a in self.artist_idx]
        parent_id = [ids[p] if p >= 0 else None for p in self.parent_idx]
        added = pa.array(np.asarray(self.added, dtype=np.int32) - _EPOCH_1970, type=pa.int32()).cast(pa.date32())
        schema = arrow_schema("catalog")
        columns = {
            "entity_id": pa.array(ids, pa.string()),
            "entity_type": pa.array(np.asarray(ENTITY_TYPES, dtype=object)[etype], pa.string()),
            "title": pa.array(self.title, pa.string()),
            "artist_id": pa.array(artist_id, pa.string()),
            "artist": pa.array(self.artist, pa.string()),
            "album": pa.array(self.album, pa.string()),
            "parent_id": pa.array(parent_id, pa.string()),
            "genres": pa.array(self.genres, schema.field("genres").type),
            "topics": pa.array(self.topics, schema.field("topics").type),
            "language": pa.array(self.language, pa.string()),
            "popularity": pa.array(popularity, pa.float64()),
            "duration_ms": pa.array(self.duration_ms, pa.int64()),
            "added_ds": added,
            "description": pa.array(self.description, pa.string()),
        }
        return pa.Table.from_arrays([columns[f.name] for f in schema], schema=schema)

    def popularity(self) -> np.ndarray:
        """Public popularity in [0, 1]: latent demand x log-normal noise / per-type cap, clipped."""
        etype = np.asarray(self.etype, dtype=np.int64)
        raw = np.asarray(self.latent) * np.asarray(self.noise)
        return np.clip(raw / self.pop_cap[etype], 0.0, 1.0).round(6)


_LIST_FIELDS = tuple(f.name for f in fields(CatalogState) if f.name != "pop_cap")


@dataclass
class CatalogArrays:
    """Numpy arrays of a :class:`CatalogState` (hidden state included), for vectorised code."""

    etype: np.ndarray
    artist_idx: np.ndarray
    parent_idx: np.ndarray
    group: np.ndarray
    genre2: np.ndarray
    mood_mask: np.ndarray
    topic_mask: np.ndarray
    word_mask: np.ndarray
    latent: np.ndarray
    added: np.ndarray
    duration_ms: np.ndarray
    name_code: np.ndarray
    name_keys: list[str]
    pop_rank: np.ndarray

    @classmethod
    def from_state(cls, state: CatalogState) -> CatalogArrays:
        """Build the arrays; ``name_code`` numbers the distinct lower-cased names (the direct
        query of an entity) and ``pop_rank`` is the latent demand's percentile within type."""
        etype = np.asarray(state.etype, dtype=np.int8)
        latent = np.asarray(state.latent, dtype=np.float64)
        codes: dict[str, int] = {}
        keys = [t.lower() for t in state.title]
        name_code = np.fromiter((codes.setdefault(k, len(codes)) for k in keys), dtype=np.int64, count=len(keys))
        pop_rank = np.zeros(len(latent))
        for t in range(len(ENTITY_TYPES)):
            rows = np.flatnonzero(etype == t)
            if len(rows):
                order = np.argsort(latent[rows], kind="stable")
                pop_rank[rows[order]] = (np.arange(len(rows)) + 1) / len(rows)
        duration = np.array([d if d is not None else -1 for d in state.duration_ms], dtype=np.int64)
        for t, nominal in NOMINAL_DURATION_MS.items():
            duration[(etype == t) & (duration < 0)] = nominal
        return cls(
            etype=etype,
            artist_idx=np.asarray(state.artist_idx, dtype=np.int64),
            parent_idx=np.asarray(state.parent_idx, dtype=np.int64),
            group=np.asarray(state.group, dtype=np.int64),
            genre2=np.asarray(state.genre2, dtype=np.int64),
            mood_mask=np.asarray(state.mood_mask, dtype=np.int64),
            topic_mask=np.asarray(state.topic_mask, dtype=np.int64),
            word_mask=np.array([title_word_mask(t) for t in state.title], dtype=np.int64),
            latent=latent,
            added=np.asarray(state.added, dtype=np.int64),
            duration_ms=duration,
            name_code=name_code,
            name_keys=keys,
            pop_rank=pop_rank,
        )

    def demand(self, day: int) -> np.ndarray:
        """Demand of every entity on a day: latent x freshness boost for recent additions.

        Args:
            day: the day's ordinal.

        Returns:
            Non-negative weights (entities added after ``day`` get 0).
        """
        age = (day - self.added).astype(np.float64)
        boost = 1.0 + FRESH_BOOST * np.exp(-np.clip(age, 0, None) / FRESH_DAYS)
        return np.where(age >= 0, self.latent * boost, 0.0)


class _Generator:
    """Appends entities of one batch (the initial catalog or one day's additions)."""

    def __init__(self, rng: np.random.Generator, state: CatalogState, day: int, id_tag: str | None) -> None:
        self.rng = rng
        self.state = state
        self.day = day
        self.id_tag = id_tag
        self.counters = [0] * len(ENTITY_TYPES)

    def _id(self, etype: int) -> str:
        n = self.counters[etype]
        self.counters[etype] += 1
        if self.id_tag is None:
            return f"{PREFIX[etype]}_{n:07d}"
        return f"{PREFIX[etype]}_{self.id_tag}_{n:05d}"

    def _added(self, max_age_days: int) -> int:
        if self.id_tag is not None:
            return self.day
        # Initial entities: added over the years before the epoch, more of them recently.
        return self.day - 1 - int(self.rng.exponential(max_age_days / 4)) % max_age_days

    def _moods(self, genre: str, k: int) -> list[int]:
        return sorted({_draw(self.rng, _MOOD_CUM[genre]) for _ in range(k)})

    def artist(self) -> int:
        rng = self.rng
        g = _draw(rng, _GENRE_CUM)
        genre = W.GENRES[g]
        mix = W.GENRE_LANGUAGES.get(genre, W.DEFAULT_LANGUAGE_MIX)
        language = str(rng.choice(list(mix), p=np.array(list(mix.values())) / sum(mix.values())))
        g2 = _draw(rng, _GENRE_CUM) if rng.random() < 0.3 else -1
        if g2 == g:
            g2 = -1
        moods = self._moods(genre, 2)
        name = N.artist_name(rng, language)
        tags = [genre] + ([W.GENRES[g2]] if g2 >= 0 else []) + [W.MOODS[m] for m in moods]
        row = len(self.state)
        return self.state.add(
            ids=self._id(ARTIST),
            etype=ARTIST,
            title=name,
            artist_idx=row,
            artist=name,
            album=None,
            parent_idx=-1,
            genres=tags,
            topics=[],
            language=language,
            latent=float(rng.pareto(ARTIST_ALPHA) + 1.0),
            duration_ms=None,
            added=self._added(3650),
            description=N.music_description("artist", name, name, genre, [W.MOODS[m] for m in moods], None),
            group=g,
            genre2=g2,
            mood_mask=_mask(moods),
            topic_mask=0,
            noise=float(rng.lognormal(0, 0.25)),
        )

    def album_with_tracks(self, artist_row: int) -> int:
        rng, st = self.rng, self.state
        g, g2, language = st.group[artist_row], st.genre2[artist_row], st.language[artist_row]
        genre, artist = W.GENRES[g], st.title[artist_row]
        single = rng.random() < 0.3
        n_tracks = 1 if single else 4 + int(rng.poisson(5))
        title = N.track_title(rng, language) if single else N.album_title(rng, language)
        moods = self._moods(genre, 1 + int(rng.random() < 0.5))
        mood_words = [W.MOODS[m] for m in moods]
        latent = st.latent[artist_row] * float(rng.lognormal(0, 0.7)) * 0.5
        added = max(self._added(3650), st.added[artist_row])
        tags = [genre] + ([W.GENRES[g2]] if g2 >= 0 else []) + mood_words
        album_row = st.add(
            ids=self._id(ALBUM),
            etype=ALBUM,
            title=title,
            artist_idx=artist_row,
            artist=artist,
            album=None,
            parent_idx=artist_row,
            genres=tags,
            topics=[],
            language=language,
            latent=latent,
            duration_ms=None,
            added=added,
            description=N.music_description("album", title, artist, genre, mood_words, None),
            group=g,
            genre2=g2,
            mood_mask=_mask(moods),
            topic_mask=0,
            noise=float(rng.lognormal(0, 0.25)),
        )
        for position in range(n_tracks):
            track = title if single else N.track_title(rng, language)
            t_moods = sorted(set(moods) | set(self._moods(genre, 1)))
            t_words = [W.MOODS[m] for m in t_moods]
            st.add(
                ids=self._id(TRACK),
                etype=TRACK,
                title=track,
                artist_idx=artist_row,
                artist=artist,
                album=title,
                parent_idx=album_row,
                genres=[genre] + ([W.GENRES[g2]] if g2 >= 0 else []) + t_words,
                topics=[],
                language=language,
                latent=latent * float(rng.lognormal(0, 0.6)) / np.sqrt(1 + position),
                duration_ms=int(rng.lognormal(np.log(205_000), 0.25)),
                added=added,
                description=N.music_description("track", track, artist, genre, t_words, title),
                group=g,
                genre2=g2,
                mood_mask=_mask(t_moods),
                topic_mask=0,
                noise=float(rng.lognormal(0, 0.25)),
            )
        return album_row

    def playlist(self) -> int:
        rng = self.rng
        g = _draw(rng, _GENRE_CUM)
        m = _draw(rng, _MOOD_PLAIN_CUM)
        genre, mood = W.GENRES[g], W.MOODS[m]
        title = N.playlist_title(rng, genre, mood)
        return self.state.add(
            ids=self._id(PLAYLIST),
            etype=PLAYLIST,
            title=title,
            artist_idx=-1,
            artist=W.CURATORS[int(rng.integers(len(W.CURATORS)))],
            album=None,
            parent_idx=-1,
            genres=[genre, mood],
            topics=[],
            language="en",
            latent=float(rng.pareto(OTHER_ALPHA) + 1.0) * 2.0,
            duration_ms=None,
            added=self._added(1500),
            description=N.playlist_description(genre, mood),
            group=g,
            genre2=-1,
            mood_mask=_mask([m]),
            topic_mask=0,
            noise=float(rng.lognormal(0, 0.25)),
        )

    def podcast_with_episodes(self, n_episodes: int | None = None) -> int:
        rng, st = self.rng, self.state
        k = 1 + int(rng.integers(3))
        topic_ids = [int(x) for x in rng.choice(len(W.TOPICS), size=k, replace=False, p=_TOPIC_P)]
        topics = [W.TOPICS[t] for t in topic_ids]
        mix = W.DEFAULT_LANGUAGE_MIX
        language = str(rng.choice(list(mix), p=np.array(list(mix.values())) / sum(mix.values())))
        host = N.person_name(rng)
        title = N.podcast_title(rng, topics[0])
        publisher = W.PUBLISHERS[int(rng.integers(len(W.PUBLISHERS)))]
        latent = float(rng.pareto(OTHER_ALPHA) + 1.0)
        row = st.add(
            ids=self._id(PODCAST),
            etype=PODCAST,
            title=title,
            artist_idx=-1,
            artist=publisher,
            album=None,
            parent_idx=-1,
            genres=[],
            topics=topics,
            language=language,
            latent=latent,
            duration_ms=None,
            added=self._added(2000),
            description=N.podcast_description(topics, host),
            group=topic_ids[0],
            genre2=-1,
            mood_mask=0,
            topic_mask=_mask(topic_ids),
            noise=float(rng.lognormal(0, 0.25)),
        )
        n = 1 + int(rng.poisson(7)) if n_episodes is None else n_episodes
        for _ in range(n):
            self.episode(row)
        return row

    def episode(self, podcast_row: int) -> int:
        rng, st = self.rng, self.state
        topics = list(st.topics[podcast_row])
        own = [topics[int(rng.integers(len(topics)))]]
        if rng.random() < 0.3:
            extra = W.TOPICS[_draw(rng, _TOPIC_CUM)]
            if extra not in own:
                own.append(extra)
        topic_ids = [W.TOPICS.index(t) for t in own]
        return st.add(
            ids=self._id(EPISODE),
            etype=EPISODE,
            title=N.episode_title(rng, own[0]),
            artist_idx=-1,
            artist=st.artist[podcast_row],
            album=None,
            parent_idx=podcast_row,
            genres=[],
            topics=own,
            language=st.language[podcast_row],
            latent=st.latent[podcast_row] * float(rng.lognormal(0, 0.6)) * 0.3,
            duration_ms=int(rng.uniform(15, 90) * 60_000),
            added=max(self._added(2000), st.added[podcast_row]),
            description=N.episode_description(own, st.title[podcast_row]),
            group=topic_ids[0],
            genre2=-1,
            mood_mask=0,
            topic_mask=_mask(topic_ids),
            noise=float(rng.lognormal(0, 0.25)),
        )


def _draw(rng: np.random.Generator, cum: np.ndarray) -> int:
    """One draw from a discrete distribution given by its cumulative probabilities."""
    return min(int(np.searchsorted(cum, rng.random(), side="right")), len(cum) - 1)


def _mask(bits: list[int]) -> int:
    mask = 0
    for b in bits:
        mask |= 1 << int(b)
    return mask


def initial_catalog(scale: Scale, seed: int, epoch: dt.date) -> CatalogState:
    """Generate the catalog as it is before the world's first day.

    Args:
        scale: the world scale (numbers of artists, playlists, podcasts).
        seed: master seed.
        epoch: the world's first day; initial entities are added before it.

    Returns:
        The catalog state; ``pop_cap`` (per type) is set from it and kept for later days.
    """
    rng = make_rng(seed, STREAM_CATALOG)
    state = CatalogState()
    gen = _Generator(rng, state, epoch.toordinal(), id_tag=None)
    artists = [gen.artist() for _ in range(scale.artists)]
    for row in artists:
        n_albums = 1 + int(rng.poisson(0.5 + 0.4 * np.log(state.latent[row])))
        for _ in range(n_albums):
            gen.album_with_tracks(row)
    for _ in range(scale.playlists):
        gen.playlist()
    for _ in range(scale.podcasts):
        gen.podcast_with_episodes()
    etype = np.asarray(state.etype)
    raw = np.asarray(state.latent) * np.asarray(state.noise)
    state.pop_cap = np.array([np.quantile(raw[etype == t], POP_CAP_QUANTILE) for t in range(len(ENTITY_TYPES))])
    return state


def daily_additions(base: CatalogState, n_initial: int, scale: Scale, seed: int, day: dt.date) -> CatalogState:
    """Generate the entities added on one day.

    New albums go to initial artists (chosen by demand: popular artists release more) or to
    artists debuting that day; new episodes to initial podcasts (each publishes about weekly)
    or to podcasts launched that day. Row numbers continue after ``base``.

    Args:
        base: the catalog so far (its first ``n_initial`` rows are the initial catalog).
        n_initial: number of rows of the initial catalog.
        scale: the world scale.
        seed: master seed.
        day: the day the entities are added.

    Returns:
        A state holding only the new rows (extend ``base`` with it).
    """
    rng = make_rng(seed, STREAM_ADDITIONS, day.toordinal())
    new = CatalogState()
    # Rows of `new` are numbered after `base`; a view that appends to `new` but reads both.
    view = _Overlay(base, new)
    gen = _Generator(rng, view, day.toordinal(), id_tag=day.strftime("%Y%m%d"))  # type: ignore[arg-type]
    share = scale.daily_new_share
    etype = np.asarray(base.etype[:n_initial])
    latent = np.asarray(base.latent[:n_initial])
    artist_rows = np.flatnonzero(etype == ARTIST)
    podcast_rows = np.flatnonzero(etype == PODCAST)
    n_new_artists = int(rng.poisson(max(share * len(artist_rows), 0.5)))
    for _ in range(n_new_artists):
        gen.album_with_tracks(gen.artist())
    n_albums = int(rng.poisson(share * 2 * len(artist_rows)))
    if n_albums and len(artist_rows):
        p = latent[artist_rows] / latent[artist_rows].sum()
        for row in rng.choice(artist_rows, size=n_albums, p=p):
            gen.album_with_tracks(int(row))
    for _ in range(int(rng.poisson(share * scale.playlists))):
        gen.playlist()
    for _ in range(int(rng.poisson(share * scale.podcasts))):
        gen.podcast_with_episodes(n_episodes=1)
    publishing = podcast_rows[rng.random(len(podcast_rows)) < 1 / 7]
    for row in publishing:
        gen.episode(int(row))
    return new


class _Overlay:
    """Reads rows of ``base`` then ``new`` by global row number; appends go to ``new``."""

    def __init__(self, base: CatalogState, new: CatalogState) -> None:
        self._base, self._new = base, new

    def __len__(self) -> int:
        return len(self._base) + len(self._new)

    def add(self, **values: object) -> int:
        self._new.add(**values)
        return len(self) - 1

    def __getattr__(self, name: str) -> _Column:
        return _Column(getattr(self._base, name), getattr(self._new, name))


class _Column:
    def __init__(self, base: list, new: list) -> None:
        self._base, self._new = base, new

    def __getitem__(self, row: int) -> object:
        n = len(self._base)
        return self._base[row] if row < n else self._new[row - n]
