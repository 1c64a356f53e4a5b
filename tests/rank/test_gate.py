"""The ranker gate on constructed metrics."""

from __future__ import annotations

import math

import pytest

from ltrr.rank.gate import ranker_gate


def _metrics(entries: dict[str, tuple[float, float, float]]) -> dict:
    """Scorer -> (mean, ci_low, ci_high) of NDCG@10, in ``evaluate_scorers`` form."""
    return {
        "gain": "label_ips",
        "n_queries": 1000,
        "scorers": {
            name: {"ndcg@10": {"mean": m, "ci_low": lo, "ci_high": hi, "n_queries": 1000}}
            for name, (m, lo, hi) in entries.items()
        },
    }


BASELINES = ("logged", "popularity", "q2e")
BASE = {"logged": (0.540, 0.52, 0.56), "popularity": (0.530, 0.51, 0.55), "q2e": (0.556, 0.54, 0.57)}


def test_better_model_passes() -> None:
    result = ranker_gate(_metrics({**BASE, "model": (0.638, 0.621, 0.656)}), "model", BASELINES)
    assert result.passed
    assert result.best_baseline == "q2e"
    assert result.margin == pytest.approx(0.621 - 0.556)
    assert result.reasons[0].startswith("passed: model ndcg@10")
    assert "q2e mean 0.5560" in result.reasons[0]
    assert all("\n" not in r for r in result.reasons)


def test_worse_model_is_blocked() -> None:
    result = ranker_gate(_metrics({**BASE, "model": (0.50, 0.48, 0.52)}), "model", BASELINES)
    assert not result.passed
    assert result.margin == pytest.approx(0.48 - 0.556)
    assert result.reasons[0].startswith("blocked:")


def test_model_whose_interval_overlaps_the_best_baseline_is_blocked() -> None:
    """Mean above the baseline, lower bound below it: not shown to be better."""
    result = ranker_gate(_metrics({**BASE, "model": (0.566, 0.550, 0.58)}), "model", BASELINES)
    assert not result.passed and result.best_baseline == "q2e"


def test_missing_inputs_block() -> None:
    no_model = ranker_gate(_metrics(BASE), "model", BASELINES)
    assert not no_model.passed and "no ndcg@10 lower bound" in no_model.reasons[0]
    nan_ci = ranker_gate(_metrics({**BASE, "model": (0.7, math.nan, math.nan)}), "model", BASELINES)
    assert not nan_ci.passed
    no_baseline = ranker_gate(_metrics({"model": (0.7, 0.69, 0.71)}), "model", BASELINES)
    assert not no_baseline.passed and no_baseline.best_baseline is None
    assert any("baseline q2e: no ndcg@10 mean" in r for r in no_baseline.reasons)
