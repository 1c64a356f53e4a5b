"""The training-rows suite catches broken rows (GX on the one-row summary, no Spark needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ltrr.rank.checks import rows_expectations
from ltrr.rank.features import FEATURE_NAMES
from ltrr.rank.training_set import TrainingSetParams
from ltrr.validate.gx_runner import run_suite


def _summary(**overrides: float) -> pd.DataFrame:
    """A summary of healthy rows: every feature within [1, 1] and nothing missing."""
    row: dict[str, float] = {"rows": 10, "duplicate_pairs": 0, "bad_labels": 0, "labels_off_shown": 0}
    row.update({f"null_{k}": 0 for k in ("search_id", "entity_id", "ds", "user_id")})
    row["min_shown_position"] = 1.0
    for name in FEATURE_NAMES:
        row.update({f"{name}__min": 1.0, f"{name}__max": 1.0, f"{name}__missing": 0.0})
    row.update(overrides)
    return pd.DataFrame([row])


def _failed(frame: pd.DataFrame, tmp_path: Path) -> tuple[str, ...]:
    result = run_suite(
        frame,
        suite_name="rows",
        expectations=lambda gx: rows_expectations(gx, TrainingSetParams()),
        result_path=tmp_path / "rows.json",
    )
    return result.failed


def test_healthy_summary_passes(tmp_path: Path) -> None:
    assert _failed(_summary(), tmp_path) == ()


BROKEN = {
    "duplicate_pairs": 2,
    "bad_labels": 1,
    "null_search_id": 1,
    "q2e_score__max": 1.5,
    "lexical_rank__min": 0.0,
    "hour__max": 24.0,
    "popularity__missing": 0.05,
}


def test_each_broken_fact_fails_its_expectation(tmp_path: Path) -> None:
    # One summary row per broken fact (one GX run: a context costs seconds): every broken
    # column fails exactly its own expectation, and nothing else fails.
    frame = pd.concat([_summary(**{column: value}) for column, value in BROKEN.items()], ignore_index=True)
    failed = _failed(frame, tmp_path)
    assert sorted(next(c for c in BROKEN if c in line) for line in failed) == sorted(BROKEN), failed
