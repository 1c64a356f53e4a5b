"""FeatureSpec: column order, missing values, defaults, categorical codes, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ltrr.rank.spec import FeatureDef, FeatureSpec

SPEC = FeatureSpec(
    features=(
        FeatureDef("b_numeric", "numeric", description="no default: missing stays NaN"),
        FeatureDef("a_count", "numeric", default=0.0, description="a count: missing means 0"),
        FeatureDef("kind", "categorical", categories=("track", "album", "artist")),
        FeatureDef("bucket", "categorical", default=1.0),
    ),
    version="v-test",
)


def test_matrix_order_missing_and_defaults() -> None:
    frame = pd.DataFrame(
        {
            "extra": ["ignored", "ignored", "ignored"],
            "kind": [2.0, np.nan, 0.0],
            "a_count": pd.array([3, None, 1], dtype="Int64"),
            "b_numeric": pd.Series([0.5, None, np.nan], dtype="object"),
            "bucket": [np.nan, 4.0, 0.0],
        }
    )
    expected = np.array(
        [
            [0.5, 3.0, 2.0, 1.0],  # bucket missing -> its default 1
            [np.nan, 0.0, np.nan, 4.0],  # a_count missing -> 0; b_numeric and kind stay missing
            [np.nan, 1.0, 0.0, 0.0],
        ]
    )
    got = SPEC.matrix(frame)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)
    assert SPEC.names == ["b_numeric", "a_count", "kind", "bucket"]
    assert SPEC.categorical_indices == [2, 3]


def test_missing_columns_are_named() -> None:
    with pytest.raises(KeyError, match=r"\['a_count', 'bucket'\]"):
        SPEC.matrix(pd.DataFrame({"b_numeric": [1.0], "kind": [0.0]}))


@pytest.mark.parametrize("bad", [-1.0, 1.5, 3.0])
def test_invalid_categorical_codes_are_rejected(bad: float) -> None:
    frame = pd.DataFrame({"b_numeric": [1.0], "a_count": [1.0], "kind": [bad], "bucket": [0.0]})
    with pytest.raises(ValueError, match="categorical feature 'kind'"):
        SPEC.matrix(frame)


def test_vector_has_the_same_missing_handling_as_matrix() -> None:
    row = SPEC.vector({"kind": "album", "b_numeric": None})
    np.testing.assert_array_equal(row, [np.nan, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(SPEC.vector({}), [np.nan, 0.0, np.nan, 1.0])
    # an unknown category name is missing; a code is taken as is
    np.testing.assert_array_equal(SPEC.vector({"kind": "podcast", "bucket": 2}), [np.nan, 0.0, np.nan, 2.0])
    frame = pd.DataFrame({"b_numeric": [np.nan], "a_count": [np.nan], "kind": [1.0], "bucket": [np.nan]})
    np.testing.assert_array_equal(SPEC.matrix(frame)[0], row)


def test_vector_rejects_unknown_keys() -> None:
    with pytest.raises(KeyError, match="a_cuont"):
        SPEC.vector({"a_cuont": 3})


def test_json_round_trip_and_stable_bytes() -> None:
    text = SPEC.to_json()
    assert FeatureSpec.from_json(text) == SPEC
    assert FeatureSpec.from_json(text).to_json() == text
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert [list(f) for f in data["features"]] == [sorted(f) for f in data["features"]]
    assert data["features"][2]["categories"] == ["track", "album", "artist"]


def test_invalid_definitions() -> None:
    with pytest.raises(ValueError, match="kind"):
        FeatureDef("x", "text")
    with pytest.raises(ValueError, match="duplicated"):
        FeatureSpec((FeatureDef("x", "numeric"), FeatureDef("x", "numeric")), "v")
    with pytest.raises(ValueError, match="only categorical"):
        FeatureDef("x", "numeric", categories=("a",))
