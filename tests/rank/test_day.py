"""train_ranker_day end to end on small synthetic frames, and the baselines' orders."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltrr.rank.day import baseline_scores, train_ranker_day, write_metrics
from ltrr.rank.export import check_parity
from ltrr.rank.train import fit_ranker
from tests.rank.conftest import SMALL_PARAMS
from tests.rank.world import SPEC, TRUE_CURVE, shown_rows


def _order(frame: pd.DataFrame, scores: np.ndarray) -> list[str]:
    """Entity ids by score descending, NaN last (ties do not occur in these examples)."""
    key = np.where(np.isnan(scores), -np.inf, scores)
    return frame["entity_id"].to_numpy()[np.argsort(-key, kind="stable")].tolist()


def test_baseline_orders() -> None:
    frame = pd.DataFrame(
        {
            "search_id": ["s"] * 6,
            "entity_id": ["shown2", "un05", "shown1", "unnan", "un09", "shown3"],
            "shown_position": pd.array([2, None, 1, None, None, 3], dtype="Int64"),
            "logged_score": [0.1, 0.5, 0.2, np.nan, 0.9, 5.0],
            "popularity": [1.0, 3.0, np.nan, 2.0, 0.0, -1.0],
            "q2e_score": [np.nan, 0.2, np.nan, 0.3, np.nan, 0.1],
        }
    )
    assert _order(frame, baseline_scores(frame, "logged", union=True)) == [
        "shown1",
        "shown2",
        "shown3",
        "un09",
        "un05",
        "unnan",
    ]
    assert _order(frame, baseline_scores(frame, "popularity"))[:5] == ["un05", "unnan", "shown2", "un09", "shown3"]
    assert _order(frame, baseline_scores(frame, "q2e"))[:3] == ["unnan", "un05", "shown3"]
    shown = frame[frame["shown_position"].notna()]
    assert _order(shown, baseline_scores(shown, "logged")) == ["shown1", "shown2", "shown3"]
    with pytest.raises(ValueError, match="shown_position on every row"):
        baseline_scores(frame, "logged")
    with pytest.raises(ValueError, match="unknown baseline"):
        baseline_scores(frame, "random")


TOP_KEYS = {
    "baselines",
    "counts",
    "curve",
    "ds",
    "export",
    "feature_spec",
    "format",
    "gate",
    "models",
    "observable",
    "observable_label",
    "timings_s",
    "truth",
}


def test_train_ranker_day_end_to_end(tmp_path: Path, small_world: dict) -> None:
    out = tmp_path / "ranker"
    evaluation = small_world["eval"]
    report = train_ranker_day(
        small_world["train"],
        small_world["valid"],
        shown_rows(evaluation),
        evaluation,
        SPEC,
        TRUE_CURVE,
        SMALL_PARAMS,
        out,
        n_boot=200,
    )
    assert sorted(p.name for p in out.iterdir()) == ["feature_spec.json", "golden.parquet", "metrics.json", "model.txt"]
    text = (out / "metrics.json").read_text()
    metrics = json.loads(text)
    assert text == json.dumps(metrics, indent=2, sort_keys=True) + "\n"  # sorted keys
    assert set(metrics) == TOP_KEYS
    assert metrics == report.metrics
    assert report.passed == metrics["gate"]["passed"] and report.reasons == metrics["gate"]["reasons"]
    assert metrics["ds"] == ["2026-01-02"]
    assert set(metrics["models"]) == {"model", "naive"}
    assert metrics["models"]["model"]["debias"] == "ipw" and metrics["models"]["naive"]["debias"] == "none"
    assert set(metrics["models"]["model"]["importance"]["gain"]) == set(SPEC.names)
    scorers = {"model", "naive", "logged", "popularity", "q2e"}
    for section in ("observable", "observable_label", "truth"):
        assert set(metrics[section]["scorers"]) == scorers
        for entries in metrics[section]["scorers"].values():
            assert set(entries) == {"ndcg@1", "ndcg@3", "ndcg@5", "ndcg@10"}
            for entry in entries.values():
                assert entry["ci_low"] <= entry["mean"] <= entry["ci_high"]
    assert metrics["observable"]["gain"] == "label_ips" and metrics["observable"]["aggregate"] == "ratio"
    assert metrics["truth"]["n_queries"] == 300 and metrics["truth"]["n_excluded_queries"] == 0
    # Searches without any engagement have no positive gain: excluded from the observable metrics, and counted.
    engaged = shown_rows(evaluation).groupby("search_id")["label"].max().gt(0).sum()
    assert metrics["observable"]["n_queries"] == engaged
    assert metrics["observable"]["n_excluded_queries"] == 300 - engaged
    assert metrics["counts"]["eval_union"] == {"rows": 6000, "searches": 300}
    assert metrics["counts"]["train"]["searches_in"] == 600
    assert metrics["export"]["parity_max_abs_diff"] <= 1e-9
    assert check_parity(out) <= 1e-9
    # The logged order of the union is far from the true order on this world; the model is not.
    truth = metrics["truth"]["scorers"]
    assert truth["model"]["ndcg@10"]["mean"] > truth["logged"]["ndcg@10"]["mean"]


def test_without_timings_the_outputs_are_the_same_bytes(tmp_path: Path, small_world: dict) -> None:
    evaluation = small_world["eval"]
    args = (small_world["train"], small_world["valid"], shown_rows(evaluation), evaluation, SPEC, TRUE_CURVE)
    params = replace(SMALL_PARAMS, num_boost_round=20)
    for name in ("a", "b"):
        report = train_ranker_day(*args, params, tmp_path / name, n_boot=50, fit_naive=False, include_timings=False)
        assert "timings_s" not in report.metrics and "naive" not in report.metrics["models"]
    for name in ("metrics.json", "model.txt", "feature_spec.json", "golden.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_the_two_fits_side_by_side_give_the_sequential_models(tmp_path: Path, small_world: dict) -> None:
    # train_ranker_day fits the debiased and the naive model in two threads at once; each must
    # be exactly the model a fit on its own gives (single-threaded LightGBM, no shared state).
    evaluation = small_world["eval"]
    train, valid = small_world["train"], small_world["valid"]
    params = replace(SMALL_PARAMS, num_boost_round=20)
    shown = shown_rows(evaluation)
    report = train_ranker_day(train, valid, shown, evaluation, SPEC, TRUE_CURVE, params, tmp_path, n_boot=50)
    alone = fit_ranker(train, valid, SPEC, params, TRUE_CURVE)
    naive_alone = fit_ranker(train, valid, SPEC, replace(params, debias="none"), TRUE_CURVE)
    assert report.fitted.booster.model_to_string() == alone.booster.model_to_string()
    assert report.naive.booster.model_to_string() == naive_alone.booster.model_to_string()
    assert report.fitted.booster.model_to_string() != report.naive.booster.model_to_string()


def test_no_truth_without_true_relevance(tmp_path: Path, small_world: dict) -> None:
    evaluation = small_world["eval"].drop(columns="true_relevance")
    report = train_ranker_day(
        small_world["train"],
        small_world["valid"],
        shown_rows(evaluation),
        evaluation,
        SPEC,
        TRUE_CURVE,
        replace(SMALL_PARAMS, num_boost_round=10),
        tmp_path / "r",
        baselines=("logged",),
        fit_naive=False,
        n_boot=20,
    )
    assert report.metrics["truth"] is None
    assert set(report.metrics["observable"]["scorers"]) == {"model", "logged"}


def test_write_metrics_turns_nan_into_null(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write_metrics(path, {"b": math.nan, "a": [np.float64(1.5), math.inf], "c": {"z": np.int64(2)}})
    assert path.read_text() == '{\n  "a": [\n    1.5,\n    null\n  ],\n  "b": null,\n  "c": {\n    "z": 2\n  }\n}\n'
