"""The bandit dataset contract, context features and plan features.

**Dataset frame** (pandas, one row per search; built by the nightly Spark job): the columns of
:data:`BANDIT_COLUMNS` —

- ``search_id`` (str, unique), ``ds`` (str, ``YYYY-MM-DD``),
- ``plan_id`` (str): the logged plan, in the policy's menu,
- ``propensity`` (float in (0, 1]): π_log(plan | x) logged by the serving policy,
- ``reward`` (float, finite): taken as given,

plus one column per context feature of a :class:`ContextSpec`. A context feature is numeric
(a float; missing values take the feature's default) or categorical (a string; mapped to an
integer code by the spec's category list, learned from training data with
:meth:`ContextSpec.fit_categories` and stored with the policy, so serving encodes exactly as
training did; a missing value takes the default, an unseen category becomes missing (NaN), which
LightGBM routes down its learned missing-value branch).

**Plan features** (:func:`plan_feature_matrix`): for each strategy of
:data:`ltrr.schemas.STRATEGIES` its candidate budget in the plan (0 when not called), the number
of strategies called and the total budget. A reward model over [context features, plan features]
shares what it learns across plans, and can score a plan it has seen rarely (or never) by its
composition.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ltrr.retrieval.plans import Plan, PlanStep
from ltrr.schemas import STRATEGIES

BANDIT_COLUMNS: tuple[str, ...] = ("search_id", "ds", "plan_id", "propensity", "reward")
"""Columns every bandit dataset frame has, besides the context features."""

PLAN_FEATURE_NAMES: tuple[str, ...] = (*(f"budget_{s}" for s in STRATEGIES), "n_strategies", "total_budget")
"""Names of the plan features, in the column order of :func:`plan_feature_matrix`."""

FEATURE_KINDS: tuple[str, ...] = ("numeric", "categorical")


@dataclass(frozen=True)
class ContextFeature:
    """One context feature of the bandit dataset.

    Attributes:
        name: column name in the dataset frame.
        kind: ``"numeric"`` or ``"categorical"``.
        default: value used when the row's value is missing (a float, or a category string).
        categories: for a categorical feature, the known categories in code order (empty until
            :meth:`ContextSpec.fit_categories`).
    """

    name: str
    kind: str
    default: float | str
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in FEATURE_KINDS:
            raise ValueError(f"context feature {self.name!r}: kind must be one of {FEATURE_KINDS}, got {self.kind!r}")
        if self.kind == "numeric" and not isinstance(self.default, int | float):
            raise ValueError(f"numeric context feature {self.name!r} needs a numeric default, got {self.default!r}")
        if self.kind == "categorical" and not isinstance(self.default, str):
            raise ValueError(f"categorical context feature {self.name!r} needs a string default, got {self.default!r}")

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return {"name": self.name, "kind": self.kind, "default": self.default, "categories": list(self.categories)}

    @classmethod
    def from_dict(cls, data: Mapping) -> ContextFeature:
        """Inverse of :meth:`to_dict`."""
        default = data["default"]
        if data["kind"] == "numeric":
            default = float(default)
        return cls(str(data["name"]), str(data["kind"]), default, tuple(str(c) for c in data.get("categories", ())))


@dataclass(frozen=True)
class ContextSpec:
    """The ordered context features a reward model and policy use."""

    features: tuple[ContextFeature, ...]

    def __post_init__(self) -> None:
        names = [f.name for f in self.features]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate context feature names: {names}")
        clash = set(names) & (set(BANDIT_COLUMNS) | set(PLAN_FEATURE_NAMES))
        if clash:
            raise ValueError(f"context feature names clash with dataset or plan columns: {sorted(clash)}")

    @property
    def names(self) -> tuple[str, ...]:
        """Feature names, in model column order."""
        return tuple(f.name for f in self.features)

    @property
    def categorical_indices(self) -> tuple[int, ...]:
        """Column indices of the categorical features."""
        return tuple(i for i, f in enumerate(self.features) if f.kind == "categorical")

    def fit_categories(self, frame: pd.DataFrame) -> ContextSpec:
        """A spec whose categorical features without categories learn them from ``frame``.

        Categories are the sorted distinct non-null values plus the default, so the codes are
        deterministic. Features that already list categories keep them.

        Args:
            frame: training rows with the context columns.

        Returns:
            The new spec.
        """
        out = []
        for f in self.features:
            if f.kind == "categorical" and not f.categories:
                seen = set(frame[f.name].dropna().astype(str)) if f.name in frame.columns else set()
                out.append(replace(f, categories=tuple(sorted(seen | {str(f.default)}))))
            else:
                out.append(f)
        return ContextSpec(tuple(out))

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """The context matrix of ``frame``: shape (n, len(features)), float64, model column order.

        Args:
            frame: rows with every context column.

        Returns:
            Numeric values (missing → default) and categorical codes (missing → the default's
            code, unknown category → NaN).

        Raises:
            KeyError: when a context column is missing from the frame.
            ValueError: when a categorical feature has no categories (call :meth:`fit_categories`)
                or a numeric column holds non-numeric values.
        """
        missing = [f.name for f in self.features if f.name not in frame.columns]
        if missing:
            raise KeyError(f"context columns missing from the frame: {missing}")
        out = np.empty((len(frame), len(self.features)), dtype=np.float64)
        for j, f in enumerate(self.features):
            col = frame[f.name]
            if f.kind == "numeric":
                try:
                    values = pd.to_numeric(col, errors="raise").astype(np.float64).to_numpy()
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"numeric context feature {f.name!r} has non-numeric values: {exc}") from exc
                out[:, j] = np.where(np.isnan(values), float(f.default), values)
            else:
                if not f.categories:
                    raise ValueError(f"categorical feature {f.name!r} has no categories: call fit_categories first")
                codes = {c: float(i) for i, c in enumerate(f.categories)}
                filled = col.where(col.notna(), f.default).astype(str)
                out[:, j] = filled.map(codes).astype(np.float64).to_numpy()
        return out

    def encode_row(self, context: Mapping[str, Any]) -> np.ndarray:
        """:meth:`encode` of one request's context, without pandas (the serving path).

        Gives exactly the row :meth:`encode` gives for a one-row frame of the same values
        (tested), in a few microseconds instead of a few milliseconds.

        Args:
            context: feature name -> value (a missing key or None/NaN is a missing value).

        Returns:
            Shape (1, len(features)), float64.

        Raises:
            ValueError: when a categorical feature has no categories or a numeric value is not a number.
        """
        out = np.empty((1, len(self.features)), dtype=np.float64)
        for j, f in enumerate(self.features):
            value = context.get(f.name)
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            if f.kind == "numeric":
                if missing:
                    out[0, j] = float(f.default)
                    continue
                try:
                    out[0, j] = float(value)
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"numeric context feature {f.name!r} has a non-numeric value {value!r}") from exc
                if math.isnan(out[0, j]):
                    out[0, j] = float(f.default)
            else:
                if not f.categories:
                    raise ValueError(f"categorical feature {f.name!r} has no categories: call fit_categories first")
                key = str(f.default) if missing else str(value)
                out[0, j] = float(f.categories.index(key)) if key in f.categories else math.nan
        return out

    def to_list(self) -> list[dict]:
        """JSON-friendly form."""
        return [f.to_dict() for f in self.features]

    @classmethod
    def from_list(cls, data: Iterable[Mapping]) -> ContextSpec:
        """Inverse of :meth:`to_list`."""
        return cls(tuple(ContextFeature.from_dict(d) for d in data))


def plan_features(plan: Plan) -> dict[str, float]:
    """The features of one plan, by name (see :data:`PLAN_FEATURE_NAMES`).

    Args:
        plan: a retrieval plan.

    Returns:
        Budget per strategy (0 when not called), number of strategies, total budget.

    Raises:
        ValueError: when the plan names a strategy outside ``STRATEGIES``.
    """
    unknown = set(plan.strategies) - set(STRATEGIES)
    if unknown:
        raise ValueError(f"plan {plan.plan_id!r} names unknown strategies: {sorted(unknown)}")
    budgets = dict.fromkeys(STRATEGIES, 0)
    for step in plan.steps:
        budgets[step.strategy] += step.budget
    out: dict[str, float] = {f"budget_{s}": float(b) for s, b in budgets.items()}
    out["n_strategies"] = float(len(set(plan.strategies)))
    out["total_budget"] = float(plan.total_budget)
    return out


def plan_feature_matrix(menu: Sequence[Plan]) -> np.ndarray:
    """Plan features of a menu, one row per plan.

    Args:
        menu: the plans.

    Returns:
        Float64 matrix of shape (len(menu), len(PLAN_FEATURE_NAMES)), in menu order.
    """
    return np.array([[plan_features(p)[name] for name in PLAN_FEATURE_NAMES] for p in menu], dtype=np.float64)


def plan_from_dict(data: Mapping) -> Plan:
    """Rebuild a plan from its JSON form.

    Args:
        data: :meth:`ltrr.retrieval.plans.Plan.to_dict` output.

    Returns:
        The :class:`~ltrr.retrieval.plans.Plan`.
    """
    return Plan(str(data["plan_id"]), tuple(PlanStep(str(s["strategy"]), int(s["budget"])) for s in data["steps"]))


def plan_indices(plan_ids: Iterable[str], menu: Sequence[Plan]) -> np.ndarray:
    """Menu index of each plan id.

    Args:
        plan_ids: logged plan ids.
        menu: the plans, in menu order.

    Returns:
        int64 indices, shape (n,).

    Raises:
        ValueError: when a plan id is not in the menu.
    """
    index = {p.plan_id: i for i, p in enumerate(menu)}
    ids = pd.Series(list(plan_ids) if not isinstance(plan_ids, pd.Series) else plan_ids, dtype=object)
    mapped = ids.map(index)
    if mapped.isna().any():
        unknown = sorted(set(ids[mapped.isna()].astype(str)))
        raise ValueError(f"plan ids not in the menu: {unknown[:10]}{' ...' if len(unknown) > 10 else ''}")
    return mapped.to_numpy(dtype=np.int64)


def validate_bandit_frame(frame: pd.DataFrame, spec: ContextSpec, menu: Sequence[Plan]) -> None:
    """Check a bandit dataset frame against the contract; raise with every problem found.

    Args:
        frame: the dataset (one row per search).
        spec: its context features.
        menu: the plans the logged ``plan_id`` must belong to.

    Raises:
        ValueError: listing missing columns, nulls, duplicate search ids, plans outside the menu,
            propensities outside (0, 1] and non-finite rewards.
    """
    problems: list[str] = []
    missing = [c for c in (*BANDIT_COLUMNS, *spec.names) if c not in frame.columns]
    if missing:
        raise ValueError(f"bandit frame is missing columns: {missing}")
    if len(frame) == 0:
        raise ValueError("bandit frame has no rows")
    for col in BANDIT_COLUMNS:
        nulls = int(frame[col].isna().sum())
        if nulls:
            problems.append(f"{nulls} null {col}")
    dup = int(frame["search_id"].duplicated().sum())
    if dup:
        problems.append(f"{dup} duplicate search_id")
    known = {p.plan_id for p in menu}
    outside = ~frame["plan_id"].isin(known)
    if outside.any():
        names = sorted(set(frame["plan_id"][outside].astype(str)))[:10]
        problems.append(f"{int(outside.sum())} rows with a plan outside the menu: {names}")
    prop = pd.to_numeric(frame["propensity"], errors="coerce").to_numpy(dtype=np.float64)
    bad_prop = ~np.isfinite(prop) | (prop <= 0.0) | (prop > 1.0)
    if bad_prop.any():
        problems.append(f"{int(bad_prop.sum())} propensities outside (0, 1]")
    reward = pd.to_numeric(frame["reward"], errors="coerce").to_numpy(dtype=np.float64)
    bad_reward = ~np.isfinite(reward)
    if bad_reward.any():
        problems.append(f"{int(bad_reward.sum())} non-finite rewards")
    if problems:
        raise ValueError("invalid bandit frame: " + "; ".join(problems))
