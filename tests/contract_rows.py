"""Rows of the log contracts (``ltrr.schemas``) for hand-built test logs.

Hand-worked tests write a few searches, engagements and catalog entities; every field they
do not care about gets the same neutral value here, so a test shows only what matters to it.
"""

from __future__ import annotations

import datetime as dt


def at(day: str, hour: int = 10, minute: int = 0) -> dt.datetime:
    """A UTC timestamp on ``day``."""
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=dt.UTC)


def search_row(search_id: str, day: str, query: str, shown: list[str], user_id: str = "u1") -> dict:
    """A lexical search at 10:00 on ``day`` that showed ``shown`` in that order."""
    return {
        "search_id": search_id,
        "ts": at(day),
        "user_id": user_id,
        "session_id": "x",
        "query": query,
        "locale": "en-US",
        "device": "mobile",
        "context": {},
        "plan_id": "p1",
        "plan": [{"strategy": "lexical", "budget": 10}],
        "propensity": 0.5,
        "policy_version": "t",
        "ranker_version": "t",
        "bundle_version": "t",
        "candidates": [
            {"entity_id": e, "strategy": "lexical", "rank": i + 1, "score": 1.0} for i, e in enumerate(shown)
        ],
        "shown": [{"entity_id": e, "position": i + 1, "score": 1.0} for i, e in enumerate(shown)],
        "shown_randomized": False,
    }


def track_row(entity_id: str, title: str, artist: str, added: str) -> dict:
    """A pop track by ``artist``, added to the catalog on ``added``."""
    return {
        "entity_id": entity_id,
        "entity_type": "track",
        "title": title,
        "artist_id": "art_1",
        "artist": artist,
        "album": None,
        "parent_id": None,
        "genres": ["pop"],
        "topics": [],
        "language": "en",
        "popularity": 0.1,
        "duration_ms": 200_000,
        "added_ds": dt.date.fromisoformat(added),
        "description": "",
    }
