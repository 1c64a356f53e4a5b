"""Serving's ranker features equal the training rows Spark builds (``sql/rank/training_rows.sql``).

A hand-built day D = 2026-02-10 with the artifacts of D - 1 (memory, vectors, counters):

Catalog of D:
  t1  track    "Love Songs" by "Kai Moana" (a1), pop + soul, album "Heart Album", added 2026-02-01
  t2  track    "Heartbeat (Remix)" by "Kai Moana" (a1), pop, added 2026-01-10
  t3  track    "Café Niño" by "Beyoncé" (a2), latin, album "Día", added 2025-12-31
  al1 album    "Día" by "Beyoncé" (a2), genre "Música Latina" (a non-ASCII crc32 code)
  ar1 artist   "Kai Moana" (no artist_id), pop
  pl1 playlist "Love, Love & Love" (no artist, no genre, topic "mood"), added on D (age 0)
  pc1 podcast  "Rain Talk" (no artist, no genre, topics weather and talk)
  t4  track    "Duran Duran Song" by "Duran Duran" (a3, an artist name with a repeated token), rock
  ep1 episode  "🔥" (its title normalizes to ''), topic weather
  gone1, gone2 are candidates but not in the catalog (gone1 has counters, gone2 a memory entry
  and an item vector).

Memory of D - 1: "love songs" -> t1 (observed, trials e - 1), t2 (observed);
"cafe nino beyonce" -> t3 (predicted, no trials), gone2 (predicted). Counters for all five
tables; user vectors for u1 and u4, item vectors for t1, t3, ar1, gone2.

Searches of D (candidates from several strategies, duplicates across and within strategies, a NaN
score and a strategy the features do not know):
  s1 u1 "Love Songs!"       tv, en-US, hour 21, sat   (query in memory, user with history and vector)
  s2 u2 ""                  mobile, en-GB, hour 9, tue (empty query, unknown user)
  s3 u1 "Cafe Nino Beyonce" mobile, es-MX, hour 7, mon (predicted memory entries, accents)
  s4 u3 "duran duran"       car, fr-FR, hour 0, sun   (user with searches but no positives)
  s5 u1 "kai moana"         web, de-DE, no hour, no weekday (missing context keys)
  s6 u4 "🔥🔥"              desktop, en-US, hour 23, fri (normalizes to an empty query)
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from contract_rows import search_row, track_row
from pyspark.sql import functions as F

from ltrr.rank.features import FEATURE_NAMES
from ltrr.rank.training_set import (
    HISTORY_SCHEMA,
    MEMORY_COLUMNS,
    VECTOR_SCHEMAS,
    TrainingSetParams,
    training_rows,
    with_query_keys,
)
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES, arrow_schema
from ltrr.serving.engine import Candidate, CandidateList
from ltrr.serving.ranker_features import RankerLookups, ranker_features

D = "2026-02-10"
DAY = dt.date.fromisoformat(D)


def _entity(eid: str, etype: str, title: str, artist: str | None, artist_id: str | None, **extra) -> dict:
    row = track_row(eid, title, artist or "", "2026-01-20")
    row.update(entity_type=etype, artist=artist, artist_id=artist_id, **extra)
    return row


def _catalog() -> list[dict]:
    date = dt.date.fromisoformat
    return [
        _entity(
            "t1",
            "track",
            "Love Songs",
            "Kai Moana",
            "a1",
            genres=["pop", "soul"],
            album="Heart Album",
            popularity=0.7,
            added_ds=date("2026-02-01"),
        ),
        _entity("t2", "track", "Heartbeat (Remix)", "Kai Moana", "a1", popularity=0.4, added_ds=date("2026-01-10")),
        _entity(
            "t3",
            "track",
            "Café Niño",
            "Beyoncé",
            "a2",
            genres=["latin"],
            album="Día",
            added_ds=date("2025-12-31"),
        ),
        _entity("al1", "album", "Día", "Beyoncé", "a2", genres=["Música Latina"], popularity=0.2),
        _entity("ar1", "artist", "Kai Moana", "Kai Moana", None, popularity=0.9),
        _entity(
            "pl1",
            "playlist",
            "Love, Love & Love",
            None,
            None,
            genres=[],
            topics=["mood"],
            added_ds=DAY,
            duration_ms=None,
        ),
        _entity("pc1", "podcast", "Rain Talk", None, None, genres=[], topics=["weather", "talk"], duration_ms=None),
        _entity("t4", "track", "Duran Duran Song", "Duran Duran", "a3", genres=["rock"], popularity=0.3),
        _entity("ep1", "episode", "🔥", None, None, genres=[], topics=["weather"], parent_id="pc1"),
    ]


def _search(sid: str, user: str, query: str, device: str, locale: str, context: dict, cands: list[tuple]) -> dict:
    row = search_row(sid, D, query, [], user_id=user)
    row.update(
        device=device,
        locale=locale,
        context=context,
        candidates=[{"entity_id": e, "strategy": s, "rank": r, "score": float(x)} for e, s, r, x in cands],
        shown=[{"entity_id": cands[0][0], "position": 1, "score": 1.0}],
    )
    return row


def _searches() -> list[dict]:
    return [
        _search(
            "s1",
            "u1",
            "Love Songs!",
            "tv",
            "en-US",
            {"local_hour": "21", "weekday": "sat", "session_seq": "2"},
            [
                ("t1", "lexical", 1, 3.0),
                ("t2", "lexical", 2, 2.0),
                ("t1", "memory", 1, 0.9),
                ("t1", "popular", 3, 0.5),
                ("pl1", "popular", 1, 0.8),
                ("gone1", "personalized", 1, 0.7),
                ("t1", "lexical", 4, 3.5),  # same strategy twice: MIN rank 1, MAX score 3.5
                ("ar1", "related", 2, 0.25),
            ],
        ),
        _search(
            "s2",
            "u2",
            "",
            "mobile",
            "en-GB",
            {"local_hour": "9", "weekday": "tue"},
            [
                ("t1", "popular", 1, 0.9),
                ("t3", "popular", 2, 0.8),
                ("pc1", "popular", 3, 0.7),
                ("ar1", "related", 1, 0.3),
            ],
        ),
        _search(
            "s3",
            "u1",
            "Cafe Nino Beyonce",
            "mobile",
            "es-MX",
            {"local_hour": "7", "weekday": "mon"},
            [
                ("t3", "lexical", 1, 9.0),
                ("al1", "lexical", 2, 4.0),
                ("t3", "semantic", 3, 0.6),
                ("gone2", "semantic", 1, 0.9),
                ("t3", "memory", 1, 0.5),
                ("ep1", "semantic", 2, 0.7),
                ("gone2", "memory", 2, 0.2),
            ],
        ),
        _search(
            "s4",
            "u3",
            "duran duran",
            "car",
            "fr-FR",
            {"local_hour": "0", "weekday": "sun"},
            [
                ("t4", "lexical", 1, 5.0),
                ("t1", "personalized", 1, 0.4),
                ("t4", "popular", 7, 0.1),
                ("t4", "popular", 8, math.nan),  # Spark's MAX orders NaN above every number
            ],
        ),
        _search(
            "s5",
            "u1",
            "kai moana",
            "web",
            "de-DE",
            {"surface": "search"},
            [
                ("ar1", "lexical", 1, 8.0),
                ("t1", "lexical", 2, 6.0),
                ("t2", "related", 1, 0.5),
                ("pc1", "popular", 1, 0.9),
            ],
        ),
        _search(
            "s6",
            "u4",
            "🔥🔥",
            "desktop",
            "en-US",
            {"local_hour": "23", "weekday": "fri"},
            [
                ("ep1", "popular", 1, 0.4),
                ("t4", "personalized", 1, 0.9),
                ("t1", "personalized", 2, 0.8),
                ("t1", "editorial", 1, 2.0),  # an unknown strategy: only n_strategies and best_rank
            ],
        ),
    ]


def _memory() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "query_key": ["love songs", "love songs", "cafe nino beyonce", "cafe nino beyonce"],
            "entity_id": ["t1", "t2", "t3", "gone2"],
            "rank": np.array([1, 2, 1, 2], dtype=np.int32),
            "score": [0.3, 0.1, 0.5, 0.2],
            "trials": [math.e - 1.0, 3.0, None, 0.5],
            "predicted_kind": [None, None, "title", "artist"],
        }
    )


def _history() -> pd.DataFrame:
    rows = [
        ("entity", "t1", None, 10, 3),
        ("entity", "t2", None, 5, 0),
        ("entity", "gone1", None, 4, 1),
        ("entity", "pl1", None, 0, 2),
        ("user", "u1", None, 20, 6),
        ("user", "u3", None, 3, 0),
        ("user", "u4", None, 2, 1),
        ("artist", "u1", "a1", 0, 4),
        ("artist", "u1", "a2", 0, 1),
        ("artist", "u4", "a3", 0, 1),
        ("genre", "u1", "pop", 0, 3),
        ("genre", "u1", "latin", 0, 1),
        ("genre", "u4", "rock", 0, 1),
        ("query", "love songs", None, 7, 0),
        ("query", "kai moana", None, 2, 0),
    ]
    return pd.DataFrame(rows, columns=["table", "key1", "key2", "n1", "n2"]).astype({"n1": "int64", "n2": "int64"})


USERS = (["u1", "u4"], np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 0.1]], dtype=np.float32))
ITEMS = (
    ["t1", "t3", "ar1", "gone2"],
    np.array([[0.1, 0.2, 0.3], [-0.7, 0.25, 1.1], [0.3, 0.3, 0.3], [2.0, -0.1, 0.01]], dtype=np.float32),
)


def _rows_to_frame(spark, rows: list[dict], schema):
    return spark.createDataFrame([tuple(r[f.name] for f in schema.fields) for r in rows], schema=schema)


def _pandas_frame(spark, frame: pd.DataFrame, schema):
    """A Spark DataFrame of a pandas one, with NaN and None as null (not as a NaN double)."""
    rows = [
        tuple(None if pd.isna(v) else v.item() if hasattr(v, "item") else v for v in r)
        for r in frame.itertuples(index=False)
    ]
    return spark.createDataFrame(rows, schema)


def _vector_frame(spark, kind: str, ids: list[str], factors: np.ndarray):
    rows = [(i, [float(x) for x in v]) for i, v in zip(ids, factors, strict=True)]
    return spark.createDataFrame(rows, VECTOR_SCHEMAS[kind])


def _spark_rows(spark, *, searches, catalog, memory, history, users, items, day: str = D):
    """Training rows of D (every candidate kept), indexed by (search_id, entity_id)."""
    out = training_rows(
        spark,
        TrainingSetParams(union_share=1.0),
        day,
        searches=with_query_keys(searches),
        engagements=spark.createDataFrame([], ENGAGEMENTS),
        catalog=catalog,
        memory=_pandas_frame(spark, memory, MEMORY_COLUMNS),
        user_vectors=_vector_frame(spark, "user", *users),
        item_vectors=_vector_frame(spark, "item", *items),
        history=history,
    )
    frame = out.select("search_id", "entity_id", *FEATURE_NAMES).toPandas()
    frame[list(FEATURE_NAMES)] = frame[list(FEATURE_NAMES)].apply(pd.to_numeric).astype(np.float64)
    return frame.set_index(["search_id", "entity_id"]).sort_index()


def _request(search: dict, day: dt.date = DAY) -> dict:
    return {
        "query": search["query"],
        "user_id": search["user_id"],
        "context": {**search["context"], "device": search["device"], "locale": search["locale"]},
        "candidates": [Candidate(**c) for c in search["candidates"]],
        "serving_day": day,
    }


def _assert_parity(lookups: RankerLookups, searches: list[dict], rows: pd.DataFrame, day: str = D) -> int:
    """Every feature of every (search, entity) row equals serving's, to 1e-9; NaN exactly where null."""
    compared = 0
    for search in searches:
        ids, features = ranker_features(lookups, **_request(search, dt.date.fromisoformat(day)))
        expected = rows.loc[search["search_id"]]
        assert sorted(ids) == sorted(expected.index), search["search_id"]
        assert features.shape == (len(ids), len(FEATURE_NAMES)) and features.dtype == np.float64
        want = expected.loc[ids, list(FEATURE_NAMES)].to_numpy()
        same_nan = np.isnan(features) == np.isnan(want)
        close = np.isnan(want) | (np.abs(np.nan_to_num(features) - np.nan_to_num(want)) <= 1e-9)
        bad = np.argwhere(~(same_nan & close))
        assert not len(bad), [
            (search["search_id"], ids[i], FEATURE_NAMES[j], features[i, j], want[i, j]) for i, j in bad[:20]
        ]
        compared += features.size
    return compared


def _lookups(memory=None, history=None, users=USERS, items=ITEMS) -> RankerLookups:
    return RankerLookups.from_frames(
        catalog=pa.Table.from_pylist(_catalog(), schema=arrow_schema("catalog")),
        memory=_memory() if memory is None else memory,
        history=_history() if history is None else history,
        user_ids=users[0],
        user_factors=users[1],
        entity_ids_with_vectors=items[0],
        item_factors=items[1],
    )


@pytest.fixture(scope="module")
def hand_rows(spark) -> pd.DataFrame:
    searches = _rows_to_frame(spark, _searches(), SEARCHES).withColumn("ds", F.lit(D))
    return _spark_rows(
        spark,
        searches=searches,
        catalog=_rows_to_frame(spark, _catalog(), CATALOG),
        memory=_memory(),
        history=_pandas_frame(spark, _history(), HISTORY_SCHEMA),
        users=USERS,
        items=ITEMS,
    )


def test_serving_features_equal_the_spark_training_rows(hand_rows: pd.DataFrame) -> None:
    assert len(hand_rows) == 22  # 5 + 4 + 4 + 2 + 4 + 3 distinct (search, entity) pairs
    assert _assert_parity(_lookups(), _searches(), hand_rows) == 22 * len(FEATURE_NAMES)


def test_parity_covers_the_edge_cases(hand_rows: pd.DataFrame) -> None:
    """The hand-built day does exercise the nulls it is meant to (so parity is not vacuous)."""
    by_search = hand_rows.reset_index(level="entity_id", drop=True)

    def col(name: str) -> pd.Series:
        return by_search[name]

    # A candidate missing from the catalog: catalog features null, title_exact 0, counters apply.
    gone1 = hand_rows.loc[("s1", "gone1")]
    assert all(math.isnan(gone1[n]) for n in ("popularity", "entity_type", "genre", "age_days", "title_jaccard"))
    assert math.isnan(gone1["artist_in_query"]) and math.isnan(gone1["query_coverage"])
    assert gone1["title_exact"] == 0.0 and gone1["entity_impressions"] == pytest.approx(math.log1p(4))
    assert gone1["user_artist_positives"] == 0.0 and gone1["user_genre_share"] == 0.0
    # Empty queries (s2 and the emoji-only s6): query-match features null.
    for sid in ("s2", "s6"):
        assert col("title_exact").loc[sid].isna().all() and col("query_coverage").loc[sid].isna().all()
        assert (col("query_tokens").loc[sid] == 0).all()
    # Memory: observed, predicted, none; artist_in_query null without artist tokens.
    assert hand_rows.loc[("s1", "t1"), "q2e_predicted"] == 0.0
    assert hand_rows.loc[("s3", "t3"), "q2e_predicted"] == 1.0 and math.isnan(
        hand_rows.loc[("s3", "t3"), "q2e_evidence"]
    )
    assert math.isnan(hand_rows.loc[("s1", "pl1"), "q2e_predicted"])
    assert math.isnan(hand_rows.loc[("s1", "pl1"), "artist_in_query"])
    # Missing context keys, users without positives, and missing vectors.
    assert col("hour").loc["s5"].isna().all() and col("weekday").loc["s5"].isna().all()
    assert col("user_genre_share").loc["s4"].isna().all() and col("affinity").loc["s4"].isna().all()
    assert math.isnan(hand_rows.loc[("s1", "t2"), "affinity"]) and not math.isnan(
        hand_rows.loc[("s1", "t1"), "affinity"]
    )


def test_hand_checked_values() -> None:
    """A few features worked out by hand (not by the code under test)."""
    ids, x = ranker_features(_lookups(), **_request(_searches()[0]))
    f = {name: j for j, name in enumerate(FEATURE_NAMES)}
    t1, pl1, gone1 = ids.index("t1"), ids.index("pl1"), ids.index("gone1")
    assert ids == ["t1", "t2", "pl1", "gone1", "ar1"]
    # Provenance of t1: lexical twice (ranks 1 and 4, scores 3.0 and 3.5), memory, popular.
    assert (x[t1, f["lexical_rank"]], x[t1, f["lexical_score"]]) == (1.0, 3.5)
    assert (x[t1, f["n_strategies"]], x[t1, f["best_rank"]], x[t1, f["popular_rank"]]) == (3.0, 1.0, 3.0)
    # "love songs" vs "Love, Love & Love": tokens {love, songs} and {love} -> 1 / 2.
    assert x[pl1, f["title_jaccard"]] == 0.5 and x[pl1, f["query_coverage"]] == 0.5
    assert x[t1, f["title_jaccard"]] == 1.0 and x[t1, f["title_exact"]] == 1.0
    # t1: 3 positives in 10 impressions -> (3 + 1) / (10 + 20); added 2026-02-01 -> 9 days on D.
    assert x[t1, f["entity_positive_rate"]] == pytest.approx(4 / 30, abs=1e-12)
    assert x[t1, f["age_days"]] == 9.0 and x[pl1, f["age_days"]] == 0.0
    # Memory: trials e - 1 -> evidence 1; u1's genre share of pop (t1's first genre) 3 / 6.
    assert x[t1, f["q2e_evidence"]] == pytest.approx(1.0, abs=1e-12) and x[t1, f["q2e_rank"]] == 1.0
    assert x[t1, f["user_genre_share"]] == 0.5 and x[t1, f["user_artist_positives"]] == pytest.approx(math.log1p(4))
    # Affinity: float32 factors cast to double, then summed.
    u, v = np.float32([1.0, 2.0, 3.0]), np.float32([0.1, 0.2, 0.3])
    assert x[t1, f["affinity"]] == pytest.approx(sum(float(a) * float(b) for a, b in zip(u, v, strict=True)), abs=1e-12)
    # Context: sat -> 5, tv -> 3; a catalog-less entity still gets its counters.
    assert (x[t1, f["weekday"]], x[t1, f["device"]], x[t1, f["hour"]]) == (5.0, 3.0, 21.0)
    assert x[gone1, f["entity_positive_rate"]] == pytest.approx(2 / 24) and math.isnan(x[gone1, f["popularity"]])
    # "duran duran" vs the artist "Duran Duran": one common token over the artist's two tokens
    # (size with repeats) -> 0.5; vs the title "Duran Duran Song": sets {duran} and {duran, song}
    # -> 1 / 2 (not 2 / 3 as token lists would give).
    ids4, x4 = ranker_features(_lookups(), **_request(_searches()[3]))
    assert x4[ids4.index("t4"), f["artist_in_query"]] == 0.5 and x4[ids4.index("t4"), f["title_jaccard"]] == 0.5
    assert np.isnan(x4[ids4.index("t4"), f["popular_score"]]) and x4[ids4.index("t4"), f["popular_rank"]] == 7
    # s6: t1 by personalized (rank 2) and by an unknown strategy (rank 1).
    ids6, x6 = ranker_features(_lookups(), **_request(_searches()[5]))
    assert x6[ids6.index("t1"), f["n_strategies"]] == 2 and x6[ids6.index("t1"), f["best_rank"]] == 1


def test_graceful_without_artifacts_or_request_data() -> None:
    no_vectors = ([], np.zeros((0, 0), dtype=np.float32))
    empty = _lookups(
        memory=pd.DataFrame(columns=["query_key", "entity_id", "rank", "score", "trials", "predicted_kind"]),
        history=pd.DataFrame(columns=["table", "key1", "key2", "n1", "n2"]),
        users=no_vectors,
        items=no_vectors,
    )
    f = {name: j for j, name in enumerate(FEATURE_NAMES)}
    ids, x = ranker_features(empty, query="", user_id="nobody", context={}, candidates=[], serving_day=DAY)
    assert ids == [] and x.shape == (0, len(FEATURE_NAMES)) and x.dtype == np.float64
    candidates = CandidateList(["t1", "zzz", "t1"], ["popular", "lexical", "memory"], [1, 2, 3], [0.5, 0.4, 0.3])
    ids, x = ranker_features(empty, query="", user_id="nobody", context={}, candidates=candidates, serving_day=DAY)
    assert ids == ["t1", "zzz"]
    for name in ("q2e_score", "affinity", "user_genre_share", "title_exact", "hour", "weekday", "device", "locale"):
        assert np.isnan(x[:, f[name]]).all(), name
    assert (x[:, f["user_positives"]] == 0).all() and (x[:, f["entity_impressions"]] == 0).all()
    assert (x[:, f["entity_positive_rate"]] == 1 / 20).all() and (x[:, f["query_is_entity_name"]] == 0).all()
    assert x[0, f["popularity"]] == 0.7 and np.isnan(x[1, f["popularity"]])  # zzz is unknown to everything
    # Unknown user with a real query: counters of the user are zero, memory still applies.
    ids, x = ranker_features(
        _lookups(),
        query="LOVE songs",
        user_id="nobody",
        context={"local_hour": "n/a"},
        candidates=candidates,
        serving_day=DAY,
    )
    assert x[0, f["q2e_score"]] == 0.3 and np.isnan(x[0, f["affinity"]]) and np.isnan(x[0, f["user_genre_share"]])
    assert np.isnan(x[0, f["hour"]]) and x[0, f["user_artist_positives"]] == 0.0
    assert x[0, f["n_strategies"]] == 2 and x[0, f["best_rank"]] == 1


def test_factor_matrix_must_match_its_ids() -> None:
    with pytest.raises(ValueError, match="item factors of shape"):
        _lookups(items=(["t1"], np.zeros((2, 3), dtype=np.float32)))


def test_lookups_are_read_only() -> None:
    lookups = _lookups()
    with pytest.raises(ValueError):
        lookups.entity_static[0, 0] = 1.0
    with pytest.raises(TypeError):
        lookups.memory["x"] = {}  # type: ignore[index]


# Parity on a real simulated day, with the bundle's own artifacts, is in test_searcher.py
# (test_ranker_features_at_serving_equal_the_training_rows).
