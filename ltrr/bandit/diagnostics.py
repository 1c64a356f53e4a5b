"""Propensity and support diagnostics for off-policy estimation, with a pass/fail check.

Off-policy estimates are only as good as the logged propensities and the logging policy's
support. :func:`propensity_diagnostics` summarises a propensity column (and, given a target
policy, its importance weights and support); :func:`check_diagnostics` turns the summary into
human-readable failure reasons (an empty list is a pass), e.g. for the promotion gate.

The mean importance weight check. When the target policy is a probability distribution over the
logged action space and the logging policy gives every action a positive probability,
E[w] = E_x Σ_a π_log(a|x) π_target(a|x) / π_log(a|x) = 1 exactly, so the sample mean of the
weights is 1 up to sampling noise. The tolerance is therefore a number of standard errors,
``|mean(w) − 1| ≤ z · sd(w) / sqrt(n)`` (default z = 4: a correct column fails about 6 times in
100,000 under the normal approximation), plus ``mean_weight_abs_tol`` for rounding. A mean
outside it says the propensities are wrong (e.g. logged after a policy change, or rounded), or the
target puts mass where the logging policy never acts (missing support), or the weights are so
heavy-tailed that n rows have not seen them yet: all reasons to distrust the estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ltrr.bandit.ope import effective_sample_size

QUANTILES: tuple[float, ...] = (0.0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1.0)
"""Quantiles of the valid propensities reported by :func:`propensity_diagnostics`."""


@dataclass(frozen=True)
class PropensityDiagnostics:
    """Summary of a logged propensity column and of the importance weights of a target policy.

    Counts of invalid rows cover every row; the weight statistics cover the valid rows only
    (pscore finite in (0, 1], target_pscore finite in [0, 1]). Weight fields are None without a
    target; support fields are empty without plan ids and a target support.
    """

    n: int
    n_nan: int
    n_zero: int
    n_negative: int
    n_above_one: int
    pscore_min: float
    pscore_max: float
    pscore_quantiles: dict[str, float]
    target_n_invalid: int | None = None
    n_weighted: int | None = None
    mean_weight: float | None = None
    mean_weight_se: float | None = None
    max_weight: float | None = None
    ess: float | None = None
    ess_ratio: float | None = None
    clip: float | None = None
    n_clipped: int | None = None
    plan_counts: dict[str, int] = field(default_factory=dict)
    min_support_rows: int = 1
    unsupported_plans: tuple[str, ...] = ()

    @property
    def n_invalid(self) -> int:
        """Rows whose logged propensity is NaN, zero, negative or above 1."""
        return self.n_nan + self.n_zero + self.n_negative + self.n_above_one

    def to_dict(self) -> dict:
        """JSON-friendly form (for validation reports and the bundle manifest)."""
        out = asdict(self)
        out["unsupported_plans"] = list(self.unsupported_plans)
        out["n_invalid"] = self.n_invalid
        return out


@dataclass(frozen=True)
class DiagnosticThresholds:
    """Limits applied by :func:`check_diagnostics` (defaults documented in ``docs/bandit.md``).

    Attributes:
        max_invalid_rows: rows with a NaN, zero, negative or > 1 propensity allowed (or an
            invalid target probability).
        mean_weight_z: allowed |mean weight − 1| in standard errors of the mean weight.
        mean_weight_abs_tol: added to the tolerance (rounding of logged propensities).
        min_ess: smallest effective sample size (Σw)²/Σw² of the target's weights.
        min_ess_ratio: smallest ESS / n (0 disables: with ε-greedy logging, a target that leaves
            the logging policy's greedy plan has ESS/n near ε / |menu|, which is fine with
            enough rows).
        max_clipped_share: largest share of rows whose weight was clipped.
        require_support: fail when a plan the target can choose has fewer than
            ``min_support_rows`` logged rows.
    """

    max_invalid_rows: int = 0
    mean_weight_z: float = 4.0
    mean_weight_abs_tol: float = 1e-6
    min_ess: float = 1000.0
    min_ess_ratio: float = 0.0
    max_clipped_share: float = 0.01
    require_support: bool = True


def propensity_diagnostics(
    pscore: ArrayLike,
    target_pscore: ArrayLike | None = None,
    plan_ids: ArrayLike | None = None,
    target_support: Iterable[str] | None = None,
    clip: float | None = None,
    min_support_rows: int = 1,
) -> PropensityDiagnostics:
    """Summarise logged propensities, importance weights and the target policy's support.

    Unlike the estimators, this never raises on bad values: it counts them.

    Args:
        pscore: logged π_log(a_i|x_i), shape (n,).
        target_pscore: π_target(a_i|x_i) of a target policy, shape (n,), or None.
        plan_ids: the logged plan (action) id of each row, shape (n,), or None.
        target_support: the plans the target policy chooses with probability > 0 (e.g. every
            plan of its menu), or None.
        clip: a maximum weight, to count how many weights it would clip, or None.
        min_support_rows: a target plan with fewer logged rows than this is unsupported.

    Returns:
        The diagnostics.

    Raises:
        ValueError: when the arrays are not one-dimensional or their lengths differ.
    """
    p = np.asarray(pscore, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"pscore must be one-dimensional, got shape {p.shape}")
    n = p.shape[0]
    nan = ~np.isfinite(p)
    zero = p == 0.0
    negative = p < 0.0
    above = p > 1.0
    valid = ~(nan | zero | negative | above)
    pv = p[valid]
    if pv.size:
        qs = np.quantile(pv, QUANTILES)
        quantiles = {f"q{round(q * 100):02d}": float(v) for q, v in zip(QUANTILES, qs, strict=True)}
        p_min, p_max = float(pv.min()), float(pv.max())
    else:
        quantiles, p_min, p_max = {}, math.nan, math.nan
    kwargs: dict = {}
    if target_pscore is not None:
        t = np.asarray(target_pscore, dtype=np.float64)
        if t.shape != p.shape:
            raise ValueError(f"target_pscore has shape {t.shape}, pscore {p.shape}")
        t_bad = ~np.isfinite(t) | (t < 0.0) | (t > 1.0 + 1e-9)
        both = valid & ~t_bad
        w = t[both] / p[both]
        m = int(w.size)
        if m:
            ess = effective_sample_size(w)
            kwargs.update(
                mean_weight=float(w.mean()),
                mean_weight_se=float(w.std(ddof=1)) / math.sqrt(m) if m > 1 else math.inf,
                max_weight=float(w.max()),
                ess=ess,
                ess_ratio=ess / m,
            )
        kwargs.update(target_n_invalid=int(t_bad.sum()), n_weighted=m)
        if clip is not None:
            kwargs.update(clip=float(clip), n_clipped=int((w > clip).sum()))
    if plan_ids is not None:
        ids = np.asarray(plan_ids)
        if ids.shape != p.shape:
            raise ValueError(f"plan_ids has shape {ids.shape}, pscore {p.shape}")
        values, counts = np.unique(ids.astype(str), return_counts=True)
        plan_counts = {str(v): int(c) for v, c in zip(values, counts, strict=True)}
        kwargs["plan_counts"] = plan_counts
        if target_support is not None:
            kwargs["unsupported_plans"] = tuple(
                sorted(a for a in set(target_support) if plan_counts.get(a, 0) < min_support_rows)
            )
    return PropensityDiagnostics(
        n=n,
        n_nan=int(nan.sum()),
        n_zero=int(zero.sum()),
        n_negative=int(negative.sum()),
        n_above_one=int(above.sum()),
        pscore_min=p_min,
        pscore_max=p_max,
        pscore_quantiles=quantiles,
        min_support_rows=int(min_support_rows),
        **kwargs,
    )


def check_diagnostics(diag: PropensityDiagnostics, thresholds: DiagnosticThresholds | None = None) -> list[str]:
    """Reasons the diagnostics fail the thresholds; an empty list means they pass.

    Args:
        diag: from :func:`propensity_diagnostics`.
        thresholds: limits (defaults: :class:`DiagnosticThresholds`).

    Returns:
        Human-readable failure reasons, one per failed check.
    """
    th = thresholds or DiagnosticThresholds()
    reasons: list[str] = []
    if diag.n == 0:
        return ["no logged rows"]
    if diag.n_invalid > th.max_invalid_rows:
        parts = [
            f"{count} {label}"
            for count, label in (
                (diag.n_nan, "NaN"),
                (diag.n_zero, "zero"),
                (diag.n_negative, "negative"),
                (diag.n_above_one, "above 1"),
            )
            if count
        ]
        reasons.append(
            f"{diag.n_invalid} of {diag.n} logged propensities are invalid ({', '.join(parts)}); "
            f"at most {th.max_invalid_rows} allowed"
        )
    if diag.target_n_invalid:
        reasons.append(f"{diag.target_n_invalid} target probabilities are NaN, negative or above 1")
    if diag.n_weighted is not None:
        if diag.n_weighted == 0 or diag.mean_weight is None:
            reasons.append("no row has both a valid logged propensity and a valid target probability")
        else:
            se = diag.mean_weight_se if diag.mean_weight_se is not None else math.inf
            tol = th.mean_weight_z * se + th.mean_weight_abs_tol
            if abs(diag.mean_weight - 1.0) > tol:
                reasons.append(
                    f"mean importance weight {diag.mean_weight:.4f} is outside 1 ± {tol:.4f} "
                    f"({th.mean_weight_z:g} standard errors): the propensities may be wrong, or the target "
                    f"policy puts mass where the logging policy never acts"
                )
            if diag.ess is not None and diag.ess < th.min_ess:
                reasons.append(f"effective sample size {diag.ess:.1f} is below {th.min_ess:g}")
            if diag.ess_ratio is not None and diag.ess_ratio < th.min_ess_ratio:
                reasons.append(f"effective sample size ratio {diag.ess_ratio:.4f} is below {th.min_ess_ratio:g}")
            if diag.n_clipped is not None and diag.n_clipped > th.max_clipped_share * diag.n_weighted:
                reasons.append(
                    f"{diag.n_clipped} of {diag.n_weighted} weights exceed the clip {diag.clip:g} "
                    f"(more than {th.max_clipped_share:.1%})"
                )
    if th.require_support and diag.unsupported_plans:
        reasons.append(
            f"the target policy can choose {len(diag.unsupported_plans)} plans with fewer than "
            f"{diag.min_support_rows} logged rows: {', '.join(diag.unsupported_plans)}"
        )
    return reasons
