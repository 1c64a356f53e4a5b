"""Position-bias correction for training the ranker on click-derived labels.

Customers engage with what they look at, and they look at the top of the list far more than
at its bottom. Under the position-based model (PBM), P(engage at p) = exam(p) · rel, so a
ranker trained naively on engagement labels learns "what the logging ranker put on top" as
much as "what is relevant" (``ltrr.debias.examination`` estimates exam(p) from the searches
whose shown order was randomized). Three modes (``RankerParams.debias``):

``ipw`` (default) — inverse-propensity weighting (Joachims, Swaminathan and Schnabel, "Unbiased
    Learning-to-Rank with Biased Feedback", 2017). A positive row (label > 0) shown at position
    p weighs 1/exam(p); other rows weigh 1. An engaged result at p is seen with probability
    exam(p), so the weighted count of positives estimates relevance whatever the position
    they were shown at. Only positives are reweighted: in the pairwise objective the bias is
    in which results could become positives; a non-engaged result at a deep position is no
    evidence either way (it is mostly not examined), and up-weighting it would not undo that.
    LightGBM's lambdarank multiplies each row's lambda (gradient) and hessian by its weight
    (``LambdarankNDCG::GetGradientsForOneQuery``), so the pull of a positive towards the top
    is scaled by 1/exam(p); the push-down of the negatives it is paired with is not. This
    is a per-row approximation of pair-level IPW (which would need a custom objective). On
    the test world of ``tests/rank/test_debias.py`` it raises NDCG@10 on true relevance over
    the naive model (by 0.008 to 0.046 over 8 seeds) and halves the weight the model puts on
    the feature the logging ranker favoured (docs/ranker.md).
    Weights are clipped at ``max_weight`` (default 10): an estimated curve is floored at
    1e-3 at deep, thinly observed positions, and a weight of 1000 would let a few rows
    steer the trees (variance); clipping trades a little bias for much less variance. With
    exam(p) ≈ 1/p over 10 positions the clip is not reached.

``lightgbm_position`` — LightGBM's built-in unbiased lambdarank (4.1+): the shown position of
    each row goes to ``Dataset(position=...)`` and LightGBM fits s(x, pos) = f(x) + g(pos), a
    relevance model f plus one bias factor per position, and keeps f as the model
    (docs: Advanced Topics, "Support for Position Bias Treatment").
    ``lambdarank_position_bias_regularization`` (≥ 0, default 0) shrinks the learned
    position factors. The examination curve is not used for training in this mode.

``none`` — no correction: the naive model we compare against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr.debias.examination import ExaminationCurve

DEBIAS_MODES = ("ipw", "lightgbm_position", "none")
DEFAULT_MAX_WEIGHT = 10.0


def examination_at(curve: ExaminationCurve, positions: np.ndarray) -> np.ndarray:
    """exam(p) for an array of 1-based positions (positions past the curve get its last value).

    Args:
        curve: the examination curve.
        positions: 1-based positions (integers).

    Returns:
        float64 array of examination probabilities.

    Raises:
        ValueError: for a position below 1 or a non-positive probability.
    """
    positions = np.asarray(positions)
    if positions.size and (np.isnan(positions.astype(np.float64)).any() or positions.min() < 1):
        raise ValueError("positions must be 1-based integers (shown rows only)")
    probs = np.asarray(curve.probabilities, dtype=np.float64)
    if probs.size == 0 or (probs <= 0).any():
        raise ValueError(f"examination probabilities must be positive, got {curve.probabilities}")
    return probs[np.minimum(positions.astype(np.int64), len(probs)) - 1]


def ipw_weights(
    labels: np.ndarray, positions: np.ndarray, curve: ExaminationCurve, max_weight: float = DEFAULT_MAX_WEIGHT
) -> np.ndarray:
    """Inverse-propensity training weights of shown rows.

    Args:
        labels: graded labels (0..3) of shown rows.
        positions: their 1-based shown positions.
        curve: the examination curve.
        max_weight: clip (≥ 1) on a weight.

    Returns:
        float64 weights: ``min(1 / exam(position), max_weight)`` where label > 0, else 1.
    """
    if max_weight < 1:
        raise ValueError(f"max_weight must be >= 1, got {max_weight}")
    labels = np.asarray(labels)
    weights = np.minimum(1.0 / examination_at(curve, positions), float(max_weight))
    return np.where(labels > 0, weights, 1.0)


@dataclass(frozen=True)
class DebiasInputs:
    """What a debiasing mode adds to the LightGBM training Dataset and parameters.

    Attributes:
        weight: per-row weights (``ipw``) or ``None``.
        position: per-row positions for ``Dataset(position=...)`` (``lightgbm_position``) or ``None``.
        params: extra LightGBM parameters.
    """

    weight: np.ndarray | None
    position: np.ndarray | None
    params: dict


def training_inputs(
    mode: str,
    labels: np.ndarray,
    positions: np.ndarray,
    curve: ExaminationCurve | None,
    *,
    max_weight: float = DEFAULT_MAX_WEIGHT,
    position_bias_regularization: float = 0.0,
) -> DebiasInputs:
    """The training weights / positions / parameters of a debiasing mode.

    Args:
        mode: one of ``DEBIAS_MODES``.
        labels: labels of the training rows (shown rows, grouped by search).
        positions: their 1-based shown positions.
        curve: the examination curve (required for ``ipw``).
        max_weight: clip of the IPW weights.
        position_bias_regularization: LightGBM's ``lambdarank_position_bias_regularization``.

    Returns:
        The inputs to give LightGBM.

    Raises:
        ValueError: for an unknown mode, or ``ipw`` without a curve.
    """
    if mode == "ipw":
        if curve is None:
            raise ValueError("debias mode 'ipw' needs an examination curve")
        return DebiasInputs(ipw_weights(labels, positions, curve, max_weight), None, {})
    if mode == "lightgbm_position":
        if position_bias_regularization < 0:
            raise ValueError("lambdarank_position_bias_regularization must be >= 0")
        return DebiasInputs(
            None,
            np.asarray(positions, dtype=np.int32),
            {"lambdarank_position_bias_regularization": float(position_bias_regularization)},
        )
    if mode == "none":
        return DebiasInputs(None, None, {})
    raise ValueError(f"unknown debias mode {mode!r}; expected one of {DEBIAS_MODES}")
