"""One day of the policy job: learn a plan policy, estimate it off-policy, gate it, publish ``artifacts/policy/ds=D/``.

Which rows play which part (never evaluate a policy on rows it learned from):

- **train**: the bandit rows of the ``bandit_train_days`` days up to D, except D;
- **holdout**: the rows of D, served by the current champion (its logged propensities are the
  logging policy). With no earlier day, D is split by a hash of the search id (80/20).

The menu is every plan logged in the window, with the steps it was logged with. The gate
(``ltrr.bandit.gate.policy_gate``) compares the new policy's doubly robust estimate on the
holdout with the champion's on-policy value there (the mean logged reward), and requires the
propensity diagnostics (valid propensities, mean weight ≈ 1, ESS, support) to pass.

Outcomes, in ``report.json`` (and in the DAG's summary):

- ``published``: the new policy passed; ``model.txt``, ``policy.json``, ``golden.json``
  (parity-checked on reload), ``evaluation.json``, ``validation.json`` (GX suite of the
  estimates), ``report.json``;
- ``kept``: the gate refused the new policy and an earlier published policy exists: that
  champion policy is copied unchanged (its files and its own ``report.json`` of origin under
  ``champion_report.json``), so the day's bundle keeps serving it. The refusal is recorded in
  ``validation/ds=D/policy_rejected.json``;
- ``refused``: refused, and no earlier policy: nothing is published (serving keeps the day-0
  logging policy, which is the champion). Also recorded in ``policy_rejected.json``;
- ``skipped``: too few training searches to learn at all (``validation/ds=D/policy_skipped.json``).

A refused policy never blocks the rest of the day's bundle: refusing means "keep serving the
champion", which the bundle then does. A dataset that failed validation stops the run earlier.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pandas as pd

from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
from ltrr.bandit.dataset_day import ARTIFACT as DATASET
from ltrr.bandit.dataset_day import read_rows
from ltrr.bandit.diagnostics import DiagnosticThresholds, check_diagnostics
from ltrr.bandit.evidence import plan_evidence
from ltrr.bandit.gate import (
    ESTIMATORS,
    evaluate_policy,
    holdout_split,
    improvement_over_logged,
    logged_policy_value,
    policy_diagnostics,
    policy_gate,
    score_holdout,
)
from ltrr.bandit.plan_features import BANDIT_COLUMNS, plan_from_dict
from ltrr.bandit.policy import PlanPolicy, PolicyParams, learn_policy, load_policy, save_policy
from ltrr.bandit.reward_model import BoosterParams
from ltrr.config import Settings
from ltrr.memory.artifact import publish, staging_dir, write_json
from ltrr.retrieval.plans import PLAN_MENU, Plan
from ltrr.validate.gx_runner import run_suite
from ltrr.zones import artifact_dir, validation_dir

ARTIFACT = "policy"
HOLDOUT_SHARE = 0.2
"""Share of searches held out when the window has a single day."""
GOLDEN_ROWS = 200
OUTCOMES = ("published", "kept", "refused", "skipped")


class PolicySkipped(RuntimeError):
    """Too few training searches to learn a policy; the message says how many."""


def rejection_path(data_root: Path, ds: str) -> Path:
    """Where a refused policy leaves its reasons."""
    return validation_dir(data_root, ds) / "policy_rejected.json"


def skip_path(data_root: Path, ds: str) -> Path:
    """Where a day without enough bandit rows records why no policy was learned."""
    return validation_dir(data_root, ds) / "policy_skipped.json"


def params_from_settings(settings: Settings) -> PolicyParams:
    """The policy-learning parameters of the run settings."""
    booster = BoosterParams(
        num_boost_round=settings.bandit_num_boost_round,
        num_leaves=settings.bandit_num_leaves,
        min_data_in_leaf=settings.bandit_min_data_in_leaf,
    )
    return PolicyParams(
        temperature=settings.bandit_temperature,
        epsilon=settings.bandit_epsilon,
        max_weight=settings.bandit_max_weight or None,
        reward=booster,
        scorer=booster,
    )


def read_window(root: Path, ds: str, days: int) -> tuple[pd.DataFrame, list[str]]:
    """The bandit rows of the ``days`` days ending at ``ds`` that exist, and the days missing.

    Raises:
        FileNotFoundError: when ``ds`` itself has no bandit rows.
    """
    end = dt.date.fromisoformat(ds)
    frames, missing = [], []
    for i in range(days - 1, -1, -1):
        day = (end - dt.timedelta(days=i)).isoformat()
        path = artifact_dir(root, day, DATASET) / "rows"
        if path.is_dir():
            frames.append(read_rows(path))
        else:
            missing.append(day)
    if ds in missing:
        raise FileNotFoundError(f"no bandit rows for {ds}; run build_bandit_dataset first")
    return pd.concat(frames, ignore_index=True), missing


def logged_menu(frame: pd.DataFrame) -> tuple[Plan, ...]:
    """Every plan logged in ``frame`` with its logged steps, in ``PLAN_MENU`` order then by id."""
    first = frame.drop_duplicates("plan_id")
    plans = {
        pid: plan_from_dict({"plan_id": pid, "steps": [dict(s) for s in steps]})
        for pid, steps in zip(first["plan_id"], first["plan"], strict=True)
    }
    order = {p.plan_id: i for i, p in enumerate(PLAN_MENU)}
    return tuple(plans[pid] for pid in sorted(plans, key=lambda p: (order.get(p, len(order)), p)))


def estimates_frame(estimates: dict[str, Any], champion: Any) -> pd.DataFrame:
    """One row per estimate (the new policy's estimators and the champion's logged value)."""
    rows = [{"subject": "new", **_row(v)} for v in estimates.values()]
    rows.append({"subject": "champion", **_row(champion)})
    return pd.DataFrame(rows)


def _row(v: Any) -> dict:
    return {
        "estimator": v.estimator,
        "value": v.value,
        "ci_low": v.ci_low,
        "ci_high": v.ci_high,
        "n": v.n,
        "ess": v.ess,
    }


def estimate_expectations(gx: Any, n: int) -> list[Any]:
    """The estimates suite: finite values inside their intervals, all on the same holdout rows."""
    E = gx.expectations
    return [
        *(E.ExpectColumnValuesToNotBeNull(column=c) for c in ("value", "ci_low", "ci_high", "ess")),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="value", column_B="ci_low", or_equal=True),
        E.ExpectColumnPairValuesAToBeGreaterThanB(column_A="ci_high", column_B="value", or_equal=True),
        E.ExpectColumnValuesToBeBetween(column="n", min_value=n, max_value=n),
        E.ExpectColumnValuesToBeBetween(column="ess", min_value=1.0),
    ]


def latest_policy(root: Path, ds: str) -> Path | None:
    """The newest policy artifact before ``ds`` that serves a policy (outcome published or kept)."""
    base = root / "artifacts" / ARTIFACT
    if not base.is_dir():
        return None
    for folder in sorted(base.glob("ds=*"), reverse=True):
        day = folder.name.removeprefix("ds=")
        if day >= ds or not (folder / "report.json").is_file():
            continue
        if json.loads((folder / "report.json").read_text()).get("outcome") in ("published", "kept"):
            return folder
    return None


def _policy_mix(policy: PlanPolicy, frame: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per plan: the logging policy's share of the holdout and the new policy's mean probability there."""
    probs = policy.probabilities_frame(frame)
    logged = frame["plan_id"].value_counts(normalize=True)
    return {
        pid: {
            "logged_share": round(float(logged.get(pid, 0.0)), 6),
            "new_mean_probability": round(float(probs[:, j].mean()), 6),
        }
        for j, pid in enumerate(policy.plan_ids)
    }


def train_policy_day(settings: Settings, ds: str) -> dict:
    """Learn, evaluate, gate and publish the plan policy of ``ds``.

    Args:
        settings: run settings.
        ds: the day (its rows are the holdout).

    Returns:
        The report (also ``report.json`` of the artifact when one is published or kept), with
        ``outcome`` one of :data:`OUTCOMES`.

    Raises:
        FileNotFoundError: when the day has no bandit rows.
        PolicySkipped: when there are fewer training searches than ``bandit_min_train_searches``.
    """
    root = settings.data_root
    final = artifact_dir(root, ds, ARTIFACT)
    for stale in (rejection_path(root, ds), skip_path(root, ds)):
        stale.unlink(missing_ok=True)
    clock = time.perf_counter()
    frame, missing = read_window(root, ds, settings.bandit_train_days)
    frame = frame[[*BANDIT_COLUMNS, "plan", *BANDIT_CONTEXT_SPEC.names]]
    if frame["ds"].nunique() > 1:
        train, holdout = holdout_split(frame, how="last_day")
        split = "last_day"
    else:
        train, holdout = holdout_split(frame, how="hash", share=HOLDOUT_SHARE)
        split = f"hash ({HOLDOUT_SHARE:.0%} of {ds} held out)"
    if len(train) < settings.bandit_min_train_searches:
        reason = (
            f"{len(train)} training searches, fewer than bandit_min_train_searches={settings.bandit_min_train_searches}"
        )
        shutil.rmtree(final, ignore_errors=True)
        path = skip_path(root, ds)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {"ds": ds, "outcome": "skipped", "reason": reason})
        raise PolicySkipped(reason)
    menu = logged_menu(frame)
    params = params_from_settings(settings)
    policy, reward_model = learn_policy(train, BANDIT_CONTEXT_SPEC, menu, params)
    learn_s = time.perf_counter() - clock
    evidence = plan_evidence(train, menu)
    # Estimated as it will serve (with the Searcher's exploration), like the champion's logged value.
    served = policy.with_serving_exploration(settings.serving_exploration)
    scores = score_holdout(holdout, served, reward_model)
    estimates = evaluate_policy(
        holdout, served, reward_model, estimators=ESTIMATORS, n_bootstrap=settings.bandit_bootstrap, scores=scores
    )
    champion = logged_policy_value(holdout, n_bootstrap=settings.bandit_bootstrap)
    improvement = improvement_over_logged(
        holdout, served, reward_model, n_bootstrap=settings.bandit_bootstrap, scores=scores
    )
    diagnostics = policy_diagnostics(holdout, served, min_support_rows=settings.bandit_min_plan_rows, scores=scores)
    thresholds = DiagnosticThresholds(min_ess=settings.bandit_min_ess)
    gate = policy_gate(
        estimates["dr"],
        champion,
        check_diagnostics(diagnostics, thresholds),
        min_improvement=settings.bandit_min_improvement,
    )
    report: dict[str, Any] = {
        "ds": ds,
        "window": {"start": str(frame["ds"].min()), "end": ds, "missing_days": missing, "split": split},
        "rows": {"train": len(train), "holdout": len(holdout)},
        "menu": [p.to_dict() for p in menu],
        "params": {
            "temperature": params.temperature,
            "epsilon": params.epsilon,
            "max_weight": params.max_weight,
            "k_folds": params.k_folds,
            "num_boost_round": settings.bandit_num_boost_round,
            "num_leaves": settings.bandit_num_leaves,
            "min_data_in_leaf": settings.bandit_min_data_in_leaf,
            "cost_per_candidate": settings.bandit_cost_per_candidate,
            "min_ess": settings.bandit_min_ess,
            "min_plan_rows": settings.bandit_min_plan_rows,
            "min_improvement": settings.bandit_min_improvement,
            "serving_exploration": settings.serving_exploration,
        },
        "estimates": {name: v.to_dict() for name, v in estimates.items()},
        "champion": champion.to_dict(),
        "improvement": improvement.to_dict(),
        "gate": gate.to_dict(),
        "diagnostics": diagnostics.to_dict(),
        "evidence": evidence,
        "plans": _policy_mix(policy, holdout),
        "policy_version": policy.version,
    }
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    try:
        gx = run_suite(
            estimates_frame(estimates, champion),
            suite_name="ltrr-bandit-estimates",
            expectations=lambda gx: estimate_expectations(gx, len(holdout)),
            result_path=staging / "validation.json",
        )
        report["validation"] = gx.to_dict()
        reasons = [*gate.reasons, *(f"estimates suite: {f}" for f in gx.failed)]
        report["passed"] = not reasons
        report["reasons"] = reasons
        if not reasons:
            golden = holdout.sort_values("search_id").head(GOLDEN_ROWS)
            save_policy(policy, staging, golden_contexts=golden)
            load_policy(staging)  # the parity check serving will run: fail here, not there
            report["outcome"] = "published"
        else:
            _record_refusal(root, ds, report)
            champion_dir = latest_policy(root, ds)
            if champion_dir is None:
                report["outcome"] = "refused"
                shutil.rmtree(final, ignore_errors=True)
                return _finish(report, learn_s, clock)
            for name in ("model.txt", "policy.json", "golden.json"):
                if (champion_dir / name).is_file():
                    shutil.copy2(champion_dir / name, staging / name)
            shutil.copy2(champion_dir / "report.json", staging / "champion_report.json")
            report["outcome"] = "kept"
            report["kept_from"] = champion_dir.name.removeprefix("ds=")
        write_json(
            staging / "evaluation.json", {k: report[k] for k in ("estimates", "champion", "gate", "diagnostics")}
        )
        write_json(staging / "report.json", report)  # no timings: a re-run must give the same bytes
        publish(staging, final)
        _finish(report, learn_s, clock)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return report


def _finish(report: dict, learn_s: float, clock: float) -> dict:
    report["timings_s"] = {"learn_s": round(learn_s, 2), "total_s": round(time.perf_counter() - clock, 2)}
    return report


def _record_refusal(root: Path, ds: str, report: dict) -> None:
    path = rejection_path(root, ds)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {"ds": ds, "reasons": report["reasons"], "gate": report["gate"], "evidence": report["evidence"]})
