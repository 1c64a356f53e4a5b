"""How well the logs tell the plans apart: per-plan IPS values and the smallest detectable gap.

A plan policy can only be learned from what the logs separate. When the logging policy plays
its own plan for most searches and spreads a small exploration share over many plans, each
other plan is logged a few hundred times a day with large importance weights, and plans whose
values differ by a hundredth cannot be told apart: the learner then chases noise or stays with
the plans it has most rows for (measured on the medium world: docs/bandit.md, "More
exploration"). This module puts a number on it, so the nightly report says when the
exploration share (``LTRR_SERVING_EXPLORATION``) is too small for the traffic.

For every plan a of the menu, over the rows of the days on which a was logged (a plan the
logging policy could not run that day, such as a memory plan on day 0, has no support there and
would read as worth 0):

- ``value``: the IPS value of always playing a, mean of 1[a_i = a] r_i / p_i;
- ``se``: its standard error, sd / √n of the same terms;
- ``detectable_gap``: the smallest difference between a and the reference plan (the plan
  logged most often, the logging policy's usual choice) that a two-sided test at level α
  detects with the given power, (z_{1−α/2} + z_{power}) × the standard error of the paired
  per-row difference of the two plans' IPS terms.

It is a guide, not a bound: it compares static plans one pair at a time, while the reward
model shares evidence across plans through their features. On the medium world the learner
found a gain of about 0.01 when the median gap was 0.026 (η = 0.5) and nothing at 0.057 (η = 0.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from ltrr.retrieval.plans import Plan


def plan_evidence(
    frame: pd.DataFrame,
    menu: Sequence[Plan],
    *,
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict:
    """Per-plan IPS values, standard errors and the smallest gap to the reference plan the rows can detect.

    Args:
        frame: bandit rows with ``ds``, ``plan_id``, ``propensity`` (the logged probability) and
            ``reward``.
        menu: the plans to report (a plan without logged rows gets None figures).
        alpha: two-sided test level.
        power: probability of detecting a gap of the reported size.

    Returns:
        ``{"rows", "reference_plan", "alpha", "power", "median_detectable_gap",
        "plans": {plan_id: {"rows", "days", "value", "se", "detectable_gap"}}}`` (``rows``: the
        plan's logged rows; ``days``: days it was logged on, whose rows the figures use); value,
        se and gap are None for plans without rows, the gap also for the reference plan.

    Raises:
        ValueError: for an empty frame, a propensity outside (0, 1], or alpha/power outside (0, 1).
    """
    if not (0.0 < alpha < 1.0 and 0.0 < power < 1.0):
        raise ValueError(f"alpha and power must be in (0, 1), got {alpha} and {power}")
    n = len(frame)
    if n == 0:
        raise ValueError("plan_evidence needs at least one row")
    pscore = frame["propensity"].to_numpy(dtype=np.float64)
    if not np.all((pscore > 0.0) & (pscore <= 1.0)):
        raise ValueError("propensities must be in (0, 1]")
    weighted = frame["reward"].to_numpy(dtype=np.float64) / pscore
    logged = frame["plan_id"].astype(str).to_numpy()
    days = frame["ds"].astype(str).to_numpy()
    counts = pd.Series(logged).value_counts()
    reference = str(counts.index[0])
    is_reference = logged == reference
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0) + NormalDist().inv_cdf(power)
    plans: dict[str, dict] = {}
    for plan in menu:
        mine = logged == plan.plan_id
        supported = np.isin(days, np.unique(days[mine]))
        m = int(supported.sum())
        entry: dict = {"rows": int(mine.sum()), "days": int(np.unique(days[mine]).size)}
        entry.update(value=None, se=None, detectable_gap=None)
        term = np.where(mine, weighted, 0.0)[supported]
        if m:
            entry["value"] = float(term.mean())
        if m > 1:
            entry["se"] = float(np.std(term, ddof=1)) / math.sqrt(m)
            if plan.plan_id != reference:
                diff = term - np.where(is_reference, weighted, 0.0)[supported]
                entry["detectable_gap"] = z * float(np.std(diff, ddof=1)) / math.sqrt(m)
        plans[plan.plan_id] = entry
    gaps = [p["detectable_gap"] for p in plans.values() if p["detectable_gap"] is not None]
    return {
        "rows": n,
        "reference_plan": reference,
        "alpha": alpha,
        "power": power,
        "median_detectable_gap": float(np.median(gaps)) if gaps else None,
        "plans": plans,
    }
