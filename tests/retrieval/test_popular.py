"""Popular retrieval: most popular entities of the tag/type a query names."""

from __future__ import annotations

import pytest

from ltrr.retrieval.popular import PopularIndex, fold


@pytest.fixture()
def popular(mini_catalog: list[dict]) -> PopularIndex:
    return PopularIndex.build(mini_catalog)


def ids(results: list[tuple[str, float]]) -> list[str]:
    return [e for e, _ in results]


def test_fold() -> None:
    assert fold("Beyoncé — R&B!") == "beyonce r b"
    assert fold("夜の海") == "夜の海"


def test_no_match_gives_the_global_top_list(popular: PopularIndex) -> None:
    # By popularity: art_1 0.95, trk_1 0.9, art_2 0.85.
    assert ids(popular.search("", 3)) == ["art_1", "trk_1", "art_2"]
    assert ids(popular.search("something else", 3)) == ["art_1", "trk_1", "art_2"]


def test_tag_match_comes_first(popular: PopularIndex) -> None:
    # Tagged "love": trk_1 (0.9), trk_3 (0.8), trk_4 (0.3); then the global list fills up.
    assert ids(popular.search("love", 4)) == ["trk_1", "trk_3", "trk_4", "art_1"]


def test_multi_word_tags_and_types(popular: PopularIndex) -> None:
    assert ids(popular.search("hip hop", 1)) == ["trk_6"]
    assert ids(popular.search("true crime", 1)) == ["pod_2"]
    # "podcast" names a type: podcasts by popularity, pod_2 (0.7) before pod_1 (0.4).
    assert ids(popular.search("podcasts", 2)) == ["pod_2", "pod_1"]
    # Tag and type together: pop-tagged artists only, then other artists, then global.
    assert ids(popular.search("pop artist", 2)) == ["art_1", "art_2"]


def test_scores_fall_with_rank_and_budget_is_respected(popular: PopularIndex) -> None:
    results = popular.search("chill", 3)
    assert len(results) == 3
    # Tag matches score 2 + popularity: pl_1 2.6, trk_2 2.05; then the global fill art_1 0.95.
    assert results == [("pl_1", 2.6), ("trk_2", 2.05), ("art_1", 0.95)]
    assert [s for _, s in popular.search("podcast", 3)] == [1.7, 1.4, 0.95]
    assert len({e for e, _ in popular.search("", 50)}) == 12  # the whole catalog, no duplicates
