"""Plan-selection policy learned offline with doubly robust targets, exported as data.

**Learning** (:func:`learn_policy`). From logged rows (x_i, a_i, r_i, p_i = π_log(a_i|x_i)):

1. Fit the cross-fitted reward model q̂ (:mod:`ltrr.bandit.reward_model`).
2. For every row and every plan a, the doubly robust pseudo-reward
   Γ_i(a) = q̂(x_i, a) + 1[a = a_i] (r_i − q̂(x_i, a_i)) / p_i,
   with q̂ out of fold. Given x_i, Γ_i(a) is an unbiased estimate of q(x_i, a) for every plan
   (the correction term has mean q(x, a) − q̂(x, a) under the logging policy), whatever the
   reward model's bias, as long as the propensities are exact and positive (Dudík, Langford &
   Li 2011, "Doubly robust policy evaluation and learning"). By default the weight 1 / p_i is
   capped at ``PolicyParams.max_weight`` = 10, which gives up that unbiasedness where p_i < 0.1
   for much less variance (see there).
3. Fit the policy's scorer s(x, a) — one LightGBM regressor over [context, plan] features,
   like the reward model — to Γ on all (row, plan) pairs. s(x, ·) estimates q(x, ·), and the
   greedy plan is argmax_a s(x, a).

Why regress on Γ instead of taking the argmax of q̂: q̂ is fitted to the logged rows, which the
logging policy concentrates on its greedy plans; where a plan was rarely logged, q̂ leans on
regularisation and on neighbouring plans, and its errors there (the region the new policy wants
to move to) go straight into the argmax. Γ corrects q̂ with the logged rewards, reweighted by
the inverse propensity, so the scorer is pulled towards the truth where q̂ is wrong; where q̂ is
right the correction has mean 0 and the scorer mostly reproduces q̂. The price is variance
(weights up to |menu| / ε of the logging policy), which the scorer's trees average out.

**Exploration** keeps future logs usable: the policy plays a softmax of the scores with
temperature T, mixed with the uniform distribution,

    π(a|x) = (1 − ε) · softmax(s(x, ·) / T)_a + ε / |menu|,

so every plan has probability ≥ ε / |menu| (the floor) and the logged propensity is exact.
T = 0 is ε-greedy (ties go to the first plan in menu order).

**Export** (:func:`save_policy` / :func:`load_policy`): a folder of data, no pickles —
``model.txt`` (the scorer, LightGBM text format, full double precision), ``policy.json`` (format
version, policy version, menu with plan features, context spec with categories, feature order,
exploration parameters, model checksum, training metadata) and ``golden.json`` (contexts and their
probabilities under the trained policy). :func:`load_policy` rebuilds the policy with ``ltrr`` and
lightgbm alone and, by default, checks the golden probabilities to 1e-12.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ltrr.bandit.plan_features import (
    PLAN_FEATURE_NAMES,
    ContextSpec,
    plan_feature_matrix,
    plan_features,
    plan_from_dict,
    plan_indices,
    validate_bandit_frame,
)
from ltrr.bandit.reward_model import (
    BoosterParams,
    RewardModel,
    canonical_order,
    design_matrix,
    fit_reward_model,
    predict_plans,
    search_hash,
    train_booster,
)
from ltrr.retrieval.plans import Plan

POLICY_FORMAT_VERSION = "1"
"""Version of the exported policy folder layout (bump on any incompatible change)."""

POLICY_KIND = "softmax-floor-plan-policy"
PARITY_TOLERANCE = 1e-12


class PolicyParityError(ValueError):
    """A loaded policy's probabilities differ from the trained policy's golden probabilities."""


def softmax_with_floor(scores: np.ndarray, temperature: float, epsilon: float) -> np.ndarray:
    """π = (1 − ε) · softmax(scores / T) + ε / P, row-wise; T = 0 is ε-greedy.

    Args:
        scores: shape (n, P).
        temperature: T ≥ 0, in score (reward) units.
        epsilon: uniform share ε in [0, 1].

    Returns:
        Probabilities, shape (n, P): rows sum to 1 (to rounding) and every entry is ≥ ε / P.
    """
    n, k = scores.shape
    if temperature == 0.0:
        probs = np.zeros((n, k))
        probs[np.arange(n), np.argmax(scores, axis=1)] = 1.0
    else:
        z = (scores - scores.max(axis=1, keepdims=True)) / temperature
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
    return (1.0 - epsilon) * probs + epsilon / k


def _check_exploration(temperature: float, epsilon: float) -> None:
    if not np.isfinite(temperature) or temperature < 0.0:
        raise ValueError(f"temperature must be finite and >= 0, got {temperature}")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")


class PlanPolicy:
    """A softmax-with-floor policy over a plan menu, scored by a LightGBM model.

    Args:
        booster: ``lightgbm.Booster`` over [context features, plan features].
        spec: context features (categorical features with their categories).
        menu: the plans, in menu (probability column) order.
        temperature: softmax temperature T ≥ 0 (reward units).
        epsilon: uniform share ε in [0, 1]; the floor is ε / len(menu).
        version: the policy version logged with each search.
        metadata: training details carried into ``policy.json``.
        training_hashes: hashes of the training search ids (in memory only, not exported), so
            evaluation can refuse the policy's own training rows.
    """

    def __init__(
        self,
        *,
        booster: object,
        spec: ContextSpec,
        menu: Sequence[Plan],
        temperature: float,
        epsilon: float,
        version: str,
        metadata: Mapping[str, Any] | None = None,
        training_hashes: np.ndarray | None = None,
    ) -> None:
        if not menu:
            raise ValueError("the plan menu is empty")
        _check_exploration(temperature, epsilon)
        self.booster = booster
        self.spec = spec
        self.menu = tuple(menu)
        self.temperature = float(temperature)
        self.epsilon = float(epsilon)
        self.version = version
        self.metadata = dict(metadata or {})
        self.training_hashes = None if training_hashes is None else np.sort(np.asarray(training_hashes, np.uint64))
        self._plan_matrix = plan_feature_matrix(self.menu)

    @property
    def plan_ids(self) -> tuple[str, ...]:
        """Plan ids, in probability column order."""
        return tuple(p.plan_id for p in self.menu)

    @property
    def floor(self) -> float:
        """The smallest probability of any plan: ε / len(menu)."""
        return self.epsilon / len(self.menu)

    def scores(self, context_matrix: np.ndarray) -> np.ndarray:
        """Scorer output s(x, a) (an estimate of the expected reward): shape (n, len(menu))."""
        x = np.asarray(context_matrix, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.spec.features):
            raise ValueError(f"context matrix must have shape (n, {len(self.spec.features)}), got {x.shape}")
        return predict_plans(self.booster, x, self._plan_matrix)

    def probabilities(self, context_matrix: np.ndarray) -> np.ndarray:
        """Exact π(plan | x) for each row: shape (n, len(menu)), rows sum to 1, entries ≥ floor.

        Args:
            context_matrix: encoded contexts (:meth:`ContextSpec.encode`), shape (n, d).

        Returns:
            Probabilities in menu order.
        """
        return softmax_with_floor(self.scores(context_matrix), self.temperature, self.epsilon)

    def probabilities_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """:meth:`probabilities` of a frame with the context columns (encoded by the spec)."""
        return self.probabilities(self.spec.encode(frame))

    def choose(self, context: Mapping[str, Any], rng: np.random.Generator) -> tuple[Plan, float]:
        """Draw a plan for one request (one uniform draw from ``rng``) with its exact propensity.

        Args:
            context: context feature values by name (missing ones take their defaults).
            rng: random generator.

        Returns:
            The plan and its probability, to be logged as the propensity.
        """
        probs = self.probabilities(self.spec.encode_row(context))[0]
        idx = int(np.searchsorted(np.cumsum(probs), rng.random(), side="right"))
        idx = min(idx, len(probs) - 1)
        while probs[idx] <= 0.0:  # float edge: never return a zero-probability plan
            idx -= 1
        return self.menu[idx], float(probs[idx])

    def with_serving_exploration(self, eta: float) -> PlanPolicy:
        """The policy as a ``Searcher`` serves it: mixed with η uniform draws over its menu.

        (1 − η) π + η / |menu| is again a softmax with floor, with ε' = 1 − (1 − ε)(1 − η), so the
        result is this policy with that ε (same scorer, temperature and training rows). The
        nightly gate estimates this mixture, because that is what will serve and what the
        champion's logged value includes. (Serving draws η over every plan the bundle can run;
        the policy's menu is the plans logged in its window, which equals that set once every
        runnable plan has been logged.)

        Args:
            eta: serving exploration share η in [0, 1].

        Returns:
            A new policy (this one when η = 0).
        """
        if not 0.0 <= eta <= 1.0:
            raise ValueError(f"serving exploration must be in [0, 1], got {eta}")
        if eta == 0.0:
            return self
        return PlanPolicy(
            booster=self.booster,
            spec=self.spec,
            menu=self.menu,
            temperature=self.temperature,
            epsilon=1.0 - (1.0 - self.epsilon) * (1.0 - eta),
            version=self.version,
            metadata=self.metadata,
            training_hashes=self.training_hashes,
        )

    def describe(self) -> dict[str, Any]:
        """The ``policy.json`` content (without the model checksum)."""
        return {
            "format_version": POLICY_FORMAT_VERSION,
            "kind": POLICY_KIND,
            "version": self.version,
            "exploration": {"temperature": self.temperature, "epsilon": self.epsilon, "floor": self.floor},
            "menu": [{**p.to_dict(), "features": plan_features(p)} for p in self.menu],
            "plan_feature_names": list(PLAN_FEATURE_NAMES),
            "context_spec": self.spec.to_list(),
            "feature_names": [*self.spec.names, *PLAN_FEATURE_NAMES],
            "metadata": self.metadata,
        }


def dr_pseudo_rewards(
    q_all: np.ndarray,
    plan_index: np.ndarray,
    reward: np.ndarray,
    propensity: np.ndarray,
    *,
    max_weight: float | None = None,
) -> np.ndarray:
    """Γ_i(a) = q̂(x_i, a) + 1[a = a_i] · min(1 / p_i, M) · (r_i − q̂(x_i, a_i)) for every row and plan.

    Args:
        q_all: out-of-fold q̂ for every row and plan, shape (n, P).
        plan_index: logged plan (menu index) of each row, shape (n,).
        reward: observed rewards, shape (n,).
        propensity: logged π_log(a_i|x_i), in (0, 1], shape (n,).
        max_weight: cap M on the importance weight 1 / p_i (None: no cap, the unbiased targets).

    Returns:
        The pseudo-rewards, shape (n, P).
    """
    rows = np.arange(q_all.shape[0])
    gamma = np.array(q_all, dtype=np.float64, copy=True)
    weight = 1.0 / np.asarray(propensity, dtype=np.float64)
    if max_weight is not None:
        weight = np.minimum(weight, max_weight)
    gamma[rows, plan_index] += (reward - q_all[rows, plan_index]) * weight
    return gamma


@dataclass(frozen=True)
class PolicyParams:
    """Everything :func:`learn_policy` needs besides the data.

    Attributes:
        temperature: softmax temperature (reward units; 0.02 means a plan 0.02 better in
            expected reward gets e ≈ 2.7 times the probability). The default 0 is ε-greedy: on
            the medium world it served 0.003–0.012 more true value than T = 0.02 (docs/bandit.md).
        epsilon: uniform exploration share (floor ε / |menu|).
        k_folds: reward model cross-fitting folds.
        max_weight: cap on the importance weight 1 / p in the scorer's pseudo-rewards (None: no
            cap, the unbiased targets). Plans the logging policy only explored carry weights of
            |menu| / ε (118 on the medium world); a few such rows decide a leaf's mean and the
            argmax then chases their noise. A cap trades that variance for a bias towards q̂.
            The default 10 served 0.002–0.011 more true value per search than no cap on the
            three medium days measured (docs/bandit.md).
        reward: reward model booster parameters.
        scorer: policy scorer booster parameters.
        version: policy version string.
    """

    temperature: float = 0.0
    epsilon: float = 0.1
    k_folds: int = 5
    max_weight: float | None = 10.0
    reward: BoosterParams = field(default_factory=BoosterParams)
    scorer: BoosterParams = field(default_factory=BoosterParams)
    version: str = "dr-v1"

    def __post_init__(self) -> None:
        if self.max_weight is not None and not (np.isfinite(self.max_weight) and self.max_weight >= 1.0):
            raise ValueError(f"max_weight must be finite and >= 1 (weights 1 / p are >= 1), got {self.max_weight}")


def learn_policy(
    frame: pd.DataFrame,
    spec: ContextSpec,
    menu: Sequence[Plan],
    params: PolicyParams | None = None,
    *,
    reward_model: RewardModel | None = None,
) -> tuple[PlanPolicy, RewardModel]:
    """Learn a plan policy from logged rows with doubly robust targets (see the module docstring).

    Args:
        frame: the bandit dataset (training rows only: evaluate on other rows).
        spec: context features (categorical categories are learned from ``frame`` if unset).
        menu: the plans the policy chooses from (every logged plan must be in it).
        params: learning parameters (default :class:`PolicyParams`).
        reward_model: an already cross-fitted reward model on exactly these rows, or None to fit one.

    Returns:
        ``(policy, reward_model)``.

    Raises:
        ValueError: when the frame breaks the dataset contract.
    """
    params = params or PolicyParams()
    _check_exploration(params.temperature, params.epsilon)
    spec = spec.fit_categories(frame)
    validate_bandit_frame(frame, spec, menu)
    frame = canonical_order(frame)
    if reward_model is None:
        reward_model = fit_reward_model(frame, spec, menu, params=params.reward, k_folds=params.k_folds)
    spec = reward_model.spec
    a = plan_indices(frame["plan_id"], menu)
    q_all = reward_model.predict_all_plans(frame, menu, out_of_fold=True)
    gamma = dr_pseudo_rewards(
        q_all,
        a,
        frame["reward"].to_numpy(dtype=np.float64),
        frame["propensity"].to_numpy(dtype=np.float64),
        max_weight=params.max_weight,
    )
    # The (rows × plans) design matrix is passed without a local name: LightGBM frees it once binned.
    booster = train_booster(
        design_matrix(spec.encode(frame), plan_feature_matrix(menu), None),
        gamma.reshape(-1),
        feature_names=(*spec.names, *PLAN_FEATURE_NAMES),
        categorical=spec.categorical_indices,
        params=params.scorer,
    )
    del gamma, q_all
    ds = frame["ds"].astype(str)
    metadata = {
        "method": "lightgbm regression on doubly robust pseudo-rewards (cross-fitted reward model)",
        "rows": len(frame),
        "ds_min": ds.min(),
        "ds_max": ds.max(),
        "k_folds": reward_model.k_folds,
        "max_weight": params.max_weight,
        "reward_params": params.reward.to_dict(),
        "scorer_params": params.scorer.to_dict(),
    }
    policy = PlanPolicy(
        booster=booster,
        spec=spec,
        menu=menu,
        temperature=params.temperature,
        epsilon=params.epsilon,
        version=params.version,
        metadata=metadata,
        training_hashes=search_hash(frame["search_id"]),
    )
    return policy, reward_model


def _json_dump(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n")


def save_policy(
    policy: PlanPolicy, folder: str | Path, *, golden_contexts: pd.DataFrame | None = None
) -> dict[str, Path]:
    """Write the policy as data: ``model.txt``, ``policy.json`` and ``golden.json``.

    Args:
        policy: the trained policy.
        folder: destination folder (created; existing files of the same names are replaced).
        golden_contexts: rows with the context columns whose probabilities are stored for the
            parity check (default: none, and no ``golden.json``).

    Returns:
        The written files by name.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    model_text = policy.booster.model_to_string()  # type: ignore[attr-defined]
    (out / "model.txt").write_text(model_text)
    files = {"model.txt": out / "model.txt", "policy.json": out / "policy.json"}
    description = policy.describe()
    description["model"] = {"file": "model.txt", "sha256": hashlib.sha256(model_text.encode()).hexdigest()}
    if golden_contexts is not None:
        contexts = golden_contexts[list(policy.spec.names)].reset_index(drop=True)
        probs = policy.probabilities_frame(contexts)
        records = [
            {k: (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for k, v in row.items()}
            for row in contexts.to_dict(orient="records")
        ]
        _json_dump({"contexts": records, "probabilities": probs.tolist()}, out / "golden.json")
        description["golden"] = {"file": "golden.json", "rows": len(records), "tolerance": PARITY_TOLERANCE}
        files["golden.json"] = out / "golden.json"
    _json_dump(description, out / "policy.json")
    return files


def check_parity(
    reference: np.ndarray, policy: PlanPolicy, contexts: pd.DataFrame, tolerance: float = PARITY_TOLERANCE
) -> float:
    """Compare a policy's probabilities on ``contexts`` with reference probabilities.

    Args:
        reference: expected probabilities, shape (n, len(menu)).
        policy: the policy to check.
        contexts: rows with the context columns.
        tolerance: largest allowed absolute difference.

    Returns:
        The largest absolute difference.

    Raises:
        PolicyParityError: when it exceeds ``tolerance`` or the shapes differ.
    """
    got = policy.probabilities_frame(contexts)
    ref = np.asarray(reference, dtype=np.float64)
    if got.shape != ref.shape:
        raise PolicyParityError(f"probability shapes differ: {got.shape} vs reference {ref.shape}")
    diff = float(np.max(np.abs(got - ref))) if got.size else 0.0
    if not diff <= tolerance:
        raise PolicyParityError(f"policy probabilities differ from the reference by {diff:.3g} > {tolerance:g}")
    return diff


def load_policy(folder: str | Path, *, verify: bool = True) -> PlanPolicy:
    """Rebuild a policy from :func:`save_policy` output (``ltrr`` and lightgbm only).

    Args:
        folder: the policy folder.
        verify: check the model checksum and, when ``golden.json`` exists, the golden
            probabilities to :data:`PARITY_TOLERANCE`.

    Returns:
        The policy (without training row hashes).

    Raises:
        ValueError: on an unknown format version or kind, or a checksum mismatch.
        PolicyParityError: when the golden probabilities are not reproduced.
    """
    import lightgbm as lgb

    src = Path(folder)
    description = json.loads((src / "policy.json").read_text())
    if description.get("format_version") != POLICY_FORMAT_VERSION or description.get("kind") != POLICY_KIND:
        raise ValueError(
            f"{src / 'policy.json'}: unsupported policy format {description.get('format_version')!r} / "
            f"{description.get('kind')!r} (this code reads {POLICY_FORMAT_VERSION!r} / {POLICY_KIND!r})"
        )
    model_text = (src / description["model"]["file"]).read_text()
    if verify and hashlib.sha256(model_text.encode()).hexdigest() != description["model"]["sha256"]:
        raise ValueError(f"{src / description['model']['file']}: sha256 does not match policy.json")
    spec = ContextSpec.from_list(description["context_spec"])
    menu = tuple(plan_from_dict(p) for p in description["menu"])
    for plan, entry in zip(menu, description["menu"], strict=True):
        if plan_features(plan) != entry["features"]:
            raise ValueError(f"plan {plan.plan_id!r}: stored plan features differ from this code's")
    if list(description["feature_names"]) != [*spec.names, *PLAN_FEATURE_NAMES]:
        raise ValueError("policy.json feature order differs from this code's plan features")
    policy = PlanPolicy(
        booster=lgb.Booster(model_str=model_text),
        spec=spec,
        menu=menu,
        temperature=float(description["exploration"]["temperature"]),
        epsilon=float(description["exploration"]["epsilon"]),
        version=str(description["version"]),
        metadata=description.get("metadata", {}),
    )
    if verify and "golden" in description:
        golden = json.loads((src / description["golden"]["file"]).read_text())
        contexts = pd.DataFrame(golden["contexts"], columns=list(spec.names))
        check_parity(np.array(golden["probabilities"]), policy, contexts)
    return policy
