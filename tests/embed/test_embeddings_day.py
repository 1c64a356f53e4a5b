"""The embeddings build on a small simulated world: artifact, gates, fallbacks, next-day hit rate."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from ltrr.config import load_settings
from ltrr.embed.day import EmbeddingsRejected, rejection_path, train_embeddings_day
from ltrr.embed.evaluate import evaluate_next_day, sample_users
from ltrr.embed.gate import require_published_embeddings
from ltrr.embed.index import NO_HISTORY, PERSONALIZED, POPULAR_FALLBACK, RELATED, EmbeddingIndex
from ltrr.embed.interactions import build_interactions_day
from ltrr.orchestration.checks import DayRejected
from ltrr.schemas import LOG_TABLES
from ltrr.zones import artifact_dir, partition_path

START = dt.date(2026, 1, 5)
DAY1, DAY2 = START.isoformat(), (START + dt.timedelta(days=1)).isoformat()
K = 20


@pytest.fixture(scope="module")
def world(spark, tmp_path_factory: pytest.TempPathFactory):
    from ltrr.sim import simulate

    tmp = tmp_path_factory.mktemp("embed")
    settings = load_settings(
        data_root=tmp / "data",
        state_dir=tmp / "state",
        spark_shuffle_partitions=2,
        embed_window_days=7,
        embed_factors=16,
        embed_eval_k=K,
        embed_recall_sample=200,
    )
    simulate(out=settings.data_root, start=START, days=2, scale="small", seed=5)
    # The simulator writes valid logs: use them as the clean zone (validation has its own tests).
    for day in (DAY1, DAY2):
        for table in LOG_TABLES:
            shutil.copytree(
                partition_path(settings.data_root, "raw", table, day),
                partition_path(settings.data_root, "clean", table, day),
            )
    metrics = {}
    for day in (DAY1, DAY2):
        build_interactions_day(spark, settings, day)
        metrics[day] = train_embeddings_day(spark, settings, day)
    return settings, metrics


def _folder(settings, day: str, name: str = "embeddings") -> Path:
    return artifact_dir(settings.data_root, day, name)


def test_artifact_layout_sizes_and_recall(world) -> None:
    settings, metrics = world
    folder = _folder(settings, DAY2)
    for name in ("item_factors.parquet", "user_factors.parquet", "query_vectors.parquet", "items.ann"):
        assert (folder / name).is_file(), name
    assert json.loads((folder / "metrics.json").read_text())["recall"] == metrics[DAY2]["recall"]
    entities = pq.read_table(_folder(settings, DAY2, "interactions") / "entities").num_rows
    items = pq.read_table(folder / "item_factors.parquet")
    assert items.num_rows == entities == metrics[DAY2]["index"]["items"] > 100
    assert items.column("entity_idx").to_pylist() == list(range(entities))
    recall = metrics[DAY2]["recall"]
    assert recall["passed"] and recall["recall"] >= 0.95 and recall["k"] == 10
    validation = json.loads((folder / "validation.json").read_text())
    assert validation["success"] and set(validation["suites"]) == {"items", "users", "queries"}
    assert all(s["evaluated"] >= 8 for s in validation["suites"].values())
    assert require_published_embeddings(settings, DAY2)["recall"]["recall"] == recall["recall"]
    assert not list(folder.parent.glob(".*tmp*")), "no staging folder is left behind"


def test_next_day_hit_rates_against_an_independent_count(world) -> None:
    settings, metrics = world
    assert metrics[DAY1]["previous_model_on_this_day"] is None
    evaluation = metrics[DAY2]["previous_model_on_this_day"]
    assert evaluation["model_ds"] == DAY1 and evaluation["k"] == K
    model = _folder(settings, DAY1)
    items = pq.read_table(model / "item_factors.parquet").to_pylist()
    users = pq.read_table(model / "user_factors.parquet").to_pylist()
    pairs = pq.read_table(_folder(settings, DAY2, "interactions") / "day_pairs").to_pylist()
    popular = {r["entity_id"] for r in sorted(items, key=lambda r: (-r["weight"], r["entity_idx"]))[:K]}
    item_ids = [r["entity_id"] for r in items]
    item_matrix = np.array([r["factors"] for r in items], dtype=np.float64)
    user_vec = {r["user_id"]: np.array(r["factors"], dtype=np.float64) for r in users}
    known = [p for p in pairs if p["user_id"] in user_vec]
    pop_hits = sum(p["entity_id"] in popular for p in known)
    pers_hits = 0
    for p in known:
        scores = item_matrix @ user_vec[p["user_id"]]
        top = {item_ids[i] for i in np.argsort(-scores)[:K]}
        pers_hits += p["entity_id"] in top
    assert evaluation["pairs"] == len(pairs) > 0
    assert evaluation["sample"] == {
        "users": len({p["user_id"] for p in pairs}),
        "users_read": len({p["user_id"] for p in pairs}),
        "pairs": len(pairs),
        "pairs_read": len(pairs),
    }
    assert evaluation["known_users"]["popularity"] == {
        "n": len(known),
        "hits": pop_hits,
        "rate": pop_hits / len(known),
    }
    assert evaluation["known_users"]["personalized"]["n"] == len(known)
    # Ties between float32 scores may order differently: allow one pair of slack.
    assert abs(evaluation["known_users"]["personalized"]["hits"] - pers_hits) <= 1
    assert 0 < evaluation["known_user_share"] < 1


def test_next_day_hit_rates_judge_a_whole_user_hash_sample(world) -> None:
    settings, _ = world
    model = EmbeddingIndex.load(_folder(settings, DAY1))
    day_pairs = _folder(settings, DAY2, "interactions") / "day_pairs"
    pairs = pq.read_table(day_pairs).to_pylist()
    users = sorted({p["user_id"] for p in pairs})
    assert len(users) > 30

    def digest(user: str) -> int:
        return int.from_bytes(hashlib.blake2b(user.encode(), digest_size=8).digest(), "big")

    kept = set(sorted(users, key=digest)[:30])
    mine = [p for p in pairs if p["user_id"] in kept]
    evaluation = evaluate_next_day(model, day_pairs, K, max_users=30)
    assert evaluation["sample"] == {
        "users": len(users),
        "users_read": 30,
        "pairs": len(pairs),
        "pairs_read": len(mine),
    }
    assert evaluation["pairs"] == len(mine) < len(pairs)
    popular = {model.entity_ids[i] for i in model.popular[:K]}
    known_users = set(model.user_ids.tolist())
    known = [p for p in mine if p["user_id"] in known_users]
    assert evaluation["known_users"]["popularity"]["n"] == len(known)
    assert evaluation["known_users"]["popularity"]["hits"] == sum(p["entity_id"] in popular for p in known)
    assert evaluation["served"]["popularity"]["hits"] == sum(p["entity_id"] in popular for p in mine)
    # The sample does not depend on the order of the rows.
    shuffled = np.array([p["user_id"] for p in pairs], dtype=object)[::-1]
    assert set(shuffled[sample_users(shuffled, 30)].tolist()) == kept
    assert sample_users(shuffled, len(users)).all()


def test_fallbacks_for_users_and_entities_without_history(world) -> None:
    settings, _ = world
    folder = _folder(settings, DAY2)
    index = EmbeddingIndex.load(folder)
    entities = pq.read_table(_folder(settings, DAY2, "interactions") / "entities").to_pylist()
    by_weight = [r["entity_id"] for r in sorted(entities, key=lambda r: (-r["weight"], r["entity_idx"]))]

    unknown = index.personalized("u_nobody", 5)
    assert unknown.source == POPULAR_FALLBACK and unknown.entity_ids == by_weight[:5]
    assert index.personalized(None, 5).source == POPULAR_FALLBACK
    assert index.personalized("", 3).entity_ids == by_weight[:3]
    assert index.related("trk_unknown", 5).entity_ids == [] and index.related("trk_unknown", 5).source == NO_HISTORY
    assert index.related(None, 5).entity_ids == []
    assert index.related_to_query("a query nobody typed", 5).entity_ids == []
    assert index.affinity("u_nobody", by_weight[0]) is None
    assert index.personalized("u_nobody", 0).entity_ids == []

    user = str(index.user_ids[0])
    mine = index.personalized(user, 10)
    assert mine.source == PERSONALIZED and len(mine.entity_ids) == len(set(mine.entity_ids)) == 10
    assert mine.scores == sorted(mine.scores, reverse=True)
    assert mine.scores[0] == pytest.approx(index.affinity(user, mine.entity_ids[0]), rel=1e-5)
    related = index.related(by_weight[0], 5)
    assert related.source == RELATED and len(related.entity_ids) == 5 and by_weight[0] not in related.entity_ids


def test_exact_search_agrees_with_the_annoy_index(world) -> None:
    settings, _ = world
    folder = _folder(settings, DAY2)
    annoy = EmbeddingIndex.load(folder)
    exact = EmbeddingIndex.load(folder, exact_max_items=10**6)
    assert exact.exact and not annoy.exact
    assert not EmbeddingIndex.load(folder, exact_max_items=1).exact  # over the limit: Annoy
    overlap = []
    for user in [str(u) for u in annoy.user_ids[:20]]:
        a, e = annoy.personalized(user, 10), exact.personalized(user, 10)
        assert e.scores == sorted(e.scores, reverse=True) and len(e.entity_ids) == 10
        assert e.scores[0] >= a.scores[0] - 1e-6  # exact is never worse than the approximation
        overlap.append(len(set(a.entity_ids) & set(e.entity_ids)) / 10)
    assert np.mean(overlap) >= 0.9  # the index was gated at recall@10 >= 0.95
    entity = str(exact.entity_ids[0])
    related = exact.related(entity, 5)
    assert len(related.entity_ids) == 5 and entity not in related.entity_ids
    assert exact.related(entity, len(exact.entity_ids) + 5).entity_ids.count(entity) == 0


def test_query_vectors_are_weighted_means_of_entity_vectors(world) -> None:
    settings, _ = world
    folder = _folder(settings, DAY2)
    items = {r["entity_id"]: np.array(r["factors"]) for r in pq.read_table(folder / "item_factors.parquet").to_pylist()}
    weights = pq.read_table(_folder(settings, DAY2, "interactions") / "query_entities").to_pylist()
    vectors = {r["query_key"]: r for r in pq.read_table(folder / "query_vectors.parquet").to_pylist()}
    key = max(vectors, key=lambda q: vectors[q]["entities"])  # a query with several entities
    rows = [r for r in weights if r["query_key"] == key]
    assert len(rows) == vectors[key]["entities"] >= 2
    expected = sum(r["weight"] * items[r["entity_id"]] for r in rows) / sum(r["weight"] for r in rows)
    # The last coordinate is the popularity prior: entities carry it, query vectors search with 0.
    assert np.allclose(vectors[key]["vector"][:-1], expected[:-1], atol=1e-5)
    assert vectors[key]["vector"][-1] == 0.0


def _fresh_copy(settings, tmp_path: Path, **overrides):
    """Settings on a new data root holding only DAY2's interactions (no published embeddings)."""
    other = load_settings(data_root=tmp_path / "data", state_dir=tmp_path / "state", **overrides)
    shutil.copytree(_folder(settings, DAY2, "interactions"), _folder(other, DAY2, "interactions"))
    return other


def test_the_gate_raises_search_k_until_recall_passes_and_serving_uses_it(world, spark, tmp_path: Path) -> None:
    settings, _ = world
    tight = _fresh_copy(settings, tmp_path, embed_n_trees=1, embed_search_k=1, embed_max_search_k=1_000_000)
    metrics = train_embeddings_day(spark, tight, DAY2)
    recall = metrics["recall"]
    rungs = [r["search_k"] for r in recall["ladder"]]
    assert recall["passed"] and len(rungs) > 1 and rungs[0] == 1 and recall["search_k"] == rungs[-1]
    # The artifact records the value that met the threshold, and serving loads it by default.
    assert metrics["params"]["search_k"] == rungs[-1] and metrics["params"]["max_search_k"] == 1_000_000
    assert EmbeddingIndex.load(_folder(tight, DAY2)).search_k == rungs[-1]


def test_recall_gate_failure_raises_and_publishes_nothing(world, spark, tmp_path: Path) -> None:
    settings, _ = world
    starved = _fresh_copy(
        settings,
        tmp_path,
        embed_factors=16,
        embed_n_trees=1,
        embed_search_k=1,
        embed_max_search_k=2,
        embed_recall_threshold=0.99,
    )
    with pytest.raises(EmbeddingsRejected, match=r"recall@10 0\.\d+ .* below the threshold 0\.99"):
        train_embeddings_day(spark, starved, DAY2)
    final = _folder(starved, DAY2)
    assert not final.exists(), "nothing is published"
    assert not list(final.parent.glob(".*tmp*")), "no staging folder is left behind"
    detail = json.loads(rejection_path(starved.data_root, DAY2).read_text())
    assert detail["reason"] == "recall" and detail["recall"]["passed"] is False
    assert [r["search_k"] for r in detail["recall"]["ladder"]] == [1, 2]  # tried up to the cap
    with pytest.raises(DayRejected, match="below the threshold"):
        require_published_embeddings(starved, DAY2)
