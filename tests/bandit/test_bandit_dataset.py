"""The bandit-dataset job on a hand-built two-day log: reward, hit flags, plan and context features.

Day P = 2026-01-09 (the counters' window and the memory table), day D = 2026-01-10 (the rows).
``bandit_cost_per_candidate`` = 0.01.

Catalog (P and D): e1 "Love Songs" (genre rock) and e2 "Heartbeat" (pop) by "Kai Moana",
e3 "Rain Talk" (rock) by "Sol", e4 "!!!" by "Kai Moana" (its title normalizes to "", which
names nothing). D's catalog also has e5 "Fresh Drop" by "Nova", added on D: the entity names
are those of P's catalog (what serving on D knew), so "fresh drop" is no entity name yet.

Day P logs (counters as of P; the window ends the day before D):
  p1 u1 "love songs"  shown e1@1 e2@2; u1 plays e1 90 s (positive, rock), likes e2 (positive, pop)
  p2 u2 "Love songs"  shown e3@1; u2 clicks e3 then skips it (not positive)
  p3 u1 "heartbeat"   shown e2@1; no engagement
  p4 u1 ""            nothing shown; no engagement (an empty key is never a counted query)
  -> query "love songs" 2 searches, "heartbeat" 1;  u1 3 searches, 2 positives, genres rock 1
     and pop 1 (a tie: the smaller name "pop" wins);  u2 1 search, 0 positives, no genre.
Memory table of P: "love songs" -> e1 0.8, e2 0.5, e3 0.3; "kai moana" -> e1 0.6.
  -> "love songs": memory_entities log1p(3), memory_top_score 0.8; other queries 0 and 0.
Memory table of D (bait, must not be read): "love songs" -> e9 0.99, "heartbeat" -> e2 0.97.

Day D searches (all propensity 0.5):
  s_like  u1 "Love Songs!" ctx hour 21, sat, seq 2; tv, en-GB; plan_id lp = [lexical 20, popular 10]
          candidates e1 lexical, e2 lexical, e1 popular, e3 popular (4 rows, 3 distinct)
          shown e2@1 e1@2; e2 played 45 s at 1 (label 2), e1 liked at 2 (label 3)
          -> best e1 (label beats position), label 3, grade 1, cost 0.04, reward 0.96,
             n_engaged 2; e1 came from lexical and popular: hit_lexical = hit_popular = 1
             (had e2 been picked, hit_popular would be 0)
  s_skip  u2 "heartbeat" ctx hour 8, mon, seq 1; mobile, de-DE; plan_id m = [memory 10]
          candidate e2 memory; e2 clicked then skipped (label 0)
          -> no best entity (null), label 0, grade 0, cost 0.01, reward -0.01, n_engaged 1, hits 0
  s_none  u3 "Fresh Drop" ctx hour 0, sun (no session_seq); desktop, fr-FR; plan_id pop = [popular 5]
          candidates e5 popular, e1 popular; no engagement
          -> label 0, grade 0, cost 0.02, reward -0.02, n_engaged 0, hits 0; unknown user;
             query_is_entity_name 0 (e5 is not in P's catalog)
  s_empty u1 "" ctx hour 13, wed, seq 3; mobile, en-US; plan_id lp (the same steps)
          candidate e2 popular; e2 played 10 s (label 1: a short play is a click)
          -> best e2, label 1, grade 1/3, cost 0.01, reward 1/3 - 0.01, hit_popular 1;
             query_chars 0, query_tokens 0, query_is_entity_name 0 (e4's empty key names nothing),
             query_searches 0, memory 0 and 0
  s_tie   u1 "love songs" ctx hour 21, sat, seq 4; tv, en-GB; plan_id lm = [lexical 10, memory 10, lexical 5]
          candidates e1 lexical, e3 memory; shown e3@1 e1@2; both clicked (label 1 each)
          -> best e3 (same label: the better position wins, though "e1" < "e3"), grade 1/3,
             cost 0.02, reward 1/3 - 0.02, hit_memory 1, hit_lexical 0;
             budget_lexical 15 (two lexical steps add up), n_strategies 2, total_budget 25
Context of the u1 rows: user_searches log1p(3), user_positives log1p(2), user_top_genre "pop";
of the "love songs" rows: query_chars 10, query_tokens 2, query_is_entity_name 1,
query_searches log1p(2), memory_entities log1p(3), memory_top_score 0.8.
Leakage bait: had D counted, "love songs" would have 4 searches, u1 6 searches and 6 positives,
with rock (4) beating pop (2); had the memory of D been read, the top score would be 0.99.

Report: 5 searches = 5 rows, 7 engagements, 4 searches with an engagement, 3 with a positive
one (all among the candidates), labels {0: 2, 1: 2, 2: 0, 3: 1}, mean cost 0.10 / 5 = 0.02,
mean reward (0.96 - 0.01 - 0.02 + 1/3 - 0.01 + 1/3 - 0.02) / 5 = 0.313333.

Serving parity: ``request_context`` with lookups built from the inputs the job read gives every
row's context features. Rejection: a plan id logged with two step lists publishes nothing.
A malformed context number ('' or 'n/a') is a missing feature on both sides, not a failed day.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from contract_rows import at, search_row, track_row
from pyspark.sql import functions as F

from ltrr.bandit.context import BANDIT_CONTEXT_SPEC, ContextLookups, request_context
from ltrr.bandit.dataset import DATASET_COLUMNS, BanditDatasetParams, bandit_rows
from ltrr.bandit.dataset_day import BanditDatasetRejected, build_bandit_dataset_day
from ltrr.config import load_settings
from ltrr.rank.training_day import history_as_of
from ltrr.rank.training_set import HISTORY_SCHEMA, empty_memory, with_query_keys
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES
from ltrr.serving.plan_choice import lookups_from_artifacts
from ltrr.text.normalize import normalize_query
from ltrr.zones import artifact_dir, partition_path

P, D = "2026-01-09", "2026-01-10"
COST = 0.01
PLANS = {
    "lp": [("lexical", 20), ("popular", 10)],
    "m": [("memory", 10)],
    "pop": [("popular", 5)],
    "lm": [("lexical", 10), ("memory", 10), ("lexical", 5)],
}


def _eng(eid: str, sid: str, day: str, user: str, entity: str, position: int, action: str, ms: int | None = None):
    return {
        "engagement_id": eid,
        "search_id": sid,
        "ts": at(day, 12),
        "user_id": user,
        "entity_id": entity,
        "position": position,
        "action": action,
        "amount_ms": ms,
    }


def _search(sid: str, day: str, query: str, user: str, shown: list[str], **fields) -> dict:
    """A search; ``candidates`` given as (entity, strategy) pairs, ``plan`` as a key of PLANS."""
    row = search_row(sid, day, query, shown, user_id=user)
    if "plan" in fields:
        plan_id = fields.pop("plan")
        row.update(plan_id=plan_id, plan=[{"strategy": s, "budget": b} for s, b in PLANS[plan_id]])
    if "candidates" in fields:
        pairs = fields.pop("candidates")
        row["candidates"] = [
            {"entity_id": e, "strategy": s, "rank": i + 1, "score": 1.0} for i, (e, s) in enumerate(pairs)
        ]
    row.update(fields)
    return row


def _catalog(day: str) -> list[dict]:
    e1 = {**track_row("e1", "Love Songs", "Kai Moana", "2026-01-01"), "genres": ["rock"]}
    e2 = track_row("e2", "Heartbeat", "Kai Moana", "2026-01-01")
    e3 = {**track_row("e3", "Rain Talk", "Sol", "2026-01-01"), "genres": ["rock"]}
    e4 = track_row("e4", "!!!", "Kai Moana", "2026-01-01")
    rows = [e1, e2, e3, e4]
    if day == D:
        rows.append(track_row("e5", "Fresh Drop", "Nova", D))
    return rows


def _as_tuple(row: dict, schema) -> tuple:
    return tuple(row[f.name] for f in schema.fields)


def _write(spark, root: Path, table: str, ds: str, rows: list[dict]) -> None:
    schema = {"searches": SEARCHES, "engagements": ENGAGEMENTS, "catalog": CATALOG}[table]
    frame = spark.createDataFrame([_as_tuple(r, schema) for r in rows], schema=schema)
    frame.coalesce(1).write.parquet(str(partition_path(root, "clean", table, ds)))


def _memory(root: Path, ds: str, rows: list[tuple[str, str, int, float]]) -> None:
    folder = artifact_dir(root, ds, "q2e") / "table"
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "query_key": [r[0] for r in rows],
            "entity_id": [r[1] for r in rows],
            "rank": pa.array([r[2] for r in rows], pa.int32()),
            "score": [r[3] for r in rows],
            "trials": [1.0] * len(rows),
            "predicted_kind": pa.array([None] * len(rows), pa.string()),
        }
    )
    pq.write_table(table, folder / "part-0.parquet")


def _day_searches() -> list[dict]:
    return [
        _search(
            "s_like",
            D,
            "Love Songs!",
            "u1",
            ["e2", "e1"],
            plan="lp",
            candidates=[("e1", "lexical"), ("e2", "lexical"), ("e1", "popular"), ("e3", "popular")],
            context={"local_hour": "21", "weekday": "sat", "session_seq": "2"},
            device="tv",
            locale="en-GB",
        ),
        _search(
            "s_skip",
            D,
            "heartbeat",
            "u2",
            ["e2"],
            plan="m",
            candidates=[("e2", "memory")],
            context={"local_hour": "8", "weekday": "mon", "session_seq": "1"},
            device="mobile",
            locale="de-DE",
        ),
        _search(
            "s_none",
            D,
            "Fresh Drop",
            "u3",
            ["e5", "e1"],
            plan="pop",
            candidates=[("e5", "popular"), ("e1", "popular")],
            context={"local_hour": "0", "weekday": "sun"},
            device="desktop",
            locale="fr-FR",
        ),
        _search(
            "s_empty",
            D,
            "",
            "u1",
            ["e2"],
            plan="lp",
            candidates=[("e2", "popular")],
            context={"local_hour": "13", "weekday": "wed", "session_seq": "3"},
            device="mobile",
            locale="en-US",
        ),
        _search(
            "s_tie",
            D,
            "love songs",
            "u1",
            ["e3", "e1"],
            plan="lm",
            candidates=[("e1", "lexical"), ("e3", "memory")],
            context={"local_hour": "21", "weekday": "sat", "session_seq": "4"},
            device="tv",
            locale="en-GB",
        ),
    ]


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("bandit-dataset")
    settings = load_settings(
        data_root=tmp / "data", state_dir=tmp / "state", spark_shuffle_partitions=2, bandit_cost_per_candidate=COST
    )
    root = settings.data_root
    for ds in (P, D):
        _write(spark, root, "catalog", ds, _catalog(ds))
    _write(
        spark,
        root,
        "searches",
        P,
        [
            search_row("p1", P, "love songs", ["e1", "e2"]),
            search_row("p2", P, "Love songs", ["e3"], user_id="u2"),
            search_row("p3", P, "heartbeat", ["e2"]),
            search_row("p4", P, "", []),
        ],
    )
    _write(
        spark,
        root,
        "engagements",
        P,
        [
            _eng("g1", "p1", P, "u1", "e1", 1, "play", 90_000),
            _eng("g2", "p1", P, "u1", "e2", 2, "like"),
            _eng("g3", "p2", P, "u2", "e3", 1, "click"),
            _eng("g4", "p2", P, "u2", "e3", 1, "skip", 3_000),
        ],
    )
    searches = _day_searches()
    _write(spark, root, "searches", D, searches)
    _write(
        spark,
        root,
        "engagements",
        D,
        [
            _eng("d1", "s_like", D, "u1", "e2", 1, "play", 45_000),
            _eng("d2", "s_like", D, "u1", "e1", 2, "like"),
            _eng("d3", "s_skip", D, "u2", "e2", 1, "click"),
            _eng("d4", "s_skip", D, "u2", "e2", 1, "skip", 2_000),
            _eng("d5", "s_empty", D, "u1", "e2", 1, "play", 10_000),
            _eng("d6", "s_tie", D, "u1", "e3", 1, "click"),
            _eng("d7", "s_tie", D, "u1", "e1", 2, "click"),
        ],
    )
    _memory(
        root,
        P,
        [
            ("love songs", "e1", 1, 0.8),
            ("love songs", "e2", 2, 0.5),
            ("love songs", "e3", 3, 0.3),
            ("kai moana", "e1", 1, 0.6),
        ],
    )
    _memory(root, D, [("love songs", "e9", 1, 0.99), ("heartbeat", "e2", 1, 0.97)])

    report = build_bandit_dataset_day(spark, settings, D)
    rows = pq.read_table(artifact_dir(root, D, "bandit_dataset") / "rows").to_pandas().set_index("search_id")

    # What the job read as counters (it computed them, P has no stored training-set history):
    # kept for the serving side, and stored where the serving loader looks for them.
    history = history_as_of(spark, root, P, settings.rank_history_days, reuse=False)[0].toPandas()
    folder = artifact_dir(root, P, "training_set") / "history"
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pandas(history, preserve_index=False), folder / "part-0.parquet")
    return settings, report, rows, searches, history


def _case(rows, sid: str) -> dict:
    return rows.loc[sid].to_dict()


def _assert_values(row: dict, expected: dict, sid: str) -> None:
    for name, value in expected.items():
        got = row[name]
        if isinstance(value, str) or value is None:
            assert got == value, (sid, name, got, value)
        else:
            assert got == pytest.approx(value, abs=1e-12), (sid, name, got, value)


ZERO_HITS = {
    "hit_lexical": 0,
    "hit_memory": 0,
    "hit_personalized": 0,
    "hit_related": 0,
    "hit_popular": 0,
    "hit_semantic": 0,
}

REWARDS = {
    "s_like": {
        "reward": 0.96,
        "engagement_grade": 1.0,
        "cost": 0.04,
        "best_label": 3,
        "engaged_entity_id": "e1",
        "n_engaged": 2,
        "n_candidates": 4,
        "n_union": 3,
        **ZERO_HITS,
        "hit_lexical": 1,
        "hit_popular": 1,
    },
    "s_skip": {
        "reward": -0.01,
        "engagement_grade": 0.0,
        "cost": 0.01,
        "best_label": 0,
        "engaged_entity_id": None,
        "n_engaged": 1,
        "n_candidates": 1,
        "n_union": 1,
        **ZERO_HITS,
    },
    "s_none": {
        "reward": -0.02,
        "engagement_grade": 0.0,
        "cost": 0.02,
        "best_label": 0,
        "engaged_entity_id": None,
        "n_engaged": 0,
        "n_candidates": 2,
        "n_union": 2,
        **ZERO_HITS,
    },
    "s_empty": {
        "reward": 1 / 3 - 0.01,
        "engagement_grade": 1 / 3,
        "cost": 0.01,
        "best_label": 1,
        "engaged_entity_id": "e2",
        "n_engaged": 1,
        "n_candidates": 1,
        "n_union": 1,
        **ZERO_HITS,
        "hit_popular": 1,
    },
    "s_tie": {
        "reward": 1 / 3 - 0.02,
        "engagement_grade": 1 / 3,
        "cost": 0.02,
        "best_label": 1,
        "engaged_entity_id": "e3",
        "n_engaged": 2,
        "n_candidates": 2,
        "n_union": 2,
        **ZERO_HITS,
        "hit_memory": 1,
    },
}

_NO_BUDGET = {f"budget_{s}": 0.0 for s in ("lexical", "memory", "personalized", "related", "popular", "semantic")}
PLAN_COLUMNS = {
    "lp": {**_NO_BUDGET, "budget_lexical": 20.0, "budget_popular": 10.0, "n_strategies": 2.0, "total_budget": 30.0},
    "m": {**_NO_BUDGET, "budget_memory": 10.0, "n_strategies": 1.0, "total_budget": 10.0},
    "pop": {**_NO_BUDGET, "budget_popular": 5.0, "n_strategies": 1.0, "total_budget": 5.0},
    "lm": {**_NO_BUDGET, "budget_lexical": 15.0, "budget_memory": 10.0, "n_strategies": 2.0, "total_budget": 25.0},
}
PLAN_OF = {"s_like": "lp", "s_skip": "m", "s_none": "pop", "s_empty": "lp", "s_tie": "lm"}

_U1 = {"user_searches": math.log1p(3), "user_positives": math.log1p(2), "user_top_genre": "pop"}
_LOVE_SONGS = {
    "query_chars": 10.0,
    "query_tokens": 2.0,
    "query_is_entity_name": 1.0,
    "query_searches": math.log1p(2),
    "memory_entities": math.log1p(3),
    "memory_top_score": 0.8,
}
CONTEXT = {
    "s_like": {
        **_LOVE_SONGS,
        **_U1,
        "hour": 21.0,
        "weekend": 1.0,
        "session_seq": 2.0,
        "weekday": "sat",
        "device": "tv",
        "locale": "en-GB",
        "language": "en",
    },
    "s_skip": {
        "query_chars": 9.0,
        "query_tokens": 1.0,
        "query_is_entity_name": 1.0,
        "query_searches": math.log1p(1),
        "memory_entities": 0.0,
        "memory_top_score": 0.0,
        "user_searches": math.log1p(1),
        "user_positives": 0.0,
        "user_top_genre": "none",
        "hour": 8.0,
        "weekend": 0.0,
        "session_seq": 1.0,
        "weekday": "mon",
        "device": "mobile",
        "locale": "de-DE",
        "language": "de",
    },
    "s_none": {
        "query_is_entity_name": 0.0,
        "query_chars": 10.0,
        "query_tokens": 2.0,
        "query_searches": 0.0,
        "memory_entities": 0.0,
        "memory_top_score": 0.0,
        "user_searches": 0.0,
        "user_positives": 0.0,
        "user_top_genre": "none",
        "hour": 0.0,
        "weekend": 1.0,
        "weekday": "sun",
        "device": "desktop",
        "locale": "fr-FR",
        "language": "fr",
    },
    "s_empty": {
        "query_chars": 0.0,
        "query_tokens": 0.0,
        "query_is_entity_name": 0.0,
        "query_searches": 0.0,
        "memory_entities": 0.0,
        "memory_top_score": 0.0,
        **_U1,
        "hour": 13.0,
        "weekend": 0.0,
        "session_seq": 3.0,
        "weekday": "wed",
        "device": "mobile",
        "locale": "en-US",
        "language": "en",
    },
    "s_tie": {
        **_LOVE_SONGS,
        **_U1,
        "hour": 21.0,
        "weekend": 1.0,
        "session_seq": 4.0,
        "weekday": "sat",
        "device": "tv",
        "locale": "en-GB",
        "language": "en",
    },
}


@pytest.mark.parametrize("sid", sorted(REWARDS))
def test_reward_and_hit_flags(built, sid: str) -> None:
    _, _, rows, _, _ = built
    row = _case(rows, sid)
    _assert_values(row, REWARDS[sid], sid)
    assert row["ds"] == D and row["propensity"] == 0.5 and row["plan_id"] == PLAN_OF[sid]


@pytest.mark.parametrize("sid", sorted(PLAN_OF))
def test_plan_budget_columns(built, sid: str) -> None:
    _, _, rows, _, _ = built
    row = _case(rows, sid)
    _assert_values(row, PLAN_COLUMNS[PLAN_OF[sid]], sid)
    assert [(step["strategy"], step["budget"]) for step in row["plan"]] == PLANS[PLAN_OF[sid]]


@pytest.mark.parametrize("sid", sorted(CONTEXT))
def test_context_features_use_only_the_day_before(built, sid: str) -> None:
    _, _, rows, _, _ = built
    _assert_values(_case(rows, sid), CONTEXT[sid], sid)


def test_missing_context_value_stays_missing(built) -> None:
    _, _, rows, _, _ = built
    assert math.isnan(rows.loc["s_none", "session_seq"])  # no session_seq in the request context


def test_columns_report_and_conservation(built) -> None:
    settings, report, rows, _, _ = built
    assert list(rows.reset_index().columns) == list(DATASET_COLUMNS)
    counts = report["counts"]
    assert counts["searches"] == counts["rows"] == len(rows) == 5
    assert counts["engagements"] == 7
    assert counts["searches_with_engagement"] == 4
    assert counts["searches_with_positive_engagement"] == 3
    assert counts["engaged_entity_among_candidates"] == 3
    assert counts["engaged_entity_not_among_candidates"] == 0
    assert counts["labels"] == {"0": 2, "1": 2, "2": 0, "3": 1}
    assert counts["mean_cost"] == pytest.approx(0.02, abs=1e-6)
    assert counts["mean_reward"] == pytest.approx(0.313333, abs=1e-6)
    assert report["params"]["cost_per_candidate"] == COST
    assert report["inputs"]["memory"].endswith(f"q2e/ds={P}/table")
    assert report["inputs"]["history"]["source"] == "computed" and report["inputs"]["history"]["end"] == P
    assert sorted(report["plans"]) == ["lm", "lp", "m", "pop"]
    assert report["plans"]["lp"]["rows"] == 2
    assert report["plans"]["lm"]["steps"] == [
        {"strategy": "lexical", "budget": 10},
        {"strategy": "memory", "budget": 10},
        {"strategy": "lexical", "budget": 5},
    ]
    folder = artifact_dir(settings.data_root, D, "bandit_dataset")
    assert {"report.json", "rows", "validation.json"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "validation.json").read_text())["success"] is True
    assert not (settings.data_root / "validation" / f"ds={D}" / "bandit_dataset_rejected.json").exists()


def _entity_names(catalog: list[dict]) -> list[str]:
    """Normalized titles and (non-artist entities') artist names; an empty key names nothing."""
    names = {normalize_query(e["title"]) for e in catalog}
    names |= {normalize_query(e["artist"]) for e in catalog if e["artist"] and e["entity_type"] != "artist"}
    return sorted(names - {""})


def _request(search: dict) -> tuple[str, str, dict]:
    return (
        search["query"],
        search["user_id"],
        {**search["context"], "device": search["device"], "locale": search["locale"]},
    )


def _assert_parity(rows, searches: list[dict], lookups: ContextLookups) -> None:
    for search in searches:
        served = request_context(*_request(search), lookups)
        logged = rows.loc[search["search_id"]]
        assert list(served) == list(BANDIT_CONTEXT_SPEC.names)
        for name, value in served.items():
            got = logged[name]
            if isinstance(value, str):
                assert got == value, (search["search_id"], name, got, value)
            elif math.isnan(value):
                assert math.isnan(got), (search["search_id"], name, got, value)
            else:
                assert got == pytest.approx(value, abs=1e-12), (search["search_id"], name, got, value)


def test_serving_context_equals_the_logged_rows(built) -> None:
    """``request_context`` on the inputs the job read gives every row's context features exactly."""
    settings, _, rows, searches, history = built
    memory = pq.read_table(artifact_dir(settings.data_root, P, "q2e") / "table").to_pandas()
    names = _entity_names(_catalog(P))
    assert names == ["heartbeat", "kai moana", "love songs", "rain talk", "sol"]
    lookups = ContextLookups.from_frames(pd.Series(names), memory, history)
    _assert_parity(rows, searches, lookups)


def test_entity_names_are_those_serving_can_see(built) -> None:
    """The serving loader, on the artifacts of P, reproduces the rows of D (including s_none)."""
    settings, _, rows, searches, _ = built
    lookups = lookups_from_artifacts(settings.data_root, P)
    _assert_parity(rows, searches, lookups)
    # "fresh drop" (e5, added on D) is no entity name as of P, on either side.
    assert request_context(*_request(searches[2]), lookups)["query_is_entity_name"] == 0.0
    assert rows.loc["s_none", "query_is_entity_name"] == 0.0


def test_plan_logged_with_two_step_lists_is_rejected(spark, tmp_path: Path) -> None:
    settings = load_settings(
        data_root=tmp_path / "data",
        state_dir=tmp_path / "state",
        spark_shuffle_partitions=2,
        bandit_cost_per_candidate=COST,
    )
    root = settings.data_root
    a = _search("r1", D, "heartbeat", "u1", ["e2"], plan="lp", candidates=[("e2", "lexical")])
    b = _search("r2", D, "heartbeat", "u2", ["e2"], plan="lp", candidates=[("e2", "lexical")])
    b["plan"] = [{"strategy": "lexical", "budget": 20}, {"strategy": "popular", "budget": 20}]
    _write(spark, root, "searches", D, [a, b])
    _write(spark, root, "engagements", D, [_eng("x1", "r1", D, "u1", "e2", 1, "like")])
    _write(spark, root, "catalog", D, _catalog(D))
    with pytest.raises(BanditDatasetRejected, match="'lp' was logged with 2 different step lists"):
        build_bandit_dataset_day(spark, settings, D)
    rejected = root / "validation" / f"ds={D}" / "bandit_dataset_rejected.json"
    assert rejected.is_file()
    body = json.loads(rejected.read_text())
    assert body["ds"] == D and body["failed"] == ["plan 'lp' was logged with 2 different step lists"]
    parent = root / "artifacts" / "bandit_dataset"
    assert not (parent / f"ds={D}").exists()
    assert not parent.exists() or list(parent.iterdir()) == []  # no staging folder left behind


def test_malformed_context_value_is_missing_not_fatal(spark) -> None:
    """A context value that is no number is a missing feature on both sides, as in serving."""
    search = _search(
        "s_bad",
        D,
        "heartbeat",
        "u1",
        ["e2"],
        plan="m",
        candidates=[("e2", "memory")],
        context={"local_hour": "", "weekday": "mon", "session_seq": "n/a"},
    )
    served = request_context(*_request(search), ContextLookups())
    assert math.isnan(served["hour"]) and math.isnan(served["session_seq"])
    logged = spark.createDataFrame([_as_tuple(search, SEARCHES)], SEARCHES).withColumn("ds", F.lit(D))
    rows = bandit_rows(
        spark,
        BanditDatasetParams(cost_per_candidate=COST),
        searches=with_query_keys(logged),
        engagements=spark.createDataFrame([], ENGAGEMENTS),
        catalog=spark.createDataFrame([_as_tuple(e, CATALOG) for e in _catalog(D)], CATALOG),
        memory=empty_memory(spark),
        history=spark.createDataFrame([], HISTORY_SCHEMA),
    ).collect()
    assert len(rows) == 1 and rows[0]["hour"] is None and rows[0]["session_seq"] is None
