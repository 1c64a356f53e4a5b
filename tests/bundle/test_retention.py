"""Retention plan, worked by hand on small histories."""

from __future__ import annotations

from ltrr.bundle.store import StoreState, retention_plan

V = [f"2026-01-0{i}-{'0' * 11}{i}" for i in range(1, 8)]


def _state(published: list[str], champions: list[str]) -> StoreState:
    return StoreState(published=[{"version": v, "ds": v[:10]} for v in published], champions=champions)


def test_keeps_the_last_n_published() -> None:
    state = _state(V[:5], champions=[V[4]])
    assert retention_plan(state, V[:5], keep=3) == [V[0], V[1]]


def test_never_deletes_the_champion_or_the_rollback_target() -> None:
    state = _state(V[:6], champions=[V[0], V[1]])
    # keep 2 -> V4, V5 by recency; V1 (champion) and V0 (rollback target) stay too.
    assert retention_plan(state, V[:6], keep=2) == [V[2], V[3]]


def test_versions_unknown_to_the_state_count_as_oldest() -> None:
    state = _state([V[3], V[4]], champions=[V[4]])
    assert retention_plan(state, [V[0], V[3], V[4]], keep=2) == [V[0]]


def test_versions_already_gone_are_ignored() -> None:
    state = _state(V[:4], champions=[V[3]])
    assert retention_plan(state, [V[2], V[3]], keep=1) == [V[2]]


def test_republishing_moves_a_version_to_the_end() -> None:
    state = _state(V[:3], champions=[])
    state.record_publish(V[0], V[0][:10], "1", "run")
    assert [e["version"] for e in state.published] == [V[1], V[2], V[0]]
    assert retention_plan(state, V[:3], keep=2) == [V[1]]
