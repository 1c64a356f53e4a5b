"""A hand-written mini catalog for retrieval tests (expected results are worked out by hand)."""

from __future__ import annotations

import pytest


def _row(entity_id, entity_type, title, artist=None, album=None, genres=(), topics=(), popularity=0.1, description=""):
    return {
        "entity_id": entity_id, "entity_type": entity_type, "title": title, "artist": artist, "album": album,
        "genres": list(genres), "topics": list(topics), "popularity": popularity, "description": description,
    }  # fmt: skip


@pytest.fixture()
def mini_catalog() -> list[dict]:
    return [
        _row("trk_1", "track", "Love Story", "Taylor Swift", "Fearless", ["pop", "love"], popularity=0.9),
        _row("trk_2", "track", "Spearfishing", "Lake Street", "Blue Water", ["indie", "chill"], popularity=0.05),
        _row("trk_3", "track", "Crazy in Love", "Beyoncé", "Dangerously", ["r&b", "love"], popularity=0.8),
        _row("trk_4", "track", "Love Me Do", "The Beetles", "Please", ["rock", "love"], popularity=0.3),
        _row("art_1", "artist", "Taylor Swift", "Taylor Swift", None, ["pop"], popularity=0.95),
        _row("art_2", "artist", "Beyoncé", "Beyoncé", None, ["r&b", "pop"], popularity=0.85),
        _row("trk_5", "track", "夜の海", "Yuki Tanaka", "東京", ["j-pop"], popularity=0.2),
        _row("pl_1", "playlist", "Chill Vibes", "ltrr editors", None, ["lofi", "chill"], popularity=0.6,
             description="The best chill lofi tracks"),
        _row("pod_1", "podcast", "The History Hour", "northstar audio", None, [], ["history"], popularity=0.4,
             description="A podcast about history and wars"),
        _row("pod_2", "podcast", "Crime Files", "wavelength media", None, [], ["true crime"], popularity=0.7,
             description="A podcast about true crime"),
        _row("trk_6", "track", "Big Pimpin", "Jay Rapper", "Vol 3", ["hip hop"], popularity=0.5),
        _row("trk_7", "track", "Summer Rain", "Lake Street", "Blue Water", ["indie", "summer"], popularity=0.15),
    ]  # fmt: skip
