"""Ranking metrics: NDCG@k per query, an IPS-weighted NDCG we can observe, and bootstrap CIs.

**NDCG@k.** For one query, rank its rows by a scorer's score (descending) and compute

    DCG@k = Σ_{rank r ≤ k} gain(row at r) / log2(1 + r),     NDCG@k = DCG@k / IDCG@k

where IDCG@k is the DCG@k of the rows sorted by gain (the best possible order of the same
rows). The gain of a row depends on what we measure (``gain=``):

- ``label``: graded labels 0..3 with the exponential gain 2**label − 1 (0, 1, 3, 7), the gain
  LambdaMART optimises (``ltrr.rank.labels.LABEL_GAIN``);
- ``label_ips``: the same gain divided by exam(shown position) (see "IPS NDCG" below);
- ``true_relevance``: the simulator's true relevance in [0, 1] used as the gain itself
  (plain gain: exponentiating a real number in [0, 1] would only squash it).

Queries whose IDCG is 0 (no row has a positive gain: nothing to rank) are excluded from the
mean and counted (``n_excluded_queries``). Since gains are ≥ 0 the same queries are excluded
at every k.

**Ties.** Rows are sorted by score descending, NaN scores last, then by a stable secondary
key: a 64-bit hash of ``(search_id, entity_id)`` (``pandas.util.hash_pandas_object``, fixed
key). The hash is deterministic across runs and machines and unrelated to relevance, so a
scorer with many ties (popularity, q2e with NaN for most candidates) is neither flattered nor
penalised by the order the rows happened to arrive in.

**IPS NDCG** (observable, no ground truth). On the shown rows of logged searches, a row's
gain is (2**label − 1) / exam(logged position), and the ideal order is that of the same
weighted gains. Under the position-based model a label is observed only when the row was
examined (probability exam(p)), so the weighted gain estimates the row's relevance gain
wherever the logging ranker put it, and a scorer's IPS DCG@k (its reranking of the shown
rows) is an unbiased estimate of its relevance DCG@k over the shown set.

The IPS NDCG is aggregated as a **ratio of sums**, Σ_q IPS-DCG_q@k / Σ_q IPS-IDCG_q@k, not as
the mean of per-query ratios. Normalising each query by its own weighted ideal cancels the
weight in every query with a single engaged row (most queries): its NDCG is then
1/log2(1 + rank of that row), exactly the unweighted, position-biased value, and the logged
order, which put the engaged rows on top because they were on top, wins. Measured on 3,000
searches of the test world (``tests/rank/world.py``, exam(p) = 1/p, shown rows;
``tests/rank/test_metrics.py::test_ips_ratio_of_sums_prefers_the_true_order_where_the_mean_of_ratios_prefers_the_logged_one``):
the mean of per-query IPS NDCG@10 ranks the *true relevance order* (0.643) below the
logged order (0.691), while the ratio of sums ranks them 0.673 vs 0.538, in line with
NDCG@10 on true relevance (1.000 vs 0.867). With the ratio of sums, the numerator is
unbiased for every scorer and the denominator is shared by all scorers, so comparisons are
unbiased; the value is on a [0, 1] scale but below the true NDCG (the weighted ideal is an
upward-biased estimate of the true ideal). ``aggregate="ratio"`` is the default for
``label_ips``; ``label`` and ``true_relevance`` use the usual mean of per-query NDCG
(``aggregate="mean"``).

**Bootstrap CI.** Queries are resampled with replacement (``n_boot`` times, seeded) and the
metric recomputed on each resample (the mean of per-query NDCG, or the ratio of summed DCG
to summed ideal DCG); the 95% interval is the 2.5th and 97.5th percentile of the resampled
values. All scorers and cut-offs are resampled with the same query draws, so their
intervals are comparable. The resampling is vectorised: each chunk of resamples is a matrix
of per-query counts, multiplied with the per-query values (30,000 queries × 1,000 resamples
take well under a second).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from ltrr.debias.examination import ExaminationCurve
from ltrr.rank.debias import examination_at

KS = (1, 3, 5, 10)
GAINS = ("label_ips", "label", "true_relevance")
CONFIDENCE = 0.95
_BOOT_CHUNK_ELEMENTS = 4_000_000


def tiebreak_key(frame: pd.DataFrame) -> np.ndarray:
    """The stable secondary sort key of each row: a uint64 hash of ``(search_id, entity_id)``.

    Args:
        frame: rows with ``search_id`` and ``entity_id``.

    Returns:
        uint64 array, one value per row.
    """
    cols = frame[["search_id", "entity_id"]].astype(str)
    return pd.util.hash_pandas_object(cols, index=False).to_numpy(dtype=np.uint64)


def group_codes(search_ids: Sequence | np.ndarray | pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dense query codes of rows.

    Args:
        search_ids: the query (search) id of each row.

    Returns:
        ``(codes, query_ids)``: ``codes[i]`` in 0..n_queries−1 (queries numbered in sorted id
        order), ``query_ids[c]`` the id of code c.
    """
    codes, uniques = pd.factorize(pd.Series(search_ids, dtype="object"), sort=True)
    return codes.astype(np.int64), np.asarray(uniques)


def label_gains(labels: np.ndarray | pd.Series) -> np.ndarray:
    """2**label − 1 of graded labels.

    Raises:
        ValueError: when a label is missing (only shown rows have labels) or negative.
    """
    series = pd.Series(labels)
    if series.isna().any():
        raise ValueError("label-based gains need a label on every row: pass shown rows only")
    values = series.to_numpy(dtype=np.float64)
    if (values < 0).any():
        raise ValueError("labels must be >= 0")
    return np.exp2(values) - 1.0


def gains_for(frame: pd.DataFrame, gain: str, curve: ExaminationCurve | None = None) -> np.ndarray:
    """Per-row gain of a frame for one of ``GAINS``.

    Args:
        frame: rows with ``label`` and ``shown_position`` (``label``/``label_ips``) or
            ``true_relevance``.
        gain: ``label_ips``, ``label`` or ``true_relevance``.
        curve: the examination curve (``label_ips`` only).

    Returns:
        float64 gains ≥ 0.

    Raises:
        ValueError: for an unknown gain, missing inputs, or negative / missing gains.
    """
    if gain == "label":
        return label_gains(frame["label"])
    if gain == "label_ips":
        if curve is None:
            raise ValueError("gain 'label_ips' needs an examination curve")
        positions = pd.Series(frame["shown_position"])
        if positions.isna().any():
            raise ValueError("gain 'label_ips' is defined on shown rows only (shown_position is missing on some)")
        return label_gains(frame["label"]) / examination_at(curve, positions.to_numpy(dtype=np.int64))
    if gain == "true_relevance":
        values = pd.Series(frame["true_relevance"]).to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isnan(values).any() or (values < 0).any():
            raise ValueError("true_relevance must be present and >= 0 on every row")
        return values
    raise ValueError(f"unknown gain {gain!r}; expected one of {GAINS}")


def _sorted_ranks(
    codes: np.ndarray, n_queries: int, scores: np.ndarray, tiebreak: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row order (by query, score desc with NaN last, tiebreak) and each sorted row's 1-based rank."""
    scores = np.asarray(scores, dtype=np.float64)
    nan = np.isnan(scores)
    order = np.lexsort((tiebreak, np.where(nan, 0.0, -scores), nan, codes))
    sorted_codes = codes[order]
    starts = np.searchsorted(sorted_codes, np.arange(n_queries))
    ranks = np.arange(len(order)) - starts[sorted_codes] + 1
    return order, ranks


def _dcg(codes: np.ndarray, n_queries: int, order: np.ndarray, ranks: np.ndarray, gains: np.ndarray, ks) -> np.ndarray:
    sorted_codes = codes[order]
    contrib = gains[order] / np.log2(1.0 + ranks)
    out = np.zeros((n_queries, len(ks)), dtype=np.float64)
    for j, k in enumerate(ks):
        out[:, j] = np.bincount(sorted_codes, weights=np.where(ranks <= k, contrib, 0.0), minlength=n_queries)
    return out


def dcg_matrices(
    codes: np.ndarray,
    n_queries: int,
    scores: np.ndarray,
    gains: np.ndarray,
    tiebreak: np.ndarray,
    ks: Sequence[int] = KS,
) -> tuple[np.ndarray, np.ndarray]:
    """DCG@k and ideal DCG@k of every query, array level.

    Args:
        codes: dense query code per row (``group_codes``).
        n_queries: number of queries (max code + 1).
        scores: the scorer's score per row (higher first, NaN last).
        gains: gain per row (≥ 0).
        tiebreak: secondary sort key per row (``tiebreak_key``).
        ks: cut-offs.

    Returns:
        ``(dcg, idcg)``, each ``(n_queries, len(ks))``.

    Raises:
        ValueError: for a NaN or negative gain.
    """
    gains = np.asarray(gains, dtype=np.float64)
    if len(gains) and (np.isnan(gains).any() or gains.min() < 0):
        raise ValueError("gains must be >= 0 and not NaN")
    order, ranks = _sorted_ranks(codes, n_queries, scores, tiebreak)
    dcg = _dcg(codes, n_queries, order, ranks, gains, ks)
    ideal_order, ideal_ranks = _sorted_ranks(codes, n_queries, gains, tiebreak)
    idcg = _dcg(codes, n_queries, ideal_order, ideal_ranks, gains, ks)
    return dcg, idcg


def ndcg_matrix(
    codes: np.ndarray,
    n_queries: int,
    scores: np.ndarray,
    gains: np.ndarray,
    tiebreak: np.ndarray,
    ks: Sequence[int] = KS,
) -> tuple[np.ndarray, np.ndarray]:
    """NDCG@k of every query (arguments as ``dcg_matrices``).

    Returns:
        ``(ndcg, valid)``: ``ndcg`` is ``(n_queries, len(ks))`` (NaN where IDCG is 0), ``valid``
        the queries with IDCG > 0.
    """
    dcg, idcg = dcg_matrices(codes, n_queries, scores, gains, tiebreak, ks)
    valid = idcg[:, 0] > 0 if len(ks) else np.zeros(n_queries, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        ndcg = np.where(idcg > 0, dcg / np.where(idcg > 0, idcg, 1.0), np.nan)
    return ndcg, valid


def aggregate_ndcg(dcg: np.ndarray, idcg: np.ndarray, aggregate: str) -> np.ndarray:
    """The metric of a set of queries from their DCG and ideal DCG (queries with IDCG 0 removed).

    Args:
        dcg: ``(n, m)`` DCG@k per query.
        idcg: ``(n, m)`` ideal DCG@k per query.
        aggregate: ``mean`` (mean of per-query NDCG) or ``ratio`` (Σ DCG / Σ IDCG).

    Returns:
        ``(m,)`` values (NaN when there is no query).
    """
    if len(dcg) == 0:
        return np.full(dcg.shape[1], np.nan)
    if aggregate == "mean":
        return (dcg / idcg).mean(axis=0)
    if aggregate == "ratio":
        return dcg.sum(axis=0) / idcg.sum(axis=0)
    raise ValueError(f"unknown aggregate {aggregate!r}; expected 'mean' or 'ratio'")


def default_aggregate(gain: str) -> str:
    """``ratio`` for ``label_ips`` (see the module docstring), ``mean`` otherwise."""
    return "ratio" if gain == "label_ips" else "mean"


def ndcg_per_query(
    frame: pd.DataFrame,
    scores: np.ndarray,
    gain: str,
    ks: Sequence[int] = KS,
    curve: ExaminationCurve | None = None,
) -> pd.DataFrame:
    """DCG@k, ideal DCG@k and NDCG@k per query of one scorer, as a table (inspection, tests).

    Args:
        frame: rows with ``search_id``, ``entity_id`` and the inputs of ``gain``.
        scores: the scorer's score per row of ``frame``.
        gain: one of ``GAINS``.
        ks: cut-offs.
        curve: the examination curve (``label_ips``).

    Returns:
        One row per query (index ``search_id``, sorted): ``dcg@k``, ``idcg@k``, ``ndcg@k`` (NaN
        when the ideal is 0) and ``valid``.
    """
    codes, query_ids = group_codes(frame["search_id"])
    dcg, idcg = dcg_matrices(codes, len(query_ids), scores, gains_for(frame, gain, curve), tiebreak_key(frame), ks)
    out = pd.DataFrame(index=pd.Index(query_ids, name="search_id"))
    for j, k in enumerate(ks):
        out[f"dcg@{k}"] = dcg[:, j]
        out[f"idcg@{k}"] = idcg[:, j]
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"ndcg@{k}"] = np.where(idcg[:, j] > 0, dcg[:, j] / np.where(idcg[:, j] > 0, idcg[:, j], 1.0), np.nan)
    out["valid"] = idcg[:, 0] > 0
    return out


def bootstrap_sums(values: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Column sums of ``n_boot`` resamples (rows drawn with replacement) of ``values``.

    Args:
        values: ``(n, m)`` per-query values (all m columns resampled with the same draws).
        n_boot: number of resamples.
        seed: seed of the resampling.

    Returns:
        ``(n_boot, m)`` resampled column sums (empty when ``n_boot`` is 0 or there are no rows).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[:, None]
    n, m = values.shape
    if n_boot <= 0 or n == 0:
        return np.empty((0, m))
    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, _BOOT_CHUNK_ELEMENTS // n))
    out = np.empty((n_boot, m), dtype=np.float64)
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        draws = rng.integers(0, n, size=(b, n))
        flat = (draws + (np.arange(b, dtype=np.int64) * n)[:, None]).ravel()
        counts = np.bincount(flat, minlength=b * n).reshape(b, n).astype(np.float64)
        out[start : start + b] = counts @ values
    return out


def _interval(boot: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1.0 - CONFIDENCE) / 2
    if boot.shape[0] == 0:
        nan = np.full(m, np.nan)
        return nan, nan
    low, high = np.quantile(boot, [alpha, 1.0 - alpha], axis=0)
    return low, high


def evaluate_scorers(
    frame: pd.DataFrame,
    scores: Mapping[str, np.ndarray],
    gain: str = "label_ips",
    ks: Sequence[int] = KS,
    curve: ExaminationCurve | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    aggregate: str | None = None,
) -> dict:
    """NDCG@k of several scorers on the same rows, with paired bootstrap 95% intervals.

    Args:
        frame: rows with ``search_id``, ``entity_id`` and the inputs of ``gain`` (for
            ``label``/``label_ips``: shown rows with ``label`` and ``shown_position``; for
            ``true_relevance``: any rows with ``true_relevance``).
        scores: scorer name → score per row of ``frame`` (higher first, NaN last).
        gain: ``label_ips`` (observable, debiased), ``label`` (observable, biased) or
            ``true_relevance`` (simulation only).
        ks: cut-offs.
        curve: the examination curve (``label_ips``).
        n_boot: bootstrap resamples (0: no intervals, they are NaN).
        seed: seed of the bootstrap.
        aggregate: ``mean`` of per-query NDCG or ``ratio`` of sums; default
            ``default_aggregate(gain)``.

    Returns:
        ``{"gain", "aggregate", "ks", "n_boot", "seed", "confidence", "n_rows", "n_queries",
        "n_excluded_queries", "scorers": {name: {"ndcg@k": {"mean", "ci_low", "ci_high",
        "n_queries"}}}}``. ``mean`` is the metric (for ``ratio``, Σ DCG / Σ IDCG);
        ``n_excluded_queries`` counts queries whose ideal DCG is 0. Values are NaN when no
        query is left.

    Raises:
        ValueError: when a score array does not have one value per row, or for bad gains.
    """
    ks = [int(k) for k in ks]
    aggregate = aggregate or default_aggregate(gain)
    codes, query_ids = group_codes(frame["search_id"])
    n_queries = len(query_ids)
    gains = gains_for(frame, gain, curve)
    tiebreak = tiebreak_key(frame)
    names = list(scores)
    dcgs = []
    idcg = np.zeros((n_queries, len(ks)))
    for name in names:
        values = np.asarray(scores[name], dtype=np.float64)
        if values.shape != (len(frame),):
            raise ValueError(f"scores of {name!r} have shape {values.shape}, expected ({len(frame)},)")
        dcg, idcg = dcg_matrices(codes, n_queries, values, gains, tiebreak, ks)
        dcgs.append(dcg)
    valid = idcg[:, 0] > 0 if ks else np.zeros(n_queries, dtype=bool)
    n_valid = int(valid.sum())
    m = len(names) * len(ks)
    dcg_all = np.hstack(dcgs)[valid] if dcgs else np.empty((n_valid, 0))
    idcg_all = np.tile(idcg[valid], (1, len(names)))
    point = aggregate_ndcg(dcg_all, idcg_all, aggregate)
    if aggregate == "mean":
        boot = bootstrap_sums(dcg_all / idcg_all, n_boot, seed) / max(n_valid, 1)
    else:
        # One resampling for numerators and denominators (the ideal DCG is shared by all scorers).
        sums = bootstrap_sums(np.hstack([dcg_all, idcg[valid]]), n_boot, seed)
        boot = sums[:, :m] / np.tile(sums[:, m:], (1, len(names)))
    low, high = _interval(boot, m) if n_valid else (point, point)
    result: dict = {
        "gain": gain,
        "aggregate": aggregate,
        "ks": ks,
        "n_boot": int(n_boot),
        "seed": int(seed),
        "confidence": CONFIDENCE,
        "n_rows": len(frame),
        "n_queries": n_valid,
        "n_excluded_queries": n_queries - n_valid,
        "scorers": {},
    }
    for i, name in enumerate(names):
        result["scorers"][name] = {
            f"ndcg@{k}": {
                "mean": float(point[i * len(ks) + j]),
                "ci_low": float(low[i * len(ks) + j]),
                "ci_high": float(high[i * len(ks) + j]),
                "n_queries": n_valid,
            }
            for j, k in enumerate(ks)
        }
    return result


def is_number(value: object) -> bool:
    """True for a finite int/float (what a metric must be to be compared)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
