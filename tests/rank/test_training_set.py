"""The training-set job on a hand-built two-day log: point-in-time features, labels, provenance.

Day P = 2026-01-09, day D = 2026-01-10. Catalog (both days): e1 "Love Songs" and e2
"Heartbeat" by "Kai Moana" (artist a1, genre pop), e3 "Rain Talk" (podcast, no artist).

Day P: search p1 by u1 "love songs" showed e1@1, e2@2; u1 played e1 (90 s).
Day D: search s1 by u1 "Love Songs!" (context local_hour 21, weekday sat, device tv):
         candidates e1 (lexical rank 1 score 3.0, popular rank 2 score 0.5), e2 (lexical 2, 2.0),
                    e3 (popular rank 1, 0.9)  -- e3 is a candidate that was not shown
         shown e1@1, e2@2
         engagements: e1 click then skip; e2 play 45 s then like
       search s2 by u2 "heartbeat": shown e2@1; e2 click, then play 10 s.
       Day D also has five more plays of e1 by u1 (search s3, "love songs"): the leakage bait.

Artifacts: memory of P says ("love songs", e1) score 0.30 rank 1 trials e^1 - 1 (so
q2e_evidence = log1p(trials) = 1); memory of D says 0.95 (must not be read for day D).
Embeddings of P: u1 = [1, 2], e1 = [0.5, 0.25] -> affinity 1*0.5 + 2*0.25 = 1.0; embeddings
of D: u1 = [10, 10] (must not be read).

Expected for the D rows (history = logs of P only; nothing of D may count):
  (s1, e1): label 0 (click then skip, no qualifying play); lexical_rank 1, lexical_score 3.0,
            popular_rank 2, popular_score 0.5, n_strategies 2, best_rank 1;
            q2e_score 0.30, q2e_rank 1, q2e_evidence 1.0, q2e_predicted 0;
            entity_impressions log1p(1), entity_positives log1p(1) (the P play only; with
            leakage it would be log1p(2)), entity_positive_rate (1+1)/(1+20);
            affinity 1.0; user_positives log1p(1); user_artist_positives log1p(1);
            user_genre_share 1/1 = 1.0; query_searches log1p(1) (p1 only);
            title_exact 1, title_jaccard 1, query_coverage 1, artist_in_query 0;
            query_chars 10 ("love songs"), query_tokens 2, query_is_entity_name 1;
            hour 21, weekday 5 (sat), device 3 (tv), entity_type 0 (track), age_days 9
  (s1, e2): label 3 (like); q2e_score missing; affinity missing (e2 has no vector)
  (s1, e3): not shown: label and shown_position missing; popular_rank 1
  (s2, e2): label 1 (a 10 s play counts as a click); user u2 unknown: affinity missing,
            user_positives 0, user_genre_share missing; title_exact 1; artist_in_query 0
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

from ltrr.config import load_settings
from ltrr.rank.features import FEATURE_NAMES, FEATURES
from ltrr.rank.training_day import build_training_set_day
from ltrr.schemas import CATALOG, ENGAGEMENTS, SEARCHES
from ltrr.zones import artifact_dir, partition_path

P, D = "2026-01-09", "2026-01-10"


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


def _catalog() -> list[dict]:
    e1 = track_row("e1", "Love Songs", "Kai Moana", "2026-01-01")
    e2 = track_row("e2", "Heartbeat", "Kai Moana", "2026-01-01")
    e1["artist_id"] = e2["artist_id"] = "a1"
    e3 = {**track_row("e3", "Rain Talk", "x", "2026-01-01"), "entity_type": "podcast", "artist_id": None}
    e3.update(artist=None, genres=[], topics=["weather"], duration_ms=None)
    return [e1, e2, e3]


def _write(spark, root: Path, table: str, ds: str, rows: list[dict]) -> None:
    schema = {"searches": SEARCHES, "engagements": ENGAGEMENTS, "catalog": CATALOG}[table]
    frame = spark.createDataFrame([tuple(r[f.name] for f in schema.fields) for r in rows], schema=schema)
    frame.coalesce(1).write.parquet(str(partition_path(root, "clean", table, ds)))


def _memory(root: Path, ds: str, score: float) -> None:
    folder = artifact_dir(root, ds, "q2e") / "table"
    folder.mkdir(parents=True)
    table = pa.table(
        {
            "query_key": ["love songs"],
            "entity_id": ["e1"],
            "rank": pa.array([1], pa.int32()),
            "score": [score],
            "trials": [math.e - 1.0],
            "predicted_kind": pa.array([None], pa.string()),
        }
    )
    pq.write_table(table, folder / "part-0.parquet")


def _vectors(root: Path, ds: str, user: list[float], item: list[float]) -> None:
    folder = artifact_dir(root, ds, "embeddings")
    folder.mkdir(parents=True)
    vec = pa.list_(pa.float32())
    pq.write_table(pa.table({"user_id": ["u1"], "factors": pa.array([user], vec)}), folder / "user_factors.parquet")
    pq.write_table(pa.table({"entity_id": ["e1"], "factors": pa.array([item], vec)}), folder / "item_factors.parquet")


@pytest.fixture(scope="module")
def built(spark, tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("training-set")
    # Keep every search's whole candidate union (e3 of s1 is an unshown candidate).
    settings = load_settings(
        data_root=tmp / "data", state_dir=tmp / "state", spark_shuffle_partitions=2, rank_union_share=1.0
    )
    root = settings.data_root
    for ds in (P, D):
        _write(spark, root, "catalog", ds, _catalog())
    _write(spark, root, "searches", P, [search_row("p1", P, "love songs", ["e1", "e2"])])
    _write(spark, root, "engagements", P, [_eng("g0", "p1", P, "u1", "e1", 1, "play", 90_000)])

    s1 = search_row("s1", D, "Love Songs!", ["e1", "e2"])
    s1.update(
        device="tv",
        context={"local_hour": "21", "weekday": "sat"},
        candidates=[
            {"entity_id": "e1", "strategy": "lexical", "rank": 1, "score": 3.0},
            {"entity_id": "e2", "strategy": "lexical", "rank": 2, "score": 2.0},
            {"entity_id": "e3", "strategy": "popular", "rank": 1, "score": 0.9},
            {"entity_id": "e1", "strategy": "popular", "rank": 2, "score": 0.5},
        ],
    )
    s2 = search_row("s2", D, "heartbeat", ["e2"], user_id="u2")
    s3 = search_row("s3", D, "love songs", ["e1"])
    for search in (s2, s3):
        search["context"] = {"local_hour": "9", "weekday": "sat"}
    _write(spark, root, "searches", D, [s1, s2, s3])
    day_engagements = [
        _eng("g1", "s1", D, "u1", "e1", 1, "click"),
        _eng("g2", "s1", D, "u1", "e1", 1, "skip", 4_000),
        _eng("g3", "s1", D, "u1", "e2", 2, "play", 45_000),
        _eng("g4", "s1", D, "u1", "e2", 2, "like"),
        _eng("g5", "s2", D, "u2", "e2", 1, "click"),
        _eng("g6", "s2", D, "u2", "e2", 1, "play", 10_000),
        *[_eng(f"b{i}", "s3", D, "u1", "e1", 1, "play", 60_000) for i in range(5)],
    ]
    _write(spark, root, "engagements", D, day_engagements)
    _memory(root, P, 0.30)
    _memory(root, D, 0.95)
    _vectors(root, P, [1.0, 2.0], [0.5, 0.25])
    _vectors(root, D, [10.0, 10.0], [10.0, 10.0])
    report = build_training_set_day(spark, settings, D)
    rows = pq.read_table(artifact_dir(root, D, "training_set") / "rows").to_pandas()
    return settings, report, rows.set_index(["search_id", "entity_id"])


def _close(value, expected: float) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) and abs(value - expected) < 1e-9


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def test_no_feature_uses_the_day_itself(built) -> None:
    _, _, rows = built
    e1 = rows.loc[("s1", "e1")]
    # Counters: the five plays of day D must not count.
    assert _close(e1["entity_positives"], math.log1p(1))
    assert _close(e1["entity_impressions"], math.log1p(1))
    assert _close(e1["entity_positive_rate"], 2 / 21)
    assert _close(e1["user_positives"], math.log1p(1))
    assert _close(e1["user_artist_positives"], math.log1p(1))
    assert _close(e1["user_genre_share"], 1.0)
    assert _close(e1["query_searches"], math.log1p(1))
    # Memory and embeddings of the previous day, not of D.
    assert _close(e1["q2e_score"], 0.30)
    assert _close(e1["q2e_evidence"], 1.0)
    assert _close(e1["affinity"], 1.0)


def test_labels_follow_the_documented_mapping(built) -> None:
    _, _, rows = built
    assert rows.loc[("s1", "e1"), "label"] == 0  # click then skip
    assert rows.loc[("s1", "e2"), "label"] == 3  # like
    assert rows.loc[("s2", "e2"), "label"] == 1  # a 10 s play is a click
    assert rows.loc[("s3", "e1"), "label"] == 2  # 60 s plays
    assert _missing(rows.loc[("s1", "e3"), "label"])  # a candidate that was not shown
    assert _missing(rows.loc[("s1", "e3"), "shown_position"])


def test_provenance_query_and_context_features(built) -> None:
    _, _, rows = built
    e1 = rows.loc[("s1", "e1")]
    expected = {
        "lexical_rank": 1,
        "lexical_score": 3.0,
        "popular_rank": 2,
        "popular_score": 0.5,
        "n_strategies": 2,
        "best_rank": 1,
        "q2e_rank": 1,
        "q2e_predicted": 0,
        "title_exact": 1,
        "title_jaccard": 1,
        "query_coverage": 1,
        "artist_in_query": 0,
        "query_chars": 10,
        "query_tokens": 2,
        "query_is_entity_name": 1,
        "hour": 21,
        "weekday": 5,
        "device": 3,
        "entity_type": 0,
        "age_days": 9,
    }
    for name, value in expected.items():
        assert _close(e1[name], value), (name, e1[name])
    assert _missing(e1["memory_rank"]) and _missing(e1["semantic_score"])
    e2 = rows.loc[("s1", "e2")]
    assert _missing(e2["q2e_score"]) and _missing(e2["affinity"])
    assert _close(rows.loc[("s1", "e3"), "popular_rank"], 1) and _close(rows.loc[("s1", "e3"), "entity_type"], 4)
    u2 = rows.loc[("s2", "e2")]
    assert _missing(u2["affinity"]) and _missing(u2["user_genre_share"]) and _close(u2["user_positives"], 0.0)
    assert _close(u2["title_exact"], 1) and _close(u2["artist_in_query"], 0)


def test_columns_are_the_feature_spec_and_report_conserves_counts(built) -> None:
    settings, report, rows = built
    assert [c for c in rows.columns if c in FEATURE_NAMES] == list(FEATURE_NAMES)
    assert len(FEATURES) == len(set(FEATURE_NAMES))
    counts = report["counts"]
    assert counts["searches"] == 3 and counts["searches_with_rows"] == 3
    assert counts["rows"] == len(rows) == 5
    assert counts["engaged_pairs"] == 4 and counts["engaged_pairs_not_shown"] == 0
    assert counts["labels"] == {"0": 1, "1": 1, "2": 1, "3": 1}
    assert report["inputs"]["memory"].endswith("ds=2026-01-09/table")
    assert report["inputs"]["history"]["source"] == "computed"
    folder = artifact_dir(settings.data_root, D, "training_set")
    for name in ("rows", "history", "validation.json", "groups.json", "report.json"):
        assert (folder / name).exists(), name
    assert json.loads((folder / "report.json").read_text())["validation"]["rows"]["success"] is True
    # The counters as of D (for the rows of the next day) now include D: e1 was shown in p1, s1
    # and s3, and positive in p1 and s3 (s1 was a click then a skip).
    history = pq.read_table(folder / "history").to_pandas()
    e1 = history[(history["table"] == "entity") & (history["key1"] == "e1")].iloc[0]
    assert (e1["n1"], e1["n2"]) == (3, 2)


def test_sql_labels_equal_the_python_reference(spark) -> None:
    """``sql/rank/labels.sql`` and ``ltrr.rank.labels.grade`` agree on every hand-labelled case."""
    from pyspark.sql import functions as F

    from ltrr.rank.labels import grade
    from ltrr.sqlfiles import load_sql
    from tests.rank.test_labels import ENGAGEMENTS

    rows = [(sid, eid, action, amount) for (sid, eid), (events, _) in ENGAGEMENTS.items() for action, amount in events]
    frame = spark.createDataFrame(
        rows, "search_id string, entity_id string, action string, amount_ms bigint"
    ).withColumn("position", F.lit(1))
    frame.createOrReplaceTempView("day_engagements")
    got = {
        (r.search_id, r.entity_id): r.label for r in spark.sql(load_sql("rank/labels", min_play_ms=30_000)).collect()
    }
    for key, (events, expected) in ENGAGEMENTS.items():
        if events:  # a shown result without engagement has no engagement row (label 0 in training_rows.sql)
            assert got[key] == expected == grade(events), key


def test_rows_summary_counts_repeated_pairs_and_broken_facts(built, spark) -> None:
    """``rows_summary`` on the built rows plus repeated, null-key and bad-label rows: each counted where it belongs."""
    from pyspark.sql import functions as F

    from ltrr.rank.checks import rows_summary

    settings, _, _ = built
    rows = spark.read.parquet(str(artifact_dir(settings.data_root, D, "training_set") / "rows"))
    healthy = rows_summary(rows, FEATURE_NAMES).iloc[0]
    assert (healthy["rows"], healthy["duplicate_pairs"], healthy["null_search_id"], healthy["bad_labels"]) == (
        5,
        0,
        0,
        0,
    )
    s1e1 = rows.where((F.col("search_id") == "s1") & (F.col("entity_id") == "e1"))
    broken = (
        rows.unionByName(s1e1)  # (s1, e1) twice more: 2 repeats
        .unionByName(s1e1)
        .unionByName(s1e1.withColumn("search_id", F.lit(None).cast("string")))  # a null key, once
        .unionByName(
            s1e1.withColumn("entity_id", F.lit("e9")).withColumn("label", F.lit(7).cast(rows.schema["label"].dataType))
        )
    )
    summary = rows_summary(broken, FEATURE_NAMES).iloc[0]
    assert summary["rows"] == 9
    assert summary["duplicate_pairs"] == 2
    assert summary["null_search_id"] == 1
    assert summary["bad_labels"] == 1


def test_a_day_of_many_searches_is_written_as_whole_search_files_the_same_on_a_rerun(
    built, spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from ltrr.rank import training_day

    assert [training_day.rows_files(n, 8) for n in (0, 1, 100_000, 100_001, 950_000)] == [1, 1, 1, 2, 8]
    settings, _, rows = built
    copy = load_settings(
        data_root=tmp_path / "data", state_dir=tmp_path / "state", spark_shuffle_partitions=2, rank_union_share=1.0
    )
    shutil.copytree(settings.data_root, copy.data_root)
    monkeypatch.setattr(training_day, "ROWS_FILE_SEARCHES", 1)  # three searches: two files (the shuffle's 2)
    folder = artifact_dir(copy.data_root, D, "training_set") / "rows"

    def written() -> dict[str, bytes]:
        build_training_set_day(spark, copy, D)
        return {p.name: p.read_bytes() for p in sorted(folder.glob("part-*.parquet"))}

    first = written()
    assert len(first) == 2
    per_file = [pq.read_table(folder / name).to_pandas() for name in first]
    assert all(frame["search_id"].is_monotonic_increasing for frame in per_file)
    ids = [set(frame["search_id"]) for frame in per_file]
    assert not ids[0] & ids[1], "a search lives in one file"
    assert len(pd.concat(per_file)) == len(rows)
    # File names carry Spark's random id; the bytes of the n-th file are the same.
    assert list(written().values()) == list(first.values())
