"""The factor-table GX suite catches each defect it is meant to catch (real GX on Spark)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ltrr.embed.checks import factor_expectations, vector_frame
from ltrr.validate.gx_runner import run_suite


def _run(spark, frame, tmp_path: Path, **kwargs):
    return run_suite(
        spark.createDataFrame(frame),
        suite_name="ltrr-embeddings-test",
        expectations=lambda gx: factor_expectations(gx, **kwargs),
        result_path=tmp_path / "result.json",
    )


def test_suite_names_each_defect(spark, tmp_path: Path) -> None:
    # (Clean vectors pass the same suite in tests/embed/test_embeddings_day.py.)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 4))
    ids = np.array([f"e{i}" for i in range(6)], dtype=object)
    bad_vectors = vectors.copy()
    bad_vectors[1, 2] = np.nan  # not finite
    bad_vectors[2] = 0.0  # zero vector: retrieves nothing
    bad_vectors[3] *= 1e6  # diverged
    bad_ids = ids.copy()
    bad_ids[5] = "e4"  # duplicate id
    frame = vector_frame(bad_ids, bad_vectors)
    frame.loc[0, "idx"] = 9  # a gap in the dense index
    # The index holds 7 items but the table 6 rows, and the matrix had 6 entities.
    bad = _run(spark, frame, tmp_path, rows=6, max_norm=100.0, index_size=7)
    assert not bad.success
    failed = "\n".join(bad.failed)
    assert "expect_column_values_to_be_in_set(finite): 1 unexpected" in failed
    assert "expect_column_values_to_be_unique(id): 2 unexpected" in failed
    assert "expect_column_values_to_be_between(idx): 1 unexpected" in failed
    assert "expect_column_max_to_be_between(idx)" in failed
    # norm: the zero vector and the diverged one (the NaN row has no norm)
    assert "expect_column_values_to_be_between(norm): 2 unexpected" in failed
    assert "expect_column_values_to_not_be_null(norm): 1 unexpected" in failed
    assert "expect_table_row_count_to_equal" not in failed  # 6 rows, as required


def test_gate_names_the_failed_expectations_and_missing_artifacts(tmp_path: Path) -> None:
    from ltrr.config import load_settings
    from ltrr.embed.day import rejection_path
    from ltrr.embed.gate import require_published_embeddings
    from ltrr.orchestration.checks import DayRejected

    settings = load_settings(data_root=tmp_path / "data", state_dir=tmp_path / "state")
    with pytest.raises(FileNotFoundError, match="did train_embeddings run"):
        require_published_embeddings(settings, "2026-01-05")
    path = rejection_path(settings.data_root, "2026-01-05")
    path.parent.mkdir(parents=True)
    detail = {"reason": "validation", "validation": {"items": {"failed": ["expect_x(norm): 2 unexpected"]}}}
    path.write_text(json.dumps(detail))
    with pytest.raises(DayRejected, match=r"failed validation: items: expect_x\(norm\): 2 unexpected"):
        require_published_embeddings(settings, "2026-01-05")
