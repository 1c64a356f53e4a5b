"""The ranker job on a small simulated world: published, refused by the gate, skipped without history.

The shared two-day world of ``tests/conftest.py`` (seed 5, half of the searches shown in random
order, so the memory job of day 1 estimates the examination curve). The ranker of day 2
learns from day 1's training rows (hash split for early stopping) and is evaluated on day 2.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest

from ltrr.bundle.sources import read_ranker
from ltrr.orchestration.checks import require_ranker_outcome
from ltrr.rank.export import check_parity
from ltrr.rank.ranker_day import RankerRejected, RankerSkipped, build_ranker_day
from ltrr.zones import artifact_dir, validation_dir

START = dt.date(2026, 1, 5)
DAY1, DAY2 = START.isoformat(), (START + dt.timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def world(small_pipeline):
    """The shared two-day world (``tests/conftest.py``): memory, embeddings, training rows of both days."""
    return small_pipeline


def test_unshown_candidates_are_kept_for_the_sampled_share_of_searches(world) -> None:
    import pyarrow.parquet as pq

    rows = pq.read_table(artifact_dir(world.data_root, DAY2, "training_set") / "rows").to_pandas()
    unshown = rows[rows["shown_position"].isna()]
    shown = rows[rows["shown_position"].notna()]
    assert len(unshown) > 0 and unshown["full_union"].all()
    share = rows.groupby("search_id")["full_union"].first().mean()
    assert 0.4 < share < 0.6  # 50 % by a hash of the search id
    # Shown rows are kept for every search, sampled or not.
    assert shown["search_id"].nunique() == rows["search_id"].nunique()
    assert (~shown["full_union"]).any()
    # ... with their retrieval provenance: a shown entity is always a candidate in valid logs.
    assert (shown["n_strategies"] >= 1).all() and shown["best_rank"].notna().all()


def test_a_day_without_history_is_skipped_and_recorded(spark, world) -> None:
    with pytest.raises(RankerSkipped, match="no training rows"):
        build_ranker_day(spark, world, DAY1)
    outcome = require_ranker_outcome(world, DAY1)
    assert outcome["status"] == "skipped" and "no training rows" in outcome["reason"]
    assert not artifact_dir(world.data_root, DAY1, "ranker").exists()


def test_the_gate_refuses_a_model_that_cannot_learn(spark, world) -> None:
    # One boosting round with leaves of at least 10^6 rows: a constant model, whose order is
    # no better than an arbitrary one, so it cannot beat the logged order.
    weak = world.model_copy(update={"rank_num_boost_round": 1, "rank_min_data_in_leaf": 1_000_000})
    with pytest.raises(RankerRejected, match="not above the best baseline"):
        build_ranker_day(spark, weak, DAY2)
    assert not artifact_dir(world.data_root, DAY2, "ranker").exists()
    record = json.loads((validation_dir(world.data_root, DAY2) / "ranker_rejected.json").read_text())
    assert record["passed"] is False and record["reasons"]
    # No earlier ranker to keep: the day's bundle ships without one (the gate records, not blocks).
    outcome = require_ranker_outcome(weak, DAY2)
    assert outcome["status"] == "refused" and "not above the best baseline" in outcome["reason"]


def test_a_learned_model_is_published_with_parity_and_truth_metrics(spark, world) -> None:
    report = build_ranker_day(spark, world, DAY2)
    folder = artifact_dir(world.data_root, DAY2, "ranker")
    for name in ("model.txt", "feature_spec.json", "golden.parquet", "metrics.json", "validation.json", "report.json"):
        assert (folder / name).is_file(), name
    assert not (validation_dir(world.data_root, DAY2) / "ranker_rejected.json").exists()
    assert report["passed"] is True and report["split"]["valid"].startswith(DAY1)
    assert check_parity(folder) <= 1e-9
    # The curve was estimated (not flat), so the debiased and naive models differ.
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["curve"]["method"] == "randomized_ctr_isotonic"
    truth = report["ndcg@10"]["truth"]
    assert set(truth) == {"model", "naive", "logged", "popularity", "q2e"}
    # Against the simulator's true relevance the model orders the candidate union better
    # than popularity alone (a weak but real bar on one small day of history).
    assert truth["model"]["mean"] > truth["popularity"]["ci_high"]
    assert read_ranker(folder).passed
    assert require_ranker_outcome(world, DAY2)["status"] == "published"
    # Small days are read whole, and the report says so per day.
    assert set(report["day_searches"]) == {DAY1, DAY2}
    assert all(v["read"] == v["searches"] > 0 for v in report["day_searches"].values())


def test_a_day_over_the_cap_is_read_as_a_whole_search_hash_sample(spark, world) -> None:
    from pyspark.sql import functions as F

    from ltrr.rank.ranker_day import sample_day_searches

    rows = spark.read.parquet(str(artifact_dir(world.data_root, DAY2, "training_set") / "rows"))
    n = rows.select("search_id").distinct().count()
    kept, record = sample_day_searches(rows, 300)
    assert record == {"searches": n, "read": 300} and n > 300
    ids = {r.search_id for r in kept.select("search_id").distinct().collect()}
    assert len(ids) == 300
    # Whole searches: every row of a kept search is kept, none of the others.
    per_search = rows.groupBy("search_id").count()
    assert kept.count() == per_search.where(F.col("search_id").isin(list(ids))).agg(F.sum("count")).first()[0]
    # Deterministic, and the searches of lowest hash: a smaller cap keeps a subset.
    again, _ = sample_day_searches(rows, 300)
    assert {r.search_id for r in again.select("search_id").distinct().collect()} == ids
    fewer, _ = sample_day_searches(rows, 100)
    assert {r.search_id for r in fewer.select("search_id").distinct().collect()} < ids
    # Under the cap the rows come back untouched.
    same, record = sample_day_searches(rows, n)
    assert same is rows and record == {"searches": n, "read": n}


def test_the_published_ranker_travels_in_the_bundle(spark, world) -> None:
    from ltrr.bundle import publish_day
    from ltrr.serving import load_bundle

    if not (artifact_dir(world.data_root, DAY2, "ranker") / "report.json").is_file():
        build_ranker_day(spark, world, DAY2)
    result = publish_day(world, DAY2)
    bundle = load_bundle(result.url)  # verifies every checksum
    entry = bundle.manifest.artifacts["ranker"]
    assert entry.status == "present" and entry.gate == "passed", entry
    from ltrr.rank.export import load_ranker

    loaded = load_ranker(bundle.path("ranker/model.txt").parent)  # the way serving will load it
    assert loaded is not None
    # Every required artifact of the day passed its gate: the bundle is promoted.
    assert result.promoted, result.reasons


def test_a_refused_model_keeps_the_champion_ranker(spark, world, tmp_path) -> None:
    # A copy of the world (the other tests share it), where the model of DAY2 plays the
    # champion published the day before, and the model of DAY2 is then refused.
    root = tmp_path / "data"
    shutil.copytree(world.data_root, root)
    local = world.model_copy(update={"data_root": root})
    if not (artifact_dir(root, DAY2, "ranker") / "report.json").is_file():
        build_ranker_day(spark, local, DAY2)
    champion = artifact_dir(root, DAY1, "ranker")
    shutil.move(artifact_dir(root, DAY2, "ranker"), champion)
    weak = local.model_copy(update={"rank_num_boost_round": 1, "rank_min_data_in_leaf": 1_000_000})

    report = build_ranker_day(spark, weak, DAY2)

    kept = artifact_dir(root, DAY2, "ranker")
    assert report["outcome"] == "kept" and report["kept_from"] == DAY1
    assert any("not above the best baseline" in r for r in report["refused"]["reasons"])
    for name in ("model.txt", "feature_spec.json", "golden.parquet", "metrics.json", "validation.json"):
        assert (kept / name).read_bytes() == (champion / name).read_bytes(), name
    assert (kept / "champion_report.json").read_bytes() == (champion / "report.json").read_bytes()
    assert (validation_dir(root, DAY2) / "ranker_rejected.json").is_file()  # the refusal stays on record
    assert check_parity(kept) <= 1e-9
    facts = read_ranker(kept)
    assert facts.passed and facts.metrics["outcome"] == "kept" and facts.metrics["refused_because"]
    outcome = require_ranker_outcome(weak, DAY2)
    assert outcome == {"status": "kept", "kept_from": DAY1, "refused_because": report["refused"]["reasons"]}
    # A re-run of the refused day gives the same artifact bytes (the bundle's content hash holds).
    before = {p.name: p.read_bytes() for p in kept.iterdir()}
    build_ranker_day(spark, weak, DAY2)
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == before


def test_frames_collected_through_parquet_equal_to_pandas(spark, tmp_path) -> None:
    # The ranker collects its frames by writing Parquet and reading it with pyarrow (the
    # driver holds nothing); the result must be what an ordered toPandas gives, nulls first.
    import pandas as pd

    from ltrr.rank.ranker_day import ROW_ORDER, _to_pandas

    rows = [
        ("s2", None, "e9", 0, 0.5),
        ("s1", 2, "e1", 1, None),
        ("s1", None, "e3", 0, 0.25),
        ("s1", 1, "e2", 3, 1.0),
        ("s2", 1, "e4", 2, 0.75),
    ]
    frame = spark.createDataFrame(
        rows, "search_id string, shown_position int, entity_id string, label int, score double"
    ).repartition(3)
    got = _to_pandas(frame, tmp_path)
    expected = frame.orderBy(*ROW_ORDER).toPandas()
    for column in ("shown_position", "label"):
        expected[column] = expected[column].astype("Int64")
    pd.testing.assert_frame_equal(got, expected)
    assert got["search_id"].tolist() == ["s1", "s1", "s1", "s2", "s2"]
    assert got["shown_position"].isna().tolist() == [True, False, False, True, False]
    assert list(tmp_path.iterdir()) == []  # the scratch files are gone
    empty = _to_pandas(frame.where("label > 9"), tmp_path)
    assert empty.empty and list(empty.columns) == list(expected.columns)
