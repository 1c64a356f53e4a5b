"""The world's files: layout, exact schemas, row counts, world.json, atomic publishing."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import pyarrow.parquet as pq
import pytest

from ltrr.schemas import arrow_schema
from ltrr.sim import simulate
from tests.sim.conftest import EXPLORATION, RANDOMIZED_SHARE, SEED, START, World

TABLES = [("raw", "catalog"), ("raw", "searches"), ("raw", "engagements"), ("sim", "truth")]


def test_every_day_has_every_table_in_its_partition(small_world: World) -> None:
    assert small_world.days == ["2026-01-05", "2026-01-06"]
    for zone, table in TABLES:
        for ds in small_world.days:
            parts = sorted((small_world.root / zone / table / f"ds={ds}").glob("part-*.parquet"))
            assert parts, f"no parts for {zone}/{table}/ds={ds}"
    assert (small_world.root / "sim" / "world.json").is_file()


@pytest.mark.parametrize(("zone", "table"), TABLES)
def test_files_match_the_arrow_schema_exactly(small_world: World, zone: str, table: str) -> None:
    for path in (small_world.root / zone / table).glob("ds=*/part-*.parquet"):
        schema = pq.read_schema(path)
        assert schema.equals(arrow_schema(table), check_metadata=False), path
        assert schema.metadata[b"ltrr.table"] == table.encode()
        if table in ("searches", "engagements"):
            assert str(schema.field("ts").type) == "timestamp[us, tz=UTC]"


def test_no_staging_directories_are_left_behind(small_world: World) -> None:
    leftovers = [p for p in small_world.root.rglob("*") if p.name.startswith((".tmp-", ".old-"))]
    assert leftovers == []


def test_summary_and_world_json_count_the_rows_on_disk(small_world: World) -> None:
    world = json.loads((small_world.root / "sim" / "world.json").read_text())
    assert world["seed"] == SEED and world["scale"] == "small" and world["epoch"] == START.isoformat()
    for day in small_world.summary["days"]:
        ds = day["ds"]
        for zone, table in TABLES:
            on_disk = small_world.read(zone, table, ds).num_rows
            assert day[table] == on_disk
            assert world["days"][ds][table] == on_disk
        # Every search has exactly one truth row.
        assert day["truth"] == day["searches"] > 0


def test_world_json_records_the_true_examination_curve(small_world: World) -> None:
    world = json.loads((small_world.root / "sim" / "world.json").read_text())
    curve = world["parameters"]["click_model"]["examination_by_position"]
    eta = world["parameters"]["click_model"]["eta"]
    # theta_p = 1 / p**eta; with the default eta = 1: 1, 1/2, ..., 1/10.
    assert eta == 1.0
    assert curve["1"] == 1.0 and curve["2"] == 0.5 and curve["4"] == 0.25 and curve["10"] == 0.1


def test_catalog_grows_every_day_and_keeps_ids(small_world: World) -> None:
    day1 = small_world.read("raw", "catalog", "2026-01-05")
    day2 = small_world.read("raw", "catalog", "2026-01-06")
    ids1 = set(day1.column("entity_id").to_pylist())
    ids2 = set(day2.column("entity_id").to_pylist())
    assert ids1 < ids2
    added = [r for r in day2.to_pylist() if r["entity_id"] not in ids1]
    assert added and all(r["added_ds"] == dt.date(2026, 1, 6) for r in added)
    assert len(ids2) == day2.num_rows  # primary key unique


def test_rerunning_a_day_in_a_continued_world_reproduces_it(small_world: World, tmp_path) -> None:
    """Simulating day 2 alone (the world's epoch comes from world.json) replaces the partition
    with byte-identical files: ids and catalog do not depend on how days are split into calls."""
    copy = tmp_path / "data"
    shutil.copytree(small_world.root, copy)
    simulate(copy, dt.date(2026, 1, 6), 1, "small", SEED, exploration=EXPLORATION, randomized_share=RANDOMIZED_SHARE)
    for zone, table in TABLES:
        for original in (small_world.root / zone / table / "ds=2026-01-06").glob("*.parquet"):
            again = copy / zone / table / "ds=2026-01-06" / original.name
            assert again.read_bytes() == original.read_bytes(), f"{zone}/{table} differs"


def test_a_day_before_the_epoch_is_refused(small_world: World, tmp_path) -> None:
    copy = tmp_path / "data"
    (copy / "sim").mkdir(parents=True)
    shutil.copy(small_world.root / "sim" / "world.json", copy / "sim" / "world.json")
    with pytest.raises(ValueError, match="starts on 2026-01-05"):
        simulate(copy, dt.date(2026, 1, 4), 1, "small", SEED)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days"),
        ({"scale": "huge"}, "scale"),
        ({"seed": -1}, "seed"),
        ({"exploration": 1.5}, "exploration"),
    ],
)
def test_bad_arguments_are_refused(tmp_path, kwargs: dict, message: str) -> None:
    args = {"out": tmp_path, "start": START, "days": 1, "scale": "small", "seed": 1} | kwargs
    with pytest.raises(ValueError, match=message):
        simulate(**args)


def test_big_days_are_written_in_chunks(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A day larger than the chunk size is split into part files that together hold the day."""
    from dataclasses import replace

    from ltrr.sim.scales import SCALES

    monkeypatch.setitem(SCALES, "small", replace(SCALES["small"], chunk_size=600))
    summary = simulate(tmp_path, START, 1, "small", 3)
    ds = summary["days"][0]["ds"]
    # 1,425 Monday searches in chunks of at most 600: 3 parts of 475.
    assert summary["days"][0]["searches"] == 1425
    for zone, table in TABLES[1:]:
        parts = sorted((tmp_path / zone / table / f"ds={ds}").glob("part-*.parquet"))
        assert [p.name for p in parts] == ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
        for p in parts:
            assert pq.read_schema(p).equals(arrow_schema(table), check_metadata=False)
    ids = pq.read_table(tmp_path / "raw" / "searches" / f"ds={ds}").column("search_id").to_pylist()
    assert len(ids) == len(set(ids)) == 1425
    per_part = [pq.read_metadata(p).num_rows for p in sorted((tmp_path / "raw" / "searches" / f"ds={ds}").iterdir())]
    assert per_part == [475, 475, 475]
