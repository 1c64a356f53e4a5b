"""Lexical retrieval on tantivy: BM25 with field weights, accent folding and typo tolerance."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from ltrr.retrieval.lexical import LexicalIndex


def ids(results: list[tuple[str, float]]) -> list[str]:
    return [e for e, _ in results]


@pytest.fixture()
def index(mini_catalog: list[dict]) -> LexicalIndex:
    return LexicalIndex.build(mini_catalog)


def test_exact_title_comes_first(index: LexicalIndex) -> None:
    assert ids(index.search("spearfishing", 5))[0] == "trk_2"
    assert ids(index.search("crazy in love", 5))[0] == "trk_3"


def test_extra_words_do_not_hide_the_title(index: LexicalIndex) -> None:
    # "lyrics" matches nothing; the title still matches.
    assert ids(index.search("spearfishing lyrics", 5))[0] == "trk_2"


def test_typo_in_a_name_still_finds_the_entity(index: LexicalIndex) -> None:
    """ "tayler" is one edit from "taylor" and occurs in no title/artist, so it is expanded
    fuzzily; with "love" matching the title, Love Story (by Taylor Swift) ranks first."""
    assert ids(index.search("tayler love", 5))[0] == "trk_1"
    assert "art_1" in ids(index.search("tayler swfit", 5))[:2]
    assert ids(index.search("spearfishnig", 5))[0] == "trk_2"  # transposition = one edit


def test_title_outweighs_description(index: LexicalIndex) -> None:
    # "chill" is in the playlist's title and tags, in trk_2's tags only.
    results = ids(index.search("chill", 5))
    assert results.index("pl_1") < results.index("trk_2")


def test_accents_fold(index: LexicalIndex) -> None:
    assert ids(index.search("beyonce", 5))[0] in {"art_2", "trk_3"}
    assert set(ids(index.search("beyonce", 5))[:2]) == {"art_2", "trk_3"}


def test_other_scripts_match_whole_words(index: LexicalIndex) -> None:
    assert ids(index.search("夜の海", 3)) == ["trk_5"]


def test_topics_and_descriptions_are_searchable(index: LexicalIndex) -> None:
    assert ids(index.search("true crime podcast", 3))[0] == "pod_2"
    assert "pod_1" in ids(index.search("history", 3))


def test_budget_empty_and_unknown_queries(index: LexicalIndex) -> None:
    assert len(index.search("love", 2)) == 2
    assert index.search("", 10) == []
    assert index.search("!!!", 10) == []
    assert index.search("zzzzqqqq", 10) == []
    assert index.search("love", 0) == []


def test_scores_are_sorted_and_deterministic(index: LexicalIndex, mini_catalog: list[dict]) -> None:
    first = index.search("love", 10)
    assert [s for _, s in first] == sorted((s for _, s in first), reverse=True)
    assert LexicalIndex.build(mini_catalog).search("love", 10) == first


def test_arrow_table_and_rows_build_the_same_index(mini_catalog: list[dict]) -> None:
    table = pa.Table.from_pylist(mini_catalog)
    assert LexicalIndex.build(table).search("love summer", 10) == LexicalIndex.build(mini_catalog).search(
        "love summer", 10
    )


def test_saved_index_reopens_with_the_same_results(mini_catalog: list[dict], tmp_path: Path) -> None:
    built = LexicalIndex.build(mini_catalog, path=tmp_path / "lexical")
    reopened = LexicalIndex.open(tmp_path / "lexical")
    for query in ("tayler love", "beyonce", "chill", "夜の海"):
        assert reopened.search(query, 5) == built.search(query, 5)
    with pytest.raises(FileExistsError):
        LexicalIndex.build(mini_catalog, path=tmp_path / "lexical")
