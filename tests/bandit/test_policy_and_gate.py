"""Policy learning on synthetic logs (true values computed exactly), export/load parity, and the gate."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltrr.bandit.diagnostics import check_diagnostics
from ltrr.bandit.gate import (
    evaluate_policy,
    holdout_split,
    improvement_over_logged,
    logged_policy_value,
    policy_diagnostics,
    policy_gate,
    score_holdout,
)
from ltrr.bandit.ope import PolicyValue
from ltrr.bandit.plan_features import plan_feature_matrix
from ltrr.bandit.policy import (
    PlanPolicy,
    PolicyParams,
    PolicyParityError,
    dr_pseudo_rewards,
    learn_policy,
    load_policy,
    save_policy,
    softmax_with_floor,
)
from ltrr.bandit.reward_model import BoosterParams, fit_reward_model, fold_of, predict_plans
from ltrr.bandit.synthetic import SyntheticBandit

SMALL = BoosterParams(num_boost_round=100, num_leaves=15, min_data_in_leaf=50)
PARAMS = PolicyParams(temperature=0.02, epsilon=0.1, k_folds=3, reward=SMALL, scorer=SMALL, version="test-v1")


@pytest.fixture(scope="module")
def learned() -> dict:
    """60,000 synthetic searches over two days: learn on the first day, hold out the second."""
    sb = SyntheticBandit()
    frame = sb.sample(60_000, seed=21, n_days=2)
    train, test = holdout_split(frame, how="last_day")
    policy, reward_model = learn_policy(train, sb.spec, sb.menu, PARAMS)
    return {"sb": sb, "train": train, "test": test, "policy": policy, "reward_model": reward_model}


@pytest.fixture(scope="module")
def evaluation(learned: dict) -> dict[str, PolicyValue]:
    """Every estimator of the learned policy on the held-out day (computed once: scoring is the slow part)."""
    sb = learned["sb"]
    return evaluate_policy(
        learned["test"], learned["policy"], learned["reward_model"], n_bootstrap=500, reward_range=sb.reward_range
    )


def test_softmax_with_floor_hand_worked() -> None:
    """T = 1, scores [0, ln 3]: softmax [1/4, 3/4]; ε = 0.2 over 2 plans: 0.8·[1/4, 3/4] + 0.1 = [0.3, 0.7].
    T = 0 is ε-greedy: [0.1, 0.9]."""
    scores = np.array([[0.0, math.log(3.0)]])
    assert softmax_with_floor(scores, 1.0, 0.2) == pytest.approx(np.array([[0.3, 0.7]]), abs=1e-15)
    assert softmax_with_floor(scores, 0.0, 0.2).tolist() == [[0.1, 0.9]]


def test_dr_pseudo_rewards_hand_worked() -> None:
    """Row 0 logged plan 1 (r = 1, p = 0.5, q̂ = 0.4): Γ = [0.2, 0.4 + 0.6/0.5, 0.1] = [0.2, 1.6, 0.1].
    Row 1 logged plan 0 (r = 0, p = 0.25, q̂ = 0.3): Γ = [0.3 − 0.3/0.25, 0.5, 0.6] = [−0.9, 0.5, 0.6]."""
    q = np.array([[0.2, 0.4, 0.1], [0.3, 0.5, 0.6]])
    gamma = dr_pseudo_rewards(q, np.array([1, 0]), np.array([1.0, 0.0]), np.array([0.5, 0.25]))
    assert gamma == pytest.approx(np.array([[0.2, 1.6, 0.1], [-0.9, 0.5, 0.6]]), abs=1e-15)
    assert q[0, 1] == 0.4  # input untouched
    # A weight cap M = 3: row 0's weight 2 stays, row 1's weight 4 becomes 3: Γ = 0.3 − 0.3·3 = −0.6.
    capped = dr_pseudo_rewards(q, np.array([1, 0]), np.array([1.0, 0.0]), np.array([0.5, 0.25]), max_weight=3.0)
    assert capped == pytest.approx(np.array([[0.2, 1.6, 0.1], [-0.6, 0.5, 0.6]]), abs=1e-15)


@pytest.mark.parametrize("bad", [0.5, float("inf"), float("nan")])
def test_weight_cap_must_be_a_weight(bad: float) -> None:
    with pytest.raises(ValueError, match="max_weight"):
        PolicyParams(max_weight=bad)


def test_learned_policy_beats_logging_policy(learned: dict) -> None:
    """True values (exact, from the generator): logging ≈ 0.554; the learned policy must gain ≥ 0.03."""
    sb, policy = learned["sb"], learned["policy"]
    logging_value = sb.true_value(sb.logging_probabilities)
    learned_value = sb.true_value(policy.probabilities_frame)
    assert learned_value > logging_value + 0.03, (learned_value, logging_value)


def test_probabilities_are_exact_distributions_with_floor(learned: dict) -> None:
    policy, test = learned["policy"], learned["test"]
    probs = policy.probabilities_frame(test)
    assert probs.shape == (len(test), len(policy.menu))
    assert np.max(np.abs(probs.sum(axis=1) - 1.0)) <= 1e-12
    assert probs.min() >= policy.floor == 0.1 / len(policy.menu)
    plan, propensity = policy.choose(test.iloc[0].to_dict(), np.random.default_rng(0))
    assert propensity == probs[0, policy.plan_ids.index(plan.plan_id)]


def test_reward_model_is_cross_fitted(learned: dict) -> None:
    rm, train = learned["reward_model"], learned["train"]
    folds = fold_of(train["search_id"], rm.k_folds)
    assert np.bincount(folds).min() > 0.3 * len(train) / 3  # every fold used, roughly balanced
    assert len(rm.fold_boosters) == 3 and rm.trained_on(train["search_id"]).all()
    head = train.iloc[:200]
    oof = rm.predict_all_plans(head, out_of_fold=True)
    mine = fold_of(head["search_id"], 3)
    for k in range(3):
        rows = np.flatnonzero(mine == k)
        expected = predict_plans(rm.fold_boosters[k], rm.spec.encode(head.iloc[rows]), plan_feature_matrix(rm.menu))
        assert np.array_equal(oof[rows], expected)


def test_export_load_parity(learned: dict, tmp_path: Path) -> None:
    sb, policy = learned["sb"], learned["policy"]
    files = save_policy(policy, tmp_path / "policy", golden_contexts=sb.cells())
    assert sorted(files) == ["golden.json", "model.txt", "policy.json"]
    description = json.loads(files["policy.json"].read_text())
    assert description["exploration"] == {"temperature": 0.02, "epsilon": 0.1, "floor": 0.1 / 13}
    assert description["menu"][0]["features"]["budget_lexical"] == 100.0
    loaded = load_policy(tmp_path / "policy")
    fresh = sb.sample(2000, seed=99)
    diff = np.max(np.abs(loaded.probabilities_frame(fresh) - policy.probabilities_frame(fresh)))
    assert diff <= 1e-12
    assert loaded.plan_ids == policy.plan_ids and loaded.spec == policy.spec and loaded.version == "test-v1"


def test_load_refuses_tampered_exports(learned: dict, tmp_path: Path) -> None:
    sb, policy = learned["sb"], learned["policy"]
    folder = tmp_path / "policy"
    save_policy(policy, folder, golden_contexts=sb.cells().head(20))
    golden = json.loads((folder / "golden.json").read_text())
    golden["probabilities"][3][0] += 1e-9
    (folder / "golden.json").write_text(json.dumps(golden))
    with pytest.raises(PolicyParityError, match="differ from the reference"):
        load_policy(folder)
    (folder / "model.txt").write_text((folder / "model.txt").read_text().replace("shrinkage=", "shrinkage=0", 1))
    with pytest.raises(ValueError, match="sha256"):
        load_policy(folder)


def test_training_is_deterministic() -> None:
    """The same frame gives byte-identical models (single thread, deterministic LightGBM)."""
    sb = SyntheticBandit()
    frame = sb.sample(4000, seed=5)
    tiny = BoosterParams(num_boost_round=20, num_leaves=7, min_data_in_leaf=20)
    params = PolicyParams(k_folds=2, reward=tiny, scorer=tiny)
    a, _ = learn_policy(frame, sb.spec, sb.menu, params)
    b, _ = learn_policy(frame.sample(frac=1.0, random_state=1), sb.spec, sb.menu, params)  # row order too
    assert a.booster.model_to_string() == b.booster.model_to_string()


def test_evaluate_policy_on_held_out_day(learned: dict, evaluation: dict[str, PolicyValue]) -> None:
    sb, policy, rm, test = learned["sb"], learned["policy"], learned["reward_model"], learned["test"]
    assert sorted(evaluation) == ["dm", "dr", "ips", "snips", "switch_dr"]
    truth = sb.true_value(policy.probabilities_frame)
    dr = evaluation["dr"]
    assert dr.n == len(test) and dr.ci_low <= truth <= dr.ci_high, (dr, truth)
    with pytest.raises(ValueError, match="were training rows of the reward model"):
        evaluate_policy(learned["train"].head(100), policy, rm, ci="none")


def test_gate_accepts_a_clearly_better_policy(learned: dict, evaluation: dict[str, PolicyValue]) -> None:
    policy, test = learned["policy"], learned["test"]
    new = evaluation["dr"]
    champion = logged_policy_value(test, n_bootstrap=500)
    reasons = check_diagnostics(policy_diagnostics(test, policy))
    result = policy_gate(new, champion, reasons)
    assert result.passed, result.reasons
    assert result.reasons == () and result.to_dict()["passed"] is True


def test_gate_refuses_when_lower_bound_below_champion(evaluation: dict[str, PolicyValue]) -> None:
    """Constructed: DR value 0.60 but lower bound 0.55 < champion 0.56; and a policy never beats itself."""
    new = PolicyValue(0.60, 0.55, 0.65, 1000, 400.0, "dr", "bootstrap", 0.05)
    champion = PolicyValue(0.56, 0.55, 0.57, 1000, 1000.0, "ips", "bootstrap", 0.05)
    result = policy_gate(new, champion)
    assert not result.passed
    assert result.reasons == (
        "the new policy's dr lower bound 0.55000 (95% bootstrap interval, value 0.60000) is below the "
        "champion's value 0.56000",
    )
    better = PolicyValue(0.70, 0.65, 0.75, 1000, 400.0, "dr", "bootstrap", 0.05)
    assert policy_gate(better, champion).passed
    refused = policy_gate(better, champion, ["effective sample size 12.0 is below 1000"])
    assert refused.reasons == ("diagnostics: effective sample size 12.0 is below 1000",)
    assert not policy_gate(evaluation["dr"], evaluation["dr"]).passed


def test_improvement_over_logged_is_the_paired_dr_gap(learned: dict, evaluation: dict[str, PolicyValue]) -> None:
    """Point value = DR − logged mean reward, and the paired interval covers the true gap."""
    sb, policy, rm, test = learned["sb"], learned["policy"], learned["reward_model"], learned["test"]
    gap = improvement_over_logged(test, policy, rm, n_bootstrap=500)
    logged = logged_policy_value(test, n_bootstrap=500)
    assert gap.estimator == "dr_minus_logged" and gap.n == len(test)
    assert gap.value == pytest.approx(evaluation["dr"].value - logged.value, abs=1e-12)
    truth = sb.true_value(policy.probabilities_frame) - sb.true_value(sb.logging_probabilities)
    assert gap.ci_low <= truth <= gap.ci_high, (gap, truth)
    assert gap.ci_low > 0.0  # the learned policy is clearly better on this world
    normal = improvement_over_logged(test, policy, rm, ci="normal")
    assert normal.value == gap.value and normal.ci_low < gap.value < normal.ci_high
    with pytest.raises(ValueError, match="were training rows"):
        improvement_over_logged(learned["train"].head(100), policy, rm)
    with pytest.raises(ValueError, match="ci must be"):
        improvement_over_logged(test, policy, rm, ci="bernstein")


def test_scored_once_gives_the_same_estimates(learned: dict, evaluation: dict[str, PolicyValue]) -> None:
    """The nightly job scores the holdout once and passes it on: same figures as scoring each time."""
    policy, rm, test = learned["policy"], learned["reward_model"], learned["test"]
    scores = score_holdout(test, policy, rm)
    sb = learned["sb"]
    again = evaluate_policy(test, policy, rm, n_bootstrap=500, reward_range=sb.reward_range, scores=scores)
    assert {k: v.to_dict() for k, v in again.items()} == {k: v.to_dict() for k, v in evaluation.items()}
    gap = improvement_over_logged(test, policy, rm, n_bootstrap=500, scores=scores)
    assert gap.to_dict() == improvement_over_logged(test, policy, rm, n_bootstrap=500).to_dict()
    assert policy_diagnostics(test, policy, scores=scores).to_dict() == policy_diagnostics(test, policy).to_dict()
    with pytest.raises(ValueError, match="rows given for a frame"):
        evaluate_policy(test.head(10), policy, rm, scores=scores)


def test_with_serving_exploration_is_the_served_mixture(learned: dict) -> None:
    """(1 − η) π + η / |menu|, exactly as ``MenuExploration`` mixes a chooser over the same menu."""
    policy, test = learned["policy"], learned["test"].head(500)
    served = policy.with_serving_exploration(0.1)
    base = policy.probabilities_frame(test)
    expected = 0.9 * base + 0.1 / len(policy.menu)
    np.testing.assert_allclose(served.probabilities_frame(test), expected, rtol=0, atol=1e-12)
    assert served.floor == pytest.approx((1 - 0.9 * (1 - policy.epsilon)) / len(policy.menu), abs=1e-15)
    assert expected.min() >= served.floor - 1e-12
    assert policy.with_serving_exploration(0.0) is policy
    np.testing.assert_array_equal(served.training_hashes, policy.training_hashes)  # still refuses its rows
    with pytest.raises(ValueError, match="serving exploration"):
        policy.with_serving_exploration(1.5)


def test_holdout_split() -> None:
    frame = SyntheticBandit().sample(3000, seed=1, n_days=3)
    train, test = holdout_split(frame)
    assert set(test["ds"]) == {"2026-01-03"} and set(train["ds"]) == {"2026-01-01", "2026-01-02"}
    h_train, h_test = holdout_split(frame, how="hash", share=0.25)
    assert len(h_train) + len(h_test) == 3000 and 0.2 < len(h_test) / 3000 < 0.3
    assert not set(h_train["search_id"]) & set(h_test["search_id"])
    with pytest.raises(ValueError, match="only one day"):
        holdout_split(frame[frame["ds"] == "2026-01-01"])


def test_reward_model_rejects_bad_frames() -> None:
    sb = SyntheticBandit()
    frame = sb.sample(200, seed=2)
    frame.loc[5, "propensity"] = 1.5
    with pytest.raises(ValueError, match="propensities outside"):
        fit_reward_model(frame, sb.spec, sb.menu)
    with pytest.raises(ValueError, match="empty"):
        PlanPolicy(booster=None, spec=sb.spec, menu=(), temperature=0.1, epsilon=0.1, version="x")
    with pytest.raises(ValueError, match="epsilon"):
        PlanPolicy(booster=None, spec=sb.spec, menu=sb.menu, temperature=0.1, epsilon=1.5, version="x")
    assert isinstance(frame, pd.DataFrame)
