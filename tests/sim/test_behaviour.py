"""Customer behaviour: position bias, engagement consistency, plays follow relevance."""

from __future__ import annotations

import collections
import datetime as dt

import numpy as np

from ltrr.schemas import ACTIONS
from ltrr.sim.behaviour import ClickModel


def _ctr_by_position(searches: list[dict], engagements: list[dict]) -> dict[int, float]:
    randomized = {s["search_id"] for s in searches if s["shown_randomized"]}
    shown = collections.Counter(x["position"] for s in searches if s["shown_randomized"] for x in s["shown"])
    clicks = collections.Counter(
        e["position"] for e in engagements if e["action"] == "click" and e["search_id"] in randomized
    )
    return {p: clicks[p] / shown[p] for p in range(1, 11)}


def test_position_bias_shows_on_randomized_lists(searches: list[dict], engagements: list[dict]) -> None:
    """On a random permutation every position gets the same mix of results, so CTR(p) is
    theta_p x mean attractiveness: with theta_p = 1/p, CTR(5)/CTR(1) = 0.2, CTR(10)/CTR(1) = 0.1."""
    ctr = _ctr_by_position(searches, engagements)
    assert ctr[1] > 2.5 * ctr[5]
    assert ctr[5] > 1.3 * ctr[10]
    assert 0.1 < ctr[5] / ctr[1] < 0.35
    assert 0.04 < ctr[10] / ctr[1] < 0.2


def test_examination_curve_is_one_over_position() -> None:
    model = ClickModel()
    assert model.examination(np.array([1, 2, 5, 10])).tolist() == [1.0, 0.5, 0.2, 0.1]
    # Attractiveness grows with relevance and stays a probability.
    alpha = model.attractiveness(np.array([0.0, 0.5, 1.0]), np.array([1.0, 1.0, 1.0]))
    assert alpha[0] == model.attract_min and alpha[2] == model.attract_max
    assert alpha[0] < alpha[1] < alpha[2] <= 1.0


def test_engagements_point_at_shown_positions(searches: list[dict], engagements: list[dict]) -> None:
    shown = {(s["search_id"], x["position"]): x["entity_id"] for s in searches for x in s["shown"]}
    assert engagements
    for e in engagements:
        assert shown[(e["search_id"], e["position"])] == e["entity_id"]


def test_engagements_follow_their_search_on_the_same_day(searches: list[dict], engagements: list[dict]) -> None:
    by_id = {s["search_id"]: s for s in searches}
    ids = [e["engagement_id"] for e in engagements]
    assert len(set(ids)) == len(ids)
    for e in engagements:
        s = by_id[e["search_id"]]
        assert e["ts"] > s["ts"]
        assert e["ts"].date() == s["ts"].date()
        assert e["user_id"] == s["user_id"]
        assert e["action"] in ACTIONS


def test_actions_and_amounts_are_consistent(engagements: list[dict]) -> None:
    by_search_entity = collections.defaultdict(list)
    for e in engagements:
        by_search_entity[(e["search_id"], e["entity_id"])].append(e)
        if e["action"] == "play":
            assert e["amount_ms"] >= 30_000
        elif e["action"] == "skip":
            assert 2_000 <= e["amount_ms"] < 25_000
        else:
            assert e["amount_ms"] is None
    for events in by_search_entity.values():
        actions = [e["action"] for e in events]
        # A click comes first, then exactly one play or skip; likes/adds only after a play.
        assert actions[0] == "click"
        assert actions.count("click") == 1
        assert actions.count("play") + actions.count("skip") == 1
        if "like" in actions or "add" in actions:
            assert "play" in actions
    counts = collections.Counter(e["action"] for e in engagements)
    assert all(counts[a] > 0 for a in ACTIONS)


def test_relevant_results_are_played_more_and_longer(engagements: list[dict], truth: dict[str, dict]) -> None:
    rel = {(sid, r["entity_id"]): r["relevance"] for sid, t in truth.items() for r in t["relevance"]}
    outcome = {"high": [], "low": []}
    for e in engagements:
        if e["action"] in ("play", "skip"):
            r = rel[(e["search_id"], e["entity_id"])]
            if r >= 0.8 or r < 0.3:
                outcome["high" if r >= 0.8 else "low"].append(e["action"] == "play")
    # P(play | click) = 0.15 + 0.8 rel: >= 0.79 for rel >= 0.8, < 0.39 for rel < 0.3.
    assert np.mean(outcome["high"]) > 0.7
    assert np.mean(outcome["low"]) < 0.5


def test_searches_follow_a_daily_rhythm(searches: list[dict]) -> None:
    """Sessions start from a mixture peaking at 20:00 local time (weight 0.45, sd 2.5 h) with a
    small late-night component at 00:30-01:00; 03:00-06:00 local is the quiet stretch."""
    local = collections.Counter(int(dict(s["context"])["local_hour"]) for s in searches)
    evening = sum(local[h] for h in (19, 20, 21, 22))
    early = sum(local[h] for h in (3, 4, 5, 6))
    assert evening > 4 * early
    assert all(s["ts"].time() < dt.time(23, 45) for s in searches)
    weekdays = {dict(s["context"])["weekday"] for s in searches}
    assert weekdays == {"mon", "tue"}  # 2026-01-05 is a Monday
