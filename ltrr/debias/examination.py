"""Estimate how likely customers are to examine each shown position, from the logs.

Under the position-based click model, P(click at p) = exam(p) * rel. On searches whose
shown order was a uniformly random permutation (the logging policy's randomized share),
relevance is independent of position, so CTR(p) / CTR(1) estimates exam(p) / exam(1), and we
fix exam(1) = 1 (only ratios are identifiable). The raw ratios are noisy at deep positions,
so they are fitted with a weighted isotonic (non-increasing) regression, the shape the
model implies. Standard errors come from the delta method on log CTR ratios.

When the window holds too few clicks at the top position to estimate anything, the
previous curve is carried over (or a flat curve is used) and the reason is recorded: the
curve is never silently assumed.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ltrr.sqlfiles import load_sql


@dataclass(frozen=True)
class ExaminationCurve:
    """Examination probability per 1-based position, with how it was obtained.

    Attributes:
        probabilities: exam(p) for p = 1..len, non-increasing, exam(1) = 1.
        stderr: standard error of each raw ratio (0 where not estimated).
        impressions: randomized impressions per position used for the estimate.
        clicks: clicks per position used for the estimate.
        method: ``randomized_ctr_isotonic``, ``carried_over`` or ``flat``.
        reason: why a fallback was used (empty when estimated).
    """

    probabilities: tuple[float, ...]
    stderr: tuple[float, ...] = ()
    impressions: tuple[int, ...] = ()
    clicks: tuple[int, ...] = ()
    method: str = "randomized_ctr_isotonic"
    reason: str = ""
    extra: dict = field(default_factory=dict)

    def at(self, position: int) -> float:
        """exam(position); positions past the curve get the last value."""
        if position < 1:
            raise ValueError(f"positions are 1-based, got {position}")
        return self.probabilities[min(position, len(self.probabilities)) - 1]

    def to_json(self) -> str:
        """Serialize (the curve is saved beside the memory table)."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ExaminationCurve:
        """Read a curve written by ``to_json``."""
        data = json.loads(text)
        for key in ("probabilities", "stderr", "impressions", "clicks"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> ExaminationCurve:
        """Read a curve from a JSON file."""
        return cls.from_json(Path(path).read_text())


def position_ctr(spark: object, max_position: int = 10) -> list[dict]:
    """Aggregate impressions and clicks by position over randomized searches.

    Args:
        spark: a SparkSession with temp views ``searches`` and ``engagements`` registered.
        max_position: deepest position to consider.

    Returns:
        One dict per position: ``position, impressions, clicks, searches``.
    """
    rows = spark.sql(load_sql("debias/position_ctr", max_position=int(max_position))).collect()
    return [row.asDict() for row in rows]


def _isotonic_non_increasing(values: list[float], weights: list[float]) -> list[float]:
    from sklearn.isotonic import IsotonicRegression

    fit = IsotonicRegression(increasing=False, y_min=0.0, y_max=1.0)
    return list(fit.fit_transform(list(range(1, len(values) + 1)), values, sample_weight=weights))


def estimate_examination(
    rows: list[dict],
    *,
    max_position: int = 10,
    min_top_clicks: int = 30,
    previous: ExaminationCurve | None = None,
) -> ExaminationCurve:
    """Estimate the examination curve from per-position randomized CTR counts.

    Args:
        rows: output of ``position_ctr`` (any order; missing positions have no data).
        max_position: length of the returned curve.
        min_top_clicks: fewest clicks at position 1 needed to estimate at all.
        previous: the last estimated curve, carried over when the data is too thin.

    Returns:
        The curve; ``method``/``reason`` say whether it was estimated or carried over.
    """
    by_pos = {int(r["position"]): r for r in rows}
    impressions = [int(by_pos.get(p, {}).get("impressions", 0)) for p in range(1, max_position + 1)]
    clicks = [int(by_pos.get(p, {}).get("clicks", 0)) for p in range(1, max_position + 1)]
    if clicks[0] < min_top_clicks or impressions[0] == 0:
        reason = (
            f"only {clicks[0]} clicks at position 1 on randomized searches (< {min_top_clicks}); "
            "too few to estimate examination"
        )
        if previous is not None:
            return ExaminationCurve(
                probabilities=previous.probabilities,
                stderr=previous.stderr,
                impressions=tuple(impressions),
                clicks=tuple(clicks),
                method="carried_over",
                reason=reason + "; carried over the previous curve",
            )
        return ExaminationCurve(
            probabilities=tuple(1.0 for _ in range(max_position)),
            impressions=tuple(impressions),
            clicks=tuple(clicks),
            method="flat",
            reason=reason + "; no previous curve, using a flat curve (no debiasing)",
        )
    top_ctr = clicks[0] / impressions[0]
    ratios, weights, stderr = [], [], []
    for n, c in zip(impressions, clicks, strict=True):
        if n == 0:
            ratios.append(0.0)
            weights.append(0.0)
            stderr.append(0.0)
            continue
        ctr = c / n
        ratio = min(ctr / top_ctr, 1.0)
        ratios.append(ratio)
        weights.append(float(n))
        if c > 0:
            se_log = math.sqrt((1 - ctr) / c + (1 - top_ctr) / clicks[0])
            stderr.append(ratio * se_log)
        else:
            stderr.append(0.0)
    fitted = _isotonic_non_increasing(ratios, [max(w, 1e-9) for w in weights])
    # exam(1) is 1 by definition (rescale if isotonic pooling lowered it); keep every position strictly positive so that
    # dividing by it (inverse-propensity weights) stays finite.
    floor = 1e-3
    top = fitted[0] if fitted[0] > 0 else 1.0
    probabilities = tuple([1.0] + [max(min(v / top, 1.0), floor) for v in fitted[1:]])
    return ExaminationCurve(
        probabilities=probabilities,
        stderr=tuple(stderr),
        impressions=tuple(impressions),
        clicks=tuple(clicks),
    )
