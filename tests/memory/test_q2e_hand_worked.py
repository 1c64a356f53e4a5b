"""The memory table on a hand-built log, against values worked out by hand below.

Day D = 2026-01-10, window = D-1 and D, half-life 1 day (an impression of D-1 weighs 0.5),
examination curve exam(1) = 1, exam(2) = 0.5 (carried over: too few randomized clicks),
prior strength k = 2, cold-start threshold 1 impression.

Searches (all normalize to "love songs"):
  s1 (D)   "Love Songs"   shown e1@1, e2@2   engagement: e2 play
  s2 (D-1) "love songs!"  shown e1@1, e2@2   engagements: e1 click, e1 skip
  s3 (D)   "love  songs"  shown e2@1, e1@2   engagement: e2 click (no skip)

(love songs, e1): impressions 3, clicks 1 (s2), skips 1, positives 0
  decayed impressions 1 + 0.5 + 1 = 2.5; decayed clicks 0.5
  debiased impressions exam(1) + exam(1) + exam(2) = 2.5; decayed: 1 + 0.5 + 0.5 = 2.0
(love songs, e2): impressions 3, clicks 2 (s1, s3), plays 1, positives 2
  decayed positives 1 + 1 = 2; debiased 0.5 + 0.5 + 1 = 2.0; decayed 0.5 + 0.25 + 1 = 1.75
  trials = max(1.75, 2) = 2
global rate = (0 + 2) / (2.0 + 2) = 0.5
score(e1) = (0 + 2 * 0.5) / (2.0 + 2) = 0.25;  score(e2) = (2 + 2 * 0.5) / (2 + 2) = 0.75

e3 "Spearfishing" (track by "Kai Moana") is added on D and never shown: cold start predicts
  "spearfishing" (title, prior 0.25)       -> score (0 + 2 * 0.25) / (0 + 2) = 0.25
  "spearfishng" (a deletion: typo, 0.12)   -> 0.12
  "spearfishing kai moana" (title_artist, 0.30) -> 0.30
"""

from __future__ import annotations

import datetime as dt

import pytest
from contract_rows import at, search_row, track_row

from ltrr.debias.examination import ExaminationCurve
from ltrr.memory.q2e import Q2EParams, build_memory
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES

D = "2026-01-10"
D1 = "2026-01-09"


def _eng(eid: str, sid: str, day: str, entity: str, position: int, action: str) -> dict:
    return {
        "engagement_id": eid,
        "search_id": sid,
        "ts": at(day, 11),
        "user_id": "u1",
        "entity_id": entity,
        "position": position,
        "action": action,
        "amount_ms": 90_000 if action == "play" else None,
    }


def _frame(spark, schema, rows: list[dict], days: list[str] | None = None):
    """A DataFrame of contract rows, with a ``ds`` column when ``days`` (one per row) is given."""
    values = [tuple(r[f.name] for f in schema.fields) for r in rows]
    if days is None:
        return spark.createDataFrame(values, schema=schema)
    from pyspark.sql import types as T

    # A new StructType: ``schema.add`` would modify the shared contract object in place.
    with_ds = T.StructType([*schema.fields, T.StructField("ds", T.StringType(), False)])
    return spark.createDataFrame([(*v, d) for v, d in zip(values, days, strict=True)], schema=with_ds)


@pytest.fixture(scope="module")
def memory(spark):
    searches = [
        search_row("s1", D, "Love Songs", ["e1", "e2"]),
        search_row("s2", D1, "love songs!", ["e1", "e2"]),
        search_row("s3", D, "love  songs", ["e2", "e1"]),
    ]
    engagements = [
        _eng("g1", "s1", D, "e2", 2, "play"),
        _eng("g2", "s2", D1, "e1", 1, "click"),
        _eng("g3", "s2", D1, "e1", 1, "skip"),
        _eng("g4", "s3", D, "e2", 1, "click"),
    ]
    catalog = [
        track_row("e1", "Love Song Alpha", "Ann", "2026-01-01"),
        track_row("e2", "Love Song Beta", "Bob", "2026-01-01"),
        track_row("e3", "Spearfishing", "Kai Moana", D),
    ]
    s_df = _frame(spark, SEARCHES, searches, [D, D1, D])
    e_df = _frame(spark, ENGAGEMENTS, engagements, [D, D1, D1, D])
    c_df = _frame(spark, CATALOG, catalog)
    params = Q2EParams(
        window_days=2, half_life_days=1.0, top_n=50, prior_strength=2.0, cold_max_impressions=1, min_top_clicks=1000
    )
    previous = ExaminationCurve(probabilities=(1.0, 0.5), method="randomized_ctr_isotonic")
    build = build_memory(spark, params, D, s_df, e_df, c_df, previous_curve=previous)
    rows = {(r["query_key"], r["entity_id"]): r.asDict() for r in build.table.collect()}
    return build, rows


def test_examination_curve_is_carried_over_with_a_reason(memory) -> None:
    build, _ = memory
    assert build.curve.method == "carried_over"
    assert "too few" in build.curve.reason
    assert build.curve.probabilities == (1.0, 0.5)


def test_counts_and_decay(memory) -> None:
    _, rows = memory
    e1 = rows[("love songs", "e1")]
    assert (e1["impressions"], e1["clicks"], e1["skips"], e1["positives"], e1["plays"]) == (3, 1, 1, 0, 0)
    assert e1["impressions_decayed"] == pytest.approx(2.5)
    assert e1["clicks_decayed"] == pytest.approx(0.5)
    e2 = rows[("love songs", "e2")]
    assert (e2["impressions"], e2["clicks"], e2["plays"], e2["positives"]) == (3, 2, 1, 2)
    assert e2["positives_decayed"] == pytest.approx(2.0)
    assert e2["last_seen"].replace(tzinfo=None) == dt.datetime(2026, 1, 10, 10)


def test_position_debiased_impressions(memory) -> None:
    _, rows = memory
    assert rows[("love songs", "e1")]["debiased_impressions"] == pytest.approx(2.5)
    assert rows[("love songs", "e1")]["debiased_impressions_decayed"] == pytest.approx(2.0)
    assert rows[("love songs", "e2")]["debiased_impressions"] == pytest.approx(2.0)
    assert rows[("love songs", "e2")]["debiased_impressions_decayed"] == pytest.approx(1.75)


def test_global_rate_and_smoothed_scores(memory) -> None:
    build, rows = memory
    assert build.global_rate == pytest.approx(0.5)
    assert rows[("love songs", "e1")]["score"] == pytest.approx(0.25)
    assert rows[("love songs", "e2")]["score"] == pytest.approx(0.75)
    assert rows[("love songs", "e2")]["rank"] == 1 and rows[("love songs", "e1")]["rank"] == 2


def test_cold_start_predicts_title_typo_and_title_artist(memory) -> None:
    _, rows = memory
    assert rows[("spearfishing", "e3")]["score"] == pytest.approx(0.25)
    assert rows[("spearfishing", "e3")]["predicted_kind"] == "title"
    assert rows[("spearfishng", "e3")]["score"] == pytest.approx(0.12)
    assert rows[("spearfihsing", "e3")]["predicted_kind"] == "typo"  # adjacent transposition
    assert rows[("spearfishing kai moana", "e3")]["score"] == pytest.approx(0.30)
    assert rows[("spearfishing", "e3")]["impressions"] == 0


def test_entities_with_evidence_get_no_predictions(memory) -> None:
    _, rows = memory
    # e1 has 3 impressions >= the threshold of 1: its title keys are not predicted.
    assert ("love song alpha", "e1") not in rows


def test_observed_evidence_replaces_the_prediction(spark) -> None:
    """Day D+1: one search "spearfishing" shows e3 first and it is played.

    Window D-1..D+1, ages counted from D+1 (decay 1, 0.5, 0.25 for D+1, D, D-1).
    e3 now has 1 impression >= the threshold of 1: no prediction; the prior is the global rate.
      love songs/e1: positives 0; debiased decayed s1 1*0.5 + s2 1*0.25 + s3 0.5*0.5 = 1.0
      love songs/e2: positives s1 0.5 + s3 0.5 = 1.0; debiased 0.25 + 0.125 + 0.5 = 0.875 -> trials 1.0
      spearfishing/e3: positives 1, debiased 1, trials 1
    global rate = (0 + 1 + 1) / (1 + 1 + 1) = 2/3
    score(e3) = (1 + 2 * 2/3) / (1 + 2) = 7/9, above its predicted 0.25 of day D.
    """
    d2 = "2026-01-11"
    searches = [
        search_row("s1", D, "Love Songs", ["e1", "e2"]),
        search_row("s2", D1, "love songs!", ["e1", "e2"]),
        search_row("s3", D, "love  songs", ["e2", "e1"]),
        search_row("s4", d2, "Spearfishing", ["e3"]),
    ]
    engagements = [
        _eng("g1", "s1", D, "e2", 2, "play"),
        _eng("g2", "s2", D1, "e1", 1, "click"),
        _eng("g3", "s2", D1, "e1", 1, "skip"),
        _eng("g4", "s3", D, "e2", 1, "click"),
        _eng("g5", "s4", d2, "e3", 1, "play"),
    ]
    catalog = [
        track_row("e1", "Love Song Alpha", "Ann", "2026-01-01"),
        track_row("e2", "Love Song Beta", "Bob", "2026-01-01"),
        track_row("e3", "Spearfishing", "Kai Moana", D),
    ]
    params = Q2EParams(
        window_days=3, half_life_days=1.0, prior_strength=2.0, cold_max_impressions=1, min_top_clicks=1000
    )
    build = build_memory(
        spark,
        params,
        d2,
        _frame(spark, SEARCHES, searches, [D, D1, D, d2]),
        _frame(spark, ENGAGEMENTS, engagements, [D, D1, D1, D, d2]),
        _frame(spark, CATALOG, catalog),
        previous_curve=ExaminationCurve(probabilities=(1.0, 0.5)),
    )
    rows = {(r["query_key"], r["entity_id"]): r.asDict() for r in build.table.collect()}
    assert build.global_rate == pytest.approx(2 / 3)
    e3 = rows[("spearfishing", "e3")]
    assert e3["predicted_kind"] is None
    assert e3["score"] == pytest.approx(7 / 9)
    assert ("spearfishng", "e3") not in rows  # no more typo predictions once the entity has evidence
