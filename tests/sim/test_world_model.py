"""The world itself: heavy-tailed popularity, intents and query classes, typos, truth."""

from __future__ import annotations

import collections

import numpy as np

from ltrr.schemas import INTENT_TYPES
from tests.sim.conftest import World


def _top_share(values: list[float], n_items: int, top: float = 0.01) -> float:
    ordered = sorted(values, reverse=True)
    k = max(1, int(n_items * top))
    return sum(ordered[:k]) / sum(ordered)


def test_catalog_popularity_is_heavy_tailed(small_world: World) -> None:
    """Artist demand is Pareto with tail index 1.4 (tracks and albums multiply log-normal factors
    on top, which only fattens the tail). For Pareto(1.4) the top 10% hold
    0.1 ** (1 - 1/1.4) = 52% of the mass and mean/median = (1.4/0.4) / 2 ** (1/1.4) = 2.1; a
    uniform [0, 1] popularity would give 19% and 1.0. The public popularity is clipped at 1
    for the top 0.5%, which trims the very top a little, hence the margins."""
    catalog = small_world.rows("raw", "catalog", small_world.days[-1])
    pop = [r["popularity"] for r in catalog]
    assert all(0.0 <= p <= 1.0 for p in pop)
    assert _top_share(pop, len(pop), top=0.10) > 0.40
    assert np.mean(pop) > 1.8 * np.median(pop)


def test_engagements_concentrate_on_few_entities(small_world: World, engagements: list[dict]) -> None:
    """With demand that heavy-tailed, the top 1% of the catalog draws well over 10x its
    uniform share (1%) of engagements."""
    n_entities = small_world.read("raw", "catalog", small_world.days[-1]).num_rows
    counts = collections.Counter(e["entity_id"] for e in engagements)
    assert _top_share(list(counts.values()), n_entities) > 0.10


def test_every_intent_type_occurs_in_roughly_its_share(truth: dict[str, dict]) -> None:
    counts = collections.Counter(t["intent_type"] for t in truth.values())
    n = len(truth)
    expected = {"direct": 0.55, "broad": 0.25, "topic": 0.10, "ambiguous": 0.10}
    assert set(counts) == set(INTENT_TYPES)
    for intent, share in expected.items():
        assert abs(counts[intent] / n - share) < 4 * (share * (1 - share) / n) ** 0.5, intent


def test_query_classes_are_head_torso_tail(truth: dict[str, dict]) -> None:
    """Head queries are few and frequent, tail queries many and rare."""
    searches_per_class = collections.Counter(t["query_class"] for t in truth.values())
    distinct = collections.defaultdict(set)
    for t in truth.values():
        distinct[t["query_class"]].add(t["canonical_query"])
    assert set(searches_per_class) == {"head", "torso", "tail"}
    per_query = {c: searches_per_class[c] / len(distinct[c]) for c in distinct}
    assert per_query["head"] > 2 * per_query["torso"]
    assert per_query["torso"] > 2 * per_query["tail"]
    assert len(distinct["head"]) < len(distinct["tail"])
    # On a given day a canonical query has one class (expected frequencies move day to day).
    cls = {}
    for sid, t in truth.items():
        key = (sid[1:9], t["canonical_query"])
        assert cls.setdefault(key, t["query_class"]) == t["query_class"]


def test_head_direct_queries_want_popular_entities(small_world: World, truth: dict[str, dict]) -> None:
    catalog = small_world.rows("raw", "catalog", small_world.days[-1])
    pop = {r["entity_id"]: r["popularity"] for r in catalog}
    by_class = collections.defaultdict(list)
    for t in truth.values():
        if t["intent_type"] == "direct":
            by_class[t["query_class"]].append(pop[t["intended_entity_id"]])
    assert np.median(by_class["head"]) > 4 * np.median(by_class["tail"])


def test_surface_forms_vary_and_typos_are_flagged(searches: list[dict], truth: dict[str, dict]) -> None:
    typos = [s for s in searches if truth[s["search_id"]]["has_typo"]]
    assert 0.03 < len(typos) / len(searches) < 0.2
    for s in typos:
        assert s["query"].lower() != truth[s["search_id"]]["canonical_query"]
    extra = sum(
        1
        for s in searches
        if truth[s["search_id"]]["intent_type"] == "direct"
        and len(s["query"].split()) > len(truth[s["search_id"]]["canonical_query"].split())
    )
    assert extra > 0  # "spearfishing lyrics"-style extra words


def test_typo_queries_still_retrieve_the_intended_entity_lexically(
    searches: list[dict], truth: dict[str, dict]
) -> None:
    """A typo is one edit in one word of 4+ letters, and lexical search expands unknown words
    by edit distance, so the intended entity is usually still among the lexical candidates."""
    hits, total = 0, 0
    for s in searches:
        t = truth[s["search_id"]]
        if t["intent_type"] == "direct" and t["has_typo"]:
            total += 1
            lexical = {c["entity_id"] for c in s["candidates"] if c["strategy"] == "lexical"}
            hits += t["intended_entity_id"] in lexical
    assert total >= 30
    assert hits / total > 0.7


def test_catalog_has_accented_and_non_latin_names(small_world: World) -> None:
    catalog = small_world.rows("raw", "catalog", small_world.days[-1])
    texts = [r["title"] for r in catalog] + [r["artist"] or "" for r in catalog]
    assert any(any("\u00c0" <= ch <= "\u024f" for ch in t) for t in texts)  # accented Latin
    assert any(any(ord(ch) > 0x2FF for ch in t) for t in texts)  # another script
    types = collections.Counter(r["entity_type"] for r in catalog)
    assert set(types) == {"track", "artist", "album", "playlist", "podcast", "episode"}
    for r in catalog:
        if r["entity_type"] in ("podcast", "episode"):
            assert r["topics"]
        if r["entity_type"] == "track":
            assert r["album"] and r["artist_id"] and r["duration_ms"] > 0


def test_truth_relevance_covers_every_candidate(searches: list[dict], truth: dict[str, dict]) -> None:
    for s in searches:
        t = truth[s["search_id"]]
        rel = {r["entity_id"]: r["relevance"] for r in t["relevance"]}
        assert set(rel) == {c["entity_id"] for c in s["candidates"]}
        assert len(rel) == len(t["relevance"])
        assert all(0.0 <= v <= 1.0 for v in rel.values())
        if t["intended_entity_id"] in rel:
            assert rel[t["intended_entity_id"]] == 1.0


def test_direct_searches_mostly_find_their_entity(searches: list[dict], truth: dict[str, dict]) -> None:
    """Lexical search on a title or name retrieves a direct query's entity nearly always; broad
    queries are much harder for day-0 retrieval (the point of learning to retrieve)."""
    found = collections.defaultdict(list)
    for s in searches:
        t = truth[s["search_id"]]
        found[t["intent_type"]].append(t["intended_entity_id"] in {c["entity_id"] for c in s["candidates"]})
    assert np.mean(found["direct"]) > 0.9
    assert np.mean(found["broad"]) < np.mean(found["direct"])
