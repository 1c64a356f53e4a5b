"""Row selection, grouping, parameters and determinism of the ranker fit."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from ltrr.rank.labels import LABEL_GAIN
from ltrr.rank.train import FittedRanker, RankerParams, fit_ranker, select_rows
from tests.rank.conftest import SMALL_PARAMS
from tests.rank.world import SPEC, TRUE_CURVE


def _rows(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["search_id", "entity_id", "shown_position", "label"])
    frame["shown_position"] = frame["shown_position"].astype("Int64")
    frame["label"] = frame["label"].astype("Int64")
    return frame


def test_select_rows_keeps_shown_rows_of_searches_with_a_positive_sorted_by_position() -> None:
    frame = _rows(
        [
            ("s2", "x", 2, 0),
            ("s1", "c", None, None),  # unshown: no label
            ("s1", "b", 2, 1),
            ("s3", "p", 1, 0),  # s3: nothing engaged, dropped
            ("s2", "y", 1, 3),
            ("s1", "a", 1, 0),
            ("s3", "q", 2, 0),
            ("s2", "z", 3, 0),
        ]
    )
    rows = select_rows(frame)
    assert rows.frame[["search_id", "entity_id"]].values.tolist() == [
        ["s1", "a"],
        ["s1", "b"],
        ["s2", "y"],
        ["s2", "x"],
        ["s2", "z"],
    ]
    assert rows.group.tolist() == [2, 3]
    assert rows.counts == {
        "rows_in": 8,
        "searches_in": 3,
        "shown_rows": 7,
        "shown_searches": 3,
        "searches_with_positive": 2,
        "rows": 5,
        "searches": 2,
    }


@pytest.mark.parametrize("bad", [[("s1", "a", 1, None)], [("s1", "a", 1, 4)], [("s1", "a", 1, -1)]])
def test_select_rows_rejects_bad_labels(bad: list[tuple]) -> None:
    with pytest.raises(ValueError, match="label"):
        select_rows(_rows(bad))


def test_lightgbm_params_set_the_gain_and_determinism_explicitly() -> None:
    params = RankerParams().lightgbm_params()
    assert params["objective"] == "lambdarank"
    assert params["label_gain"] == [0.0, 1.0, 3.0, 7.0] == list(LABEL_GAIN)
    assert params["num_threads"] == 1 and params["deterministic"] is True and params["force_row_wise"] is True
    with pytest.raises(ValueError, match="debias"):
        RankerParams(debias="clicks")


def test_fit_is_deterministic_and_keeps_the_best_iteration(small_world: dict, small_model: FittedRanker) -> None:
    again = fit_ranker(small_world["train"], small_world["valid"], SPEC, SMALL_PARAMS, TRUE_CURVE)
    text = small_model.booster.model_to_string(num_iteration=small_model.best_iteration)
    assert again.booster.model_to_string(num_iteration=again.best_iteration) == text
    assert 1 <= small_model.best_iteration <= SMALL_PARAMS.num_boost_round
    assert small_model.best_score == max(small_model.history)
    assert small_model.history[small_model.best_iteration - 1] == small_model.best_score
    assert "label_gain: 0,1,3,7" in text.replace("[", "").replace("]", "")
    assert set(small_model.importance_gain) == set(SPEC.names)
    assert sum(small_model.importance_split.values()) > 0
    assert small_model.counts["train"]["rows"] < small_model.counts["train"]["shown_rows"]
    # Row order of the input does not matter (rows are sorted by search and position).
    shuffled = small_world["train"].sample(frac=1.0, random_state=0)
    other = fit_ranker(shuffled, small_world["valid"], SPEC, SMALL_PARAMS, TRUE_CURVE)
    assert other.booster.model_to_string(num_iteration=other.best_iteration) == text


def test_fit_needs_a_search_with_a_positive(small_world: dict) -> None:
    valid = small_world["valid"].copy()
    valid.loc[valid["label"].notna(), "label"] = 0
    with pytest.raises(ValueError, match="valid frame has no shown search with a label > 0"):
        fit_ranker(small_world["train"], valid, SPEC, SMALL_PARAMS, TRUE_CURVE)


def test_ipw_needs_a_curve(small_world: dict) -> None:
    with pytest.raises(ValueError, match="needs an examination curve"):
        fit_ranker(small_world["train"], small_world["valid"], SPEC, SMALL_PARAMS, None)
    naive = fit_ranker(small_world["train"], small_world["valid"], SPEC, replace(SMALL_PARAMS, debias="none"), None)
    assert np.isfinite(naive.predict(small_world["eval"])).all()
