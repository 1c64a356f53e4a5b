"""Off-policy estimators: hand-worked values, an independent loop implementation of OBP's definitions, inputs."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from ltrr.bandit import ope

# The 4-row example used by the hand-worked tests.
REWARD = [1.0, 0.0, 1.0, 0.5]
PSCORE = [0.5, 0.25, 0.8, 0.1]
TARGET = [1.0, 0.5, 0.4, 0.0]  # weights w = target / pscore = [2, 2, 0.5, 0]
Q_LOGGED = [0.6, 0.2, 0.7, 0.3]
Q_TARGET = [0.5, 0.4, 0.6, 0.2]
BASE = {"reward": REWARD, "pscore": PSCORE, "target_pscore": TARGET, "ci": "none"}
DR_BASE = {**BASE, "q_logged": Q_LOGGED, "q_target": Q_TARGET}


def test_ips_hand_worked() -> None:
    """w = [2, 2, 0.5, 0]; w·r = [2, 0, 0.5, 0]; IPS = 2.5 / 4 = 0.625.

    ESS = (Σw)² / Σw² = 4.5² / (4 + 4 + 0.25 + 0) = 20.25 / 8.25.
    """
    v = ope.ips(**BASE)
    assert v.value == pytest.approx(0.625, abs=1e-15)
    assert v.ess == pytest.approx(20.25 / 8.25, abs=1e-12)
    assert v.n == 4 and v.estimator == "ips" and v.ci_method == "none"
    assert math.isnan(v.ci_low) and math.isnan(v.ci_high)
    assert v.extra["max_weight"] == 2.0 and v.extra["mean_weight"] == pytest.approx(4.5 / 4)


def test_ips_clipped_hand_worked() -> None:
    """clip 1.5: w = [1.5, 1.5, 0.5, 0]; w·r = [1.5, 0, 0.5, 0]; IPS = 2 / 4 = 0.5; two weights clipped."""
    v = ope.ips(**BASE, clip=1.5)
    assert v.value == pytest.approx(0.5, abs=1e-15)
    assert v.extra["n_clipped"] == 2
    assert v.ess == pytest.approx(3.5**2 / (1.5**2 * 2 + 0.25), abs=1e-12)


def test_snips_hand_worked() -> None:
    """Σ w r / Σ w = 2.5 / 4.5 = 5/9."""
    assert ope.snips(**BASE).value == pytest.approx(5 / 9, abs=1e-15)


def test_snips_is_nan_when_no_weight() -> None:
    """The target never chooses a logged action: Σw = 0, nothing to normalise."""
    v = ope.snips(reward=[1.0, 0.0], pscore=[0.5, 0.5], target_pscore=[0.0, 0.0], ci="bootstrap")
    assert math.isnan(v.value) and math.isnan(v.ci_low)


def test_dm_hand_worked() -> None:
    """mean(q_target) = (0.5 + 0.4 + 0.6 + 0.2) / 4 = 0.425; ESS = n."""
    v = ope.dm(q_target=Q_TARGET, ci="none")
    assert v.value == pytest.approx(0.425, abs=1e-15)
    assert v.ess == 4.0


def test_dr_hand_worked() -> None:
    """Terms q_target + w (r − q_logged):
    0.5 + 2 (1 − 0.6) = 1.3;  0.4 + 2 (0 − 0.2) = 0.0;  0.6 + 0.5 (1 − 0.7) = 0.75;  0.2 + 0 = 0.2.
    DR = 2.25 / 4 = 0.5625.
    """
    assert ope.dr(**DR_BASE).value == pytest.approx(0.5625, abs=1e-15)


def test_switch_dr_hand_worked() -> None:
    """τ = 1: rows 1 and 2 (w = 2 > 1) keep only q_target: terms 0.5, 0.4, 0.75, 0.2; value 1.85 / 4 = 0.4625.

    Applied weights [0, 0, 0.5, 0]: ESS = 0.25 / 0.25 = 1.
    """
    v = ope.switch_dr(**DR_BASE, tau=1.0)
    assert v.value == pytest.approx(0.4625, abs=1e-15)
    assert v.extra["n_switched_to_dm"] == 2
    assert v.ess == pytest.approx(1.0)
    assert ope.switch_dr(**DR_BASE, tau=math.inf).value == pytest.approx(0.5625, abs=1e-15)  # τ = ∞ is DR
    assert ope.switch_dr(**DR_BASE, tau=2.0).value == pytest.approx(0.5625, abs=1e-15)  # w ≤ τ keeps w = 2


def test_dr_os_hand_worked() -> None:
    """λ = 2: ŵ = 2w / (w² + 2): w = 2 → 4/6 = 2/3; w = 0.5 → 1 / 2.25 = 4/9; w = 0 → 0.

    Terms: 0.5 + (2/3)(0.4) = 23/30;  0.4 + (2/3)(−0.2) = 8/30;  0.6 + (4/9)(0.3) = 22/30;  0.2 = 6/30.
    DR-os = (59/30) / 4 = 59/120.
    """
    assert ope.dr_os(**DR_BASE, lam=2.0).value == pytest.approx(59 / 120, abs=1e-15)
    assert ope.dr_os(**DR_BASE, lam=0.0).value == pytest.approx(0.425, abs=1e-15)  # λ = 0 is DM (and no NaN)
    assert ope.dr_os(**DR_BASE, lam=math.inf).value == pytest.approx(0.5625, abs=1e-15)  # λ = ∞ is DR


def test_normal_interval_hand_worked() -> None:
    """IPS terms [2, 0, 0.5, 0]: mean 0.625, sample variance 2.6875 / 3; half-width z_0.975 · sd / 2."""
    v = ope.ips(**{**BASE, "ci": "normal"})
    half = statistics.NormalDist().inv_cdf(0.975) * math.sqrt(2.6875 / 3) / 2
    assert v.ci_low == pytest.approx(0.625 - half, abs=1e-12)
    assert v.ci_high == pytest.approx(0.625 + half, abs=1e-12)


def test_bernstein_interval_hand_formula() -> None:
    """Maurer & Pontil (2009) Thm 4, each side at δ = α/2, terms in [a, b] = [0, w_max · r_max] = [0, 2 · 1]:
    radius = sqrt(2 V ln(2/δ) / n) + 7 (b − a) ln(2/δ) / (3 (n − 1)), computed here on 400 rows.
    """
    rng = np.random.default_rng(5)
    n = 400
    reward = rng.integers(0, 2, n).astype(float)
    pscore = np.full(n, 0.5)
    target = rng.choice([0.0, 0.5, 1.0], size=n)
    v = ope.ips(reward=reward, pscore=pscore, target_pscore=target, ci="bernstein", reward_range=(0.0, 1.0))
    terms = [t / 0.5 * r for t, r in zip(target, reward, strict=True)]
    mean = sum(terms) / n
    var = sum((x - mean) ** 2 for x in terms) / (n - 1)
    log_term = math.log(2 / 0.025)
    radius = math.sqrt(2 * var * log_term / n) + 7 * 2.0 * log_term / (3 * (n - 1))
    assert v.ci_low == pytest.approx(max(mean - radius, 0.0), abs=1e-12)
    assert v.ci_high == pytest.approx(min(mean + radius, 2.0), abs=1e-12)
    normal = ope.ips(reward=reward, pscore=pscore, target_pscore=target, ci="normal")
    assert v.ci_high - v.ci_low > normal.ci_high - normal.ci_low  # a finite-sample bound is wider


def _obp_loop(reward, action, pscore, action_dist, qhat, *, kind, param=math.inf):
    """OBP's definitions as plain loops (obp/ope/estimators.py, `_estimate_round_rewards`)."""
    n = len(reward)
    rounds = []
    for i in range(n):
        a = action[i]
        iw = action_dist[i][a] / pscore[i]
        if kind in ("ipw_clip", "dr_clip"):
            iw = min(iw, param)  # OBP: iw = np.minimum(iw, self.lambda_)
        # OBP: np.average(q_hat_at_position, weights=pi_e_at_position)
        q_pi = sum(p * q for p, q in zip(action_dist[i], qhat[i], strict=True)) / sum(action_dist[i])
        if kind in ("ipw", "ipw_clip"):
            rounds.append(reward[i] * iw)
        elif kind == "dm":
            rounds.append(q_pi)
        elif kind in ("dr", "dr_clip"):
            rounds.append(q_pi + iw * (reward[i] - qhat[i][a]))
        elif kind == "switch":
            rounds.append(q_pi + (1 if iw <= param else 0) * iw * (reward[i] - qhat[i][a]))
        elif kind == "dros":
            shrunk = param * iw / (iw**2 + param) if param < math.inf else iw
            rounds.append(q_pi + shrunk * (reward[i] - qhat[i][a]))
    if kind == "snipw":  # OBP: reward * iw / iw.mean()
        iws = [action_dist[i][action[i]] / pscore[i] for i in range(n)]
        mean_iw = sum(iws) / n
        rounds = [reward[i] * iws[i] / mean_iw for i in range(n)]
    return sum(rounds) / n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_loop_implementation_of_obp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = 300, 6
    pi_b = rng.dirichlet(np.ones(k), size=n) * 0.8 + 0.2 / k
    pi_e = rng.dirichlet(np.full(k, 0.4), size=n)
    action = np.array([rng.choice(k, p=p) for p in pi_b])
    reward = rng.normal(0.5, 1.0, size=n)
    qhat = rng.normal(0.5, 0.5, size=(n, k))
    pscore = pi_b[np.arange(n), action]
    rows = np.arange(n)
    ours = {"reward": reward, "pscore": pscore, "target_pscore": pi_e[rows, action], "ci": "none"}
    dr_ours = {**ours, "q_logged": qhat[rows, action], "q_target": np.sum(pi_e * qhat, axis=1)}
    lists = (reward.tolist(), action.tolist(), pscore.tolist(), pi_e.tolist(), qhat.tolist())
    cases = [
        (ope.ips(**ours), "ipw", math.inf),
        (ope.ips(**ours, clip=3.0), "ipw_clip", 3.0),
        (ope.snips(**ours), "snipw", math.inf),
        (ope.dm(q_target=dr_ours["q_target"], ci="none"), "dm", math.inf),
        (ope.dr(**dr_ours), "dr", math.inf),
        (ope.dr(**dr_ours, clip=3.0), "dr_clip", 3.0),
        (ope.switch_dr(**dr_ours, tau=2.5), "switch", 2.5),
        (ope.dr_os(**dr_ours, lam=4.0), "dros", 4.0),
        (ope.dr_os(**dr_ours, lam=math.inf), "dros", math.inf),
    ]
    for got, kind, param in cases:
        expected = _obp_loop(*lists, kind=kind, param=param)
        assert got.value == pytest.approx(expected, rel=1e-9, abs=1e-12), kind


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pscore": [0.5, 0.5, 0.5]}, "shape mismatch"),
        ({"pscore": [0.5, 0.0, 0.5, 0.5]}, r"\(0, 1\]: 1 rows <= 0"),
        ({"pscore": [0.5, 1.5, 0.5, 0.5]}, "rows > 1"),
        ({"pscore": [0.5, -0.1, 0.5, 0.5]}, "rows <= 0"),
        ({"pscore": [0.5, float("nan"), 0.5, 0.5]}, "NaN"),
        ({"reward": [1.0, float("nan"), 0.0, 0.0]}, "reward has 1 NaN"),
        ({"target_pscore": [0.5, -0.5, 0.5, 0.5]}, "negative"),
        ({"target_pscore": [0.5, 1.5, 0.5, 0.5]}, "target_pscore must be a probability"),
        ({"reward": [[1.0, 0.0], [1.0, 0.0]]}, "one-dimensional"),
        ({"reward": [], "pscore": [], "target_pscore": []}, "empty"),
        ({"clip": 0.0}, "clip must be a positive"),
        ({"ci": "wald"}, "ci must be one of"),
        ({"alpha": 1.5}, "alpha"),
    ],
)
def test_invalid_inputs_raise_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ope.ips(**{**BASE, **kwargs})


def test_dr_family_validates_model_inputs() -> None:
    with pytest.raises(ValueError, match="q_logged has 3 rows, expected 4"):
        ope.dr(**{**DR_BASE, "q_logged": [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="q_target has 1 NaN"):
        ope.dr(**{**DR_BASE, "q_target": [0.1, 0.2, float("nan"), 0.3]})
    with pytest.raises(ValueError, match="tau must be >= 0"):
        ope.switch_dr(**DR_BASE, tau=-1.0)
    with pytest.raises(ValueError, match="lam must be >= 0"):
        ope.dr_os(**DR_BASE, lam=float("nan"))


def test_policy_value_is_frozen_and_serialisable() -> None:
    v = ope.dr(**{**DR_BASE, "ci": "normal"})
    with pytest.raises(AttributeError):
        v.value = 1.0  # type: ignore[misc]
    d = v.to_dict()
    assert d["estimator"] == "dr" and d["ci_method"] == "normal" and d["alpha"] == 0.05 and "se" in d["extra"]
    hash(v)  # usable as a key: extra is excluded from hashing
