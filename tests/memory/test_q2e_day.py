"""The memory job on a small simulated world: artifact, examination curve, cold start, reruns."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ltrr.memory.artifact import artifact_dir
from ltrr.memory.day import build_q2e_day
from ltrr.text import normalize_query
from ltrr.zones import partition_path

START = dt.date(2026, 1, 5)
DAY1, DAY2 = START.isoformat(), (START + dt.timedelta(days=1)).isoformat()


@pytest.fixture(scope="module")
def world(small_pipeline):
    """The shared two-day world of ``tests/conftest.py`` (seed 5, half the searches randomized,
    so two small days carry enough clicks to estimate the curve; 7-day memory window) and the
    memory job's report of each day."""
    reports = {
        ds: json.loads((artifact_dir(small_pipeline.data_root, ds) / "report.json").read_text()) for ds in (DAY1, DAY2)
    }
    return small_pipeline, reports


def test_artifact_layout_and_validation(world) -> None:
    settings, reports = world
    folder = artifact_dir(settings.data_root, DAY2)
    for name in ("table", "serving", "examination.json", "validation.json", "validation.html", "report.json"):
        assert (folder / name).exists(), name
    # The GX result's Data Docs page, rendered by GX, names what was checked.
    assert "values must never be null" in (folder / "validation.html").read_text()
    report = reports[DAY2]
    assert report["validation"]["success"] is True
    assert report["rows"]["pairs"] > 0
    assert report["window"]["missing_days"] == [(START - dt.timedelta(days=n)).isoformat() for n in range(5, 0, -1)]
    serving = pq.read_table(folder / "serving").to_pylist()
    assert all(len(r["entity_ids"]) == len(r["scores"]) <= 50 for r in serving)
    assert all(r["scores"] == sorted(r["scores"], reverse=True) for r in serving)


def test_examination_curve_is_close_to_the_true_curve(world) -> None:
    settings, _ = world
    truth = json.loads((settings.data_root / "sim" / "world.json").read_text())
    true_curve = truth["parameters"]["click_model"]["examination_by_position"]
    curve = json.loads((artifact_dir(settings.data_root, DAY2) / "examination.json").read_text())
    assert curve["method"] == "randomized_ctr_isotonic"
    errors = [abs(curve["probabilities"][p - 1] - true_curve[str(p)]) for p in range(1, 11)]
    # ~1,400 randomized searches: the deep positions carry a few dozen clicks each.
    assert max(errors) < 0.12, errors


def test_new_entities_are_found_by_title_and_typo_on_their_first_day(world) -> None:
    settings, _ = world
    catalog = pq.read_table(partition_path(settings.data_root, "clean", "catalog", DAY2)).to_pylist()
    new = [e for e in catalog if e["added_ds"].isoformat() == DAY2 and e["entity_type"] == "track"]
    assert new, "the simulator adds tracks every day"
    table = pq.read_table(artifact_dir(settings.data_root, DAY2) / "table").to_pylist()
    pairs = {(r["query_key"], r["entity_id"]) for r in table}
    found_title = [e for e in new if (normalize_query(e["title"]), e["entity_id"]) in pairs]
    typo_found = []
    for e in new:
        key = normalize_query(e["title"])
        if len(key) >= 5:
            typo = key[:2] + key[3:]  # drop the third character
            typo_found.append((typo, e["entity_id"]) in pairs)
    # A title shared with a busy query may be crowded out of that query's top-N.
    assert len(found_title) >= 0.8 * len(new), (len(found_title), len(new))
    assert sum(typo_found) >= 0.8 * len(typo_found)


def test_next_day_coverage_and_recall_are_reported(world) -> None:
    _, reports = world
    assert reports[DAY1]["previous_table_on_this_day"] is None
    evaluation = reports[DAY2]["previous_table_on_this_day"]
    assert evaluation["table_ds"] == DAY1
    assert 0 < evaluation["coverage"]["rate"] <= 1
    assert set(evaluation["recall"]["by_query_class"]) <= {"head", "torso", "tail"}
    assert 0 <= evaluation["recall"]["overall"]["rate"] <= 1
    # No table of N entities per query can beat the hindsight best one.
    bound = evaluation["recall_bound"]
    assert bound["top_n"] == 50
    for cls, got in evaluation["recall"]["by_query_class"].items():
        assert got["rate"] <= bound["by_query_class"][cls]["rate"] + 1e-12, cls


def test_rerun_gives_identical_output(world, spark) -> None:
    settings, _ = world
    folder = artifact_dir(settings.data_root, DAY2)

    def content(path: Path) -> list:
        return sorted(map(str, pq.read_table(path).to_pylist()))

    before = (content(folder / "table"), content(folder / "serving"), (folder / "examination.json").read_text())
    build_q2e_day(spark, settings, DAY2)
    after = (content(folder / "table"), content(folder / "serving"), (folder / "examination.json").read_text())
    assert before == after
    assert not list(folder.parent.glob(".*tmp*")), "no staging folder is left behind"
