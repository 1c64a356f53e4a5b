"""The ranker's quality gate: publish a new model only when it beats every baseline for sure.

The rule, on the evaluation day's observable metric (IPS NDCG@10 of the shown rows,
``ltrr.rank.metrics``): the lower bound of the model's bootstrap 95% interval must be
strictly above the *mean* of the best baseline (logged order, popularity, q2e, …). A model
whose interval merely overlaps the best baseline is not shown to be better, and a ranker
that is not better than re-sorting by popularity is not worth the risk of a new model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ltrr.rank.metrics import is_number


@dataclass(frozen=True)
class GateResult:
    """The gate's decision.

    Attributes:
        passed: True when the model's lower bound is above the best baseline's mean.
        reasons: one-line, human-readable explanations (verdict first).
        best_baseline: name of the baseline with the highest mean (``None`` when none was usable).
        margin: model lower bound − best baseline mean (``None`` when not computable).
    """

    passed: bool
    reasons: tuple[str, ...]
    best_baseline: str | None
    margin: float | None

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out = asdict(self)
        out["reasons"] = list(self.reasons)
        return out


def _entry(metrics: dict, name: str, key: str) -> dict | None:
    entry = metrics.get("scorers", {}).get(name, {}).get(key)
    return entry if isinstance(entry, dict) else None


def ranker_gate(metrics: dict, model_name: str, baseline_names: list[str] | tuple[str, ...], k: int = 10) -> GateResult:
    """Decide whether the model beats the best baseline on NDCG@k.

    Args:
        metrics: an ``evaluate_scorers`` result (the observable IPS metric of the evaluation day).
        model_name: the model's scorer name in ``metrics``.
        baseline_names: the baselines' scorer names.
        k: the cut-off.

    Returns:
        The decision with its reasons. It fails when the model's interval is missing (no
        query, no bootstrap), when no baseline has a mean, or when the lower bound is not
        strictly above the best baseline's mean.
    """
    key = f"ndcg@{k}"
    gain = metrics.get("gain", "?")
    metric = f"{key} ({gain}, {metrics.get('n_queries', '?')} queries)"
    model = _entry(metrics, model_name, key)
    baselines = {}
    notes = []
    for name in baseline_names:
        entry = _entry(metrics, name, key)
        if entry is None or not is_number(entry.get("mean")):
            notes.append(f"baseline {name}: no {key} mean in the metrics; ignored")
            continue
        baselines[name] = float(entry["mean"])
    if model is None or not is_number(model.get("ci_low")):
        return GateResult(
            False,
            (f"blocked: model {model_name!r} has no {key} lower bound (no query or no bootstrap)", *notes),
            None,
            None,
        )
    low, mean, high = float(model["ci_low"]), float(model["mean"]), float(model["ci_high"])
    if not baselines:
        return GateResult(False, (f"blocked: no baseline has a {key} mean to compare with", *notes), None, None)
    best = max(baselines, key=lambda n: (baselines[n], n))
    margin = low - baselines[best]
    passed = margin > 0
    verdict = (
        f"{'passed' if passed else 'blocked'}: {model_name} {metric} 95% CI low {low:.4f} is "
        f"{'above' if passed else 'not above'} the best baseline {best} mean {baselines[best]:.4f} "
        f"(margin {margin:+.4f})"
    )
    lines = [verdict, f"{model_name}: mean {mean:.4f}, 95% CI [{low:.4f}, {high:.4f}]"]
    lines += [f"baseline {n}: mean {v:.4f}" for n, v in sorted(baselines.items(), key=lambda kv: -kv[1])]
    return GateResult(passed, tuple(lines + notes), best, margin)
