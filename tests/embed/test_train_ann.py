"""Factor model and Annoy MIPS index on a planted-cluster matrix, checked with plain numpy."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from ltrr.embed.ann import ann_search, build_index, load_index, measure_recall
from ltrr.embed.params import EmbedParams
from ltrr.embed.train import query_vectors, train_factors

CLUSTERS, ITEMS_PER_CLUSTER, USERS = 6, 80, 900


@pytest.fixture(scope="module")
def planted() -> tuple[sparse.csr_matrix, np.ndarray]:
    """Users who each engage with 12 entities of their own cluster and 1 random entity."""
    rng = np.random.default_rng(42)
    n_items = CLUSTERS * ITEMS_PER_CLUSTER
    item_cluster = np.arange(n_items) // ITEMS_PER_CLUSTER
    rows, cols, vals = [], [], []
    for u in range(USERS):
        cluster = u % CLUSTERS
        own = rng.choice(np.flatnonzero(item_cluster == cluster), 12, replace=False)
        noise = rng.integers(0, n_items, 1)
        for i in np.concatenate([own, noise]):
            rows.append(u)
            cols.append(int(i))
            vals.append(1.0 + 2.0 * rng.uniform(1, 8))
    matrix = sparse.csr_matrix((vals, (rows, cols)), shape=(USERS, n_items), dtype=np.float32)
    matrix.sum_duplicates()
    return matrix, item_cluster


PARAMS = EmbedParams(factors=16, regularization=0.1, iterations=15, seed=11)


@pytest.fixture(scope="module")
def factors(planted) -> tuple[np.ndarray, np.ndarray]:
    return train_factors(planted[0], PARAMS)


def test_fit_emits_no_threading_warning(planted) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train_factors(planted[0], EmbedParams(factors=8, iterations=2, seed=1))


def test_entities_of_a_cluster_are_closer_than_entities_of_other_clusters(planted, factors) -> None:
    _, item_cluster = planted
    _, items = factors
    unit = items / np.linalg.norm(items, axis=1, keepdims=True)
    cosine = unit @ unit.T
    same = item_cluster[:, None] == item_cluster[None, :]
    np.fill_diagonal(same, False)
    other = item_cluster[:, None] != item_cluster[None, :]
    mean_same = np.array([cosine[i, same[i]].mean() for i in range(len(items))])
    mean_other = np.array([cosine[i, other[i]].mean() for i in range(len(items))])
    assert (mean_same > mean_other).all()
    assert mean_same.mean() - mean_other.mean() > 0.3, (mean_same.mean(), mean_other.mean())
    # Each entity's 10 nearest others (by cosine) are almost all of its own cluster.
    np.fill_diagonal(cosine, -np.inf)
    nearest = np.argsort(-cosine, axis=1)[:, :10]
    purity = (item_cluster[nearest] == item_cluster[:, None]).mean()
    assert purity >= 0.95, purity


def _brute_force_top10(queries: np.ndarray, items: np.ndarray) -> list[set[int]]:
    """Exact inner-product top-10, written independently of ltrr.embed.ann."""
    out = []
    for q in queries.astype(np.float64):
        scores = items.astype(np.float64) @ q
        out.append(set(np.argsort(-scores, kind="stable")[:10].tolist()))
    return out


def test_annoy_recall_at_10_against_brute_force(factors, tmp_path: Path) -> None:
    users, items = factors
    n = build_index(items, n_trees=10, seed=3, path=tmp_path / "items.ann")
    assert n == len(items)
    index = load_index(tmp_path / "items.ann", items.shape[1] + 1)
    queries = np.vstack([users[::3], items[::2]])
    found = ann_search(index, queries, 10, search_k=3_000)
    exact = _brute_force_top10(queries, items)
    recall = np.mean([len(set(f) & e) / 10 for f, e in zip(found, exact, strict=True)])
    assert recall >= 0.95, recall
    # The augmented dimension is what makes angular search rank by inner product: plain
    # cosine ranking over the same vectors misses a good part of the inner-product top-10.
    unit = items / np.linalg.norm(items, axis=1, keepdims=True)
    by_cosine = [set(np.argsort(-(unit @ q), kind="stable")[:10].tolist()) for q in queries]
    cosine_recall = np.mean([len(c & e) / 10 for c, e in zip(by_cosine, exact, strict=True)])
    assert cosine_recall < recall - 0.1, (cosine_recall, recall)
    index.unload()


def test_same_seed_same_inputs_give_identical_factors_and_index(planted, factors, tmp_path: Path) -> None:
    matrix, _ = planted
    users, items = factors
    users2, items2 = train_factors(matrix, PARAMS)
    assert np.array_equal(users, users2) and np.array_equal(items, items2)
    build_index(items, n_trees=10, seed=3, path=tmp_path / "a.ann")
    build_index(items2, n_trees=10, seed=3, path=tmp_path / "b.ann")
    assert (tmp_path / "a.ann").read_bytes() == (tmp_path / "b.ann").read_bytes()
    # The seed is what fixes them: another seed gives other factors.
    other_users, _ = train_factors(matrix, EmbedParams(**{**PARAMS.to_dict(), "seed": 12}))
    assert not np.array_equal(users, other_users)


def test_bpr_is_deterministic_and_separates_clusters(planted) -> None:
    matrix, item_cluster = planted
    params = EmbedParams(model="bpr", factors=16, iterations=60, learning_rate=0.05, regularization=0.01, seed=5)
    users, items = train_factors(matrix, params)
    users2, items2 = train_factors(matrix, params)
    assert np.array_equal(users, users2) and np.array_equal(items, items2)
    scores = users @ items.T  # BPR's last column is the item bias (user column = 1)
    top = np.argsort(-scores, axis=1)[:, :10]
    user_cluster = np.arange(USERS) % CLUSTERS
    assert (item_cluster[top] == user_cluster[:, None]).mean() >= 0.9


def test_measure_recall_fails_with_a_starved_search(factors, tmp_path: Path) -> None:
    users, items = factors
    build_index(items, n_trees=1, seed=3, path=tmp_path / "one.ann")
    index = load_index(tmp_path / "one.ann", items.shape[1] + 1)
    report = measure_recall(index, users, items, items, search_k=1, sample=200, threshold=0.95, seed=1)
    assert not report.passed and report.recall < 0.95
    assert report.users == report.entities == 200
    good = measure_recall(index, users, items, items, search_k=100_000, sample=200, threshold=0.95, seed=1)
    assert good.passed and good.recall >= 0.99  # exhaustive search is exact
    index.unload()


def test_tune_search_k_doubles_until_the_threshold_is_met(factors, tmp_path: Path) -> None:
    from ltrr.embed.ann import tune_search_k

    users, items = factors
    build_index(items, n_trees=1, seed=3, path=tmp_path / "one.ann")
    index = load_index(tmp_path / "one.ann", items.shape[1] + 1)
    common = {"sample": 200, "threshold": 0.95, "seed": 1}
    report, ladder = tune_search_k(index, users, items, items, search_k=1, max_search_k=100_000, **common)
    rungs = [r["search_k"] for r in ladder]
    # A doubling ladder from 1, stopped at the first rung that passes, which is the report's.
    assert rungs == [2**i for i in range(len(rungs))] and len(rungs) > 1
    assert report.passed and report.search_k == rungs[-1] and ladder[-1]["recall"] == report.recall
    assert all(r["recall"] < 0.95 for r in ladder[:-1])
    # The rung that passed, measured alone, gives the same figure (same sampled queries).
    alone = measure_recall(index, users, items, items, search_k=rungs[-1], **common)
    assert alone.recall == report.recall
    # Capped below it, the ladder stops at the cap and fails.
    capped, short = tune_search_k(index, users, items, items, search_k=1, max_search_k=rungs[-2], **common)
    assert not capped.passed and [r["search_k"] for r in short] == rungs[:-1]
    # A cap below the first rung measures the first rung only.
    single, one = tune_search_k(index, users, items, items, search_k=4, max_search_k=1, **common)
    assert [r["search_k"] for r in one] == [4] and single.search_k == 4
    index.unload()


def test_query_vector_is_the_weighted_mean_of_engaged_entity_vectors() -> None:
    items = np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]], dtype=np.float32)
    weights = sparse.csr_matrix(np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 2.0]]))
    vectors, total = query_vectors(weights, items)
    # (3 * [1, 0] + 1 * [0, 2]) / 4 = [0.75, 0.5];  2 * [4, 4] / 2 = [4, 4]
    assert np.allclose(vectors, [[0.75, 0.5], [4.0, 4.0]])
    assert total.tolist() == [4.0, 2.0]


def test_popularity_prior_adds_a_scaled_log_weight_to_user_scores() -> None:
    from ltrr.embed.train import popularity_prior

    users = np.array([[1.0, 0.0], [0.0, 1.0]])
    items = np.array([[1.0, 0.0], [0.0, 2.0]])
    weights = np.array([np.e - 1, np.e**2 - 1])  # log(1 + w) = 1, 2; mean 1.5
    user_vectors, entity_vectors, details = popularity_prior(users, items, weights, 3.0)
    # u·v over the 4 pairs: 1, 0, 0, 2 -> RMS sqrt(5 / 4); coefficient 3 * RMS / 1.5
    coefficient = 3.0 * np.sqrt(1.25) / 1.5
    assert details["coefficient"] == pytest.approx(coefficient)
    scores = user_vectors.astype(np.float64) @ entity_vectors.T.astype(np.float64)
    expected = users @ items.T + coefficient * np.array([1.0, 2.0])[None, :]
    assert np.allclose(scores, expected, atol=1e-5)
    _, _, off = popularity_prior(users, items, weights, 0.0)
    assert off["coefficient"] == 0.0
