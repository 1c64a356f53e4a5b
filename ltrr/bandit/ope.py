"""Off-policy estimators over logged bandit data: IPS, SNIPS, DM, DR, Switch-DR, DR-os.

A public, array-level API usable on any logged bandit data (not only ltrr's). Per logged row i:

- ``reward[i]``: the observed reward r_i,
- ``pscore[i]``: π_log(a_i | x_i), the logging policy's probability of the logged action,
- ``target_pscore[i]``: π_target(a_i | x_i), the target policy's probability of the same action,
- ``q_logged[i]``: q̂(x_i, a_i), a reward model's prediction for the logged action,
- ``q_target[i]``: Σ_a π_target(a | x_i) q̂(x_i, a), the model's value of the target policy at x_i.

With the importance weight w_i = target_pscore[i] / pscore[i] (optionally clipped at ``clip``:
w_i ← min(w_i, clip), OBP's ``lambda_``), the estimators are those of Open Bandit Pipeline
(``obp.ope``, st-tech/zr-obp ``obp/ope/estimators.py``, checked against obp 0.4.1 and the
repository's head):

========== ==================================================== ==========================================
estimator  value                                                OBP class
========== ==================================================== ==========================================
ips        mean(w r)                                            InverseProbabilityWeighting
snips      Σ w r / Σ w                                          SelfNormalizedInverseProbabilityWeighting
dm         mean(q_target)                                       DirectMethod
dr         mean(q_target + w (r − q_logged))                    DoublyRobust
switch_dr  mean(q_target + 1[w ≤ τ] w (r − q_logged))           SwitchDoublyRobust (``lambda_`` = τ)
dr_os      mean(q_target + λw/(w² + λ) (r − q_logged))          DoublyRobustWithShrinkage (``lambda_`` = λ)
========== ==================================================== ==========================================

Two deliberate differences, both outside OBP's defaults: OBP's SNIPW ignores ``lambda_``; here
``clip`` clips the weights before self-normalising. And DR-os with λ = 0 and w = 0 is 0/0 in OBP
(NaN); here the shrunk weight of a zero weight is 0 (its limit).

Every function takes keyword arguments only and returns a :class:`PolicyValue` with a confidence
interval (``ci="bootstrap"`` by default, or ``"normal"``, ``"bernstein"``, ``"none"``; see
:mod:`ltrr.bandit.intervals`) and the effective sample size ESS = (Σ w̃)² / Σ w̃² of the weights
w̃ the estimator actually applies (after clipping, switching or shrinkage; n for DM).

The ``"bernstein"`` interval needs a range that contains every per-row term. It is taken from
the data: the reward range is ``reward_range`` when given (a known bound, e.g. ``(−cost, 1)``), else
the observed min and max reward, and the weight bound is the largest applied weight. So the range
covers every realised term (conservative: the corner products rarely occur together) but it is not
an a-priori bound: a weight larger than any seen could exceed it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ltrr.bandit.intervals import (
    CI_METHODS,
    bernstein_interval,
    bernstein_radius,
    bootstrap_ratio_interval,
    check_alpha,
    normal_interval,
)

_PSCORE_TOL = 1e-9  # probabilities computed in floating point may exceed 1 by a rounding error


@dataclass(frozen=True)
class PolicyValue:
    """An off-policy estimate of a policy's value with its confidence interval.

    Attributes:
        value: the point estimate.
        ci_low: lower bound of the interval (NaN when ``ci_method`` is ``"none"``).
        ci_high: upper bound of the interval.
        n: number of logged rows used.
        ess: effective sample size (Σ w̃)² / Σ w̃² of the applied weights (n for DM).
        estimator: ``"ips"``, ``"snips"``, ``"dm"``, ``"dr"``, ``"switch_dr"`` or ``"dr_os"``.
        ci_method: ``"bootstrap"``, ``"normal"``, ``"bernstein"`` or ``"none"``.
        alpha: significance level of the interval (a 1 − alpha interval).
        extra: estimator and interval details (weights, clipping, bootstrap replicates, ...).
    """

    value: float
    ci_low: float
    ci_high: float
    n: int
    ess: float
    estimator: str
    ci_method: str
    alpha: float
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (NaN stays a float NaN; ``json.dumps`` writes it as ``NaN``)."""
        out = asdict(self)
        out["extra"] = dict(self.extra)
        return out


def _array(name: str, values: ArrayLike, n: int | None) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows, expected {n} (shape mismatch between the input arrays)")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: there are no logged rows to estimate from")
    finite = np.isfinite(arr)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise ValueError(f"{name} has {bad.size} NaN or infinite values (first at row {int(bad[0])})")
    return arr


def _check_pscore(pscore: np.ndarray) -> None:
    low = pscore <= 0.0
    high = pscore > 1.0 + _PSCORE_TOL
    if low.any() or high.any():
        parts = []
        if low.any():
            parts.append(f"{int(low.sum())} rows <= 0 (first at row {int(np.argmax(low))})")
        if high.any():
            parts.append(f"{int(high.sum())} rows > 1 (first at row {int(np.argmax(high))})")
        raise ValueError("pscore must be a logging probability in (0, 1]: " + ", ".join(parts))


def _check_target(target_pscore: np.ndarray) -> None:
    low = target_pscore < 0.0
    high = target_pscore > 1.0 + _PSCORE_TOL
    if low.any() or high.any():
        parts = []
        if low.any():
            parts.append(f"{int(low.sum())} negative rows (first at row {int(np.argmax(low))})")
        if high.any():
            parts.append(f"{int(high.sum())} rows > 1 (first at row {int(np.argmax(high))})")
        raise ValueError("target_pscore must be a probability in [0, 1]: " + ", ".join(parts))


def _check_clip(clip: float | None) -> float | None:
    if clip is None:
        return None
    clip = float(clip)
    if math.isnan(clip) or clip <= 0.0:
        raise ValueError(f"clip must be a positive maximum weight (or None), got {clip}")
    return clip


def _weights(
    reward: ArrayLike, pscore: ArrayLike, target_pscore: ArrayLike, clip: float | None
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    r = _array("reward", reward, None)
    p = _array("pscore", pscore, r.shape[0])
    t = _array("target_pscore", target_pscore, r.shape[0])
    _check_pscore(p)
    _check_target(t)
    clip = _check_clip(clip)
    w = t / p
    extra: dict[str, Any] = {"max_weight": float(w.max()), "mean_weight": float(w.mean())}
    if clip is not None:
        clipped = w > clip
        extra["clip"] = clip
        extra["n_clipped"] = int(clipped.sum())
        if clipped.any():
            w = np.minimum(w, clip)
    return r, w, extra


def effective_sample_size(w: np.ndarray) -> float:
    """Kish's effective sample size (Σ w)² / Σ w² of importance weights (0 when every weight is 0)."""
    sq = float(np.dot(w, w))
    return float(w.sum()) ** 2 / sq if sq > 0.0 else 0.0


def _reward_bounds(r: np.ndarray, reward_range: tuple[float, float] | None) -> tuple[float, float]:
    if reward_range is None:
        return float(r.min()), float(r.max())
    lo, hi = float(reward_range[0]), float(reward_range[1])
    if not lo <= hi:
        raise ValueError(f"reward_range must be (low, high) with low <= high, got {reward_range}")
    return lo, hi


def _finish(
    *,
    estimator: str,
    value: float,
    terms: np.ndarray,
    ess: float,
    ci: str,
    alpha: float,
    n_bootstrap: int,
    random_state: int | np.random.Generator | None,
    term_range: tuple[float, float] | None,
    extra: dict[str, Any],
) -> PolicyValue:
    """Attach the interval of a mean estimator (value = mean of ``terms``)."""
    if ci == "bootstrap":
        low, high, ci_extra = bootstrap_ratio_interval(
            terms, None, alpha=alpha, n_bootstrap=n_bootstrap, random_state=random_state
        )
    elif ci == "normal":
        low, high, ci_extra = normal_interval(value, terms, alpha=alpha)
    elif ci == "bernstein":
        assert term_range is not None
        low, high, ci_extra = bernstein_interval(value, terms, term_range=term_range, alpha=alpha)
    else:
        low, high, ci_extra = math.nan, math.nan, {}
    return PolicyValue(
        value=value,
        ci_low=float(low),
        ci_high=float(high),
        n=int(terms.shape[0]),
        ess=float(ess),
        estimator=estimator,
        ci_method=ci,
        alpha=alpha,
        extra={**extra, **ci_extra},
    )


def _check_ci(ci: str, alpha: float) -> float:
    if ci not in CI_METHODS:
        raise ValueError(f"ci must be one of {CI_METHODS}, got {ci!r}")
    return check_alpha(alpha)


def ips(
    *,
    reward: ArrayLike,
    pscore: ArrayLike,
    target_pscore: ArrayLike,
    clip: float | None = None,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    reward_range: tuple[float, float] | None = None,
) -> PolicyValue:
    """Inverse propensity scoring: mean(w · r), w = target_pscore / pscore (OBP's IPW).

    Unbiased when the logged propensities are exact and the logging policy gives every action the
    target may take a positive probability; its variance grows with the weights.

    Args:
        reward: observed rewards r_i, shape (n,).
        pscore: logging probabilities π_log(a_i|x_i), in (0, 1].
        target_pscore: target probabilities π_target(a_i|x_i), in [0, 1].
        clip: maximum importance weight (weights above are set to it), or None.
        ci: ``"bootstrap"``, ``"normal"``, ``"bernstein"`` or ``"none"``.
        alpha: significance level of the interval.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed or generator.
        reward_range: known (low, high) reward bounds for the Bernstein interval (default: observed).

    Returns:
        The estimate; ``extra`` has the max and mean weight (before clipping) and clip counts.

    Raises:
        ValueError: on shape mismatch, NaN or infinite values, pscore outside (0, 1], or
            target_pscore outside [0, 1].
    """
    alpha = _check_ci(ci, alpha)
    r, w, extra = _weights(reward, pscore, target_pscore, clip)
    terms = w * r
    term_range = None
    if ci == "bernstein":
        r_lo, r_hi = _reward_bounds(r, reward_range)
        w_max = float(w.max())
        term_range = (min(0.0, w_max * r_lo), max(0.0, w_max * r_hi))
    return _finish(
        estimator="ips",
        value=float(terms.mean()),
        terms=terms,
        ess=effective_sample_size(w),
        ci=ci,
        alpha=alpha,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        term_range=term_range,
        extra=extra,
    )


def snips(
    *,
    reward: ArrayLike,
    pscore: ArrayLike,
    target_pscore: ArrayLike,
    clip: float | None = None,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    reward_range: tuple[float, float] | None = None,
) -> PolicyValue:
    """Self-normalised IPS: Σ w r / Σ w (OBP's SNIPW).

    Slightly biased, consistent, and always inside the reward range; less variance than IPS when
    the weights are large. The bootstrap recomputes the ratio on every replicate. The normal
    interval uses the delta method (terms w (r − V̂) / mean(w)). The Bernstein interval bounds
    the numerator mean(w r) and the denominator mean(w) separately (each at α/2, a union bound)
    and takes the extreme ratios of the two intervals, clipped to the reward range.

    Args:
        reward: observed rewards r_i, shape (n,).
        pscore: logging probabilities π_log(a_i|x_i), in (0, 1].
        target_pscore: target probabilities π_target(a_i|x_i), in [0, 1].
        clip: maximum importance weight, applied before self-normalising, or None.
        ci: ``"bootstrap"``, ``"normal"``, ``"bernstein"`` or ``"none"``.
        alpha: significance level of the interval.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed or generator.
        reward_range: known (low, high) reward bounds for the Bernstein interval (default: observed).

    Returns:
        The estimate (NaN when every weight is 0: the target never chose a logged action).

    Raises:
        ValueError: as :func:`ips`.
    """
    alpha = _check_ci(ci, alpha)
    r, w, extra = _weights(reward, pscore, target_pscore, clip)
    n = r.shape[0]
    w_sum = float(w.sum())
    wr = w * r
    value = float(wr.sum()) / w_sum if w_sum > 0.0 else math.nan
    ess = effective_sample_size(w)
    ci_extra: dict[str, Any] = {}
    if ci == "none" or math.isnan(value):
        low, high = math.nan, math.nan
    elif ci == "bootstrap":
        low, high, ci_extra = bootstrap_ratio_interval(
            wr, w, alpha=alpha, n_bootstrap=n_bootstrap, random_state=random_state
        )
    elif ci == "normal":
        low, high, ci_extra = normal_interval(value, w * (r - value) / (w_sum / n), alpha=alpha)
    else:
        r_lo, r_hi = _reward_bounds(r, reward_range)
        if n < 2:
            low, high = math.nan, math.nan
        else:
            w_max = float(w.max())
            delta = alpha / 4.0  # two sides of two means
            num_range = max(0.0, w_max * r_hi) - min(0.0, w_max * r_lo)
            num_rad = bernstein_radius(float(np.var(wr, ddof=1)), n, num_range, delta)
            den_rad = bernstein_radius(float(np.var(w, ddof=1)), n, w_max, delta)
            num_mean, den_mean = float(wr.mean()), w_sum / n
            den_lo, den_hi = den_mean - den_rad, den_mean + den_rad
            if den_lo <= 0.0:
                low, high = r_lo, r_hi
            else:
                corners = [(num_mean + s * num_rad) / d for s in (-1.0, 1.0) for d in (den_lo, den_hi)]
                low, high = max(min(corners), r_lo), min(max(corners), r_hi)
            ci_extra = {"reward_range": [r_lo, r_hi], "numerator_radius": num_rad, "denominator_radius": den_rad}
    return PolicyValue(
        value=value,
        ci_low=float(low),
        ci_high=float(high),
        n=n,
        ess=ess,
        estimator="snips",
        ci_method=ci,
        alpha=alpha,
        extra={**extra, **ci_extra},
    )


def dm(
    *,
    q_target: ArrayLike,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    reward_range: tuple[float, float] | None = None,
) -> PolicyValue:
    """Direct method: mean(q_target), the reward model's value of the target policy (OBP's DM).

    Low variance, but biased by as much as the reward model is wrong; its interval only covers
    the sampling of contexts, never the model's bias.

    Args:
        q_target: Σ_a π_target(a|x_i) q̂(x_i, a), shape (n,).
        ci: ``"bootstrap"``, ``"normal"``, ``"bernstein"`` or ``"none"``.
        alpha: significance level of the interval.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed or generator.
        reward_range: (low, high) bounds of q_target for the Bernstein interval (default: observed).

    Returns:
        The estimate, with ESS = n.

    Raises:
        ValueError: on a non one-dimensional, empty, NaN or infinite input.
    """
    alpha = _check_ci(ci, alpha)
    qt = _array("q_target", q_target, None)
    term_range = _reward_bounds(qt, reward_range) if ci == "bernstein" else None
    return _finish(
        estimator="dm",
        value=float(qt.mean()),
        terms=qt,
        ess=float(qt.shape[0]),
        ci=ci,
        alpha=alpha,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        term_range=term_range,
        extra={},
    )


def _dr_family(
    *,
    estimator: str,
    reward: ArrayLike,
    pscore: ArrayLike,
    target_pscore: ArrayLike,
    q_logged: ArrayLike,
    q_target: ArrayLike,
    clip: float | None,
    transform: str,
    param: float,
    ci: str,
    alpha: float,
    n_bootstrap: int,
    random_state: int | np.random.Generator | None,
    reward_range: tuple[float, float] | None,
) -> PolicyValue:
    alpha = _check_ci(ci, alpha)
    r, w, extra = _weights(reward, pscore, target_pscore, clip)
    n = r.shape[0]
    ql = _array("q_logged", q_logged, n)
    qt = _array("q_target", q_target, n)
    if transform == "switch":
        keep = w <= param
        extra["tau"] = param
        extra["n_switched_to_dm"] = int(n - keep.sum())
        w = np.where(keep, w, 0.0)
    elif transform == "shrink":
        extra["lambda"] = param
        if math.isfinite(param):
            denom = w * w + param
            w = np.divide(param * w, denom, out=np.zeros_like(w), where=denom > 0.0)
    terms = qt + w * (r - ql)
    term_range = None
    if ci == "bernstein":
        r_lo, r_hi = _reward_bounds(r, reward_range)
        w_max = float(w.max())
        term_range = (
            float(qt.min()) + min(0.0, w_max * (r_lo - float(ql.max()))),
            float(qt.max()) + max(0.0, w_max * (r_hi - float(ql.min()))),
        )
    return _finish(
        estimator=estimator,
        value=float(terms.mean()),
        terms=terms,
        ess=effective_sample_size(w),
        ci=ci,
        alpha=alpha,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        term_range=term_range,
        extra=extra,
    )


def dr(
    *,
    reward: ArrayLike,
    pscore: ArrayLike,
    target_pscore: ArrayLike,
    q_logged: ArrayLike,
    q_target: ArrayLike,
    clip: float | None = None,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    reward_range: tuple[float, float] | None = None,
) -> PolicyValue:
    """Doubly robust: mean(q_target + w (r − q_logged)) (OBP's DoublyRobust).

    Unbiased when the propensities are exact (whatever the reward model), and lower variance than
    IPS when the model is good; q̂ must not have been fitted on the same rows (cross-fit it).

    Args:
        reward: observed rewards r_i, shape (n,).
        pscore: logging probabilities π_log(a_i|x_i), in (0, 1].
        target_pscore: target probabilities π_target(a_i|x_i), in [0, 1].
        q_logged: q̂(x_i, a_i), shape (n,).
        q_target: Σ_a π_target(a|x_i) q̂(x_i, a), shape (n,).
        clip: maximum importance weight, or None.
        ci: ``"bootstrap"``, ``"normal"``, ``"bernstein"`` or ``"none"``.
        alpha: significance level of the interval.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed or generator.
        reward_range: known (low, high) reward bounds for the Bernstein interval (default: observed).

    Returns:
        The estimate.

    Raises:
        ValueError: as :func:`ips`, for every input array.
    """
    return _dr_family(
        estimator="dr",
        reward=reward,
        pscore=pscore,
        target_pscore=target_pscore,
        q_logged=q_logged,
        q_target=q_target,
        clip=clip,
        transform="none",
        param=math.inf,
        ci=ci,
        alpha=alpha,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        reward_range=reward_range,
    )


def switch_dr(
    *,
    reward: ArrayLike,
    pscore: ArrayLike,
    target_pscore: ArrayLike,
    q_logged: ArrayLike,
    q_target: ArrayLike,
    tau: float,
    clip: float | None = None,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    reward_range: tuple[float, float] | None = None,
) -> PolicyValue:
    """Switch-DR: mean(q_target + 1[w ≤ τ] w (r − q_logged)).

    Rows whose weight exceeds τ fall back to the direct method (no correction), trading the
    variance of large weights for the model's bias on those rows (Wang, Agarwal & Dudík 2017).
    Same definition as OBP's ``SwitchDoublyRobust._estimate_round_rewards`` (obp ≥ 0.4:
    ``switch_indicator = iw <= lambda_``; ``estimated_rewards += switch_indicator * iw * (reward -
    q_hat_factual)``); τ = inf is DR, τ = 0 is DM (for positive weights).

    Args:
        reward: observed rewards r_i, shape (n,).
        pscore: logging probabilities π_log(a_i|x_i), in (0, 1].
        target_pscore: target probabilities π_target(a_i|x_i), in [0, 1].
        q_logged: q̂(x_i, a_i), shape (n,).
        q_target: Σ_a π_target(a|x_i) q̂(x_i, a), shape (n,).
        tau: weight threshold (≥ 0); OBP's ``lambda_``.
        clip: maximum importance weight applied before switching, or None (OBP has none).
        ci: ``"bootstrap"``, ``"normal"``, ``"bernstein"`` or ``"none"``.
        alpha: significance level of the interval.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed or generator.
        reward_range: known (low, high) reward bounds for the Bernstein interval (default: observed).

    Returns:
        The estimate; ``extra["n_switched_to_dm"]`` counts rows above τ.

    Raises:
        ValueError: as :func:`dr`, or a negative or NaN τ.
    """
    tau = float(tau)
    if math.isnan(tau) or tau < 0.0:
        raise ValueError(f"tau must be >= 0, got {tau}")
    return _dr_family(
        estimator="switch_dr",
        reward=reward,
        pscore=pscore,
        target_pscore=target_pscore,
        q_logged=q_logged,
        q_target=q_target,
        clip=clip,
        transform="switch",
        param=tau,
        ci=ci,
        alpha=alpha,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        reward_range=reward_range,
    )


def dr_os(
    *,
    reward: ArrayLike,
    pscore: ArrayLike,
    target_pscore: ArrayLike,
    q_logged: ArrayLike,
    q_target: ArrayLike,
    lam: float,
    clip: float | None = None,
    ci: str = "bootstrap",
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    reward_range: tuple[float, float] | None = None,
) -> PolicyValue:
    """DR with optimistic shrinkage: mean(q_target + ŵ (r − q_logged)), ŵ = λw / (w² + λ).

    Shrinks large weights smoothly towards 0 (Su, Dimakopoulou, Krishnamurthy & Dudík 2020).
    Same definition as OBP's ``DoublyRobustWithShrinkage._estimate_round_rewards`` (``iw_hat =
    (lambda_ * iw) / (iw**2 + lambda_)`` when ``lambda_ < inf``, else ``iw``): λ = 0 is DM, λ = inf
    is DR. For w = 0 the shrunk weight is 0 (OBP gives 0/0 = NaN when λ = 0).

    Args:
        reward: observed rewards r_i, shape (n,).
        pscore: logging probabilities π_log(a_i|x_i), in (0, 1].
        target_pscore: target probabilities π_target(a_i|x_i), in [0, 1].
        q_logged: q̂(x_i, a_i), shape (n,).
        q_target: Σ_a π_target(a|x_i) q̂(x_i, a), shape (n,).
        lam: shrinkage λ ≥ 0 (OBP's ``lambda_``); required, since OBP's default (0) is DM.
        clip: maximum importance weight applied before shrinking, or None (OBP has none).
        ci: ``"bootstrap"``, ``"normal"``, ``"bernstein"`` or ``"none"``.
        alpha: significance level of the interval.
        n_bootstrap: bootstrap replicates.
        random_state: bootstrap seed or generator.
        reward_range: known (low, high) reward bounds for the Bernstein interval (default: observed).

    Returns:
        The estimate.

    Raises:
        ValueError: as :func:`dr`, or a negative or NaN λ.
    """
    lam = float(lam)
    if math.isnan(lam) or lam < 0.0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    return _dr_family(
        estimator="dr_os",
        reward=reward,
        pscore=pscore,
        target_pscore=target_pscore,
        q_logged=q_logged,
        q_target=q_target,
        clip=clip,
        transform="shrink",
        param=lam,
        ci=ci,
        alpha=alpha,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        reward_range=reward_range,
    )
