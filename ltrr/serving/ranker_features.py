"""The ranker's features at serving time, equal to the training rows of ``sql/rank/training_rows.sql``.

The ranker is trained on rows Spark builds (``ltrr.rank.training_set.training_rows``); at serving
the same features must be computed for one request and its candidates, or the model scores
values it never saw. :func:`ranker_features` is that computation, in the model's feature order
(``ltrr.rank.features.FEATURE_NAMES``), NaN where Spark has null. It reads only
:class:`RankerLookups`, built once per bundle from the artifacts the training job reads:

- per-entity rows, from the catalog snapshot (contract ``catalog`` schema): popularity,
  entity_type, genre, age_days and the token sets of title_exact, title_jaccard, query_coverage
  and artist_in_query;
- entity names, from the same catalog (``ltrr.memory.keys.entity_keys``, kinds title and
  artist; ``ltrr.serving.plan_choice.entity_names``): query_is_entity_name;
- memory, from the q2e table (``artifacts/q2e/ds=D/table``): q2e_score, q2e_rank,
  q2e_evidence, q2e_predicted;
- counters, from ``history_stats`` (``artifacts/training_set/ds=D/history``; tables entity,
  user, artist, genre, query): entity_impressions, entity_positives, entity_positive_rate,
  user_positives, user_artist_positives, user_genre_share, query_searches;
- vectors, from the embeddings artifact's user and item factors (as
  ``ltrr.embed.index.read_vectors`` reads them): affinity.

The request supplies the rest: the candidates (retrieval provenance: per-strategy MIN rank and
MAX score, distinct strategies, best rank, exactly the SQL's ``GROUP BY search_id, entity_id``),
the normalized query (``ltrr.text.normalize.normalize_query``), the user, the context
(``local_hour``, ``weekday``, ``device``, ``locale``) and the serving day (the SQL's ``${ds}``).

How the SQL's nulls carry over (Spark 4 with ANSI mode, so ``size(NULL)`` is NULL):

- A candidate absent from the catalog is still a row (the SQL ``LEFT JOIN``s ``catalog_features``):
  its catalog columns are null, so popularity, entity_type, genre, age_days, title_jaccard,
  query_coverage and artist_in_query are NaN, while ``title_exact`` is 0 for a non-empty query
  (``query_key = NULL`` is not true, so the ``CASE`` falls to ``ELSE 0``). Its counters still
  apply (they join on the entity id), its artist and genre counters do not (they join on the
  catalog's artist and genre): user_artist_positives is 0 and user_genre_share 0 for a user
  with positives.
- An empty query (normalized key ``''``) makes the four query-match features NaN.
- ``artist_in_query`` divides by the artist's token count *with repeats* (``size``, not a set).
- ``q2e_predicted`` is NaN without a memory entry, 0 for an observed one, 1 for a prediction.
- ``affinity`` is NaN unless both vectors exist (and have the same length: ``zip_with`` pads
  the shorter with nulls, which nulls the sum); it is a float64 sum of float64-cast products.

Known serving skew: the bundle carries the artifacts of D - 1 (memory, vectors and counters are
exactly what the training row of a search on D reads), but the training row reads the catalog
snapshot of D itself, and serving only has the catalog it is given. Built from the bundle's
catalog (of D - 1), entities added on D are absent (NaN catalog features, no entity name) and a
metadata change on D is not seen. ``Searcher(bundle, catalog=...)`` builds the lookups from the
current snapshot when serving has one (the simulator's factory passes each day's), which
removes the skew (docs/serving.md).

Thread safety: :func:`ranker_features` only reads the lookups (no cache is filled, the numpy
arrays are read-only), so one :class:`RankerLookups` can serve concurrent requests.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from types import MappingProxyType

import numpy as np
import pandas as pd
import pyarrow as pa

from ltrr.rank.features import FEATURE_NAMES, HASH_BUCKETS, WEEKDAYS
from ltrr.schemas import DEVICES, ENTITY_TYPES, STRATEGIES
from ltrr.serving.engine import Candidate, CandidateList
from ltrr.serving.plan_choice import entity_names
from ltrr.text.normalize import normalize_query

_NAN = math.nan
_COL = {name: i for i, name in enumerate(FEATURE_NAMES)}
_N_FEATURES = len(FEATURE_NAMES)


def _columns(names: Sequence[str]) -> slice | list[int]:
    """The output columns of ``names``: a slice when they are contiguous in model order (faster)."""
    cols = [_COL[n] for n in names]
    return slice(cols[0], cols[-1] + 1) if cols == list(range(cols[0], cols[0] + len(cols))) else cols


# Retrieval provenance, computed per distinct entity into a block of these columns.
_PROV_NAMES = (
    *(f"{s}_{part}" for s in STRATEGIES for part in ("rank", "score")),
    "n_strategies",
    "best_rank",
)
_PROV_COLS = _columns(_PROV_NAMES)
_STRATEGY_SLOT = {s: 2 * i for i, s in enumerate(STRATEGIES)}  # rank at slot, score at slot + 1
_N_SLOT = len(_PROV_NAMES) - 2
_BEST_SLOT = len(_PROV_NAMES) - 1

# Per-entity values that do not depend on the request: the columns of ``entity_static``
# (age_days holds the added date as days since 1970-01-01; the request's day turns it into an age).
_STATIC_NAMES = (
    "popularity",
    "entity_type",
    "genre",
    "age_days",
    "entity_impressions",
    "entity_positives",
    "entity_positive_rate",
)
_STATIC_COLS = _columns(_STATIC_NAMES)
_AGE = _COL["age_days"]
_Q2E_COLS = _columns(("q2e_score", "q2e_rank", "q2e_evidence", "q2e_predicted"))
# Per (request, entity) values, computed in one Python loop (affinity is filled afterwards).
_ROW_NAMES = (
    "title_exact",
    "title_jaccard",
    "query_coverage",
    "artist_in_query",
    "affinity",
    "user_positives",
    "user_artist_positives",
    "user_genre_share",
)
_ROW_COLS = _columns(_ROW_NAMES)
_AFFINITY = _COL["affinity"]
# Per-request values (the same on every row).
_REQUEST_NAMES = (
    "query_chars",
    "query_tokens",
    "query_is_entity_name",
    "query_searches",
    "hour",
    "weekday",
    "device",
    "locale",
)
_REQUEST_COLS = _columns(_REQUEST_NAMES)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NO_MEMORY = (_NAN, _NAN, _NAN, _NAN)
_EMPTY: Mapping[str, int] = MappingProxyType({})

EntityText = tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], int, "str | None", "str | None"]
"""Per catalog entity: (title key, distinct title tokens, distinct title/artist/album/genre/topic
tokens, distinct artist tokens, artist token count with repeats, artist_id, first genre)."""


def _log1p(x: float) -> float:
    """Spark's ``log1p``: null (NaN here) at or below -1 instead of an error."""
    return math.log1p(x) if x > -1.0 else _NAN  # NaN > -1 is false: NaN stays NaN


def _hash_code(value: str, buckets: int) -> float:
    """``pmod(crc32(CAST(value AS BINARY)), buckets)``: Spark's crc32 of the UTF-8 bytes."""
    return float(zlib.crc32(value.encode("utf-8")) % buckets)


def _to_double(value: str | None) -> float:
    """``TRY_CAST(value AS DOUBLE)`` for a context string (NaN for a missing or malformed value).

    Spark (ANSI mode) fails the training job on a malformed value; serving answers NaN instead.
    """
    if value is None:
        return _NAN
    text = str(value).strip()
    if not text or "_" in text:  # Python's float() accepts "1_0", Spark does not
        return _NAN
    try:
        return float(text)
    except ValueError:
        return _NAN


def _tokens(key: str) -> list[str]:
    """``filter(split(key, ' '), t -> t != '')`` of the SQL's ``catalog_features``."""
    return [t for t in key.split(" ") if t]


def _distinct(tokens: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(tokens))


def _readonly(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class RankerLookups:
    """Everything besides the request that the ranker's features read (read-only once built).

    Build it with :meth:`from_frames`. Entities get dense rows: every id of the catalog, of the
    entity counters and of the item vectors; the last row stands for an entity known to none
    of them.

    Attributes:
        hash_buckets: buckets of the genre and locale crc32 codes.
        entity_index: entity id -> dense row.
        entity_static: (rows + 1) x 7 float64: popularity, entity_type, genre code, added date (days
            since 1970-01-01; all four NaN outside the catalog), entity_impressions,
            entity_positives, entity_positive_rate (their 0-count values without counters).
        entity_vector: (rows + 1,) row of ``item_factors`` (-1: no vector).
        entity_text: per row, :data:`EntityText` (None outside the catalog).
        entity_names: normalized titles and artist names (``query_is_entity_name``).
        memory: query_key -> entity_id -> (score, rank, log1p(trials), predicted 0/1).
        user_positives: user_id -> positive engagements in the counters' window.
        user_artist: user_id -> artist_id -> positive engagements.
        user_genre: user_id -> primary genre -> positive engagements.
        query_searches: query_key -> searches in the window.
        user_index: user_id -> row of ``user_factors``.
        user_factors: users x dims float32.
        item_factors: items x dims float32.
    """

    hash_buckets: int
    entity_index: Mapping[str, int]
    entity_static: np.ndarray
    entity_vector: np.ndarray
    entity_text: tuple[EntityText | None, ...]
    entity_names: frozenset[str]
    memory: Mapping[str, Mapping[str, tuple[float, float, float, float]]]
    user_positives: Mapping[str, int]
    user_artist: Mapping[str, Mapping[str, int]]
    user_genre: Mapping[str, Mapping[str, int]]
    query_searches: Mapping[str, int]
    user_index: Mapping[str, int]
    user_factors: np.ndarray
    item_factors: np.ndarray

    @classmethod
    def from_frames(
        cls,
        *,
        catalog: pa.Table,
        memory: pd.DataFrame,
        history: pd.DataFrame,
        user_ids: Iterable[str],
        user_factors: np.ndarray,
        entity_ids_with_vectors: Iterable[str],
        item_factors: np.ndarray,
        hash_buckets: int = HASH_BUCKETS,
    ) -> RankerLookups:
        """Build the lookups from a bundle's artifacts.

        Args:
            catalog: the catalog snapshot (contract ``catalog`` schema; only ``entity_id,
                entity_type, title, artist_id, artist, album, genres, topics, popularity,
                added_ds`` are read).
            memory: the q2e table: ``query_key, entity_id, rank, score, trials, predicted_kind``
                (may be empty; one row per (query_key, entity_id) as the memory job writes).
            history: the counters in the long form of ``sql/rank/history_stats.sql``:
                ``table, key1, key2, n1, n2`` (may be empty).
            user_ids: ids of the rows of ``user_factors``.
            user_factors: users x dims (float32 as read by ``ltrr.embed.index.read_vectors``;
                may have 0 rows).
            entity_ids_with_vectors: ids of the rows of ``item_factors``.
            item_factors: items x dims (may have 0 rows).
            hash_buckets: buckets of the genre and locale codes (the training set's).

        Returns:
            The lookups (duplicated ids keep their first row, where Spark would duplicate rows;
            the artifacts have unique keys).

        Raises:
            ValueError: a factor matrix does not have one row per id.
        """
        user_keys = [str(u) for u in user_ids]
        item_ids = [str(e) for e in entity_ids_with_vectors]
        users_matrix = _factors(user_factors, len(user_keys), "user")
        items_matrix = _factors(item_factors, len(item_ids), "item")
        cache: dict[str, str] = {}

        def norm(text: str) -> str:
            key = cache.get(text)
            if key is None:
                key = cache[text] = normalize_query(text)
            return key

        # Catalog: static metadata and token tuples, as catalog_features() computes them.
        cat = {
            name: catalog.column(name).to_pylist()
            for name in ("entity_id", "entity_type", "title", "artist_id", "artist", "album", "genres", "topics")
        }
        popularity = np.asarray(catalog.column("popularity").to_pylist(), dtype=np.float64)
        added = np.asarray(catalog.column("added_ds").cast(pa.int32()).to_pylist(), dtype=np.float64)
        index: dict[str, int] = {}
        texts: list[EntityText | None] = []
        genres: list[str | None] = []
        catalog_rows: list[int] = []  # row of the catalog table for each dense row
        genre_codes: dict[str, float] = {}
        for i, eid in enumerate(cat["entity_id"]):
            if eid in index:  # a primary key: keep the first row of a duplicated id
                continue
            index[eid] = len(catalog_rows)
            catalog_rows.append(i)
            entity_genres = cat["genres"][i] or []
            title_key = norm(cat["title"][i] or "")
            title = _tokens(title_key)
            artist = _tokens(norm(cat["artist"][i] or ""))
            other_text = " ".join((cat["album"][i] or "", " ".join(entity_genres), " ".join(cat["topics"][i] or [])))
            other = _tokens(norm(other_text))
            genre = entity_genres[0] if entity_genres else None
            every = _distinct(title + artist + other)
            texts.append(
                (title_key, _distinct(title), every, _distinct(artist), len(artist), cat["artist_id"][i], genre)
            )
            genres.append(genre)
        n_catalog = len(catalog_rows)
        type_code = {t: float(i) for i, t in enumerate(ENTITY_TYPES)}
        rows = np.asarray(catalog_rows, dtype=np.int64)

        # Entity counters and item vectors may name entities the catalog does not have.
        counters = _history_tables(history)
        entity_counts = counters["entity"]
        for eid in (*entity_counts, *item_ids):
            if eid not in index:
                index[eid] = len(index)
        n_rows = len(index)
        static = np.full((n_rows + 1, len(_STATIC_NAMES)), _NAN)
        col = {name: j for j, name in enumerate(_STATIC_NAMES)}
        static[:n_catalog, col["popularity"]] = popularity[rows]
        static[:n_catalog, col["entity_type"]] = [type_code.get(cat["entity_type"][i], _NAN) for i in catalog_rows]
        for r, g in enumerate(genres):
            if g is not None:
                code = genre_codes.get(g)
                if code is None:
                    code = genre_codes[g] = _hash_code(g, hash_buckets)
                static[r, col["genre"]] = code
        impressions = np.zeros(n_rows + 1)
        positives = np.zeros(n_rows + 1)
        for eid, (n1, n2) in entity_counts.items():
            impressions[index[eid]] = n1
            positives[index[eid]] = n2
        static[:n_catalog, col["age_days"]] = added[rows]  # an added date until a request's day
        static[:, col["entity_impressions"]] = np.log1p(impressions)
        static[:, col["entity_positives"]] = np.log1p(positives)
        static[:, col["entity_positive_rate"]] = (positives + 1.0) / (impressions + 20.0)
        entity_vector = np.full(n_rows + 1, -1, dtype=np.int64)
        for j, eid in enumerate(item_ids):
            if entity_vector[index[eid]] < 0:
                entity_vector[index[eid]] = j
        absent = n_rows + 1 - n_catalog
        names_frame = pd.DataFrame({k: cat[k] for k in ("entity_type", "title", "artist")})

        return cls(
            hash_buckets=int(hash_buckets),
            entity_index=MappingProxyType(index),
            entity_static=_readonly(static),
            entity_vector=_readonly(entity_vector),
            entity_text=(*texts, *([None] * absent)),
            entity_names=frozenset(entity_names(names_frame, norm)),
            memory=_memory_lookup(memory),
            user_positives=MappingProxyType({u: n2 for u, (_, n2) in counters["user"].items()}),
            user_artist=MappingProxyType(counters["artist"]),
            user_genre=MappingProxyType(counters["genre"]),
            query_searches=MappingProxyType({q: n1 for q, (n1, _) in counters["query"].items()}),
            user_index=MappingProxyType(_first_rows(user_keys)),
            user_factors=_readonly(users_matrix),
            item_factors=_readonly(items_matrix),
        )


def _factors(factors: np.ndarray, n: int, kind: str) -> np.ndarray:
    """A float32 copy of a rows x dims factor matrix (an empty one may come as any empty shape)."""
    matrix = np.array(factors, dtype=np.float32, copy=True)
    if matrix.size == 0 and n == 0:
        return matrix.reshape(0, matrix.shape[-1] if matrix.ndim == 2 else 0)
    if matrix.ndim != 2 or len(matrix) != n:
        raise ValueError(f"{kind} factors of shape {matrix.shape} for {n} ids")
    return matrix


def _first_rows(ids: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i, key in enumerate(ids):
        out.setdefault(key, i)
    return out


def _history_tables(history: pd.DataFrame) -> dict[str, dict]:
    """The counter tables: entity/user/query key1 -> (n1, n2); artist/genre key1 -> key2 -> n2."""
    out: dict[str, dict] = {"entity": {}, "user": {}, "query": {}, "artist": {}, "genre": {}}
    if not len(history):
        return out
    for table, group in history.groupby("table", sort=False):
        key1 = group["key1"].astype(str).tolist()
        n2 = group["n2"].astype(np.int64).tolist()
        if table in ("entity", "user", "query"):
            target = out[table]
            for k, a, b in zip(key1, group["n1"].astype(np.int64).tolist(), n2, strict=True):
                target.setdefault(k, (a, b))
        elif table in ("artist", "genre"):
            nested: dict[str, dict[str, int]] = out[table]
            for k1, k2, b in zip(key1, group["key2"].astype(str).tolist(), n2, strict=True):
                inner = nested.get(k1)
                if inner is None:
                    inner = nested[k1] = {}
                inner.setdefault(k2, b)
    for table in ("artist", "genre"):
        out[table] = {k: MappingProxyType(v) for k, v in out[table].items()}
    return out


def _memory_lookup(memory: pd.DataFrame) -> Mapping[str, Mapping[str, tuple[float, float, float, float]]]:
    """query_key -> entity_id -> (q2e_score, q2e_rank, q2e_evidence, q2e_predicted)."""
    out: dict[str, dict[str, tuple[float, float, float, float]]] = {}
    if not len(memory):
        return MappingProxyType(out)
    score = pd.to_numeric(memory["score"]).to_numpy(dtype=np.float64, na_value=_NAN)
    rank = pd.to_numeric(memory["rank"]).to_numpy(dtype=np.float64, na_value=_NAN)
    trials = pd.to_numeric(memory["trials"]).to_numpy(dtype=np.float64, na_value=_NAN)
    defined = trials > -1.0  # Spark's log1p is null at or below -1; NaN (null) trials stay NaN
    evidence = np.where(defined, np.log1p(np.where(defined, trials, 0.0)), _NAN)
    predicted = np.where(memory["predicted_kind"].isna().to_numpy(), 0.0, 1.0)
    values = zip(score.tolist(), rank.tolist(), evidence.tolist(), predicted.tolist(), strict=True)
    for key, eid, value in zip(memory["query_key"].tolist(), memory["entity_id"].tolist(), values, strict=True):
        entities = out.get(key)
        if entities is None:
            entities = out[key] = {}
        entities.setdefault(eid, value)
    return MappingProxyType({k: MappingProxyType(v) for k, v in out.items()})


def _provenance(candidates: Sequence[Candidate]) -> tuple[list[str], np.ndarray]:
    """The SQL's ``cand`` aggregate: one row per distinct entity, in first-appearance order.

    Returns:
        ``(entity_ids, block)``: the columns of :data:`_PROV_NAMES`: per strategy the MIN rank
        and the MAX score (NaN above every number, as Spark orders it), n_strategies (distinct
        strategies, unknown ones included) and best_rank (MIN over all); NaN where none applies.
    """
    if isinstance(candidates, CandidateList):
        items: Iterable[tuple[str, str, int, float]] = zip(
            candidates.entity_ids, candidates.strategies, candidates.ranks, candidates.scores, strict=True
        )
    else:
        items = candidates
    position: dict[str, int] = {}
    ids: list[str] = []
    blocks: list[list[float]] = []
    seen: list[set[str]] = []
    width = len(_PROV_NAMES)
    for eid, strategy, rank, score in items:
        i = position.get(eid)
        if i is None:
            i = position[eid] = len(ids)
            ids.append(eid)
            block = [_NAN] * width
            block[_BEST_SLOT] = rank
            blocks.append(block)
            seen.append({strategy})
        else:
            block = blocks[i]
            seen[i].add(strategy)
            if rank < block[_BEST_SLOT]:
                block[_BEST_SLOT] = rank
        slot = _STRATEGY_SLOT.get(strategy)
        if slot is None:  # an unknown strategy counts in n_strategies and best_rank only
            continue
        current = block[slot]
        if current != current:  # the entity's first candidate of this strategy (ranks are never NaN)
            block[slot] = rank
            block[slot + 1] = score
            continue
        if rank < current:
            block[slot] = rank
        best = block[slot + 1]
        if best == best and (score != score or score > best):  # Spark's MAX: NaN above every number
            block[slot + 1] = score
    for block, strategies in zip(blocks, seen, strict=True):
        block[_N_SLOT] = len(strategies)
    flat = np.fromiter(chain.from_iterable(blocks), np.float64, len(ids) * width)
    return ids, flat.reshape(len(ids), width)


def _code(value: str | None, names: Sequence[str]) -> float:
    try:
        return float(names.index(value)) if value is not None else _NAN
    except ValueError:
        return _NAN


def ranker_features(
    lookups: RankerLookups,
    *,
    query: str,
    user_id: str,
    context: Mapping[str, str],
    candidates: Sequence[Candidate],
    serving_day: dt.date,
) -> tuple[list[str], np.ndarray]:
    """The features of every distinct candidate entity of one request, as the training rows have them.

    Only reads ``lookups`` (safe to call from several threads at once).

    Args:
        lookups: the bundle's lookups.
        query: the raw query (may be empty).
        user_id: the customer.
        context: the request context; reads ``local_hour``, ``weekday`` (``mon`` .. ``sun``),
            ``device`` and ``locale`` (a missing key gives NaN), ignores the rest.
        candidates: every retrieved candidate with its provenance (an entity found by several
            strategies appears once per strategy).
        serving_day: the day of the request (the SQL's ``${ds}``, for ``age_days``).

    Returns:
        ``(entity_ids, features)``: the distinct entity ids in first-appearance order and a
        float64 matrix of ``len(entity_ids)`` x ``len(FEATURE_NAMES)`` in model order, NaN where
        the training rows have null.
    """
    ids, blocks = _provenance(candidates)
    n = len(ids)
    out = np.full((n, _N_FEATURES), _NAN)
    if n == 0:
        return ids, out
    out[:, _PROV_COLS] = blocks

    # Entity: static values, then the age on the request's day.
    unknown = len(lookups.entity_static) - 1
    row_list = list(map(lookups.entity_index.get, ids, repeat(unknown, n)))
    rows = np.array(row_list, dtype=np.int64)
    out[:, _STATIC_COLS] = lookups.entity_static[rows]
    out[:, _AGE] = float(serving_day.toordinal() - _EPOCH_ORDINAL) - out[:, _AGE]

    key = normalize_query(query or "")
    memory = lookups.memory.get(key)
    if memory is not None:
        out[:, _Q2E_COLS] = [memory.get(e, _NO_MEMORY) for e in ids]

    # Query-entity match (NaN for an empty query: q_tokens = array()) and user-entity counters.
    q_tokens = key.split(" ") if key else []
    q_set = frozenset(q_tokens)
    q_size = len(q_set)
    positives = lookups.user_positives.get(user_id, 0)
    user_positives = _log1p(positives)
    by_artist = lookups.user_artist.get(user_id, _EMPTY)
    by_genre = lookups.user_genre.get(user_id, _EMPTY)
    # Not in the catalog: title_exact is 0 for a query (``query_key = NULL`` is not true), the
    # artist and genre joins find nothing (0 positives, a 0 genre share for a user with positives).
    absent = (
        0.0 if key else _NAN,
        _NAN,
        _NAN,
        _NAN,
        _NAN,
        user_positives,
        0.0,
        0.0 if positives else _NAN,
    )
    texts = lookups.entity_text
    values: list[tuple[float, ...]] = []
    for r in row_list:
        text = texts[r]
        if text is None:
            values.append(absent)
            continue
        title_key, title, every, artist_tokens, artist_size, artist_id, genre = text
        share = by_genre.get(genre, 0) / positives if positives else _NAN
        artist_count = by_artist.get(artist_id)  # counts are >= 1: log1p is defined
        artist_positives = math.log1p(artist_count) if artist_count else 0.0
        if not key:
            values.append((_NAN, _NAN, _NAN, _NAN, _NAN, user_positives, artist_positives, share))
        elif q_set.isdisjoint(every):  # no query token in any text: every share is 0
            values.append((0.0, 0.0, 0.0, 0.0 if artist_size else _NAN, _NAN, user_positives, artist_positives, share))
        else:
            common = len(q_set.intersection(title))
            values.append(
                (
                    1.0 if key == title_key else 0.0,
                    common / (q_size + len(title) - common),
                    len(q_set.intersection(every)) / q_size,
                    len(q_set.intersection(artist_tokens)) / artist_size if artist_size else _NAN,
                    _NAN,
                    user_positives,
                    artist_positives,
                    share,
                )
            )
    out[:, _ROW_COLS] = np.fromiter(chain.from_iterable(values), np.float64, n * len(_ROW_NAMES)).reshape(n, -1)

    # Affinity: float64 dot of the float32 vectors (NaN unless both exist, with the same length).
    user_row = lookups.user_index.get(user_id)
    if user_row is not None and lookups.user_factors.shape[1] == lookups.item_factors.shape[1]:
        item_rows = lookups.entity_vector[rows]
        has = item_rows >= 0
        if has.any():
            user = lookups.user_factors[user_row].astype(np.float64)
            out[has, _AFFINITY] = lookups.item_factors[item_rows[has]].astype(np.float64) @ user

    locale = context.get("locale")
    out[:, _REQUEST_COLS] = (
        float(len(key)),
        float(len(q_tokens)),
        1.0 if key in lookups.entity_names else 0.0,
        _log1p(lookups.query_searches.get(key, 0)),
        _to_double(context.get("local_hour")),
        _code(context.get("weekday"), WEEKDAYS),
        _code(context.get("device"), DEVICES),
        _NAN if locale is None else _hash_code(locale, lookups.hash_buckets),
    )
    return ids, out
