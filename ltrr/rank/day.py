"""One night of the ranker, once the rows are in pandas: fit, evaluate, gate, export, report.

``train_ranker_day`` fits the debiased model (and, for comparison, the naive one), scores the
evaluation day, measures the model, the naive model and the baselines, runs the gate,
exports the model folder and writes ``metrics.json``. It always exports: whether the model
is published is decided by the caller from ``RankerReport.passed``.

Baselines (scorers that need no training; ties broken by the metrics' stable key):

- ``logged``: the order the customer saw. On the shown rows, by ``shown_position``. On the
  candidate union, shown rows first by position, then the unshown rows by ``logged_score``
  descending (NaN last): the logging ranker scored every candidate, and the shown list is
  its top, so this extends the logged order to the whole union.
- ``popularity``: by the catalog prior ``popularity``, descending (NaN last).
- ``q2e``: by the memory score ``q2e_score``, descending, NaN (not in memory) last.

Metrics (``ltrr.rank.metrics``):

- ``observable``: IPS NDCG@1/3/5/10 of the shown rows of ``eval_shown``, each scorer
  reranking the shown items; the gate reads its NDCG@10;
- ``observable_label``: the same with unweighted label gains (biased towards the logged
  order; kept for comparison);
- ``truth`` (simulated worlds only, when ``eval_union`` has ``true_relevance``): NDCG@1/3/5/10
  over the whole candidate union of each search with true relevance as the gain.
"""

from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ltrr.debias.examination import ExaminationCurve
from ltrr.rank.export import export_ranker
from ltrr.rank.gate import ranker_gate
from ltrr.rank.metrics import KS, evaluate_scorers, tiebreak_key
from ltrr.rank.spec import FeatureSpec
from ltrr.rank.train import FittedRanker, RankerParams, fit_ranker

BASELINES = ("logged", "popularity", "q2e")
METRICS_FILE = "metrics.json"
METRICS_FORMAT = 1
MODEL = "model"
NAIVE = "naive"


def baseline_scores(frame: pd.DataFrame, name: str, *, union: bool = False) -> np.ndarray:
    """Scores that reproduce a baseline's order (higher first, NaN last).

    Args:
        frame: rows of one or more searches.
        name: ``logged``, ``popularity`` or ``q2e``.
        union: for ``logged``, whether the frame is the candidate union (unshown rows follow
            the shown ones by ``logged_score``) rather than shown rows only.

    Returns:
        One score per row.

    Raises:
        ValueError: for an unknown baseline, or a shown-only ``logged`` frame with unshown rows.
    """
    if name == "popularity":
        return frame["popularity"].to_numpy(dtype=np.float64, na_value=np.nan)
    if name == "q2e":
        return frame["q2e_score"].to_numpy(dtype=np.float64, na_value=np.nan)
    if name != "logged":
        raise ValueError(f"unknown baseline {name!r}; expected one of {BASELINES}")
    position = frame["shown_position"].to_numpy(dtype=np.float64, na_value=np.nan)
    unshown = np.isnan(position)
    if not union:
        if unshown.any():
            raise ValueError("the logged order of shown rows needs shown_position on every row")
        return -position
    logged = frame["logged_score"].to_numpy(dtype=np.float64, na_value=np.nan)
    logged_nan = np.isnan(logged)
    # One global order (search order does not matter: NDCG compares rows of one search only):
    # shown before unshown, shown by position, unshown by logged score desc with NaN last, then the tie key.
    order = np.lexsort(
        (
            tiebreak_key(frame),
            np.where(logged_nan | ~unshown, 0.0, -logged),
            logged_nan & unshown,
            np.where(unshown, 0.0, position),
            unshown,
        )
    )
    scores = np.empty(len(frame), dtype=np.float64)
    scores[order] = -np.arange(len(frame), dtype=np.float64)
    return scores


def _json_ready(value: Any) -> Any:
    """Plain JSON types; NaN and infinities become null."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_metrics(path: Path, metrics: dict) -> None:
    """Write metrics as JSON: sorted keys, NaN → null."""
    path.write_text(json.dumps(_json_ready(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n")


@dataclass
class RankerReport:
    """Outcome of one ranker day.

    Attributes:
        passed: the gate's decision.
        reasons: the gate's one-line reasons.
        metrics: everything written to ``metrics.json``.
        out_dir: the export folder.
        fitted: the fitted debiased model (in memory; not serialised).
        naive: the fitted naive model, when fitted.
    """

    passed: bool
    reasons: list[str]
    metrics: dict
    out_dir: Path
    fitted: FittedRanker | None = field(default=None, repr=False)
    naive: FittedRanker | None = field(default=None, repr=False)


def _frame_counts(frame: pd.DataFrame) -> dict:
    return {"rows": len(frame), "searches": int(frame["search_id"].nunique())}


def _timed_fit(
    train: pd.DataFrame, valid: pd.DataFrame, spec: FeatureSpec, params: RankerParams, curve: ExaminationCurve | None
) -> tuple[FittedRanker, float]:
    """``fit_ranker`` and the seconds it took."""
    start = time.perf_counter()
    fitted = fit_ranker(train, valid, spec, params, curve)
    return fitted, time.perf_counter() - start


def train_ranker_day(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    eval_shown: pd.DataFrame,
    eval_union: pd.DataFrame,
    spec: FeatureSpec,
    curve: ExaminationCurve,
    params: RankerParams,
    out_dir: Path | str,
    baselines: tuple[str, ...] = BASELINES,
    *,
    fit_naive: bool = True,
    ks: tuple[int, ...] = KS,
    n_boot: int = 1000,
    seed: int = 0,
    n_golden: int = 200,
    include_timings: bool = True,
) -> RankerReport:
    """Fit, evaluate, gate and export the day's ranker.

    Args:
        train: training rows (training-set contract).
        valid: validation rows for early stopping (a separate slice, not the evaluation day).
        eval_shown: the evaluation day's shown rows (unshown rows are dropped and counted).
        eval_union: the evaluation day's candidate union (shown and unshown rows); the golden
            set is drawn from it, and truth metrics are computed on it when it has
            ``true_relevance``.
        spec: the features.
        curve: the examination curve (IPW weights, IPS metrics).
        params: the ranker parameters (``params.debias`` is the debiased model's mode).
        out_dir: the export folder (``model.txt``, ``feature_spec.json``, ``golden.parquet``,
            ``metrics.json``).
        baselines: baseline names (``logged``, ``popularity``, ``q2e``).
        fit_naive: also fit the model with ``debias="none"`` for comparison (skipped when
            ``params.debias`` already is ``none``).
        ks: NDCG cut-offs (the gate uses 10, which must be among them).
        n_boot: bootstrap resamples of the intervals.
        seed: seed of the bootstrap and the golden draw.
        n_golden: golden rows drawn from ``eval_union``.
        include_timings: write ``timings_s`` into ``metrics.json`` (timings differ from run to
            run; without them the file is the same bytes for the same inputs).

    Returns:
        The report (``passed``, ``reasons``, ``metrics``).

    Raises:
        ValueError: on bad inputs (see ``fit_ranker`` and ``evaluate_scorers``).
        ltrr.rank.export.ParityError: when the exported model does not reproduce the trainer.
    """
    if 10 not in ks:
        raise ValueError(f"the gate reads NDCG@10: ks must include 10, got {ks}")
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}
    start_all = time.perf_counter()

    naive = None
    if fit_naive and params.debias != "none":
        # The two fits are independent and each is single-threaded (deterministic): run them
        # side by side. LightGBM releases the GIL while it trains, so on 2 cores the pair takes
        # about as long as the slower fit, and both models are the ones a sequential run gives.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ltrr-naive-fit") as pool:
            naive_fit = pool.submit(_timed_fit, train, valid, spec, replace(params, debias="none"), curve)
            fitted, timings["fit_model_s"] = _timed_fit(train, valid, spec, params, curve)
            naive, timings["fit_naive_s"] = naive_fit.result()
    else:
        fitted, timings["fit_model_s"] = _timed_fit(train, valid, spec, params, curve)

    start = time.perf_counter()
    shown = eval_shown[eval_shown["shown_position"].notna()].reset_index(drop=True)
    models = {MODEL: fitted, **({NAIVE: naive} if naive is not None else {})}
    shown_scores = {name: m.predict(shown) for name, m in models.items()}
    shown_scores.update({b: baseline_scores(shown, b) for b in baselines})
    has_truth = "true_relevance" in eval_union.columns and eval_union["true_relevance"].notna().any()
    union_scores = {}
    if has_truth:
        union_scores = {name: m.predict(eval_union) for name, m in models.items()}
        union_scores.update({b: baseline_scores(eval_union, b, union=True) for b in baselines})
    timings["score_s"] = time.perf_counter() - start

    start = time.perf_counter()
    common = {"ks": ks, "curve": curve, "n_boot": n_boot, "seed": seed}
    observable = evaluate_scorers(shown, shown_scores, gain="label_ips", **common)
    observable_label = evaluate_scorers(shown, shown_scores, gain="label", **common)
    truth = evaluate_scorers(eval_union, union_scores, gain="true_relevance", **common) if has_truth else None
    timings["evaluate_s"] = time.perf_counter() - start

    gate = ranker_gate(observable, MODEL, list(baselines), k=10)

    start = time.perf_counter()
    exported = export_ranker(fitted, eval_union, out_dir, n_golden=n_golden, seed=seed)
    timings["export_s"] = time.perf_counter() - start
    timings["total_s"] = time.perf_counter() - start_all

    model_timings = {name: {k: round(v, 3) for k, v in m.timings.items()} for name, m in models.items()}
    metrics = {
        "format": METRICS_FORMAT,
        "ds": sorted(str(d) for d in shown["ds"].unique()) if "ds" in shown.columns else [],
        "feature_spec": {"version": spec.version, "features": spec.names},
        "curve": {"method": curve.method, "reason": curve.reason, "probabilities": list(curve.probabilities)},
        "counts": {
            "train": fitted.counts["train"],
            "valid": fitted.counts["valid"],
            "eval_shown": {**_frame_counts(shown), "unshown_rows_dropped": len(eval_shown) - len(shown)},
            "eval_union": _frame_counts(eval_union),
        },
        "models": {name: m.summary() for name, m in models.items()},
        "baselines": list(baselines),
        "observable": observable,
        "observable_label": observable_label,
        "truth": truth,
        "gate": {**gate.to_dict(), "k": 10, "metric": "observable (label_ips) ndcg@10", "model": MODEL},
        "export": {
            "files": list(exported.files),
            "golden_rows": exported.golden_rows,
            "parity_max_abs_diff": exported.parity_max_abs_diff,
        },
    }
    if include_timings:
        metrics["timings_s"] = {**{k: round(v, 3) for k, v in timings.items()}, "models": model_timings}
    write_metrics(out_dir / METRICS_FILE, metrics)
    return RankerReport(
        passed=gate.passed,
        reasons=list(gate.reasons),
        metrics=json.loads((out_dir / METRICS_FILE).read_text()),
        out_dir=out_dir,
        fitted=fitted,
        naive=naive,
    )
