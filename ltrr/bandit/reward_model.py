"""The reward model q̂(x, plan): one LightGBM regressor over [context features, plan features].

One model for every plan (rather than one per plan) shares what it learns across plans: plans
that call the same strategy with similar budgets get similar predictions, and a plan that is
rarely logged borrows strength from its neighbours.

Cross-fitting: rows are split into K folds by a hash of ``search_id`` (stable across runs and
independent of row order); fold model k is trained on every fold but k. The out-of-fold
prediction of a training row comes from the model that did not see it, which is what DR needs:
a model fitted on the same rows it corrects would absorb their noise and bias the correction
term towards 0. Rows that were not in training (held-out days) get the mean of the K fold
models.

Training is deterministic (``num_threads=1``, ``deterministic=True``, ``force_row_wise=True``,
fixed seeds, rows first sorted by the hash of ``search_id``): the same rows, in any order, give
byte-identical models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ltrr.bandit.plan_features import (
    PLAN_FEATURE_NAMES,
    ContextSpec,
    plan_feature_matrix,
    plan_indices,
    validate_bandit_frame,
)
from ltrr.retrieval.plans import Plan

_FOLD_HASH_KEY = "ltrr-bandit-fold"  # 16 bytes, as pandas' hash_key must be
_PREDICT_CHUNK_ROWS = 500_000


@dataclass(frozen=True)
class BoosterParams:
    """LightGBM regression parameters shared by the reward model and the policy scorer."""

    num_boost_round: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 31
    min_data_in_leaf: int = 50
    lambda_l2: float = 1.0
    feature_fraction: float = 1.0
    seed: int = 0

    def lgb_params(self) -> dict:
        """The LightGBM parameter dict (deterministic, single-threaded, silent)."""
        return {
            "objective": "regression",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "lambda_l2": self.lambda_l2,
            "feature_fraction": self.feature_fraction,
            "seed": self.seed,
            "num_threads": 1,
            "deterministic": True,
            "force_row_wise": True,
            "verbosity": -1,
        }

    def to_dict(self) -> dict:
        """JSON-friendly form."""
        return asdict(self)


def search_hash(search_ids: pd.Series | Sequence[str], key: str = _FOLD_HASH_KEY) -> np.ndarray:
    """A stable uint64 hash of each search id (pandas' SipHash with a fixed 16-byte key).

    Args:
        search_ids: the ids.
        key: a 16-byte key (distinct keys give independent hashes, e.g. folds vs holdout).

    Returns:
        uint64 hashes, shape (n,).
    """
    if len(key.encode()) != 16:
        raise ValueError("the hash key must be 16 bytes")
    series = search_ids if isinstance(search_ids, pd.Series) else pd.Series(list(search_ids), dtype=object)
    return pd.util.hash_pandas_object(series.astype(str), index=False, hash_key=key).to_numpy(dtype=np.uint64)


def canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame sorted by the hash of ``search_id`` (stable), so training never depends on row order.

    LightGBM's bin boundaries come from a sample of rows taken by position, and float sums depend
    on order: sorting first makes the same set of rows give the same model however it was read.
    """
    order = np.argsort(search_hash(frame["search_id"]), kind="stable")
    return frame.iloc[order]


def fold_of(search_ids: pd.Series | Sequence[str], k_folds: int) -> np.ndarray:
    """Cross-fitting fold of each search, from a hash of its id (independent of row order).

    Args:
        search_ids: the ids.
        k_folds: number of folds.

    Returns:
        int64 folds in 0..k_folds−1, shape (n,).
    """
    return (search_hash(search_ids) % np.uint64(k_folds)).astype(np.int64)


def design_matrix(context_matrix: np.ndarray, plan_matrix: np.ndarray, plan_index: np.ndarray | None) -> np.ndarray:
    """Model input rows [context features, plan features].

    Args:
        context_matrix: encoded contexts, shape (n, d).
        plan_matrix: plan features of the menu, shape (P, len(PLAN_FEATURE_NAMES)).
        plan_index: one plan per context (shape (n,), gives n rows), or None for every plan of
            every context (n·P rows, context-major: row i·P + j is context i with plan j).

    Returns:
        Float64 matrix of shape (n, d + f) or (n·P, d + f).
    """
    if plan_index is not None:
        return np.hstack([context_matrix, plan_matrix[plan_index]])
    (n, d), (p, f) = context_matrix.shape, plan_matrix.shape
    out = np.empty((n * p, d + f), dtype=np.float64)  # filled in place: no (n·P)-row temporaries
    view = out.reshape(n, p, d + f)
    view[:, :, :d] = context_matrix[:, None, :]
    view[:, :, d:] = plan_matrix[None, :, :]
    return out


def predict_plans(booster: object, context_matrix: np.ndarray, plan_matrix: np.ndarray) -> np.ndarray:
    """A booster's prediction for every (context, plan) pair: shape (n, P), in chunks of rows.

    Args:
        booster: a ``lightgbm.Booster`` trained on :func:`design_matrix` rows.
        context_matrix: encoded contexts, shape (n, d).
        plan_matrix: plan features, shape (P, f).

    Returns:
        Raw predictions, float64.
    """
    n, p = context_matrix.shape[0], plan_matrix.shape[0]
    out = np.empty((n, p))
    step = max(1, _PREDICT_CHUNK_ROWS // p)
    for start in range(0, n, step):
        stop = min(start + step, n)
        x = design_matrix(context_matrix[start:stop], plan_matrix, None)
        out[start:stop] = booster.predict(x, num_threads=1).reshape(stop - start, p)  # type: ignore[attr-defined]
    return out


def train_booster(
    features: np.ndarray,
    target: np.ndarray,
    *,
    feature_names: Sequence[str],
    categorical: Sequence[int],
    params: BoosterParams,
) -> object:
    """Fit one deterministic LightGBM regressor.

    Args:
        features: design matrix, shape (m, d + f).
        target: regression target, shape (m,).
        feature_names: column names.
        categorical: indices of categorical columns.
        params: booster parameters.

    Returns:
        The ``lightgbm.Booster``.
    """
    import lightgbm as lgb

    lgb_params = params.lgb_params()
    data = lgb.Dataset(
        features,
        label=target,
        feature_name=list(feature_names),
        categorical_feature=list(categorical),
        params=lgb_params,
        free_raw_data=True,
    )
    del features  # binned below; the raw matrix is freed when the caller holds no other reference
    data.construct()
    return lgb.train(lgb_params, data, num_boost_round=params.num_boost_round)


class RewardModel:
    """A cross-fitted q̂(x, plan).

    Build it with :func:`fit_reward_model`. ``fold_boosters[k]`` was trained without fold k.
    """

    def __init__(
        self,
        *,
        spec: ContextSpec,
        menu: Sequence[Plan],
        params: BoosterParams,
        k_folds: int,
        fold_boosters: Sequence[object],
        train_hashes: np.ndarray,
    ) -> None:
        self.spec = spec
        self.menu = tuple(menu)
        self.params = params
        self.k_folds = int(k_folds)
        self.fold_boosters = tuple(fold_boosters)
        self.train_hashes = np.sort(np.asarray(train_hashes, dtype=np.uint64))

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Model columns: context features then plan features."""
        return (*self.spec.names, *PLAN_FEATURE_NAMES)

    def trained_on(self, search_ids: pd.Series | Sequence[str]) -> np.ndarray:
        """Whether each search id was a training row (boolean, shape (n,))."""
        return np.isin(search_hash(search_ids), self.train_hashes)

    def predict_all_plans(
        self,
        contexts: pd.DataFrame,
        menu: Sequence[Plan] | None = None,
        *,
        out_of_fold: bool = False,
    ) -> np.ndarray:
        """q̂(x, plan) for every row and plan: shape (n, len(menu)).

        Args:
            contexts: rows with the context columns (and ``search_id`` when ``out_of_fold``).
            menu: plans to score (default: the training menu); any plan of known strategies
                can be scored, since the model sees plans through their features.
            out_of_fold: use, for each row, the fold model that did not train on it (for the
                training rows themselves: DR targets); otherwise the mean of the fold models.

        Returns:
            Predictions, float64.
        """
        plans = self.menu if menu is None else tuple(menu)
        x = self.spec.encode(contexts)
        pm = plan_feature_matrix(plans)
        if not out_of_fold or self.k_folds == 1:
            return np.mean([predict_plans(b, x, pm) for b in self.fold_boosters], axis=0)
        folds = fold_of(contexts["search_id"], self.k_folds)
        out = np.empty((len(contexts), len(plans)))
        for k, booster in enumerate(self.fold_boosters):
            rows = np.flatnonzero(folds == k)
            if rows.size:
                out[rows] = predict_plans(booster, x[rows], pm)
        return out

    def predict_logged(self, frame: pd.DataFrame, *, out_of_fold: bool = False) -> np.ndarray:
        """q̂(x_i, a_i) for each row's logged plan: shape (n,).

        Args:
            frame: bandit rows (context columns, ``plan_id``, and ``search_id`` when out of fold).
            out_of_fold: as :meth:`predict_all_plans`.

        Returns:
            Predictions, float64.
        """
        q = self.predict_all_plans(frame, out_of_fold=out_of_fold)
        return q[np.arange(len(frame)), plan_indices(frame["plan_id"], self.menu)]


def fit_reward_model(
    frame: pd.DataFrame,
    spec: ContextSpec,
    menu: Sequence[Plan],
    *,
    params: BoosterParams | None = None,
    k_folds: int = 5,
) -> RewardModel:
    """Fit the cross-fitted reward model on logged rows (regression of reward on [x, plan]).

    Args:
        frame: the bandit dataset (see :mod:`ltrr.bandit.plan_features`).
        spec: context features; categorical features without categories learn them here.
        menu: the plans (every logged plan must be in it).
        params: LightGBM parameters (default :class:`BoosterParams`).
        k_folds: cross-fitting folds (≥ 2 for out-of-fold predictions; 1 fits a single model
            whose "out-of-fold" predictions are in-sample).

    Returns:
        The fitted model.

    Raises:
        ValueError: when the frame breaks the dataset contract or a fold would be empty.
    """
    params = params or BoosterParams()
    if k_folds < 1:
        raise ValueError(f"k_folds must be >= 1, got {k_folds}")
    spec = spec.fit_categories(frame)
    validate_bandit_frame(frame, spec, menu)
    frame = canonical_order(frame)
    x = design_matrix(spec.encode(frame), plan_feature_matrix(menu), plan_indices(frame["plan_id"], menu))
    y = frame["reward"].to_numpy(dtype=np.float64)
    names = (*spec.names, *PLAN_FEATURE_NAMES)
    boosters = []
    if k_folds == 1:
        boosters.append(train_booster(x, y, feature_names=names, categorical=spec.categorical_indices, params=params))
    else:
        folds = fold_of(frame["search_id"], k_folds)
        for k in range(k_folds):
            train = folds != k
            if train.all() or not train.any():
                raise ValueError(f"fold {k} of {k_folds} is empty or everything: too few rows ({len(frame)})")
            boosters.append(
                train_booster(
                    x[train], y[train], feature_names=names, categorical=spec.categorical_indices, params=params
                )
            )
    return RewardModel(
        spec=spec,
        menu=menu,
        params=params,
        k_folds=k_folds,
        fold_boosters=boosters,
        train_hashes=search_hash(frame["search_id"]),
    )
