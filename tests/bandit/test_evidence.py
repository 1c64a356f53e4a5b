"""How well logs separate plans (``ltrr.bandit.evidence``): hand-worked figures and their scaling."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from ltrr.bandit.evidence import plan_evidence
from ltrr.bandit.synthetic import SyntheticBandit
from ltrr.retrieval.plans import PLAN_MENU

MENU = {p.plan_id: p for p in PLAN_MENU}


def test_hand_worked_values_and_gap() -> None:
    """Day 1: A (p 0.5, r 1), A (p 0.5, r 0), B (p 0.25, r 1), A (p 0.5, r 1); day 2: A (p 1, r 0).
    C is never logged. A is the reference (4 rows). B was logged on day 1 only, so its figures use
    day 1's four rows: terms B = [0, 0, 4, 0] (mean 1, sd 2), A = [2, 0, 0, 2] on those rows;
    B − A = [−2, 0, 4, −2] (mean 0, sd √8). Gap = (z_0.975 + z_0.8) · √8 / √4.
    A on both days: terms [2, 0, 0, 2, 0], mean 0.8."""
    frame = pd.DataFrame(
        {
            "ds": ["d1", "d1", "d1", "d1", "d2"],
            "plan_id": ["lex100", "lex100", "lex75_pop25", "lex100", "lex100"],
            "propensity": [0.5, 0.5, 0.25, 0.5, 1.0],
            "reward": [1.0, 0.0, 1.0, 1.0, 0.0],
        }
    )
    ev = plan_evidence(frame, [MENU["lex100"], MENU["lex75_pop25"], MENU["lex50_pop50"]])
    assert ev["rows"] == 5 and ev["reference_plan"] == "lex100"
    a, b, c = (ev["plans"][k] for k in ("lex100", "lex75_pop25", "lex50_pop50"))
    assert (a["rows"], a["days"], b["rows"], b["days"]) == (4, 2, 1, 1)
    assert a["value"] == pytest.approx(0.8) and a["detectable_gap"] is None
    assert a["se"] == pytest.approx(math.sqrt(1.2) / math.sqrt(5))
    assert b["value"] == pytest.approx(1.0) and b["se"] == pytest.approx(2.0 / 2.0)
    z = NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)
    assert b["detectable_gap"] == pytest.approx(z * math.sqrt(8.0) / 2.0)
    assert c == {"rows": 0, "days": 0, "value": None, "se": None, "detectable_gap": None}
    assert ev["median_detectable_gap"] == pytest.approx(b["detectable_gap"])


def test_more_exploration_detects_smaller_gaps() -> None:
    """Four times the exploration share gives about half the detectable gap (weights 1/p fall
    roughly in proportion), and four times the rows halves it again."""
    gaps = {}
    for epsilon, n in ((0.1, 40_000), (0.4, 40_000), (0.4, 160_000)):
        sb = SyntheticBandit(epsilon=epsilon)
        frame = sb.sample(n, seed=3, n_days=2)
        gaps[(epsilon, n)] = plan_evidence(frame, sb.menu)["median_detectable_gap"]
    assert 1.6 < gaps[(0.1, 40_000)] / gaps[(0.4, 40_000)] < 2.4
    assert gaps[(0.4, 40_000)] / gaps[(0.4, 160_000)] == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("propensity", 0.0, "propensities"), ("propensity", 1.5, "propensities")],
)
def test_rejects_bad_propensities(column: str, value: float, message: str) -> None:
    frame = pd.DataFrame({"ds": ["d"], "plan_id": ["lex100"], "propensity": [0.5], "reward": [1.0]})
    frame[column] = value
    with pytest.raises(ValueError, match=message):
        plan_evidence(frame, [MENU["lex100"]])
    with pytest.raises(ValueError, match="at least one row"):
        plan_evidence(frame.iloc[:0], [MENU["lex100"]])
    with pytest.raises(ValueError, match="alpha and power"):
        plan_evidence(frame.assign(propensity=0.5), [MENU["lex100"]], power=1.0)
    assert np.isfinite(plan_evidence(frame.assign(propensity=0.5), [MENU["lex100"]])["plans"]["lex100"]["value"])
