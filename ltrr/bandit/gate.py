"""Held-out evaluation of a learned plan policy, and the safe improvement gate.

Evaluation never uses the rows a policy (or its reward model) was trained on: the policy is
learned on earlier days (or a hash split) and evaluated on held-out rows (:func:`holdout_split`).
:func:`evaluate_policy` refuses rows whose search id the policy or the reward model trained on,
because the scorer has fitted their noise: an in-sample estimate is optimistic.

The gate (:func:`policy_gate`) promotes a new policy only when its doubly robust lower
confidence bound on the held-out logs is at least the champion's estimated value on the same
logs, and the propensity diagnostics pass: "probably at least as good, with the evidence we
have", in the spirit of high-confidence off-policy improvement (Thomas et al. 2015).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ltrr.bandit.diagnostics import PropensityDiagnostics, propensity_diagnostics
from ltrr.bandit.intervals import bootstrap_ratio_interval, normal_interval
from ltrr.bandit.ope import PolicyValue, dm, dr, effective_sample_size, ips, snips, switch_dr
from ltrr.bandit.plan_features import plan_indices, validate_bandit_frame
from ltrr.bandit.policy import PlanPolicy
from ltrr.bandit.reward_model import RewardModel, search_hash

_HOLDOUT_HASH_KEY = "ltrr-bandit-hold"  # 16 bytes, distinct from the cross-fitting key

ESTIMATORS: tuple[str, ...] = ("ips", "snips", "dm", "dr", "switch_dr")
"""Estimators :func:`evaluate_policy` runs by default."""


@dataclass(frozen=True)
class GateResult:
    """Outcome of the safe improvement gate.

    Attributes:
        passed: whether the new policy may be promoted.
        reasons: why not (empty when passed), or, when passed, nothing.
        new: the new policy's estimate.
        champion: the champion's estimate.
    """

    passed: bool
    reasons: tuple[str, ...]
    new: PolicyValue
    champion: PolicyValue

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return {
            "passed": self.passed,
            "reasons": list(self.reasons),
            "new": self.new.to_dict(),
            "champion": self.champion.to_dict(),
        }


def holdout_split(
    frame: pd.DataFrame, *, how: str = "last_day", share: float = 0.2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a bandit frame into training and held-out rows.

    Args:
        frame: the bandit dataset.
        how: ``"last_day"`` (train on the days before the last ``ds``, evaluate on the last; the
            honest split for a nightly job, since the policy will serve the future) or ``"hash"``
            (a ``share`` of searches chosen by a hash of ``search_id``; for single-day data).
        share: held-out share for ``"hash"``.

    Returns:
        ``(train, held_out)``, both non-empty.

    Raises:
        ValueError: on an unknown ``how``, a single day with ``"last_day"``, or an empty side.
    """
    if how == "last_day":
        days = frame["ds"].astype(str)
        last = days.max()
        held = days == last
        if held.all():
            raise ValueError(f"only one day ({last}) in the frame: use how='hash' or more days")
    elif how == "hash":
        if not 0.0 < share < 1.0:
            raise ValueError(f"share must be in (0, 1), got {share}")
        u = search_hash(frame["search_id"], key=_HOLDOUT_HASH_KEY).astype(np.float64) / 2.0**64
        held = pd.Series(u < share, index=frame.index)
    else:
        raise ValueError(f"how must be 'last_day' or 'hash', got {how!r}")
    train, test = frame[~held], frame[held]
    if train.empty or test.empty:
        raise ValueError(f"the split left an empty side ({len(train)} training, {len(test)} held-out rows)")
    return train, test


def _refuse_training_rows(frame: pd.DataFrame, policy: PlanPolicy, reward_model: RewardModel) -> None:
    hashes = search_hash(frame["search_id"])
    for name, trained in (("reward model", reward_model.train_hashes), ("policy", policy.training_hashes)):
        if trained is not None and trained.size:
            overlap = int(np.isin(hashes, trained).sum())
            if overlap:
                raise ValueError(
                    f"{overlap} of {len(frame)} evaluation rows were training rows of the {name}: "
                    "evaluate on held-out rows (see holdout_split)"
                )


@dataclass(frozen=True)
class HoldoutScores:
    """Held-out rows scored once for estimation (:func:`score_holdout`).

    Attributes:
        plan_index: the logged plan's menu index per row, shape (n,).
        probabilities: π(plan | x) per row, shape (n, |menu|).
        q_all: the reward model's q̂(x, plan) per row (mean of its folds), shape (n, |menu|).
    """

    plan_index: np.ndarray
    probabilities: np.ndarray
    q_all: np.ndarray


def score_holdout(frame: pd.DataFrame, policy: PlanPolicy, reward_model: RewardModel) -> HoldoutScores:
    """Check held-out rows and score them with the policy and the reward model.

    The scoring (LightGBM over every row and plan, for the scorer and each reward-model fold)
    is the slow part of an evaluation; :func:`evaluate_policy` and
    :func:`improvement_over_logged` take its result so the nightly job scores once.

    Raises:
        ValueError: on a frame that breaks the contract, or rows the policy or the reward model
            trained on.
    """
    validate_bandit_frame(frame, policy.spec, policy.menu)
    _refuse_training_rows(frame, policy, reward_model)
    return HoldoutScores(
        plan_index=plan_indices(frame["plan_id"], policy.menu),
        probabilities=policy.probabilities_frame(frame),
        q_all=reward_model.predict_all_plans(frame, policy.menu),
    )


def _scores_of(
    frame: pd.DataFrame, policy: PlanPolicy, reward_model: RewardModel, scores: HoldoutScores | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if scores is None:
        scores = score_holdout(frame, policy, reward_model)
    else:
        _check_rows(scores, frame)
    return scores.plan_index, scores.probabilities, scores.q_all


def _check_rows(scores: HoldoutScores, frame: pd.DataFrame) -> None:
    if scores.plan_index.shape[0] != len(frame):
        raise ValueError(f"scores of {scores.plan_index.shape[0]} rows given for a frame of {len(frame)}")


def evaluate_policy(
    frame: pd.DataFrame,
    policy: PlanPolicy,
    reward_model: RewardModel,
    *,
    estimators: Sequence[str] = ESTIMATORS,
    switch_tau: float = 10.0,
    clip: float | None = None,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int = 0,
    reward_range: tuple[float, float] | None = None,
    scores: HoldoutScores | None = None,
) -> dict[str, PolicyValue]:
    """Off-policy estimates of a policy's value on held-out logged rows.

    Args:
        frame: held-out bandit rows (never the policy's or the reward model's training rows).
        policy: the policy to evaluate; every logged plan must be in its menu.
        reward_model: q̂ fitted on other rows (typically the policy's training rows); its mean
            fold prediction is used.
        estimators: any of ``"ips"``, ``"snips"``, ``"dm"``, ``"dr"``, ``"switch_dr"``.
        switch_tau: Switch-DR's weight threshold (rows above it use the model only).
        clip: maximum importance weight for IPS/SNIPS/DR, or None.
        ci: interval method (see :mod:`ltrr.bandit.ope`).
        alpha: significance level.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed (the same for every estimator).
        reward_range: known reward bounds (Bernstein intervals only).
        scores: ``score_holdout(frame, policy, reward_model)`` when already computed.

    Returns:
        Estimates by estimator name.

    Raises:
        ValueError: on a frame that breaks the contract, rows the policy or reward model trained
            on, or an unknown estimator.
    """
    unknown = set(estimators) - set(ESTIMATORS)
    if unknown:
        raise ValueError(f"unknown estimators {sorted(unknown)}; known: {ESTIMATORS}")
    a, probs, q_all = _scores_of(frame, policy, reward_model, scores)
    rows = np.arange(len(frame))
    reward = frame["reward"].to_numpy(dtype=np.float64)
    pscore = frame["propensity"].to_numpy(dtype=np.float64)
    common = {"ci": ci, "alpha": alpha, "n_bootstrap": n_bootstrap, "random_state": random_state}
    weights = {"reward": reward, "pscore": pscore, "target_pscore": probs[rows, a]}
    models = {"q_logged": q_all[rows, a], "q_target": np.sum(probs * q_all, axis=1)}
    bounds = {"reward_range": reward_range}
    out: dict[str, PolicyValue] = {}
    for name in estimators:
        if name == "ips":
            out[name] = ips(**weights, clip=clip, **common, **bounds)
        elif name == "snips":
            out[name] = snips(**weights, clip=clip, **common, **bounds)
        elif name == "dm":
            out[name] = dm(q_target=models["q_target"], **common)
        elif name == "dr":
            out[name] = dr(**weights, **models, clip=clip, **common, **bounds)
        else:
            out[name] = switch_dr(**weights, **models, tau=switch_tau, **common, **bounds)
    return out


def improvement_over_logged(
    frame: pd.DataFrame,
    policy: PlanPolicy,
    reward_model: RewardModel,
    *,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int = 0,
    scores: HoldoutScores | None = None,
) -> PolicyValue:
    """Paired estimate of V(new) − V(logging policy) on the same held-out rows.

    Each row contributes d_i = DR_i(new) − r_i, where DR_i is the doubly robust term of
    :func:`ltrr.bandit.ope.dr` (q_target + w (r − q_logged)) and r_i is the row's reward, the
    on-policy term of the logging policy. The mean of d is the DR estimate minus the logged mean
    reward, so its point value equals ``evaluate_policy(...)["dr"].value −
    logged_policy_value(...).value``; its interval resamples the two *together*, so it accounts
    for the champion's own sampling noise (which comparing a lower bound with the champion's
    point value ignores) and cancels the noise the two share (rows where the new policy plays
    the logged plan with the logged probability contribute about q_target − q_logged).

    Args:
        frame: held-out bandit rows, logged by the champion (never the policy's training rows).
        policy: the new policy.
        reward_model: q̂ fitted on other rows (its mean fold prediction is used).
        ci: ``"bootstrap"`` or ``"normal"``.
        alpha: significance level.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed.
        scores: ``score_holdout(frame, policy, reward_model)`` when already computed.

    Returns:
        The estimate (estimator ``"dr_minus_logged"``; ``ess`` is the DR weights' ESS).

    Raises:
        ValueError: as :func:`evaluate_policy`, or on another ``ci``.
    """
    if ci not in ("bootstrap", "normal"):
        raise ValueError(f"ci must be 'bootstrap' or 'normal', got {ci!r}")
    a, probs, q_all = _scores_of(frame, policy, reward_model, scores)
    rows = np.arange(len(frame))
    reward = frame["reward"].to_numpy(dtype=np.float64)
    w = probs[rows, a] / frame["propensity"].to_numpy(dtype=np.float64)
    terms = np.sum(probs * q_all, axis=1) + w * (reward - q_all[rows, a]) - reward
    value = float(terms.mean())
    if ci == "bootstrap":
        low, high, extra = bootstrap_ratio_interval(
            terms, None, alpha=alpha, n_bootstrap=n_bootstrap, random_state=random_state
        )
    else:
        low, high, extra = normal_interval(value, terms, alpha=alpha)
    return PolicyValue(
        value=value,
        ci_low=float(low),
        ci_high=float(high),
        n=len(frame),
        ess=effective_sample_size(w),
        estimator="dr_minus_logged",
        ci_method=ci,
        alpha=alpha,
        extra={**extra, "max_weight": float(w.max()), "mean_weight": float(w.mean())},
    )


def policy_diagnostics(
    frame: pd.DataFrame,
    policy: PlanPolicy,
    *,
    clip: float | None = None,
    min_support_rows: int = 1,
    scores: HoldoutScores | None = None,
) -> PropensityDiagnostics:
    """Propensity diagnostics of ``policy`` as the target on logged rows.

    The target's support is every plan it gives a positive probability on at least one row.

    Args:
        frame: logged bandit rows.
        policy: the target policy.
        clip: a weight clip to count against, or None.
        min_support_rows: fewer logged rows than this makes a target plan unsupported.
        scores: ``score_holdout(frame, policy, ...)`` when already computed (its probabilities
            are reused).

    Returns:
        The diagnostics (see :func:`ltrr.bandit.diagnostics.propensity_diagnostics`).
    """
    if scores is None:
        a, probs = plan_indices(frame["plan_id"], policy.menu), policy.probabilities_frame(frame)
    else:
        _check_rows(scores, frame)
        a, probs = scores.plan_index, scores.probabilities
    support = [pid for pid, p in zip(policy.plan_ids, probs.max(axis=0), strict=True) if p > 0.0]
    return propensity_diagnostics(
        frame["propensity"].to_numpy(dtype=np.float64),
        target_pscore=probs[np.arange(len(frame)), a],
        plan_ids=frame["plan_id"].astype(str).to_numpy(),
        target_support=support,
        clip=clip,
        min_support_rows=min_support_rows,
    )


def logged_policy_value(
    frame: pd.DataFrame, *, ci: str = "bootstrap", alpha: float = 0.05, n_bootstrap: int = 1000, random_state: int = 0
) -> PolicyValue:
    """On-policy value of the policy that logged ``frame``: the mean reward, with its interval.

    This is the champion's value when the champion is the policy that served the logs (IPS with
    the target equal to the logging policy: every weight is 1).

    Args:
        frame: logged bandit rows.
        ci: interval method.
        alpha: significance level.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed.

    Returns:
        The estimate (estimator ``"ips"``).
    """
    p = frame["propensity"].to_numpy(dtype=np.float64)
    return ips(
        reward=frame["reward"].to_numpy(dtype=np.float64),
        pscore=p,
        target_pscore=p,
        ci=ci,
        alpha=alpha,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
    )


def policy_gate(
    new: PolicyValue,
    champion: PolicyValue,
    diagnostics_reasons: Sequence[str] = (),
    *,
    min_improvement: float = 0.0,
) -> GateResult:
    """Safe improvement gate: promote only if new.ci_low ≥ champion.value (+ margin) and diagnostics pass.

    Args:
        new: the new policy's estimate on held-out logs (DR, with an interval).
        champion: the current champion's estimate on the same logs.
        diagnostics_reasons: failures from :func:`ltrr.bandit.diagnostics.check_diagnostics`.
        min_improvement: extra margin the lower bound must clear.

    Returns:
        The decision with human-readable reasons.
    """
    reasons: list[str] = []
    if math.isnan(new.ci_low):
        reasons.append(f"the new policy's {new.estimator} estimate has no confidence interval (ci={new.ci_method})")
    elif math.isnan(champion.value):
        reasons.append("the champion's value is not a number")
    elif new.ci_low < champion.value + min_improvement:
        reasons.append(
            f"the new policy's {new.estimator} lower bound {new.ci_low:.5f} "
            f"({1 - new.alpha:.0%} {new.ci_method} interval, value {new.value:.5f}) is below the champion's value "
            f"{champion.value:.5f}" + (f" + margin {min_improvement:g}" if min_improvement else "")
        )
    if new.n != champion.n:
        reasons.append(f"the estimates come from different rows (new n={new.n}, champion n={champion.n})")
    reasons.extend(f"diagnostics: {r}" for r in diagnostics_reasons)
    return GateResult(passed=not reasons, reasons=tuple(reasons), new=new, champion=champion)
