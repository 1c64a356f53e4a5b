"""Replaying a simulated day (``ltrr.sim.replay``) reproduces what the served day wrote.

One small world (2 days from 2026-01-05, seed 3, default day-0 engine) is simulated once; for its
second day (which has catalog additions) the tests check that ``WorldDay``:

- rebuilds the day's catalog exactly as written (``raw/catalog``), larger than the first day's;
- yields the same requests (search ids, queries, users) as the logged ``raw/searches``;
- reports the same intended entity, intent type and query class as ``sim/truth``;
- hands each chunk the engine stream the served day used: replaying the day-0 engine with it
  reproduces every logged plan id;
- gives a search's own intended entity positive relevance (direct intents) and an unknown id 0;
- simulates engagements deterministically for a given generator, with more clicks on the intended
  entity than on an unrelated one;
- refuses days before the epoch and folders without a world.

Read with pyarrow; no Spark.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ltrr.schemas import ACTIONS, INTENT_TYPES
from ltrr.serving.day0 import day0_engine_factory
from ltrr.sim import simulate
from ltrr.sim.replay import ReplayChunk, WorldDay, request_context

START = dt.date(2026, 1, 5)
DAY = dt.date(2026, 1, 6)
DS = DAY.isoformat()
SEED = 3
SHOWN_K = 10
CLICK = ACTIONS.index("click")


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two small simulated days (a few seconds)."""
    out = tmp_path_factory.mktemp("replay") / "data"
    simulate(out=out, start=START, days=2, scale="small", seed=SEED)
    return out


@pytest.fixture(scope="module")
def world(root: Path) -> WorldDay:
    return WorldDay(root, DAY)


@pytest.fixture(scope="module")
def chunks(world: WorldDay) -> list[ReplayChunk]:
    return list(world.chunks())


def _read(root: Path, zone: str, table: str, ds: str) -> pa.Table:
    return pq.read_table(root / zone / table / f"ds={ds}")


def _searches(root: Path) -> pa.Table:
    return _read(root, "raw", "searches", DS).sort_by("search_id")


def test_catalog_equals_written_partition(root: Path, world: WorldDay) -> None:
    written = _read(root, "raw", "catalog", DS).sort_by("entity_id")
    rebuilt = world.catalog.sort_by("entity_id")
    assert rebuilt.num_rows == written.num_rows
    for column in ("entity_id", "entity_type", "title", "artist_id", "popularity", "duration_ms", "added_ds"):
        assert rebuilt.column(column).to_pylist() == written.column(column).to_pylist(), column


def test_catalog_grows_with_the_days_additions(root: Path, world: WorldDay) -> None:
    first = WorldDay(root, START)
    written_first = _read(root, "raw", "catalog", START.isoformat()).column("entity_id").to_pylist()
    assert sorted(first.catalog.column("entity_id").to_pylist()) == sorted(written_first)
    before = set(first.catalog.column("entity_id").to_pylist())
    after = set(world.catalog.column("entity_id").to_pylist())
    assert len(world.catalog) > len(first.catalog)
    assert before < after
    added = world.catalog.filter(pc.is_in(world.catalog.column("entity_id"), pa.array(sorted(after - before))))
    assert set(added.column("added_ds").to_pylist()) == {DAY}


def test_requests_equal_logged_searches(root: Path, chunks: list[ReplayChunk]) -> None:
    logged = _searches(root)
    rows = sorted(
        (sid, q, u)
        for c in chunks
        for sid, q, u in zip(c.requests.search_ids, c.requests.queries, c.requests.user_ids, strict=True)
    )
    assert len(rows) == logged.num_rows > 0
    assert [r[0] for r in rows] == logged.column("search_id").to_pylist()
    assert [r[1] for r in rows] == logged.column("query").to_pylist()
    assert [r[2] for r in rows] == logged.column("user_id").to_pylist()
    assert sum(len(c) for c in chunks) == logged.num_rows


def test_chunks_are_numbered_like_part_files(root: Path, chunks: list[ReplayChunk]) -> None:
    parts = sorted(p.name for p in (root / "raw" / "searches" / f"ds={DS}").glob("*.parquet"))
    assert [c.chunk for c in chunks] == list(range(len(parts)))


def test_truth_equals_written_truth(root: Path, world: WorldDay, chunks: list[ReplayChunk]) -> None:
    truth = _read(root, "sim", "truth", DS)
    by_id = {
        sid: (ent, it, qc)
        for sid, ent, it, qc in zip(
            truth.column("search_id").to_pylist(),
            truth.column("intended_entity_id").to_pylist(),
            truth.column("intent_type").to_pylist(),
            truth.column("query_class").to_pylist(),
            strict=True,
        )
    }
    replayed = {}
    for c in chunks:
        for sid, ent, it, qc in zip(
            c.requests.search_ids, world.target_ids(c), world.intent_types(c), world.query_classes(c), strict=True
        ):
            replayed[sid] = (ent, it, qc)
    assert replayed == by_id
    assert {it for _, it, _ in replayed.values()} <= set(INTENT_TYPES)


def test_replaying_day0_engine_reproduces_logged_plans(root: Path, world: WorldDay, chunks: list[ReplayChunk]) -> None:
    params = json.loads((root / "sim" / "world.json").read_text(encoding="utf-8"))["parameters"]
    assert params["engine"] == "day0"
    factory = day0_engine_factory(params.get("exploration", 0.2), params.get("randomized_share", 0.05))
    engine = factory(world.catalog, DAY)
    logged = _searches(root)
    logged_plan = dict(zip(logged.column("search_id").to_pylist(), logged.column("plan_id").to_pylist(), strict=True))
    replayed: dict[str, str] = {}
    for c in chunks:
        req = c.requests
        for i in range(len(c)):
            outcome = engine.search(req.queries[i], req.user_ids[i], request_context(req, i), SHOWN_K, c.engine_rng)
            replayed[req.search_ids[i]] = outcome.plan_id
    assert replayed == logged_plan
    # Exploration makes the day use more than one plan, so the match is not trivial.
    assert len(set(logged_plan.values())) > 1


def test_engine_rng_is_a_fresh_copy(world: WorldDay) -> None:
    first = next(world.chunks()).engine_rng.random(5)
    again = next(world.chunks()).engine_rng.random(5)
    assert np.array_equal(first, again)


def test_relevance_of_intended_entity_and_unknown_id(world: WorldDay, chunks: list[ReplayChunk]) -> None:
    chunk = chunks[0]
    targets = world.target_ids(chunk)
    direct = [i for i, t in enumerate(world.intent_types(chunk)) if t == "direct"][:8]
    assert len(direct) == 8
    for i in direct:
        rel = world.relevance(chunk, np.array([i]), [targets[i]])
        assert rel.shape == (1,)
        assert 0.0 < rel[0] <= 1.0, (i, targets[i])
        assert world.relevance(chunk, np.array([i]), ["nope"]).tolist() == [0.0]
    assert world.relevance(chunk, np.array([], np.int64), []).shape == (0,)


def _events(world: WorldDay, chunk: ReplayChunk, entity_ids: list[str], seed: int):
    n = len(entity_ids)
    return world.engagements(chunk, np.arange(n), np.ones(n, np.int64), entity_ids, np.random.default_rng(seed))


def test_engagements_are_deterministic_for_a_seeded_rng(world: WorldDay, chunks: list[ReplayChunk]) -> None:
    chunk = chunks[0]
    shown = world.target_ids(chunk)[:200]
    a = _events(world, chunk, shown, 17)
    b = _events(world, chunk, shown, 17)
    assert len(a) > 0
    for f in fields(a):
        assert np.array_equal(getattr(a, f.name), getattr(b, f.name)), f.name


def test_intended_entity_gets_more_clicks_than_unrelated(world: WorldDay, chunks: list[ReplayChunk]) -> None:
    chunk = chunks[0]
    n = 200
    intended = world.target_ids(chunk)[:n]
    catalog_ids = world.catalog.column("entity_id").to_pylist()
    rng = np.random.default_rng(1)
    unrelated = [catalog_ids[j] for j in rng.integers(0, len(catalog_ids), size=n)]
    # Keep only pairs whose random entity is not the search's own intended entity.
    keep = [i for i in range(n) if unrelated[i] != intended[i]]
    assert len(keep) >= 190

    def click_share(shown: list[str]) -> float:
        events = world.engagements(chunk, np.array(keep), np.ones(len(keep), np.int64), shown, np.random.default_rng(5))
        return len(np.unique(events.search[events.action == CLICK])) / len(keep)

    on_intended = click_share([intended[i] for i in keep])
    on_unrelated = click_share([unrelated[i] for i in keep])
    assert on_intended > on_unrelated + 0.3, (on_intended, on_unrelated)


def test_day_before_epoch_is_rejected(root: Path) -> None:
    with pytest.raises(ValueError, match="epoch"):
        WorldDay(root, START - dt.timedelta(days=1))


def test_folder_without_world_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        WorldDay(tmp_path, DAY)
