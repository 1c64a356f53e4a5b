"""Bootstrap intervals: seeded, memory-bounded, a ratio for SNIPS, and in agreement with a plain bootstrap."""

from __future__ import annotations

import numpy as np
import pytest

from ltrr.bandit import ope
from ltrr.bandit.intervals import _poisson_table, bootstrap_ratio_interval


def test_poisson_table_matches_poisson_probabilities() -> None:
    """Counts of the 65,536-entry table match P(k) = e⁻¹ / k! to 2⁻¹⁶ (mean and variance 1)."""
    table = _poisson_table()
    freq = np.bincount(table.astype(int)) / 65536
    expected = [np.exp(-1.0) / np.prod(np.arange(1, k + 1)) for k in range(freq.size)]
    assert np.max(np.abs(freq - expected)) <= 2.0**-16
    assert table.mean() == pytest.approx(1.0, abs=1e-4) and table.var() == pytest.approx(1.0, abs=1e-3)


def test_bootstrap_is_seeded() -> None:
    x = np.random.default_rng(0).normal(size=500)
    a = bootstrap_ratio_interval(x, alpha=0.1, n_bootstrap=200, random_state=7)
    b = bootstrap_ratio_interval(x, alpha=0.1, n_bootstrap=200, random_state=7)
    c = bootstrap_ratio_interval(x, alpha=0.1, n_bootstrap=200, random_state=8)
    assert a[:2] == b[:2] and a[:2] != c[:2]


def test_bootstrap_agrees_with_plain_resampling_bootstrap() -> None:
    """Independent reference: Efron's bootstrap with rng.choice, 4000 replicates, same skewed data.

    Both estimate the same percentiles; they agree to well within a tenth of the interval width.
    """
    rng = np.random.default_rng(1)
    x = rng.exponential(size=2000) ** 2  # skewed
    ref = [x[rng.integers(0, x.size, x.size)].mean() for _ in range(4000)]
    ref_low, ref_high = np.percentile(ref, [2.5, 97.5])
    low, high, extra = bootstrap_ratio_interval(x, n_bootstrap=4000, random_state=3)
    width = ref_high - ref_low
    assert abs(low - ref_low) < 0.1 * width and abs(high - ref_high) < 0.1 * width
    assert extra["bootstrap_units"] == 2000 and extra["n_bootstrap_valid"] == 4000


def test_grouped_bootstrap_agrees_with_row_bootstrap() -> None:
    """Above max_units rows are resampled in random groups: same interval to within a tenth of its width."""
    rng = np.random.default_rng(2)
    x = rng.exponential(size=50_000)
    rows = bootstrap_ratio_interval(x, n_bootstrap=2000, random_state=0)
    groups = bootstrap_ratio_interval(x, n_bootstrap=2000, random_state=0, max_units=5000, chunk_elements=100_000)
    assert groups[2]["bootstrap_units"] == 5000
    width = rows[1] - rows[0]
    assert abs(groups[0] - rows[0]) < 0.1 * width and abs(groups[1] - rows[1]) < 0.1 * width


def test_snips_bootstrap_recomputes_the_ratio() -> None:
    """Every SNIPS replicate Σcwr/Σcw is a weighted mean of rewards in [0, 1], so the interval stays in [0, 1].

    Bootstrapping the fixed-normalisation terms w r / mean(w) (OBP's round rewards) instead would
    let replicates exceed 1 with these heavy weights; computed here as the contrast.
    """
    rng = np.random.default_rng(4)
    n = 60
    reward = np.ones(n)
    reward[:30] = 0.0
    pscore = np.full(n, 0.5)
    pscore[-3:] = 0.01  # three rows with weight 100 and reward 1
    target = np.full(n, 0.5)
    v = ope.snips(reward=reward, pscore=pscore, target_pscore=target, n_bootstrap=2000, random_state=0)
    assert 0.0 <= v.ci_low <= v.value <= v.ci_high <= 1.0
    w = target / pscore
    fixed = w * reward / w.mean()
    naive_high = np.percentile([fixed[rng.integers(0, n, n)].mean() for _ in range(2000)], 97.5)
    assert naive_high > 1.0


def test_bootstrap_interval_contains_estimate_for_every_estimator() -> None:
    rng = np.random.default_rng(6)
    n = 3000
    pscore = rng.uniform(0.2, 1.0, n)
    target = rng.uniform(0.0, 1.0, n)
    reward = rng.binomial(1, 0.4, n).astype(float)
    q = rng.uniform(0.3, 0.5, n)
    kw = {"reward": reward, "pscore": pscore, "target_pscore": target, "n_bootstrap": 300}
    values = [
        ope.ips(**kw),
        ope.snips(**kw),
        ope.dm(q_target=q, n_bootstrap=300),
        ope.dr(**kw, q_logged=q, q_target=q),
        ope.switch_dr(**kw, q_logged=q, q_target=q, tau=2.0),
        ope.dr_os(**kw, q_logged=q, q_target=q, lam=1.0),
    ]
    for v in values:
        assert v.ci_method == "bootstrap" and v.extra["n_bootstrap"] == 300
        assert v.ci_low < v.value < v.ci_high, v.estimator
