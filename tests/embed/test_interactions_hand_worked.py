"""The interactions job on a hand-built log, against confidences worked out by hand below.

Day D = 2026-01-10, window 2 days (D-1 and D), half-life 1 day (an engagement of D-1 weighs
0.5), alpha 2. Weights: click 1, play 1 + 2 * min(ms / 180000, 1), like 4, add 4, skip -1.

  s1 (D,   u1, "Love Songs")  e1 click 1, play 90 000 ms 1 + 2 * 0.5 = 2, like 4     -> 7
  s2 (D-1, u1, "love songs!") e2 click 1, skip -1                                     -> 0 * 0.5 = 0
  s3 (D-1, u2, "chill")       e1 click 1, play 360 000 ms 1 + 2 * 1 = 3, add 4        -> 8 * 0.5 = 4
  s4 (D,   u2, "Chill")       e2 click 1, play without amount 1                       -> 2
  s5 (D,   u3, "love songs")  e9 click (e9 is not in the catalog: excluded), e1 "zap" (unknown action)
  s6 (D,   "", "x")           e1 click (no user: excluded)

Pairs: (u1, e1) weight 7, confidence 1 + 2 * 7 = 15, 3 engagements
       (u1, e2) weight 0: not a positive (counted in non_positive_pairs)
       (u2, e1) weight 4, confidence 9, 3 engagements
       (u2, e2) weight 2, confidence 5, 2 engagements
Dense ids (sorted): u1 -> 0, u2 -> 1 (u3 has no usable engagement); e1 -> 0, e2 -> 1.
Query weights: "love songs": e1 7 (e2's 0 is left out); "chill": e1 4, e2 2.
Day D alone: (u1, e1) 7, (u2, e2) 2.
Engagements: 13 in = 10 used + 1 no_user + 1 unknown_action + 1 not_in_catalog.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from contract_rows import at, search_row, track_row

from ltrr.embed.interactions import build_interactions_day
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES
from ltrr.zones import artifact_dir, partition_path

D, D1 = "2026-01-10", "2026-01-09"


ENGAGEMENT_ROWS = [
    # (search, day, user, entity, action, amount_ms)
    ("s1", D, "u1", "e1", "click", None),
    ("s1", D, "u1", "e1", "play", 90_000),
    ("s1", D, "u1", "e1", "like", None),
    ("s2", D1, "u1", "e2", "click", None),
    ("s2", D1, "u1", "e2", "skip", 4_000),
    ("s3", D1, "u2", "e1", "click", None),
    ("s3", D1, "u2", "e1", "play", 360_000),
    ("s3", D1, "u2", "e1", "add", None),
    ("s4", D, "u2", "e2", "click", None),
    ("s4", D, "u2", "e2", "play", None),
    ("s5", D, "u3", "e9", "click", None),
    ("s5", D, "u3", "e1", "zap", None),
    ("s6", D, "", "e1", "click", None),
]


def _write(spark, settings, table: str, schema, rows: list[dict], day: str) -> None:
    values = [tuple(r[f.name] for f in schema.fields) for r in rows]
    path = partition_path(settings.data_root, "clean", table, day)
    spark.createDataFrame(values, schema=schema).coalesce(1).write.mode("overwrite").parquet(str(path))


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory: pytest.TempPathFactory):
    from ltrr.config import load_settings

    tmp = tmp_path_factory.mktemp("interactions")
    settings = load_settings(
        data_root=tmp / "data",
        state_dir=tmp / "state",
        spark_shuffle_partitions=2,
        embed_window_days=2,
        embed_half_life_days=1.0,
        embed_alpha=2.0,
    )
    searches = {
        D: [
            search_row("s1", D, "Love Songs", ["e1"], user_id="u1"),
            search_row("s4", D, "Chill", ["e1"], user_id="u2"),
            search_row("s5", D, "love songs", ["e1"], user_id="u3"),
            search_row("s6", D, "x", ["e1"], user_id=""),
        ],
        D1: [
            search_row("s2", D1, "love songs!", ["e1"], user_id="u1"),
            search_row("s3", D1, "chill", ["e1"], user_id="u2"),
        ],
    }
    for day in (D, D1):
        _write(spark, settings, "searches", SEARCHES, searches[day], day)
        rows = [
            {
                "engagement_id": f"{sid}-{n}",
                "search_id": sid,
                "ts": at(d, minute=n + 1),
                "user_id": user,
                "entity_id": entity,
                "position": 1,
                "action": action,
                "amount_ms": amount,
            }
            for n, (sid, d, user, entity, action, amount) in enumerate(ENGAGEMENT_ROWS)
            if d == day
        ]
        _write(spark, settings, "engagements", ENGAGEMENTS, rows, day)
    _write(
        spark,
        settings,
        "catalog",
        CATALOG,
        [track_row(e, f"Title {e}", "Someone", "2026-01-01") for e in ("e1", "e2", "e3")],
        D,
    )
    report = build_interactions_day(spark, settings, D)
    return settings, report, artifact_dir(settings.data_root, D, "interactions")


def _rows(folder, name: str) -> list[dict]:
    return pq.read_table(folder / name).to_pylist()


def test_confidences_and_dense_ids(built) -> None:
    _, _, folder = built
    pairs = {(r["user_id"], r["entity_id"]): r for r in _rows(folder, "pairs")}
    assert set(pairs) == {("u1", "e1"), ("u2", "e1"), ("u2", "e2")}
    expected = {
        ("u1", "e1"): (7.0, 15.0, 3, 0, 0),
        ("u2", "e1"): (4.0, 9.0, 3, 1, 0),
        ("u2", "e2"): (2.0, 5.0, 2, 1, 1),
    }
    for key, (weight, confidence, engagements, user_idx, entity_idx) in expected.items():
        row = pairs[key]
        assert row["weight"] == pytest.approx(weight, abs=1e-12), key
        assert row["confidence"] == pytest.approx(confidence, abs=1e-12), key
        assert (row["engagements"], row["user_idx"], row["entity_idx"]) == (engagements, user_idx, entity_idx), key
    assert sorted((r["user_idx"], r["user_id"]) for r in _rows(folder, "users")) == [(0, "u1"), (1, "u2")]
    entities = {r["entity_id"]: r for r in _rows(folder, "entities")}
    assert {e: r["entity_idx"] for e, r in entities.items()} == {"e1": 0, "e2": 1}
    assert entities["e1"]["weight"] == pytest.approx(11.0) and entities["e1"]["users"] == 2


def test_query_weights_and_day_pairs(built) -> None:
    _, _, folder = built
    queries = {(r["query_key"], r["entity_id"]): r["weight"] for r in _rows(folder, "query_entities")}
    assert queries == pytest.approx({("love songs", "e1"): 7.0, ("chill", "e1"): 4.0, ("chill", "e2"): 2.0})
    day = {(r["user_id"], r["entity_id"]): r["weight"] for r in _rows(folder, "day_pairs")}
    assert day == pytest.approx({("u1", "e1"): 7.0, ("u2", "e2"): 2.0})


def test_every_engagement_is_used_or_counted(built) -> None:
    _, report, folder = built
    assert report["engagements"]["in"] == 13
    assert report["engagements"]["used"] == 10
    assert report["engagements"]["excluded"] == {"no_user": 1, "not_in_catalog": 1, "unknown_action": 1}
    assert report["non_positive_pairs"] == 1
    assert report["rows"] == {"pairs": 3, "users": 2, "entities": 2, "query_entities": 3, "day_pairs": 2}
    assert json.loads((folder / "report.json").read_text()) == report
    assert not list(folder.parent.glob(".*tmp*")), "no staging folder is left behind"
