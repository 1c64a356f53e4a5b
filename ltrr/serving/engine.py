"""The serving seam: what a search engine returns, and how the simulator gets one per day.

A :class:`SearchEngine` answers one request with a :class:`SearchOutcome`: the ranked results
plus everything that must be logged (the plan and its propensity, every candidate with its
provenance, what was shown and whether the order was randomized, the versions). The day-0
engine (``ltrr.serving.day0``) implements it today; a bundle-backed ``Searcher`` implements it
later, and the simulator drives either through an :data:`EngineFactory`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable

import numpy as np
import pyarrow as pa

from ltrr.retrieval.plans import Plan, PlanStep

VERSION_KEYS = ("policy_version", "ranker_version", "bundle_version")


class Candidate(NamedTuple):
    """One retrieved candidate with provenance (an entity found by two strategies appears twice)."""

    entity_id: str
    strategy: str
    rank: int
    """1-based rank within the strategy's results."""
    score: float
    """The strategy's own score."""


class CandidateList(Sequence[Candidate]):
    """Candidates stored as columns (cheap to build, slice and log); reads as ``Candidate`` items.

    Args:
        entity_ids, strategies, ranks, scores: one entry per candidate.
    """

    __slots__ = ("entity_ids", "ranks", "scores", "strategies")

    def __init__(self, entity_ids: list[str], strategies: list[str], ranks: list[int], scores: list[float]) -> None:
        if not len(entity_ids) == len(strategies) == len(ranks) == len(scores):
            raise ValueError("candidate columns must have the same length")
        self.entity_ids, self.strategies, self.ranks, self.scores = entity_ids, strategies, ranks, scores

    def __len__(self) -> int:
        return len(self.entity_ids)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return CandidateList(self.entity_ids[i], self.strategies[i], self.ranks[i], self.scores[i])
        return Candidate(self.entity_ids[i], self.strategies[i], self.ranks[i], self.scores[i])

    def __iter__(self):
        return map(Candidate._make, zip(self.entity_ids, self.strategies, self.ranks, self.scores, strict=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    def __repr__(self) -> str:
        return f"CandidateList({list(self)!r})"

    @classmethod
    def concat(cls, parts: Sequence[CandidateList]) -> CandidateList:
        """Concatenate several candidate lists (e.g. one per plan step)."""
        ids: list[str] = []
        strategies: list[str] = []
        ranks: list[int] = []
        scores: list[float] = []
        for p in parts:
            ids += p.entity_ids
            strategies += p.strategies
            ranks += p.ranks
            scores += p.scores
        return cls(ids, strategies, ranks, scores)


class ShownItem(NamedTuple):
    """One result shown to the customer."""

    entity_id: str
    position: int
    """1-based position on the result list."""
    score: float
    """The ranker's score."""


@dataclass(frozen=True)
class SearchOutcome:
    """What an engine did for one request (everything the ``searches`` log needs).

    Attributes:
        plan_id: id of the chosen retrieval plan.
        plan: the plan's (strategy, budget) steps.
        propensity: probability of the chosen plan under the logging policy, in (0, 1].
        candidates: every candidate with provenance (any sequence of ``Candidate``; a
            :class:`CandidateList` is logged faster).
        shown: the shown results, positions 1..len(shown); each is among the candidates.
        shown_randomized: whether ``shown`` is a uniformly random permutation of the top k.
        versions: ``policy_version``, ``ranker_version`` and ``bundle_version``.
    """

    plan_id: str
    plan: tuple[PlanStep, ...]
    propensity: float
    candidates: Sequence[Candidate]
    shown: Sequence[ShownItem]
    shown_randomized: bool
    versions: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class SearchEngine(Protocol):
    """Anything that can serve a search request and report what it did."""

    def search(
        self, query: str, user_id: str, context: Mapping[str, str], k: int, rng: np.random.Generator
    ) -> SearchOutcome:
        """Serve one request.

        Args:
            query: the raw query (may be empty).
            user_id: the customer.
            context: request context (locale, device, local hour, ...), string to string.
            k: number of results to show.
            rng: the caller's random generator; all randomness (exploration, randomized
                order) must come from it so runs are reproducible.

        Returns:
            The outcome, with exact propensity and provenance.
        """
        ...


@runtime_checkable
class PlanChooser(Protocol):
    """Chooses the retrieval plan of a request and reports its exact probability."""

    menu: tuple[Plan, ...]
    version: str

    def choose(
        self, query: str, context: Mapping[str, str], rng: np.random.Generator, user_id: str = ""
    ) -> tuple[Plan, float]:
        """Draw a plan for the request (randomness from ``rng`` only) and return it with its propensity."""
        ...


EngineFactory = Callable[[pa.Table, dt.date], SearchEngine]
"""Builds the engine that serves a day, from that day's catalog snapshot (Arrow table) and the day."""


def present(
    ranked: Sequence[tuple[str, float]], k: int, randomized_share: float, rng: np.random.Generator
) -> tuple[list[ShownItem], bool]:
    """Cut a ranked list to the top ``k`` and, for a ``randomized_share`` of requests, shuffle it.

    Exactly one uniform draw decides randomization (plus a permutation when it happens), so
    the caller's random stream stays aligned whatever the share.

    Args:
        ranked: (entity_id, ranker score), best first.
        k: number of results to show.
        randomized_share: probability of showing a uniformly random permutation of the top k.
        rng: random generator.

    Returns:
        (shown items with 1-based positions, whether the order was randomized).
    """
    top = list(ranked[:k])
    randomized = bool(rng.random() < randomized_share)
    if randomized and len(top) > 1:
        top = [top[i] for i in rng.permutation(len(top))]
    return [ShownItem(e, p, s) for p, (e, s) in enumerate(top, start=1)], randomized
