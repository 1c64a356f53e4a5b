"""Semantic retrieval: LSA vectors of entity text (tags, description, type), nearest by cosine."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ltrr.retrieval.semantic import SemanticIndex, entity_text, fit_pipeline
from ltrr.sim import words as W
from ltrr.sim.catalog import initial_catalog
from ltrr.sim.scales import get_scale

SEED = 7
EPOCH = dt.date(2026, 1, 5)
QUERIES = (
    "history podcast",
    "podcasts about true crime",
    "chill jazz playlist",
    "love love songs",
    "Beyoncé R&B",
    "k-pop dance",
    "music history episodes",
    "sad",
    "jazz zzzunknown",
)


@pytest.fixture(scope="module")
def catalog() -> pa.Table:
    return initial_catalog(get_scale("small"), SEED, EPOCH).to_arrow()


@pytest.fixture(scope="module")
def rows(catalog: pa.Table) -> list[dict]:
    return catalog.to_pylist()


@pytest.fixture(scope="module")
def tags(rows: list[dict]) -> list[set[str]]:
    return [set(r["genres"] or []) | set(r["topics"] or []) for r in rows]


@pytest.fixture(scope="module")
def index(catalog: pa.Table) -> SemanticIndex:
    return SemanticIndex.build(catalog, dims=64, seed=0)


def _row(entity_id: str, entity_type: str, genres=(), topics=(), description: str = "", title: str = "x") -> dict:
    return {"entity_id": entity_id, "entity_type": entity_type, "title": title, "artist": None, "album": None,
            "genres": list(genres), "topics": list(topics), "description": description}  # fmt: skip


# ---- retrieval quality on the small simulated catalog ----------------------------------------
def test_topic_queries_find_podcasts_about_the_topic(index: SemanticIndex, rows: list[dict], tags) -> None:
    """ "<topic> podcast": of the top min(10, #entities with the topic), the share tagged with
    the topic, pooled over topics (measured 0.944 at seed 7: only topics with 1-4 entities,
    merged into others by the 64-dim SVD, miss); every topic with 10+ entities gets >= 0.6
    (measured min 0.8, mean 0.99), and all results are podcasts or episodes."""
    count = Counter(t for ts in tags for t in ts)
    hits = total = spoken = 0
    for topic in W.TOPICS:
        n = min(10, count[topic])
        if n == 0:
            continue
        found, scores = index.search_rows(f"{topic} podcast", n)
        assert len(found) == n and all(s > 0 for s in scores)
        matched = sum(topic in tags[r] for r in found)
        if count[topic] >= 10:
            assert matched >= 6, (topic, [sorted(tags[r]) for r in found])
        hits, total = hits + matched, total + n
        spoken += sum(rows[r]["entity_type"] in ("podcast", "episode") for r in found)
    assert hits / total >= 0.85
    assert spoken == total


def test_entities_are_found_by_meaning_not_only_by_shared_words() -> None:
    """With fewer dimensions than subjects, words that co-occur share a direction: "saxophone"
    finds the jazz track that never says it (above rock), "ancient" the history podcast about
    empires. Plain TF-IDF cosine (all dimensions kept) finds neither."""
    catalog = [
        _row("j1", "track", ["jazz"], description="smoky saxophone improvisation"),
        _row("j2", "track", ["jazz"], description="saxophone solo"),
        _row("j3", "track", ["jazz"]),
        _row("r1", "track", ["rock"], description="loud guitar riffs"),
        _row("r2", "track", ["rock"], description="guitar solo"),
        _row("p1", "podcast", topics=["history"], description="a podcast about ancient wars"),
        _row("p2", "podcast", topics=["history"], description="a podcast about empires"),
    ]
    lsa = SemanticIndex.build(catalog, dims=3)
    assert [e for e, _ in lsa.search("saxophone", 3)] == ["j1", "j3", "j2"]
    assert {e for e, _ in lsa.search("ancient", 5)} == {"p1", "p2"}
    full = SemanticIndex.build(catalog)  # dims reduced to the rank: TF-IDF cosine
    assert "j3" not in {e for e, _ in full.search("saxophone", 10)}
    assert "p2" not in {e for e, _ in full.search("ancient", 10)}


def test_genre_and_mood_queries(index: SemanticIndex, tags) -> None:
    found, scores = index.search_rows("chill jazz", 10)
    assert len(found) == 10 and scores == sorted(scores, reverse=True)
    assert all("jazz" in tags[r] for r in found)
    assert sum({"jazz", "chill"} <= tags[r] for r in found) >= 8  # measured 10
    found, _ = index.search_rows("chill jazz playlist", 10)
    assert sum({"jazz", "chill"} <= tags[r] for r in found) >= 7  # measured 9
    # "<genre> music" for every genre: share of the top min(10, n) with the genre (measured 0.97;
    # "music" is a type word of music entities, not only part of the "music history" topic).
    count = Counter(t for ts in tags for t in ts)
    shares = []
    for genre in W.GENRES:
        n = min(10, count[genre])
        found, _ = index.search_rows(f"{genre} music", n)
        shares.append(sum(genre in tags[r] for r in found) / n)
    assert np.mean(shares) >= 0.85


def test_multi_word_tags_stay_apart(index: SemanticIndex, tags) -> None:
    assert "music_history" in index.analyze("Music History podcast")
    found, _ = index.search_rows("history podcast", 10)
    assert all("history" in tags[r] for r in found)
    found, _ = index.search_rows("music history podcast", 10)
    assert sum("music history" in tags[r] for r in found) >= 6


# ---- the numpy transform equals scikit-learn's -------------------------------------------------
def test_encode_equals_sklearn_pipeline(index: SemanticIndex, rows: list[dict]) -> None:
    texts = [entity_text(r, index.analyzer.stop_words) for r in rows]
    vectorizer, svd, matrix = fit_pipeline(texts, dims=64, seed=0, analyzer=index.analyzer)
    assert vectorizer is not None and svd is not None and matrix is not None
    expected = svd.transform(vectorizer.transform(list(QUERIES)))
    expected /= np.linalg.norm(expected, axis=1, keepdims=True)
    got = np.stack([index.encode(q) for q in QUERIES])
    assert got.dtype == np.float32 and got.shape == (len(QUERIES), index.dims)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
    # Entity vectors: the same transform of the catalog's TF-IDF rows.
    entities = svd.transform(matrix)
    norms = np.linalg.norm(entities, axis=1, keepdims=True)
    np.testing.assert_allclose(index.vectors, entities / np.where(norms > 0, norms, 1.0), atol=1e-6)


def test_scores_are_cosines(index: SemanticIndex) -> None:
    found, scores = index.search_rows("chill jazz", 5)
    q = index.encode("chill jazz")
    assert q is not None
    np.testing.assert_allclose(scores, index.vectors[found] @ q, atol=2e-6)
    assert all(type(s) is float for s in scores) and all(type(r) is int for r in found)


# ---- save / open --------------------------------------------------------------------------------
def test_save_open_round_trip(index: SemanticIndex, tmp_path: Path) -> None:
    index.save(tmp_path / "semantic")
    files = sorted(p.name for p in (tmp_path / "semantic").iterdir())
    assert files == ["components.npy", "entity_ids.json", "idf.npy", "semantic.json", "vectors.npy", "vocabulary.json"]
    for name in ("components.npy", "idf.npy", "vectors.npy"):
        array = np.load(tmp_path / "semantic" / name, allow_pickle=False)  # raises on a pickle
        assert array.dtype != object
    assert np.load(tmp_path / "semantic" / "vectors.npy").dtype == np.float32
    assert np.load(tmp_path / "semantic" / "components.npy").dtype == np.float32
    params = json.loads((tmp_path / "semantic" / "semantic.json").read_text())
    assert params["format_version"] == 1 and params["dims"] == index.dims == 64 and params["seed"] == 0
    assert params["n_entities"] == len(index) and params["sublinear_tf"] is False and params["norm"] == "l2"
    opened = SemanticIndex.open(tmp_path / "semantic")
    assert opened.entity_ids == index.entity_ids and opened.dims == index.dims
    for q in QUERIES:
        assert opened.search_rows(q, 20) == index.search_rows(q, 20)
        assert np.array_equal(opened.encode(q), index.encode(q))


def test_open_rejects_other_format(index: SemanticIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    params = json.loads((tmp_path / "semantic.json").read_text())
    (tmp_path / "semantic.json").write_text(json.dumps({**params, "format_version": 99}))
    with pytest.raises(ValueError, match="format"):
        SemanticIndex.open(tmp_path)


def test_serving_does_not_import_sklearn(index: SemanticIndex, tmp_path: Path) -> None:
    index.save(tmp_path)
    code = (
        "import sys\n"
        "from ltrr.retrieval.semantic import SemanticIndex\n"
        f"rows, _ = SemanticIndex.open({str(tmp_path)!r}).search_rows('history podcast', 5)\n"
        "assert len(rows) == 5, rows\n"
        "assert not any(m.startswith('sklearn') for m in sys.modules), 'sklearn imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# ---- odd input, determinism, small catalogs -----------------------------------------------------
@pytest.mark.parametrize("query", ["", "   ", "the and of it", "zzzz qqqq", "🎵🔥", "?!", "夜の海", None, 42])
def test_queries_without_known_terms_return_nothing(index: SemanticIndex, query) -> None:
    assert index.encode(query) is None
    assert index.search_rows(query, 10) == ([], [])
    assert index.search(query, 10) == []


def test_budgets(index: SemanticIndex, tags) -> None:
    assert index.search_rows("history podcast", 0) == ([], [])
    assert index.search_rows("history podcast", -5) == ([], [])
    assert index.search_rows("history podcast", "ten") == ([], [])  # type: ignore[arg-type]
    found, scores = index.search_rows("history podcast", 10**9)
    assert 0 < len(found) <= len(index) and len(set(found)) == len(found)
    assert all(s > 0 for s in scores)
    order = sorted(range(len(found)), key=lambda i: (-scores[i], found[i]))
    assert order == list(range(len(found)))  # best first, ties by row
    assert found[:10] == index.search_rows("history podcast", 10)[0]
    assert [e for e, _ in index.search("history podcast", 3)] == [index.entity_ids[r] for r in found[:3]]


def test_same_seed_same_vectors(index: SemanticIndex, catalog: pa.Table) -> None:
    again = SemanticIndex.build(catalog, dims=64, seed=0)
    assert np.array_equal(again.vectors, index.vectors)
    assert np.array_equal(again.components, index.components)
    assert again.search_rows("chill jazz", 50) == index.search_rows("chill jazz", 50)


def test_ties_are_broken_by_row_at_the_cut() -> None:
    catalog = [_row(f"e{i}", "track", ["jazz", "chill"], description="a chill jazz song") for i in range(6)]
    catalog += [_row("p", "podcast", topics=["history"], description="a podcast about history")]
    catalog += [_row("q", "podcast", topics=["science"], description="a podcast about science")]
    index = SemanticIndex.build(catalog)
    rows, scores = index.search_rows("jazz", 3)
    assert rows == [0, 1, 2] and len(set(scores)) == 1
    assert index.search_rows("jazz", 8)[0] == [0, 1, 2, 3, 4, 5]  # score 0 is not a match


def test_entities_without_text_are_never_returned(mini_catalog: list[dict]) -> None:
    catalog = [*mini_catalog, _row("empty", "track"), _row("stops", "track", description="the of and")]
    index = SemanticIndex.build(catalog)
    assert index.dims < 64  # fewer distinct terms than 65
    assert not index.vectors[-2:].any()
    for q in ("chill", "history podcast", "love", "track song"):
        found, scores = index.search_rows(q, 100)
        assert found and len(index) - 1 not in found and len(index) - 2 not in found
        assert all(s > 0 for s in scores)
    assert index.search("true crime podcast", 1)[0][0] == "pod_2"


def test_tiny_catalogs_build(tmp_path: Path) -> None:
    one = SemanticIndex.build([_row("a", "podcast", topics=["history"], description="a podcast about wars")])
    assert one.dims == 1 and one.search("history", 5)[0][0] == "a"
    single_term = SemanticIndex.build([_row("a", "other", description="jazz"), _row("b", "track")])
    assert single_term.search_rows("jazz jazz", 5)[0] == [0]  # type words are added only with text
    nothing = SemanticIndex.build([_row("a", "track"), _row("b", "podcast", description="and the")])
    assert nothing.dims == 0 and nothing.search_rows("anything", 5) == ([], [])
    empty = SemanticIndex.build([])
    assert len(empty) == 0 and empty.search_rows("jazz", 5) == ([], [])
    for i, idx in enumerate((one, single_term, nothing, empty)):
        idx.save(tmp_path / str(i))
        assert SemanticIndex.open(tmp_path / str(i)).search_rows("history jazz", 5) == idx.search_rows(
            "history jazz", 5
        )


def test_concurrent_searches_agree(index: SemanticIndex) -> None:
    expected = [index.search_rows(q, 25) for q in QUERIES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(3):
            assert list(pool.map(lambda q: index.search_rows(q, 25), QUERIES)) == expected
