"""Confidence intervals for off-policy estimates: Poisson bootstrap, normal (CLT), empirical Bernstein.

Every estimator of :mod:`ltrr.bandit.ope` is a ratio of two sums over logged rows,

    V̂ = Σ_i u_i / Σ_i v_i,

with ``v_i = 1`` for the mean estimators (IPS, DM, DR, Switch-DR, DR-os: ``u_i`` is the per-row
term) and ``v_i = w_i`` (the importance weight) for SNIPS. The functions here take ``u`` and ``v``
and return an interval for the value the ratio estimates.

**Bootstrap** (the default): a percentile bootstrap with Poisson(1) resampling weights (Hanley &
MacGibbon 2006; Chamandy et al. 2012, "Estimating uncertainty for massive data streams"): each
replicate gives every row a count ``c_i ~ Poisson(1)`` and recomputes ``Σ c_i u_i / Σ c_i v_i``, so
SNIPS's ratio is recomputed on every replicate (not the ratio of the full sample reused). The
counts are drawn by inverse CDF on 16-bit uniforms (each Poisson probability exact to 2⁻¹⁶), in
chunks of at most ``chunk_elements`` counts, so memory stays bounded. Work is ``n_bootstrap ×
units``: above ``max_units`` rows, rows are first assigned uniformly at random to ``max_units``
groups and the groups (their sums of ``u`` and ``v``) are resampled instead of the rows. Random
groups of iid rows are iid, and the ratio form keeps the replicates centred, so this is the same
bootstrap at a coarser grain (the "random buckets" variance method of online experiment
platforms); with 100,000 groups its percentiles are as accurate as a row bootstrap of 100,000 rows.

**Normal**: ``V̂ ± z_{1-α/2} · se`` with the sample standard deviation of the per-row terms (for
SNIPS, of its linearisation ``w_i (r_i − V̂) / mean(w)``, the delta method).

**Empirical Bernstein** (Maurer & Pontil 2009, "Empirical Bernstein bounds and sample variance
penalization", Theorem 4): for iid terms in a known range ``[a, b]``, with probability at least
``1 − δ``, ``E[X] ≤ X̄ + sqrt(2 V_n ln(2/δ) / n) + 7 (b − a) ln(2/δ) / (3 (n − 1))`` where ``V_n`` is
the unbiased sample variance; applied to each side with ``δ = α/2``. It is a finite-sample bound,
so it is wider than the other two; its validity rests on the range, which the estimators derive
from the data (largest weight × reward range, see :mod:`ltrr.bandit.ope`), which is conservative
for the realised terms but only as good as the largest weight seen.
"""

from __future__ import annotations

import math
from functools import lru_cache
from statistics import NormalDist

import numpy as np

CI_METHODS: tuple[str, ...] = ("bootstrap", "normal", "bernstein", "none")
"""Interval methods accepted by the estimators (``"none"``: point estimate only)."""

DEFAULT_MAX_UNITS = 100_000
"""Rows above which the bootstrap resamples random groups of rows instead of rows."""

DEFAULT_CHUNK_ELEMENTS = 4_000_000
"""Largest number of bootstrap counts held in memory at once (32 MB of float64)."""


def check_alpha(alpha: float) -> float:
    """Validate a significance level.

    Args:
        alpha: the level, 0 < alpha < 1.

    Returns:
        ``alpha`` as a float.

    Raises:
        ValueError: outside (0, 1).
    """
    alpha = float(alpha)
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return alpha


@lru_cache(maxsize=1)
def _poisson_table() -> np.ndarray:
    """Poisson(1) counts indexed by a 16-bit uniform: ``table[u]`` = F⁻¹((u + 0.5) / 65536)."""
    pmf = [math.exp(-1.0) / math.factorial(k) for k in range(32)]
    cdf = np.cumsum(pmf)
    u = (np.arange(65536) + 0.5) / 65536.0
    return np.searchsorted(cdf, u).astype(np.float64)


def _poisson_counts(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    size = shape[0] * shape[1]
    raw = rng.bit_generator.random_raw((size + 3) // 4).view(np.uint16)[:size]
    return _poisson_table()[raw].reshape(shape)


def group_sums(
    u: np.ndarray, v: np.ndarray | None, *, max_units: int, rng: np.random.Generator, chunk_rows: int = 1_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Sums of ``u`` and ``v`` over the resampling units (rows, or random groups of rows).

    Args:
        u: numerator terms, shape (n,).
        v: denominator terms, shape (n,), or None for ones (a mean).
        max_units: at most this many units; above it rows go to random groups.
        rng: the generator that assigns rows to groups.
        chunk_rows: rows assigned per step (bounds the memory of the group ids).

    Returns:
        ``(u_units, v_units)``, each of shape (min(n, max_units),).
    """
    n = u.shape[0]
    if n <= max_units:
        return u, (np.ones(n) if v is None else v)
    u_sum = np.zeros(max_units)
    v_sum = np.zeros(max_units)
    for start in range(0, n, chunk_rows):
        stop = min(start + chunk_rows, n)
        groups = rng.integers(0, max_units, size=stop - start)
        u_sum += np.bincount(groups, weights=u[start:stop], minlength=max_units)
        if v is None:
            v_sum += np.bincount(groups, minlength=max_units)
        else:
            v_sum += np.bincount(groups, weights=v[start:stop], minlength=max_units)
    return u_sum, v_sum


def bootstrap_ratio_interval(
    u: np.ndarray,
    v: np.ndarray | None = None,
    *,
    alpha: float = 0.05,
    n_bootstrap: int = 1000,
    random_state: int | np.random.Generator | None = 0,
    max_units: int = DEFAULT_MAX_UNITS,
    chunk_elements: int = DEFAULT_CHUNK_ELEMENTS,
) -> tuple[float, float, dict]:
    """Percentile Poisson-bootstrap interval of ``Σ u / Σ v`` (of the mean of ``u`` when ``v`` is None).

    Args:
        u: numerator terms, shape (n,), finite.
        v: denominator terms, shape (n,), finite, or None (ones).
        alpha: significance level; the interval is the (α/2, 1 − α/2) percentiles.
        n_bootstrap: number of replicates.
        random_state: seed or generator (the same seed gives the same interval).
        max_units: rows above which random groups of rows are resampled (see the module docstring).
        chunk_elements: largest count matrix held in memory (replicates × units).

    Returns:
        ``(low, high, extra)``; ``extra`` holds the replicate count, the valid replicates (a
        replicate whose denominator is 0 is dropped) and the number of resampling units. The
        interval is NaN when fewer than half the replicates are valid.
    """
    alpha = check_alpha(alpha)
    if n_bootstrap < 2:
        raise ValueError(f"n_bootstrap must be at least 2, got {n_bootstrap}")
    rng = random_state if isinstance(random_state, np.random.Generator) else np.random.default_rng(random_state)
    u_units, v_units = group_sums(u, v, max_units=max_units, rng=rng)
    units = u_units.shape[0]
    stacked = np.column_stack([u_units, v_units])
    totals = np.zeros((n_bootstrap, 2))
    step = max(1, chunk_elements // n_bootstrap)
    for start in range(0, units, step):
        stop = min(start + step, units)
        counts = _poisson_counts(rng, (n_bootstrap, stop - start))
        totals += counts @ stacked[start:stop]
    valid = totals[:, 1] != 0.0
    extra = {"n_bootstrap": int(n_bootstrap), "n_bootstrap_valid": int(valid.sum()), "bootstrap_units": int(units)}
    if valid.sum() < n_bootstrap / 2:
        return math.nan, math.nan, extra
    replicates = totals[valid, 0] / totals[valid, 1]
    low, high = np.percentile(replicates, [100.0 * alpha / 2.0, 100.0 * (1.0 - alpha / 2.0)])
    return float(low), float(high), extra


def normal_interval(value: float, terms: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float, dict]:
    """CLT interval ``value ± z_{1−α/2} · sd(terms) / sqrt(n)``.

    Args:
        value: the point estimate.
        terms: the per-row terms whose mean is (or linearises) the estimate, shape (n,).
        alpha: significance level.

    Returns:
        ``(low, high, extra)`` with the standard error in ``extra``; NaN bounds when n < 2.
    """
    alpha = check_alpha(alpha)
    n = terms.shape[0]
    if n < 2:
        return math.nan, math.nan, {"se": math.nan}
    se = float(np.std(terms, ddof=1)) / math.sqrt(n)
    z = NormalDist().inv_cdf(1.0 - alpha / 2.0)
    return value - z * se, value + z * se, {"se": se}


def bernstein_radius(variance: float, n: int, value_range: float, delta: float) -> float:
    """One-sided empirical Bernstein deviation (Maurer & Pontil 2009, Theorem 4).

    Args:
        variance: unbiased sample variance of the terms.
        n: number of terms (at least 2).
        value_range: ``b − a``, the width of the terms' range.
        delta: one-sided failure probability.

    Returns:
        ``sqrt(2 V ln(2/δ) / n) + 7 (b − a) ln(2/δ) / (3 (n − 1))``.
    """
    log_term = math.log(2.0 / delta)
    return math.sqrt(2.0 * max(variance, 0.0) * log_term / n) + 7.0 * value_range * log_term / (3.0 * (n - 1))


def bernstein_interval(
    value: float, terms: np.ndarray, *, term_range: tuple[float, float], alpha: float = 0.05
) -> tuple[float, float, dict]:
    """Two-sided empirical Bernstein interval for the mean of terms in ``term_range``.

    Each side holds with probability ``1 − α/2``; the interval is clipped to the range.

    Args:
        value: the point estimate (the mean of ``terms``).
        terms: the per-row terms, shape (n,).
        term_range: ``(a, b)``, a range that contains every term.
        alpha: significance level.

    Returns:
        ``(low, high, extra)`` with the range and radius in ``extra``; NaN bounds when n < 2.
    """
    alpha = check_alpha(alpha)
    n = terms.shape[0]
    lo, hi = float(term_range[0]), float(term_range[1])
    if n < 2:
        return math.nan, math.nan, {"term_range": [lo, hi]}
    radius = bernstein_radius(float(np.var(terms, ddof=1)), n, hi - lo, alpha / 2.0)
    return max(value - radius, lo), min(value + radius, hi), {"term_range": [lo, hi], "radius": radius}
