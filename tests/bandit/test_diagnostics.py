"""Propensity diagnostics flag broken propensity columns and missing support."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ltrr.bandit.diagnostics import DiagnosticThresholds, check_diagnostics, propensity_diagnostics
from ltrr.bandit.synthetic import SyntheticBandit


@pytest.fixture(scope="module")
def logged() -> dict:
    """50,000 synthetic rows with the fixed target policy's probabilities of the logged plans."""
    sb = SyntheticBandit()
    arrays = sb.sample_cells(50_000, seed=3)
    cells = sb.cells()
    target = sb.target_probabilities(cells)[arrays["cell"], arrays["action"]]
    plan_ids = np.array(sb.plan_ids)[arrays["action"]]
    return {"pscore": arrays["pscore"], "target": target, "plan_ids": plan_ids, "menu": sb.plan_ids}


def test_clean_column_passes(logged: dict) -> None:
    diag = propensity_diagnostics(
        logged["pscore"], logged["target"], plan_ids=logged["plan_ids"], target_support=logged["menu"]
    )
    assert check_diagnostics(diag) == []
    assert diag.n_invalid == 0 and diag.unsupported_plans == ()
    assert abs(diag.mean_weight - 1.0) < 4 * diag.mean_weight_se
    assert diag.pscore_min == pytest.approx(0.2 / 13) and diag.pscore_quantiles["q100"] == pytest.approx(0.8 + 0.2 / 13)
    assert diag.ess == pytest.approx(logged["target"].size * diag.ess_ratio)
    assert diag.to_dict()["n_invalid"] == 0


def test_broken_propensities_are_flagged(logged: dict) -> None:
    p = logged["pscore"].copy()
    p[:3] = 0.0
    p[3:5] = 1.7
    p[5] = np.nan
    p[6] = -0.2
    diag = propensity_diagnostics(p, logged["target"])
    assert (diag.n_zero, diag.n_above_one, diag.n_nan, diag.n_negative) == (3, 2, 1, 1)
    reasons = check_diagnostics(diag)
    assert any(
        "7 of 50000 logged propensities are invalid (1 NaN, 3 zero, 1 negative, 2 above 1)" in r for r in reasons
    )
    assert diag.n_weighted == 50_000 - 7  # weights only over valid rows


def test_wrong_propensities_fail_the_mean_weight_check(logged: dict) -> None:
    """Propensities logged as if ε were 0.4 instead of 0.2: valid numbers, wrong distribution."""
    wrong = np.where(logged["pscore"] > 0.5, logged["pscore"] - 0.2 + 0.4 / 13, 0.4 / 13)
    reasons = check_diagnostics(propensity_diagnostics(wrong, logged["target"]))
    assert any(r.startswith("mean importance weight") for r in reasons)


def test_target_plan_without_logged_support_is_flagged(logged: dict) -> None:
    """Drop every logged row of one plan: the target (which can choose every plan) loses its support."""
    keep = logged["plan_ids"] != "sem50_lex50"
    diag = propensity_diagnostics(
        logged["pscore"][keep],
        logged["target"][keep],
        plan_ids=logged["plan_ids"][keep],
        target_support=logged["menu"],
    )
    assert diag.unsupported_plans == ("sem50_lex50",)
    reasons = check_diagnostics(diag)
    assert any("fewer than 1 logged rows: sem50_lex50" in r for r in reasons)
    assert any(r.startswith("mean importance weight") for r in reasons)  # its mass is missing too
    relaxed = DiagnosticThresholds(require_support=False, mean_weight_z=1e6)
    assert check_diagnostics(diag, relaxed) == []


def test_clip_count_and_small_ess(logged: dict) -> None:
    diag = propensity_diagnostics(logged["pscore"][:500], logged["target"][:500], clip=5.0)
    assert diag.n_clipped == int(np.sum(logged["target"][:500] / logged["pscore"][:500] > 5.0)) > 0
    reasons = check_diagnostics(diag, DiagnosticThresholds(max_clipped_share=0.001))
    assert any(f"{diag.n_clipped} of 500 weights exceed the clip 5 (more than 0.1%)" in r for r in reasons)
    assert any("effective sample size" in r and "below 1000" in r for r in reasons)


def test_invalid_target_and_empty_input() -> None:
    diag = propensity_diagnostics([0.5, 0.5], [0.5, math.nan])
    assert diag.target_n_invalid == 1
    assert any("target probabilities" in r for r in check_diagnostics(diag))
    assert check_diagnostics(propensity_diagnostics(np.array([]))) == ["no logged rows"]
    with pytest.raises(ValueError, match="target_pscore has shape"):
        propensity_diagnostics([0.5, 0.5], [0.5])
