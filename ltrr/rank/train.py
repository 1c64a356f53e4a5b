"""Fit the LambdaMART ranker (LightGBM ``lambdarank``) on a day's training rows.

**Which rows.** Only *shown* rows are trained on (unshown candidates have no label: nobody
saw them), and only those of searches with at least one label > 0: in a search where
nothing was engaged every pair has equal labels, so LambdaMART gets no gradient from it,
and keeping it would only cost time.
Rows are grouped by search (LightGBM ``group=``) after sorting by ``search_id`` then
``shown_position``, so the input order, and the model, do not depend on how the frame
arrived.

**Debiasing.** ``RankerParams.debias`` selects ``ipw``, ``lightgbm_position`` or ``none``
(``ltrr.rank.debias``).

**Early stopping.** Boosting stops when NDCG@``eval_at`` on the ``valid`` frame (a separate
validation slice, never the evaluation day) has not improved for ``early_stopping_rounds``
rounds, and the model keeps its best iteration. The validation metric is our own
(``ltrr.rank.metrics``, a LightGBM ``feval``; LightGBM's built-in metrics are switched off):
with ``ipw`` or ``lightgbm_position`` it is the IPS NDCG (gains (2**label − 1)/exam(shown
position), ratio of summed DCG to summed ideal DCG, see ``ltrr.rank.metrics``), so the
validation metric is debiased like the training; with ``none`` it is the plain label NDCG,
as a naive pipeline would use. LightGBM's own ``ndcg``
cannot do this: validation-row weights only become one weight per query (the mean of its
row weights, ``Metadata::LoadQueryWeights``) in a weighted average of per-query NDCG, which
does not reweight gains within a query. Validation rows follow the same selection as
training rows (shown rows of searches with a label > 0).

**Determinism.** One thread, ``deterministic=True``, ``force_row_wise=True`` and a fixed seed:
the same rows and parameters give the same model file, byte for byte.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ltrr.debias.examination import ExaminationCurve
from ltrr.rank.debias import DEBIAS_MODES, DEFAULT_MAX_WEIGHT, training_inputs
from ltrr.rank.labels import LABEL_GAIN, MAX_LABEL
from ltrr.rank.metrics import aggregate_ndcg, dcg_matrices, default_aggregate, gains_for, group_codes, tiebreak_key
from ltrr.rank.spec import FeatureSpec


@dataclass(frozen=True)
class RankerParams:
    """Parameters of one ranker fit.

    Attributes:
        num_leaves: leaves per tree.
        learning_rate: shrinkage.
        min_data_in_leaf: fewest rows per leaf.
        num_boost_round: most boosting rounds.
        early_stopping_rounds: stop after this many rounds without a better validation metric.
        eval_at: k of the validation NDCG@k.
        debias: ``ipw``, ``lightgbm_position`` or ``none``.
        max_weight: clip of the IPW weights.
        position_bias_regularization: LightGBM's ``lambdarank_position_bias_regularization``
            (``lightgbm_position`` only).
        seed: LightGBM's ``seed`` (every other LightGBM seed derives from it).
        num_threads: LightGBM threads (1: deterministic and polite on a shared machine).
        deterministic: LightGBM's ``deterministic``.
        force_row_wise: LightGBM's ``force_row_wise`` (also skips its timing-based choice).
        objective: ``lambdarank``.
        label_gain: gain of each label (``LABEL_GAIN``), passed explicitly.
    """

    num_leaves: int = 31
    learning_rate: float = 0.05
    min_data_in_leaf: int = 50
    num_boost_round: int = 500
    early_stopping_rounds: int = 30
    eval_at: int = 10
    debias: str = "ipw"
    max_weight: float = DEFAULT_MAX_WEIGHT
    position_bias_regularization: float = 0.0
    seed: int = 7
    num_threads: int = 1
    deterministic: bool = True
    force_row_wise: bool = True
    objective: str = "lambdarank"
    label_gain: tuple[float, ...] = LABEL_GAIN

    def __post_init__(self) -> None:
        if self.debias not in DEBIAS_MODES:
            raise ValueError(f"unknown debias mode {self.debias!r}; expected one of {DEBIAS_MODES}")
        if self.objective != "lambdarank":
            raise ValueError(f"the ranker is trained with objective 'lambdarank', got {self.objective!r}")
        if len(self.label_gain) != MAX_LABEL + 1:
            raise ValueError(f"label_gain needs one gain per label 0..{MAX_LABEL}, got {self.label_gain}")

    def lightgbm_params(self) -> dict[str, Any]:
        """The LightGBM parameter dict (without the debiasing mode's extras)."""
        return {
            "objective": self.objective,
            "label_gain": [float(g) for g in self.label_gain],
            "num_leaves": self.num_leaves,
            "learning_rate": self.learning_rate,
            "min_data_in_leaf": self.min_data_in_leaf,
            "eval_at": [self.eval_at],
            "metric": "None",
            "seed": self.seed,
            "num_threads": self.num_threads,
            "deterministic": self.deterministic,
            "force_row_wise": self.force_row_wise,
            "verbosity": -1,
        }

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out = asdict(self)
        out["label_gain"] = list(self.label_gain)
        return out


@dataclass(frozen=True)
class RankRows:
    """Training (or validation) rows in LightGBM's order, with their groups.

    Attributes:
        frame: the selected rows, sorted by ``search_id`` then ``shown_position``.
        group: rows per search, in order.
        counts: ``rows_in, searches_in, shown_rows, shown_searches, searches_with_positive,
            rows, searches`` (what was kept at each step).
    """

    frame: pd.DataFrame
    group: np.ndarray
    counts: dict


def select_rows(frame: pd.DataFrame) -> RankRows:
    """Shown rows of searches with a label > 0, sorted and grouped by search.

    Args:
        frame: rows of the training-set contract (``search_id``, ``shown_position``, ``label`` …).

    Returns:
        The selected rows with their groups and counts.

    Raises:
        ValueError: for a shown row without a label or a label outside 0..MAX_LABEL.
    """
    shown = frame[frame["shown_position"].notna()]
    labels = shown["label"]
    if labels.isna().any():
        raise ValueError(f"{int(labels.isna().sum())} shown rows have no label")
    label_values = labels.to_numpy(dtype=np.int64)
    if len(label_values) and (label_values.min() < 0 or label_values.max() > MAX_LABEL):
        raise ValueError(f"labels must be in 0..{MAX_LABEL}, found {sorted(set(label_values.tolist()))}")
    has_positive = (labels > 0).groupby(shown["search_id"]).transform("any").to_numpy(dtype=bool)
    kept = shown[has_positive].sort_values(["search_id", "shown_position"], kind="mergesort").reset_index(drop=True)
    group = kept.groupby("search_id", sort=False).size().to_numpy(dtype=np.int64)
    counts = {
        "rows_in": len(frame),
        "searches_in": int(frame["search_id"].nunique()),
        "shown_rows": len(shown),
        "shown_searches": int(shown["search_id"].nunique()),
        "searches_with_positive": len(group),
        "rows": len(kept),
        "searches": len(group),
    }
    return RankRows(kept, group, counts)


@dataclass
class FittedRanker:
    """A fitted ranker and how it was fitted.

    Attributes:
        booster: the LightGBM booster (all rounds; score with ``best_iteration``).
        spec: the feature spec the model was trained on.
        params: the ranker parameters.
        lightgbm_params: the exact LightGBM parameters used (incl. the debiasing extras).
        best_iteration: the round kept (1-based).
        best_score: the validation metric at ``best_iteration``.
        valid_metric: name of the validation metric (``ips_ndcg@10`` or ``ndcg@10``).
        importance_gain: total split gain per feature at ``best_iteration``.
        importance_split: number of splits per feature at ``best_iteration``.
        counts: ``{"train": …, "valid": …}`` row and search counts (``select_rows``).
        timings: seconds spent preparing rows, building datasets and training.
        history: the validation metric after each round.
    """

    booster: Any
    spec: FeatureSpec
    params: RankerParams
    lightgbm_params: dict
    best_iteration: int
    best_score: float
    valid_metric: str
    importance_gain: dict[str, float]
    importance_split: dict[str, int]
    counts: dict
    timings: dict[str, float]
    history: list[float] = field(default_factory=list)

    def predict_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Scores of model input rows (``FeatureSpec.matrix``), at ``best_iteration``."""
        return self.booster.predict(matrix, num_iteration=self.best_iteration)

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of a frame's rows (any rows with the feature columns), at ``best_iteration``."""
        return self.predict_matrix(self.spec.matrix(frame))

    def summary(self) -> dict:
        """JSON-ready description (everything but the booster)."""
        return {
            "debias": self.params.debias,
            "params": self.params.to_dict(),
            "lightgbm_params": self.lightgbm_params,
            "best_iteration": self.best_iteration,
            "best_score": self.best_score,
            "valid_metric": self.valid_metric,
            "rounds_trained": len(self.history),
            "importance": {"gain": self.importance_gain, "split": self.importance_split},
            "counts": self.counts,
        }


def _valid_metric(rows: RankRows, params: RankerParams, curve: ExaminationCurve | None):
    """The feval computing the validation NDCG@eval_at (IPS-weighted unless debias is none)."""
    gain = "label" if params.debias == "none" else "label_ips"
    name = f"{'ips_' if gain == 'label_ips' else ''}ndcg@{params.eval_at}"
    codes, query_ids = group_codes(rows.frame["search_id"])
    gains = gains_for(rows.frame, gain, curve)
    tiebreak = tiebreak_key(rows.frame)
    aggregate = default_aggregate(gain)

    def feval(preds: np.ndarray, _data: Any) -> tuple[str, float, bool]:
        dcg, idcg = dcg_matrices(codes, len(query_ids), preds, gains, tiebreak, [params.eval_at])
        valid = idcg[:, 0] > 0
        return name, float(aggregate_ndcg(dcg[valid], idcg[valid], aggregate)[0]), True

    return name, feval


def fit_ranker(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    spec: FeatureSpec,
    params: RankerParams,
    curve: ExaminationCurve | None,
) -> FittedRanker:
    """Fit LambdaMART on the training rows, early-stopped on the validation rows.

    Args:
        train: training rows (training-set contract: shown and unshown rows; only shown rows of
            searches with a label > 0 are used).
        valid: validation rows (same contract; a separate slice, never the evaluation day).
        spec: the features.
        params: the ranker parameters (incl. the debiasing mode).
        curve: the examination curve (IPW weights and the IPS validation metric; may be
            ``None`` only with ``debias="none"``).

    Returns:
        The fitted ranker.

    Raises:
        ValueError: when training or validation has no search with a label > 0, or on bad
            labels / features.
    """
    import lightgbm as lgb

    if params.debias != "none" and curve is None:
        raise ValueError(f"debias mode {params.debias!r} needs an examination curve")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    train_rows = select_rows(train)
    valid_rows = select_rows(valid)
    for name, rows in (("train", train_rows), ("valid", valid_rows)):
        if rows.counts["searches"] == 0:
            raise ValueError(f"the {name} frame has no shown search with a label > 0: nothing to learn from")
    x_train = spec.matrix(train_rows.frame)
    x_valid = spec.matrix(valid_rows.frame)
    y_train = train_rows.frame["label"].to_numpy(dtype=np.int64)
    y_valid = valid_rows.frame["label"].to_numpy(dtype=np.int64)
    debias = training_inputs(
        params.debias,
        y_train,
        train_rows.frame["shown_position"].to_numpy(dtype=np.int64),
        curve,
        max_weight=params.max_weight,
        position_bias_regularization=params.position_bias_regularization,
    )
    metric_name, feval = _valid_metric(valid_rows, params, curve)
    timings["prepare_s"] = time.perf_counter() - start

    lgb_params = {**params.lightgbm_params(), **debias.params}
    start = time.perf_counter()
    dataset_args = {"feature_name": spec.names, "categorical_feature": spec.categorical_indices}
    d_train = lgb.Dataset(
        x_train,
        label=y_train,
        group=train_rows.group,
        weight=debias.weight,
        position=debias.position,
        params=lgb_params,
        free_raw_data=True,
        **dataset_args,
    )
    d_valid = lgb.Dataset(
        x_valid, label=y_valid, group=valid_rows.group, reference=d_train, params=lgb_params, **dataset_args
    )
    d_train.construct()
    d_valid.construct()
    timings["dataset_s"] = time.perf_counter() - start

    history: dict = {}
    start = time.perf_counter()
    booster = lgb.train(
        lgb_params,
        d_train,
        num_boost_round=params.num_boost_round,
        valid_sets=[d_valid],
        valid_names=["valid"],
        feval=feval,
        callbacks=[
            lgb.early_stopping(params.early_stopping_rounds, first_metric_only=True, verbose=False),
            lgb.record_evaluation(history),
        ],
    )
    timings["train_s"] = time.perf_counter() - start
    best = int(booster.best_iteration) or booster.current_iteration()
    scores = history.get("valid", {}).get(metric_name, [])
    names = spec.names
    gain = booster.feature_importance("gain", iteration=best)
    split = booster.feature_importance("split", iteration=best)
    return FittedRanker(
        booster=booster,
        spec=spec,
        params=params,
        lightgbm_params=lgb_params,
        best_iteration=best,
        best_score=float(scores[best - 1]) if scores else float("nan"),
        valid_metric=metric_name,
        importance_gain={n: float(v) for n, v in zip(names, gain, strict=True)},
        importance_split={n: int(v) for n, v in zip(names, split, strict=True)},
        counts={"train": train_rows.counts, "valid": valid_rows.counts},
        timings=timings,
        history=[float(s) for s in scores],
    )
