"""A small simulated world shared by the simulator tests (generated once per test session).

Two days at the ``small`` scale with half of the searches shown in random order, so position
bias can be measured with a few hundred clicks per position. Read with pyarrow; no Spark.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ltrr.sim import simulate

START = dt.date(2026, 1, 5)
DAYS = 2
SEED = 11
EXPLORATION = 0.2
RANDOMIZED_SHARE = 0.5


@dataclass
class World:
    """A generated world: where it is, what ``simulate`` returned, and table readers."""

    root: Path
    summary: dict

    @property
    def days(self) -> list[str]:
        return [d["ds"] for d in self.summary["days"]]

    def read(self, zone: str, table: str, ds: str | None = None) -> pa.Table:
        """All parts of a table (one day, or every simulated day)."""
        days = [ds] if ds else self.days
        return pa.concat_tables(pq.read_table(self.root / zone / table / f"ds={d}") for d in days)

    def rows(self, zone: str, table: str, ds: str | None = None) -> list[dict]:
        return self.read(zone, table, ds).to_pylist()


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """Two small days, seed 11, epsilon 0.2, half of the result lists randomized."""
    root = tmp_path_factory.mktemp("sim") / "data"
    summary = simulate(root, START, DAYS, "small", SEED, exploration=EXPLORATION, randomized_share=RANDOMIZED_SHARE)
    return World(root, summary)


@pytest.fixture(scope="session")
def searches(small_world: World) -> list[dict]:
    return small_world.rows("raw", "searches")


@pytest.fixture(scope="session")
def engagements(small_world: World) -> list[dict]:
    return small_world.rows("raw", "engagements")


@pytest.fixture(scope="session")
def truth(small_world: World) -> dict[str, dict]:
    return {r["search_id"]: r for r in small_world.rows("sim", "truth")}
