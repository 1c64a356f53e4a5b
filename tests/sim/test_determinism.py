"""Same arguments, same bytes; another seed, another world."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ltrr.sim import simulate

DAY = dt.date(2026, 3, 2)
REPO = Path(__file__).resolve().parents[2]


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def three_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Runs a and c in this process; run b (same seed as a) in a child process with another
    string-hash seed, so nothing may depend on set/dict iteration order of strings."""
    runs = {name: tmp_path_factory.mktemp(f"det-{name}") for name in ("a", "b", "c")}
    simulate(runs["a"], DAY, 1, "small", 5)
    simulate(runs["c"], DAY, 1, "small", 6)
    code = (
        "import datetime as dt, sys; from pathlib import Path; from ltrr.sim import simulate; "
        f"simulate(Path(sys.argv[1]), dt.date.fromisoformat('{DAY.isoformat()}'), 1, 'small', 5)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(runs["b"])], check=True, env=env, cwd=REPO)
    return runs


def test_same_seed_gives_byte_identical_files(three_runs: dict[str, Path]) -> None:
    a, b = _files(three_runs["a"]), _files(three_runs["b"])
    assert sorted(a) == sorted(b)
    assert len(a) >= 5  # four tables and world.json
    for name in a:
        assert a[name] == b[name], f"{name} differs between two runs with the same seed"


def test_another_seed_gives_another_world(three_runs: dict[str, Path]) -> None:
    ds = f"ds={DAY.isoformat()}"
    for zone, table, column in (
        ("raw", "catalog", "title"),
        ("raw", "searches", "query"),
        ("sim", "truth", "intended_entity_id"),
    ):
        a = pq.read_table(three_runs["a"] / zone / table / ds).column(column).to_pylist()
        c = pq.read_table(three_runs["c"] / zone / table / ds).column(column).to_pylist()
        assert a != c, f"{table}.{column} is the same for seeds 5 and 6"


class _TaggedEngine:
    """A custom engine through the factory seam: day-0 retrieval, other versions, always explore."""

    def __init__(self, catalog, day) -> None:
        from ltrr.serving.day0 import Day0Engine

        self.inner = Day0Engine.from_catalog(catalog, exploration=1.0, randomized_share=0.0)
        self.day = day

    def search(self, query, user_id, context, k, rng):
        import dataclasses

        outcome = self.inner.search(query, user_id, context, k, rng)
        versions = {"policy_version": "p-test", "ranker_version": "r-test", "bundle_version": f"b-{self.day}"}
        return dataclasses.replace(outcome, versions=versions)


def test_engine_factory_seam_keeps_the_same_customers(three_runs: dict[str, Path], tmp_path: Path) -> None:
    """Another engine on the same seed and day serves the very same queries (separate random
    streams), and its versions and propensities are what get logged."""
    summary = simulate(tmp_path, DAY, 1, "small", 5, engine_factory=_TaggedEngine)
    ds = f"ds={DAY.isoformat()}"
    custom = pq.read_table(tmp_path / "raw" / "searches" / ds)
    day0 = pq.read_table(three_runs["a"] / "raw" / "searches" / ds)
    for column in ("search_id", "ts", "user_id", "query"):
        assert custom.column(column).to_pylist() == day0.column(column).to_pylist(), column
    truth_custom = pq.read_table(tmp_path / "sim" / "truth" / ds).column("intended_entity_id").to_pylist()
    truth_day0 = pq.read_table(three_runs["a"] / "sim" / "truth" / ds).column("intended_entity_id").to_pylist()
    assert truth_custom == truth_day0
    assert set(custom.column("bundle_version").to_pylist()) == {f"b-{DAY}"}
    assert set(custom.column("policy_version").to_pylist()) == {"p-test"}
    # Epsilon 1: every plan of the 4-plan menu has probability 1/4.
    assert set(custom.column("propensity").to_pylist()) == {0.25}
    world = (tmp_path / "sim" / "world.json").read_text()
    assert '"engine": "custom"' in world and summary["days"][0]["searches"] == custom.num_rows
