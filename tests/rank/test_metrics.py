"""NDCG, IPS NDCG and the bootstrap, against hand-worked queries and scikit-learn."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from ltrr.debias.examination import ExaminationCurve
from ltrr.rank.metrics import evaluate_scorers, ndcg_per_query

L3 = math.log2(3)  # discount denominators: rank 1 -> log2(2) = 1, rank 2 -> log2(3), rank 3 -> log2(4) = 2


def _frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (search_id, entity_id, label, shown_position)."""
    frame = pd.DataFrame(rows, columns=["search_id", "entity_id", "label", "shown_position"])
    frame["label"] = frame["label"].astype("Int64")
    frame["shown_position"] = frame["shown_position"].astype("Int64")
    return frame


def test_ndcg_hand_worked() -> None:
    """Query q1, labels a=3, b=0, c=2, d=1 -> gains 2**l - 1 = 7, 0, 3, 1.

    Scores a=0.1, b=0.9, c=0.5, d=0.3 rank b, c, d, a: gains 0, 3, 1, 7 at ranks 1..4.
      DCG@1 = 0
      DCG@3 = 0/1 + 3/log2(3) + 1/log2(4) = 3/log2(3) + 1/2
      DCG@5 = DCG@10 = DCG@3 + 7/log2(5)
    Ideal order a, c, d, b: gains 7, 3, 1, 0.
      IDCG@1 = 7;  IDCG@3 = IDCG@5 = 7 + 3/log2(3) + 1/2
    Query q2 has only label 0: ideal DCG 0, excluded and counted.
    """
    frame = _frame(
        [
            ("q1", "a", 3, 1),
            ("q1", "b", 0, 2),
            ("q1", "c", 2, 3),
            ("q1", "d", 1, 4),
            ("q2", "x", 0, 1),
            ("q2", "y", 0, 2),
        ]
    )
    scores = np.array([0.1, 0.9, 0.5, 0.3, 0.2, 0.1])
    idcg3 = 7 + 3 / L3 + 0.5
    expected = {1: 0.0, 3: (3 / L3 + 0.5) / idcg3, 5: (3 / L3 + 0.5 + 7 / math.log2(5)) / idcg3}
    expected[10] = expected[5]
    result = evaluate_scorers(frame, {"s": scores}, gain="label", n_boot=0)
    assert result["n_queries"] == 1 and result["n_excluded_queries"] == 1
    assert result["aggregate"] == "mean"
    for k, value in expected.items():
        entry = result["scorers"]["s"][f"ndcg@{k}"]
        assert entry["mean"] == pytest.approx(value, abs=1e-12)
        assert math.isnan(entry["ci_low"]) and entry["n_queries"] == 1
    per_query = ndcg_per_query(frame, scores, "label")
    assert per_query.loc["q1", "ndcg@3"] == pytest.approx(expected[3], abs=1e-12)
    assert not per_query.loc["q2", "valid"] and math.isnan(per_query.loc["q2", "ndcg@3"])


def test_nan_scores_rank_last_and_ties_do_not_depend_on_row_order() -> None:
    """Scores NaN, 0.2, 0.1 with gains 7, 0, 1: order 0.2, 0.1, NaN.

    DCG = 0 + 1/log2(3) + 7/log2(4);  IDCG = 7 + 1/log2(3) + 0.
    """
    frame = _frame([("q", "a", 3, 1), ("q", "b", 0, 2), ("q", "c", 1, 3)])
    got = ndcg_per_query(frame, np.array([np.nan, 0.2, 0.1]), "label", ks=(10,)).loc["q", "ndcg@10"]
    assert got == pytest.approx((1 / L3 + 3.5) / (7 + 1 / L3), abs=1e-12)

    rng = np.random.default_rng(0)
    rows = [(f"q{q}", f"e{i}", int(rng.integers(0, 4)), i + 1) for q in range(50) for i in range(6)]
    tied = _frame(rows)
    scores = rng.integers(0, 2, len(tied)).astype(float)  # many ties
    first = evaluate_scorers(tied, {"s": scores}, gain="label", n_boot=0)
    perm = rng.permutation(len(tied))
    second = evaluate_scorers(tied.iloc[perm].reset_index(drop=True), {"s": scores[perm]}, gain="label", n_boot=0)
    means = [{k: v["mean"] for k, v in r["scorers"]["s"].items()} for r in (first, second)]
    assert means[0] == means[1]


def test_ips_ndcg_hand_worked() -> None:
    """exam = 1, 0.5, 0.25 at positions 1, 2, 3; IPS gain = (2**label - 1) / exam(position).

    Query A: positions 1, 2, 3 with labels 1, 0, 2 -> IPS gains 1, 0, 3/0.25 = 12.
    Query B: positions 1, 2 with labels 0, 1     -> IPS gains 0, 1/0.5 = 2.
    Logged order (by position): DCG_A = 1 + 0 + 12/2 = 7,   DCG_B = 0 + 2/log2(3).
    Reversed order:             DCG_A = 12 + 0 + 1/2 = 12.5, DCG_B = 2.
    Ideal: IDCG_A = 12 + 1/log2(3), IDCG_B = 2.
    Ratio of sums (default): (DCG_A + DCG_B) / (IDCG_A + IDCG_B).
    Mean of ratios: (DCG_A / IDCG_A + DCG_B / IDCG_B) / 2.
    """
    curve = ExaminationCurve(probabilities=(1.0, 0.5, 0.25))
    frame = _frame([("A", "a", 1, 1), ("A", "b", 0, 2), ("A", "c", 2, 3), ("B", "x", 0, 1), ("B", "y", 1, 2)])
    logged = -frame["shown_position"].to_numpy(dtype=float)
    scores = {"logged": logged, "reversed": -logged}
    idcg_a, idcg_b = 12 + 1 / L3, 2.0
    ratio = evaluate_scorers(frame, scores, gain="label_ips", ks=(10,), curve=curve, n_boot=0)
    assert ratio["aggregate"] == "ratio"
    assert ratio["scorers"]["logged"]["ndcg@10"]["mean"] == pytest.approx((7 + 2 / L3) / (idcg_a + idcg_b), abs=1e-12)
    assert ratio["scorers"]["reversed"]["ndcg@10"]["mean"] == pytest.approx((12.5 + 2) / (idcg_a + idcg_b), abs=1e-12)
    mean = evaluate_scorers(frame, scores, gain="label_ips", ks=(10,), curve=curve, n_boot=0, aggregate="mean")
    assert mean["scorers"]["logged"]["ndcg@10"]["mean"] == pytest.approx((7 / idcg_a + (2 / L3) / 2) / 2, abs=1e-12)


def test_ips_needs_shown_rows() -> None:
    frame = _frame([("A", "a", 1, 1), ("A", "b", None, None)])
    with pytest.raises(ValueError, match="shown"):
        evaluate_scorers(frame, {"s": np.zeros(2)}, gain="label_ips", curve=ExaminationCurve((1.0,)))


def test_true_relevance_ndcg_matches_scikit_learn() -> None:
    """Plain-gain NDCG@k on real-valued relevance equals sklearn's ndcg_score (no ties)."""
    from sklearn.metrics import ndcg_score

    rng = np.random.default_rng(3)
    n_q, n_c = 300, 12
    rel = rng.random((n_q, n_c))
    scores = rel + rng.normal(0, 0.3, (n_q, n_c))
    frame = pd.DataFrame(
        {
            "search_id": np.repeat([f"q{i:03d}" for i in range(n_q)], n_c),
            "entity_id": np.tile([f"e{j}" for j in range(n_c)], n_q),
            "true_relevance": rel.ravel(),
        }
    )
    result = evaluate_scorers(frame, {"s": scores.ravel()}, gain="true_relevance", ks=(1, 3, 10), n_boot=0)
    for k in (1, 3, 10):
        assert result["scorers"]["s"][f"ndcg@{k}"]["mean"] == pytest.approx(ndcg_score(rel, scores, k=k), abs=1e-12)


def _random_queries(n_q: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    n_c = 5
    frame = pd.DataFrame(
        {
            "search_id": np.repeat(np.arange(n_q), n_c).astype(str),
            "entity_id": np.tile(np.arange(n_c), n_q).astype(str),
            "true_relevance": rng.random(n_q * n_c),
        }
    )
    return frame, rng.random(n_q * n_c)


def test_bootstrap_interval_brackets_the_mean_shrinks_and_is_seeded() -> None:
    small_frame, small_scores = _random_queries(200, 1)
    small = evaluate_scorers(small_frame, {"s": small_scores}, "true_relevance", n_boot=500)
    big_frame, big_scores = _random_queries(5000, 2)
    big = evaluate_scorers(big_frame, {"s": big_scores}, "true_relevance", n_boot=500)
    for result in (small, big):
        for entry in result["scorers"]["s"].values():
            assert entry["ci_low"] < entry["mean"] < entry["ci_high"]
    width = {
        name: r["scorers"]["s"]["ndcg@10"]["ci_high"] - r["scorers"]["s"]["ndcg@10"]["ci_low"]
        for name, r in (("small", small), ("big", big))
    }
    # 25 times the queries: the interval should shrink about 5 times.
    assert width["big"] < width["small"] / 3
    again = evaluate_scorers(big_frame, {"s": big_scores}, "true_relevance", n_boot=500)
    assert again == big
    other_seed = evaluate_scorers(big_frame, {"s": big_scores}, "true_relevance", n_boot=500, seed=1)
    assert other_seed["scorers"]["s"]["ndcg@10"]["ci_low"] != big["scorers"]["s"]["ndcg@10"]["ci_low"]


def test_bootstrap_is_fast_on_30k_queries() -> None:
    """30,000 queries x 10 rows, 3 scorers, 4 cut-offs, 1,000 resamples (measured well under 5 s)."""
    rng = np.random.default_rng(5)
    n_q, n_c = 30_000, 10
    n = n_q * n_c
    frame = pd.DataFrame(
        {
            "search_id": np.repeat(np.arange(n_q), n_c).astype(str),
            "entity_id": np.tile(np.arange(n_c), n_q).astype(str),
            "label": pd.array(rng.integers(0, 4, n), dtype="Int64"),
            "shown_position": pd.array(np.tile(np.arange(1, n_c + 1), n_q), dtype="Int64"),
        }
    )
    scores = {name: rng.random(n) for name in ("a", "b", "c")}
    curve = ExaminationCurve(probabilities=tuple(1 / p for p in range(1, 11)))
    start = time.perf_counter()
    result = evaluate_scorers(frame, scores, gain="label_ips", curve=curve, n_boot=1000)
    elapsed = time.perf_counter() - start
    assert result["n_queries"] + result["n_excluded_queries"] == n_q
    assert elapsed < 20, f"evaluate_scorers took {elapsed:.1f} s"


def test_ips_ratio_of_sums_prefers_the_true_order_where_the_mean_of_ratios_prefers_the_logged_one() -> None:
    """Why IPS NDCG is a ratio of sums (module docstring of ltrr.rank.metrics).

    On 3,000 searches of the test world (logging ranker driven by an irrelevant feature,
    exam(p) = 1/p), rerank the shown rows by true relevance (the best possible order) and by
    the logged order. The per-query normalised IPS NDCG cancels the weights in one-click
    queries and prefers the logged order; the ratio of sums prefers the true order, as NDCG
    on true relevance does. Measured: mean of ratios 0.643 (true order) vs 0.691 (logged);
    ratio of sums 0.673 vs 0.538; NDCG@10 on true relevance 1.000 vs 0.867.
    """
    from tests.rank.world import TRUE_CURVE, make_world, shown_rows

    shown = shown_rows(make_world(3000, 3, prefix="t"))
    scores = {"truth": shown["true_relevance"].to_numpy(), "logged": -shown["shown_position"].to_numpy(dtype=float)}
    common = {"ks": (10,), "curve": TRUE_CURVE, "n_boot": 0}
    ratio = evaluate_scorers(shown, scores, gain="label_ips", **common)["scorers"]
    mean = evaluate_scorers(shown, scores, gain="label_ips", aggregate="mean", **common)["scorers"]
    truth = evaluate_scorers(shown, scores, gain="true_relevance", ks=(10,), n_boot=0)["scorers"]
    assert truth["truth"]["ndcg@10"]["mean"] == 1.0 > truth["logged"]["ndcg@10"]["mean"]
    assert ratio["truth"]["ndcg@10"]["mean"] > ratio["logged"]["ndcg@10"]["mean"] + 0.1
    assert mean["truth"]["ndcg@10"]["mean"] < mean["logged"]["ndcg@10"]["mean"]
