"""The graded label mapping and LightGBM's gain, on hand-built engagements."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.rank.labels import LABEL_BY_ACTION, LABEL_GAIN, MAX_LABEL, MIN_PLAY_MS, grade
from ltrr.schemas import ACTIONS

# (search, entity) -> engagements (action, amount_ms), and the label written by hand.
ENGAGEMENTS = {
    ("s1", "a"): ([], 0),  # shown, nothing happened
    ("s1", "b"): ([("click", None)], 1),  # clicked only
    ("s1", "c"): ([("click", None), ("play", 30_000)], 2),  # exactly 30 s counts as a play
    ("s1", "d"): ([("click", None), ("play", 29_999)], 1),  # 1 ms short: still a click
    ("s2", "a"): ([("click", None), ("skip", 4_000)], 0),  # a skip vetoes the bare click
    ("s2", "b"): ([("skip", 2_000)], 0),  # skipped only
    ("s2", "c"): ([("click", None), ("play", 200_000), ("like", None)], 3),
    ("s2", "d"): ([("add", None)], 3),  # added without a logged click
    ("s3", "a"): ([("play", None)], 1),  # play without a duration: a click
    ("s3", "b"): ([("play", 45_000), ("skip", 3_000)], 2),
}


@pytest.mark.parametrize("key", sorted(ENGAGEMENTS))
def test_grade_matches_the_hand_labels(key: tuple[str, str]) -> None:
    events, expected = ENGAGEMENTS[key]
    assert grade(events) == expected


def test_constants() -> None:
    assert MIN_PLAY_MS == 30_000
    assert MAX_LABEL == 3
    assert LABEL_GAIN == (0.0, 1.0, 3.0, 7.0)
    assert set(LABEL_BY_ACTION) == set(ACTIONS)


def test_unknown_action_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown action 'share'"):
        grade([("click", None), ("share", None)])


def test_lightgbm_rejects_a_label_above_the_explicit_gain() -> None:
    """With label_gain of length 4, a label 4 (a mapping bug upstream) fails the fit."""
    import lightgbm as lgb

    x = np.arange(8, dtype=np.float64).reshape(-1, 1)
    params = {"objective": "lambdarank", "label_gain": list(LABEL_GAIN), "verbosity": -1, "num_threads": 1}
    ok = lgb.Dataset(x, label=[0, 1, 2, 3, 0, 1, 2, 3], group=[4, 4], params={"min_data_in_bin": 1})
    lgb.train({**params, "min_data_in_leaf": 1}, ok, num_boost_round=1)
    bad = lgb.Dataset(x, label=[0, 1, 2, 4, 0, 1, 2, 3], group=[4, 4], params={"min_data_in_bin": 1})
    with pytest.raises(lgb.basic.LightGBMError, match="label"):
        lgb.train({**params, "min_data_in_leaf": 1}, bad, num_boost_round=1)
