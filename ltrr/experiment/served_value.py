"""The off-policy estimate of a served day's policy, made the night before, and its realised value.

The policy that serves day D is the Searcher's plan chooser of the bundle of D − 1 (its learned
policy, or the day-0 rule, mixed with serving exploration). Before D is served, its value can
only be estimated from the logs of D − 1: for each logged search of D − 1, the served policy's
probability of the logged plan (computed by that very chooser on the logged query, context and
user) is the target propensity of IPS and SNIPS, and with a reward model fitted on the bandit
rows of the days before D − 1, DR. After D is served, the mean reward of its bandit rows is the
realised value, and the experiment shows both side by side.

Plans the served policy gives mass to but that D − 1 never logged cannot be estimated by
importance weighting (their rows do not exist); the share of such mass is reported with the
estimate (``unsupported_mass``), since it biases IPS and SNIPS downward.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from ltrr.zones import artifact_dir, partition_path

DATASET = "bandit_dataset"
ESTIMATORS = ("ips", "snips", "dr")
MIN_REWARD_MODEL_ROWS = 500


def bandit_rows(root: Path, ds: str) -> pd.DataFrame | None:
    """The bandit rows of a day, or None when the day has none."""
    path = artifact_dir(root, ds, DATASET) / "rows"
    if not path.is_dir():
        return None
    return pq.read_table(path).to_pandas()


def realised_value(root: Path, ds: str) -> dict | None:
    """Mean reward (and its standard error) of a served day's bandit rows, or None."""
    rows = bandit_rows(root, ds)
    if rows is None or not len(rows):
        return None
    reward = rows["reward"].to_numpy(dtype=np.float64)
    se = float(reward.std(ddof=1) / np.sqrt(len(reward))) if len(reward) > 1 else 0.0
    return {"value": float(reward.mean()), "se": se, "n": len(reward)}


REQUEST_COLUMNS = ("query", "context", "locale", "device", "user_id")


def _logged_requests(root: Path, ds: str) -> pd.DataFrame:
    table = pq.read_table(partition_path(root, "clean", "searches", ds), columns=["search_id", *REQUEST_COLUMNS])
    return table.to_pandas()


def served_policy_estimates(
    root: Path, chooser: Any, logs_ds: str, *, reward_days: int = 7, random_state: int = 0
) -> dict | None:
    """Estimate a chooser's value on the logs of one day (see the module docstring).

    Args:
        root: data root (bandit rows and clean searches of ``logs_ds`` and the days before).
        chooser: the served plan chooser (``Searcher.policy``: ``menu`` and
            ``probabilities(query, context, user_id)``).
        logs_ds: the logged day (the day before the served day).
        reward_days: days of bandit rows before ``logs_ds`` the DR reward model is fitted on.
        random_state: bootstrap seed.

    Returns:
        ``{"estimates": {name: PolicyValue dict}, "unsupported_mass": float, "rows": int,
        "note": str}``, or None when ``logs_ds`` has no bandit rows.
    """
    from ltrr.bandit import ope
    from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
    from ltrr.bandit.reward_model import fit_reward_model

    rows = bandit_rows(root, logs_ds)
    if rows is None or not len(rows):
        return None
    requests = _logged_requests(root, logs_ds).add_prefix("request_").rename(columns={"request_search_id": "search_id"})
    frame = rows.merge(requests, on="search_id", how="left", validate="one_to_one")
    if frame["request_query"].isna().any():
        raise ValueError(f"{int(frame['request_query'].isna().sum())} bandit rows of {logs_ds} have no clean search")
    menu = tuple(chooser.menu)
    index = {p.plan_id: i for i, p in enumerate(menu)}
    unknown = sorted(set(frame["plan_id"]) - set(index))
    if unknown:
        raise ValueError(f"plans {unknown} logged on {logs_ds} are not in the served policy's menu")
    probs = np.vstack(
        [
            chooser.probabilities(q, {**dict(c or {}), "locale": loc, "device": dev}, u)
            for q, c, loc, dev, u in zip(*(frame[f"request_{k}"] for k in REQUEST_COLUMNS), strict=True)
        ]
    )
    a = frame["plan_id"].map(index).to_numpy(dtype=np.int64)
    n = len(frame)
    rows_idx = np.arange(n)
    logged = np.zeros(len(menu), dtype=bool)
    logged[np.unique(a)] = True
    unsupported = float(probs[:, ~logged].sum(axis=1).mean())
    weights = {
        "reward": frame["reward"].to_numpy(dtype=np.float64),
        "pscore": frame["propensity"].to_numpy(dtype=np.float64),
        "target_pscore": probs[rows_idx, a],
    }
    common = {"random_state": random_state}
    estimates = {"ips": ope.ips(**weights, **common), "snips": ope.snips(**weights, **common)}
    note = f"{n} logged searches of {logs_ds}; {unsupported:.1%} of the policy's mass on plans not logged that day"
    history = _history(root, logs_ds, reward_days)
    if history is not None and len(history) >= MIN_REWARD_MODEL_ROWS:
        spec = BANDIT_CONTEXT_SPEC
        model = fit_reward_model(history, spec, menu)
        q_all = model.predict_all_plans(frame, menu)
        estimates["dr"] = ope.dr(
            **weights, q_logged=q_all[rows_idx, a], q_target=np.sum(probs * q_all, axis=1), **common
        )
        note += f"; DR reward model fitted on {len(history)} rows before {logs_ds}"
    else:
        note += "; no DR (too few bandit rows before that day for a reward model)"
    return {
        "estimates": {k: _value_dict(v) for k, v in estimates.items()},
        "unsupported_mass": unsupported,
        "rows": n,
        "note": note,
    }


def _history(root: Path, ds: str, days: int) -> pd.DataFrame | None:
    end = dt.date.fromisoformat(ds)
    frames = []
    for i in range(days, 0, -1):
        got = bandit_rows(root, (end - dt.timedelta(days=i)).isoformat())
        if got is not None:
            frames.append(got)
    return pd.concat(frames, ignore_index=True) if frames else None


def _value_dict(value: Any) -> dict:
    return {
        "value": float(value.value),
        "ci_low": float(value.ci_low),
        "ci_high": float(value.ci_high),
        "ess": float(value.ess),
        "n": int(value.n),
    }
