"""Small fitted models shared by the export and day tests (fitting once per module saves time)."""

from __future__ import annotations

import pandas as pd
import pytest

from ltrr.rank.train import FittedRanker, RankerParams, fit_ranker
from tests.rank.world import SPEC, TRUE_CURVE, make_world

SMALL_PARAMS = RankerParams(num_leaves=7, learning_rate=0.2, min_data_in_leaf=10, num_boost_round=60)


@pytest.fixture(scope="session")
def small_world() -> dict[str, pd.DataFrame]:
    """Training, validation and evaluation days of a small world (600 / 300 / 300 searches)."""
    return {
        "train": make_world(600, 11),
        "valid": make_world(300, 12, prefix="v"),
        "eval": make_world(300, 13, prefix="t", ds="2026-01-02"),
    }


@pytest.fixture(scope="session")
def small_model(small_world: dict[str, pd.DataFrame]) -> FittedRanker:
    """An IPW model fitted on the small world."""
    return fit_ranker(small_world["train"], small_world["valid"], SPEC, SMALL_PARAMS, TRUE_CURVE)
