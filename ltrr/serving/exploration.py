"""Exploration over every plan a Searcher can run, on top of whatever chooses plans.

A learned policy only knows the plans that were logged in its training window, and the day-0
logging policy only lexical/popular plans. Plans the bundle can now run (memory, personalized,
related, semantic) would never be logged, so tomorrow's policy could never learn them. The
:class:`MenuExploration` chooser mixes the base chooser with a uniform draw over the whole
runnable menu:

    P(plan | x) = (1 - eta) * P_base(plan | x) + eta / |menu|,

with ``menu`` = the base chooser's plans followed by every other runnable plan. It draws with
one uniform number and returns that exact probability, so the propensity logged is the true
probability of the logged plan, and every runnable plan keeps at least ``eta / |menu|`` support.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import numpy as np

from ltrr.retrieval.plans import Plan


class ProbabilisticChooser(Protocol):
    """A plan chooser that can report its whole distribution for a request."""

    menu: tuple[Plan, ...]
    version: str

    def plan_probabilities(self, query: str, context: Mapping[str, str], user_id: str = "") -> np.ndarray:
        """P(plan | request) for every plan of ``menu``, in menu order."""
        ...


class MenuExploration:
    """Mix a base chooser with uniform exploration over a larger menu (a ``PlanChooser``).

    Args:
        base: the chooser of the bundle (learned policy or the day-0 rule).
        runnable: every plan the engine can run (plans of ``base`` not in it are kept too).
        eta: share of uniform draws, in [0, 1].
    """

    def __init__(self, base: ProbabilisticChooser, runnable: Sequence[Plan], eta: float) -> None:
        if not 0.0 <= eta <= 1.0:
            raise ValueError(f"exploration must be in [0, 1], got {eta}")
        seen = {p.plan_id for p in base.menu}
        self.base = base
        self.eta = float(eta)
        self.menu: tuple[Plan, ...] = tuple(base.menu) + tuple(p for p in runnable if p.plan_id not in seen)
        if not self.menu:
            raise ValueError("the plan menu is empty")
        self.version = str(base.version)
        self._n_base = len(base.menu)

    def probabilities(self, query: str, context: Mapping[str, str], user_id: str = "") -> np.ndarray:
        """P(plan | request) for every plan of :attr:`menu`, in menu order (sums to 1)."""
        probs = np.full(len(self.menu), self.eta / len(self.menu))
        base = np.asarray(self.base.plan_probabilities(query, context, user_id), dtype=np.float64)
        probs[: self._n_base] += (1.0 - self.eta) * base
        return probs

    def choose(
        self, query: str, context: Mapping[str, str], rng: np.random.Generator, user_id: str = ""
    ) -> tuple[Plan, float]:
        """Draw a plan (one uniform draw from ``rng``) and return it with its exact propensity."""
        probs = self.probabilities(query, context, user_id)
        idx = int(np.searchsorted(np.cumsum(probs), rng.random(), side="right"))
        idx = min(idx, len(probs) - 1)
        while probs[idx] <= 0.0:  # float edge: never return a zero-probability plan
            idx -= 1
        return self.menu[idx], float(probs[idx])
