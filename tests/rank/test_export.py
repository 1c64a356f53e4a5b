"""The exported model folder scores like the trainer; tampering is caught."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltrr.rank.export import (
    EXPORT_FILES,
    CorruptModelError,
    ParityError,
    check_parity,
    export_ranker,
    load_ranker,
)
from ltrr.rank.spec import FeatureDef, FeatureSpec
from ltrr.rank.train import FittedRanker
from tests.rank.world import SPEC


@pytest.fixture()
def exported(tmp_path: Path, small_world: dict, small_model: FittedRanker) -> Path:
    folder = tmp_path / "ranker"
    result = export_ranker(small_model, small_world["eval"], folder, n_golden=200, seed=0)
    assert result.parity_max_abs_diff <= 1e-9
    return folder


def test_export_writes_data_files_only(exported: Path) -> None:
    assert sorted(p.name for p in exported.iterdir()) == sorted(EXPORT_FILES)
    assert (exported / "model.txt").read_text().startswith("tree\n")
    assert FeatureSpec.from_json((exported / "feature_spec.json").read_text()) == SPEC


def test_golden_set_covers_missing_values_and_categories(exported: Path, small_model: FittedRanker) -> None:
    golden = pd.read_parquet(exported / "golden.parquet")
    kinds = golden["golden_kind"].tolist()
    assert kinds.count("sample") == 200
    assert "all_missing" in kinds
    assert {f"missing:{n}" for n in SPEC.names} <= set(kinds)
    all_missing = golden[golden["golden_kind"] == "all_missing"].iloc[0]
    assert all_missing[SPEC.names].isna().all()  # stored raw; the spec's default for promo is applied at scoring
    # The trainer's score of the all-missing row, computed here from the booster directly:
    # promo's default 0.0 filled in, every other feature NaN.
    row = np.array([[np.nan, np.nan, np.nan, np.nan, 0.0]])
    expected = small_model.booster.predict(row, num_iteration=small_model.best_iteration)[0]
    assert all_missing["score"] == expected
    assert golden["genre"].dropna().isin([0, 1, 2, 3, 4]).all()


def test_loaded_ranker_scores_like_the_trainer(exported: Path, small_world: dict, small_model: FittedRanker) -> None:
    loaded = load_ranker(exported)
    frame = small_world["eval"].iloc[:500]
    trainer = small_model.booster.predict(SPEC.matrix(frame), num_iteration=small_model.best_iteration)
    assert np.abs(loaded.score_frame(frame) - trainer).max() <= 1e-9
    vectors = [{"match": 0.7, "genre": "b"}, {"match": 0.7, "genre": 1.0, "promo": None}, {}]
    scores = loaded.score_vectors(vectors)
    assert scores[0] == scores[1]  # a category by name or by code, promo missing -> its default
    assert check_parity(exported) <= 1e-9


def _first_leaf_line(text: str) -> re.Match:
    match = re.search(r"^leaf_value=(.+)$", text, flags=re.MULTILINE)
    assert match
    return match


def test_tampered_model_is_detected(exported: Path) -> None:
    """The first digit after the point of every leaf of tree 0 changed (same length, so it parses).

    Every golden row passes through one of those leaves, so every score moves by 0.1 or more
    times the leaf's magnitude.
    """
    path = exported / "model.txt"
    text = path.read_text()
    match = _first_leaf_line(text)

    def bump(number: str) -> str:
        dot = number.index(".")
        return number[: dot + 1] + str((int(number[dot + 1]) + 1) % 10) + number[dot + 2 :]

    tampered = " ".join(bump(v) for v in match.group(1).split())
    assert len(tampered) == len(match.group(1))
    path.write_text(text[: match.start(1)] + tampered + text[match.end(1) :])
    with pytest.raises(ParityError, match="differently from the trainer"):
        check_parity(exported)


def test_model_edited_to_another_length_is_refused_without_crashing(exported: Path) -> None:
    """LightGBM itself aborts the process on such a file; load_ranker checks the tree offsets first."""
    path = exported / "model.txt"
    text = path.read_text()
    match = _first_leaf_line(text)
    path.write_text(text[: match.start(1)] + "0.5 " + text[match.start(1) :])
    with pytest.raises(CorruptModelError, match="tree 1 is not where tree_sizes puts it"):
        check_parity(exported)


def test_spec_that_does_not_match_the_model_is_refused(exported: Path) -> None:
    renamed = FeatureSpec(tuple(FeatureDef(f"x_{f.name}", f.kind) for f in SPEC.features), "other")
    (exported / "feature_spec.json").write_text(renamed.to_json())
    with pytest.raises(ValueError, match="was trained on features"):
        load_ranker(exported)


def test_export_is_byte_stable(tmp_path: Path, small_world: dict, small_model: FittedRanker) -> None:
    first = export_ranker(small_model, small_world["eval"], tmp_path / "a")
    export_ranker(small_model, small_world["eval"], tmp_path / "b")
    for name in first.files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
