"""Retrieval plans (which strategies to call, with what candidate budget) and the logging policy.

A *plan* is an ordered list of (strategy, budget) steps. Every plan in :data:`PLAN_MENU` has
the same total budget (:data:`TOTAL_BUDGET` = 100 candidates), so plans compete at equal cost.
The menu names strategies that only exist once the nightly pipeline has produced a bundle
(memory, personalized, related, semantic); :func:`menu_for` restricts the menu to the
strategies an engine actually has. The day-0 engine uses :data:`DAY0_MENU` (lexical and popular
only): a plan whose strategies return nothing would waste exploration, and logs of it would say
nothing about the strategy it names.

The logging policy is epsilon-greedy: with probability ``1 - epsilon`` the greedy plan for the
request, otherwise a plan drawn uniformly from the menu, so

    P(plan | x) = (1 - epsilon) * [plan == greedy(x)] + epsilon / len(menu),

and that exact probability is logged as the propensity (always in (0, 1] for the chosen plan).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ltrr.schemas import STRATEGIES

TOTAL_BUDGET = 100


@dataclass(frozen=True)
class PlanStep:
    """One strategy call of a plan."""

    strategy: str
    budget: int


@dataclass(frozen=True)
class Plan:
    """A retrieval plan: an id and its steps."""

    plan_id: str
    steps: tuple[PlanStep, ...]

    @property
    def strategies(self) -> tuple[str, ...]:
        """The strategies the plan calls, in order."""
        return tuple(s.strategy for s in self.steps)

    @property
    def total_budget(self) -> int:
        """Sum of the step budgets."""
        return sum(s.budget for s in self.steps)

    def to_dict(self) -> dict:
        """JSON-friendly form (for ``world.json`` and docs)."""
        return {"plan_id": self.plan_id, "steps": [{"strategy": s.strategy, "budget": s.budget} for s in self.steps]}


def _plan(plan_id: str, *steps: tuple[str, int]) -> Plan:
    return Plan(plan_id, tuple(PlanStep(s, b) for s, b in steps))


PLAN_MENU: tuple[Plan, ...] = (
    _plan("lex100", ("lexical", 100)),
    _plan("lex75_pop25", ("lexical", 75), ("popular", 25)),
    _plan("lex50_pop50", ("lexical", 50), ("popular", 50)),
    _plan("lex25_pop75", ("lexical", 25), ("popular", 75)),
    _plan("mem50_lex50", ("memory", 50), ("lexical", 50)),
    _plan("mem50_lex25_pop25", ("memory", 50), ("lexical", 25), ("popular", 25)),
    _plan("mem25_pers25_lex50", ("memory", 25), ("personalized", 25), ("lexical", 50)),
    _plan("pers50_lex50", ("personalized", 50), ("lexical", 50)),
    _plan("pers50_lex25_pop25", ("personalized", 50), ("lexical", 25), ("popular", 25)),
    _plan("sem50_lex50", ("semantic", 50), ("lexical", 50)),
    _plan("sem25_pers25_lex50", ("semantic", 25), ("personalized", 25), ("lexical", 50)),
    _plan("rel25_mem25_lex50", ("related", 25), ("memory", 25), ("lexical", 50)),
    _plan(
        "mem30_pers20_rel10_sem10_lex30",
        ("memory", 30),
        ("personalized", 20),
        ("related", 10),
        ("semantic", 10),
        ("lexical", 30),
    ),
)
"""Every retrieval plan, each with a total budget of ``TOTAL_BUDGET`` candidates."""

DAY0_STRATEGIES: frozenset[str] = frozenset({"lexical", "popular"})
"""Strategies that need no trained artifact."""


def menu_for(strategies: Sequence[str] | frozenset[str]) -> tuple[Plan, ...]:
    """The plans of :data:`PLAN_MENU` whose every strategy is available.

    Args:
        strategies: the strategies the engine can call.

    Returns:
        The restricted menu, in menu order.
    """
    available = set(strategies)
    return tuple(p for p in PLAN_MENU if set(p.strategies) <= available)


DAY0_MENU: tuple[Plan, ...] = menu_for(DAY0_STRATEGIES)
"""The day-0 menu: lex100, lex75_pop25, lex50_pop50, lex25_pop75."""


def day0_greedy(query: str, context: Mapping[str, str] | None = None) -> str:
    """The day-0 greedy plan, by query length: the fewer words, the more popular candidates.

    0 words -> ``lex25_pop75``, 1 -> ``lex50_pop50``, 2 -> ``lex75_pop25``, 3+ -> ``lex100``.
    """
    n_words = len(query.split())
    return ("lex25_pop75", "lex50_pop50", "lex75_pop25", "lex100")[min(n_words, 3)]


class EpsilonGreedyPolicy:
    """Epsilon-greedy plan selection over a menu, logging exact propensities.

    Args:
        menu: the plans to choose from.
        greedy: maps (query, context) to the greedy plan id (must be in the menu).
        epsilon: share of uniformly drawn plans, in [0, 1].
        version: the policy version logged with each search.
    """

    def __init__(
        self,
        menu: Sequence[Plan],
        greedy: Callable[[str, Mapping[str, str]], str],
        epsilon: float,
        version: str = "day0",
    ) -> None:
        if not menu:
            raise ValueError("the plan menu is empty")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        unknown = {s for p in menu for s in p.strategies} - set(STRATEGIES)
        if unknown:
            raise ValueError(f"unknown strategies in the menu: {sorted(unknown)}")
        self.menu = tuple(menu)
        self.greedy = greedy
        self.epsilon = float(epsilon)
        self.version = version
        self._index = {p.plan_id: i for i, p in enumerate(self.menu)}

    def probabilities(self, query: str, context: Mapping[str, str]) -> np.ndarray:
        """P(plan | query, context) for every plan of the menu, in menu order."""
        probs = np.full(len(self.menu), self.epsilon / len(self.menu))
        greedy_id = self.greedy(query, context)
        if greedy_id not in self._index:
            raise ValueError(f"greedy plan {greedy_id!r} is not in the menu")
        probs[self._index[greedy_id]] += 1.0 - self.epsilon
        return probs

    def plan_probabilities(self, query: str, context: Mapping[str, str], user_id: str = "") -> np.ndarray:
        """:meth:`probabilities` with the plan-chooser signature (``user_id`` unused)."""
        return self.probabilities(query, context)

    def choose(
        self, query: str, context: Mapping[str, str], rng: np.random.Generator, user_id: str = ""
    ) -> tuple[Plan, float]:
        """Draw a plan (one uniform draw from ``rng``) and return it with its propensity.

        ``user_id`` is accepted for the plan-chooser interface and not used by this policy.
        """
        probs = self.probabilities(query, context)
        u = rng.random()
        idx = int(np.searchsorted(np.cumsum(probs), u, side="right"))
        idx = min(idx, len(probs) - 1)
        while probs[idx] <= 0.0:  # float edge: never return a zero-probability plan
            idx -= 1
        return self.menu[idx], float(probs[idx])

    def describe(self) -> dict:
        """JSON-friendly description (for ``world.json``)."""
        return {
            "kind": "epsilon-greedy",
            "epsilon": self.epsilon,
            "version": self.version,
            "menu": [p.to_dict() for p in self.menu],
        }
