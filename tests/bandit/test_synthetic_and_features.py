"""The synthetic generator's truth and the plan/context features, checked against hand values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ltrr.bandit.plan_features import (
    PLAN_FEATURE_NAMES,
    ContextFeature,
    ContextSpec,
    plan_feature_matrix,
    plan_features,
    plan_indices,
    validate_bandit_frame,
)
from ltrr.bandit.synthetic import SyntheticBandit
from ltrr.retrieval.plans import PLAN_MENU, EpsilonGreedyPolicy, day0_greedy


def test_plan_features_hand_worked() -> None:
    """mem30_pers20_rel10_sem10_lex30: budgets per STRATEGIES order (lexical, memory, personalized,
    related, popular, semantic) = 30, 30, 20, 10, 0, 10; 5 strategies; total 100."""
    plan = next(p for p in PLAN_MENU if p.plan_id == "mem30_pers20_rel10_sem10_lex30")
    f = plan_features(plan)
    assert [f[n] for n in PLAN_FEATURE_NAMES] == [30, 30, 20, 10, 0, 10, 5, 100]
    m = plan_feature_matrix(PLAN_MENU[:2])  # lex100, lex75_pop25
    assert m.tolist() == [[100, 0, 0, 0, 0, 0, 1, 100], [75, 0, 0, 0, 25, 0, 2, 100]]


def test_context_spec_encodes_defaults_and_categories() -> None:
    spec = ContextSpec(
        (ContextFeature("n_words", "numeric", 1.0), ContextFeature("device", "categorical", "mobile"))
    ).fit_categories(pd.DataFrame({"n_words": [1, 2], "device": ["tv", "web"]}))
    assert spec.features[1].categories == ("mobile", "tv", "web")  # sorted, default included
    frame = pd.DataFrame({"n_words": [3.0, None, 0.0], "device": ["web", None, "car"]})
    x = spec.encode(frame)
    assert x[:, 0].tolist() == [3.0, 1.0, 0.0]  # missing → default 1.0
    assert x[0, 1] == 2.0 and x[1, 1] == 0.0 and math.isnan(x[2, 1])  # missing → "mobile"; unseen → NaN
    assert ContextSpec.from_list(spec.to_list()) == spec
    with pytest.raises(KeyError, match="device"):
        spec.encode(frame[["n_words"]])
    with pytest.raises(ValueError, match="kind must be one of"):
        ContextFeature("x", "text", "a")
    with pytest.raises(ValueError, match="clash"):
        ContextSpec((ContextFeature("reward", "numeric", 0.0),))


def test_validate_bandit_frame_lists_problems() -> None:
    sb = SyntheticBandit()
    frame = sb.sample(50, seed=0)
    validate_bandit_frame(frame, sb.spec, sb.menu)
    bad = frame.copy()
    bad.loc[0, "propensity"] = 0.0
    bad.loc[1, "plan_id"] = "nope"
    bad.loc[2, "reward"] = np.nan
    bad.loc[3, "search_id"] = bad.loc[4, "search_id"]
    with pytest.raises(ValueError) as err:
        validate_bandit_frame(bad, sb.spec, sb.menu)
    for part in ("1 propensities outside (0, 1]", "plan outside the menu: ['nope']", "1 null reward", "1 duplicate"):
        assert part in str(err.value)
    with pytest.raises(ValueError, match="missing columns"):
        validate_bandit_frame(frame.drop(columns=["head"]), sb.spec, sb.menu)
    with pytest.raises(ValueError, match="not in the menu"):
        plan_indices(["lex100", "zzz"], sb.menu)


def test_expected_reward_hand_worked() -> None:
    """Cell n_words=0, device=tv, history=0, head=0 under plan lex25_pop75:
    e_lexical = 0.15; e_popular = 0.05 + 0.45 + 0.1 = 0.6; the other strategies are not called.
    p_lex = 0.15 (1 − e^(−25/30)) / (1 − e^(−100/30)); p_pop = 0.6 (1 − e^(−75/20)) / (1 − e^(−100/20)).
    q = 1 − (1 − p_lex)(1 − p_pop) − 0.02 (one extra strategy).
    """
    sb = SyntheticBandit()
    cell = pd.DataFrame([{"n_words": 0, "device": "tv", "history": 0.0, "head": 0.0}])
    q = sb.expected_reward(cell)[0, sb.plan_ids.index("lex25_pop75")]
    p_lex = 0.15 * (1 - math.exp(-25 / 30)) / (1 - math.exp(-100 / 30))
    p_pop = 0.6 * (1 - math.exp(-75 / 20)) / (1 - math.exp(-100 / 20))
    assert q == pytest.approx(1 - (1 - p_lex) * (1 - p_pop) - 0.02, abs=1e-12)


def test_logging_policy_matches_epsilon_greedy_policy() -> None:
    """The generator's vectorised logging probabilities equal ltrr.retrieval's EpsilonGreedyPolicy."""
    sb = SyntheticBandit(epsilon=0.2)
    cells = sb.cells()
    reference = EpsilonGreedyPolicy(sb.menu, day0_greedy, epsilon=0.2)
    expected = np.array([reference.probabilities(" ".join(["w"] * k), {}) for k in cells["n_words"]])
    assert np.allclose(sb.logging_probabilities(cells), expected, rtol=0, atol=1e-15)
    assert cells["prob"].sum() == pytest.approx(1.0, abs=1e-12) and len(cells) == 500


def test_sampled_rewards_match_true_logging_value() -> None:
    """Mean logged reward (on-policy) is within 4 standard errors of the exact logging value."""
    sb = SyntheticBandit()
    arrays = sb.sample_cells(200_000, seed=11)
    truth = sb.true_value(sb.logging_probabilities)
    se = arrays["reward"].std() / math.sqrt(arrays["reward"].size)
    assert abs(arrays["reward"].mean() - truth) < 4 * se
    assert sb.true_value(sb.target_probabilities) > truth + 0.05  # the fixed target is clearly better


def test_design_matrix_layout() -> None:
    """Every plan of every context, context-major: row i·P + j = [context i, plan j]."""
    from ltrr.bandit.reward_model import design_matrix

    contexts = np.array([[1.0, 2.0], [3.0, 4.0]])
    plans = np.array([[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]])
    assert design_matrix(contexts, plans, None).tolist() == [
        [1, 2, 10, 11, 12],
        [1, 2, 20, 21, 22],
        [3, 4, 10, 11, 12],
        [3, 4, 20, 21, 22],
    ]
    assert design_matrix(contexts, plans, np.array([1, 0])).tolist() == [[1, 2, 20, 21, 22], [3, 4, 10, 11, 12]]


def test_encode_row_equals_encode_of_a_one_row_frame() -> None:
    """The serving path (no pandas) encodes every kind of value exactly as the training path."""
    import math

    import numpy as np
    import pandas as pd

    from ltrr.bandit.plan_features import ContextFeature, ContextSpec

    spec = ContextSpec(
        (
            ContextFeature("hour", "numeric", 12.0),
            ContextFeature("n", "numeric", 1.0),
            ContextFeature("device", "categorical", "mobile", ("mobile", "tv", "web")),
            ContextFeature("genre", "categorical", "none", ("none", "pop", "rock")),
        )
    )
    cases = [
        {"hour": 21.0, "n": 3, "device": "tv", "genre": "rock"},
        {"hour": None, "n": math.nan, "device": None, "genre": math.nan},  # missing -> defaults
        {"hour": "7", "n": 0.5, "device": "car", "genre": "jazz"},  # unseen categories -> NaN
        {"device": "web"},  # absent keys are missing values
    ]
    for case in cases:
        frame = pd.DataFrame([{f.name: case.get(f.name) for f in spec.features}])
        np.testing.assert_array_equal(spec.encode_row(case), spec.encode(frame))
    with pytest.raises(ValueError, match="non-numeric"):
        spec.encode_row({"hour": "evening"})
