"""A synthetic logged-bandit generator over retrieval plans, with exactly known policy values.

Used by the tests and benchmarks of :mod:`ltrr.bandit`: its truth is computed from the
generator's definition, never from the estimators under test.

Contexts are drawn from a finite distribution (500 cells), so the true value of any policy,
V(π) = Σ_cells P(x) Σ_a π(a|x) q(x, a), is an exact finite sum:

- ``n_words`` ∈ {0, 1, 2, 3, 4} (query length) with probabilities (.10, .30, .30, .20, .10),
- ``device`` ∈ ``DEVICES`` (categorical) with probabilities (.45, .25, .15, .10, .05),
- ``history`` ∈ {0, .25, .5, .75, 1} (how much the user has listened), uniform,
- ``head`` ∈ {0, 1/3, 2/3, 1} (how frequent the query is), with probabilities (.4, .3, .2, .1).

Reward model of the world: each strategy s can find the wanted entity with probability
``e_s(x)`` at a budget of 100 candidates, and with ``e_s(x) (1 − exp(−b/κ_s)) / (1 − exp(−100/κ_s))``
at budget b (diminishing returns); strategies find it independently, so a plan's hit
probability is ``1 − Π_s (1 − p_s)``. The reward is the hit (0/1) minus ``cost_per_extra_strategy``
per strategy beyond the first (latency), so q(x, plan) = P(hit) − cost. Lexical wins on long
queries, memory on head queries, personalized on short queries of users with history, popular on
empty queries (and on TV and car), semantic on long tail queries.

Logging policy: epsilon-greedy over the menu (as :class:`ltrr.retrieval.plans.EpsilonGreedyPolicy`)
around the day-0 rule (:func:`ltrr.retrieval.plans.day0_greedy`: the fewer words, the more popular
candidates), so P(a|x) = (1 − ε)·1[a = greedy(x)] + ε/|menu|. Target policy (fixed, for estimator
tests): a hand rule that uses memory for head queries, personalization for users with history and
semantic for long queries, mixed with the uniform distribution (``target_epsilon``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import pandas as pd

from ltrr.bandit.plan_features import PLAN_FEATURE_NAMES, ContextFeature, ContextSpec, plan_feature_matrix
from ltrr.retrieval.plans import PLAN_MENU, Plan, day0_greedy
from ltrr.schemas import DEVICES, STRATEGIES

N_WORDS = (0, 1, 2, 3, 4)
N_WORDS_P = (0.10, 0.30, 0.30, 0.20, 0.10)
DEVICE_P = (0.45, 0.25, 0.15, 0.10, 0.05)
HISTORY = (0.0, 0.25, 0.5, 0.75, 1.0)
HEAD = (0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0)
HEAD_P = (0.4, 0.3, 0.2, 0.1)
KAPPA = {"lexical": 30.0, "memory": 10.0, "personalized": 25.0, "related": 25.0, "popular": 20.0, "semantic": 25.0}
"""Budget scale of each strategy's diminishing returns (candidates)."""

CONTEXT_COLUMNS: tuple[str, ...] = ("n_words", "device", "history", "head")


def synthetic_context_spec() -> ContextSpec:
    """The context spec of the synthetic data (categories of ``device`` already set)."""
    return ContextSpec(
        (
            ContextFeature("n_words", "numeric", 1.0),
            ContextFeature("device", "categorical", "mobile", tuple(DEVICES)),
            ContextFeature("history", "numeric", 0.0),
            ContextFeature("head", "numeric", 0.0),
        )
    )


def _effectiveness(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """e_s(x): probability that strategy s finds the wanted entity at a budget of 100."""
    w = frame["n_words"].to_numpy(dtype=np.float64)
    hist = frame["history"].to_numpy(dtype=np.float64)
    head = frame["head"].to_numpy(dtype=np.float64)
    tv_car = frame["device"].isin(["tv", "car"]).to_numpy()
    e = {
        "lexical": 0.15 + 0.2 * np.minimum(w, 3.0),
        "memory": 0.1 + 0.7 * head,
        "personalized": 0.05 + 0.5 * hist * (w <= 1) + 0.15 * hist,
        "related": 0.1 + 0.15 * hist,
        "popular": 0.05 + 0.45 * (w == 0) + 0.15 * (w == 1) + 0.1 * tv_car,
        "semantic": 0.05 + 0.4 * (w >= 3) * (1.0 - head),
    }
    return {s: np.clip(v, 0.0, 0.95) for s, v in e.items()}


@dataclass(frozen=True)
class SyntheticBandit:
    """The generator: a menu, a world, an epsilon-greedy logging policy and a fixed target policy.

    Attributes:
        menu: the plans (default: the full :data:`~ltrr.retrieval.plans.PLAN_MENU`).
        epsilon: the logging policy's uniform share.
        target_epsilon: the target policy's uniform share.
        cost_per_extra_strategy: reward cost of each strategy beyond the first.
    """

    menu: tuple[Plan, ...] = field(default=PLAN_MENU)
    epsilon: float = 0.2
    target_epsilon: float = 0.2
    cost_per_extra_strategy: float = 0.02

    @property
    def spec(self) -> ContextSpec:
        """The context spec of the generated frames."""
        return synthetic_context_spec()

    @property
    def plan_ids(self) -> tuple[str, ...]:
        """Plan ids, in menu order."""
        return tuple(p.plan_id for p in self.menu)

    @property
    def reward_range(self) -> tuple[float, float]:
        """Bounds of any reward: (−cost of the largest plan, 1)."""
        max_extra = max(len(set(p.strategies)) - 1 for p in self.menu)
        return (-self.cost_per_extra_strategy * max_extra, 1.0)

    def cells(self) -> pd.DataFrame:
        """Every context cell with its probability (column ``prob``), 500 rows summing to 1."""
        rows = []
        for (w, pw), (d, pd_), h, (hd, ph) in product(
            zip(N_WORDS, N_WORDS_P, strict=True),
            zip(DEVICES, DEVICE_P, strict=True),
            HISTORY,
            zip(HEAD, HEAD_P, strict=True),
        ):
            rows.append({"n_words": w, "device": d, "history": h, "head": hd, "prob": pw * pd_ * ph / len(HISTORY)})
        return pd.DataFrame(rows)

    def expected_reward(self, frame: pd.DataFrame) -> np.ndarray:
        """True q(x, plan) for each row and plan: shape (n, len(menu))."""
        e = _effectiveness(frame)
        feats = plan_feature_matrix(self.menu)
        col = {name: j for j, name in enumerate(PLAN_FEATURE_NAMES)}
        n = len(frame)
        miss = np.ones((n, len(self.menu)))
        for s in STRATEGIES:
            budget = feats[:, col[f"budget_{s}"]]
            kappa = KAPPA[s]
            curve = (1.0 - np.exp(-budget / kappa)) / (1.0 - np.exp(-100.0 / kappa))
            miss *= 1.0 - e[s][:, None] * curve[None, :]
        cost = self.cost_per_extra_strategy * (feats[:, col["n_strategies"]] - 1.0)
        return (1.0 - miss) - cost[None, :]

    def _greedy_index(self, frame: pd.DataFrame, rule: Callable[[pd.DataFrame], list[str]]) -> np.ndarray:
        index = {pid: i for i, pid in enumerate(self.plan_ids)}
        return np.array([index[g] for g in rule(frame)], dtype=np.int64)

    def logging_greedy(self, frame: pd.DataFrame) -> list[str]:
        """The logging policy's greedy plan per row: the day-0 rule by query length."""
        return [day0_greedy(" ".join(["w"] * int(k))) for k in frame["n_words"]]

    def target_rule(self, frame: pd.DataFrame) -> list[str]:
        """The target policy's preferred plan per row (a hand rule)."""
        out = []
        for w, hist, head in zip(frame["n_words"], frame["history"], frame["head"], strict=True):
            if head >= 0.6:
                out.append("mem50_lex50")
            elif hist >= 0.75 and w <= 1:
                out.append("pers50_lex25_pop25")
            elif w >= 3:
                out.append("sem50_lex50")
            else:
                out.append(day0_greedy(" ".join(["w"] * int(w))))
        return out

    def _mixture(self, frame: pd.DataFrame, rule: Callable[[pd.DataFrame], list[str]], eps: float) -> np.ndarray:
        k = len(self.menu)
        probs = np.full((len(frame), k), eps / k)
        probs[np.arange(len(frame)), self._greedy_index(frame, rule)] += 1.0 - eps
        return probs

    def logging_probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """π_log(a|x) for each row and plan: shape (n, len(menu))."""
        return self._mixture(frame, self.logging_greedy, self.epsilon)

    def target_probabilities(self, frame: pd.DataFrame) -> np.ndarray:
        """π_target(a|x) of the fixed target policy: shape (n, len(menu))."""
        return self._mixture(frame, self.target_rule, self.target_epsilon)

    def true_value(self, probabilities: Callable[[pd.DataFrame], np.ndarray] | np.ndarray) -> float:
        """Exact value Σ_x P(x) Σ_a π(a|x) q(x, a) of a policy.

        Args:
            probabilities: a function from a context frame to π(a|x) of shape (n, len(menu)),
                or that matrix already evaluated on :meth:`cells` (in its row order).

        Returns:
            The policy's true expected reward.
        """
        cells = self.cells()
        probs = probabilities(cells) if callable(probabilities) else np.asarray(probabilities)
        return float(np.sum(cells["prob"].to_numpy() * np.sum(probs * self.expected_reward(cells), axis=1)))

    def sample_cells(self, n: int, seed: int) -> dict[str, np.ndarray]:
        """Logged data as arrays indexed by cell: fast enough for 10⁷ rows (no frame, no strings).

        Args:
            n: number of logged rows.
            seed: random seed.

        Returns:
            ``cell`` (index into :meth:`cells`), ``action`` (menu index), ``pscore``, ``reward``.
        """
        rng = np.random.default_rng(seed)
        cells = self.cells()
        cell = rng.choice(len(cells), size=n, p=cells["prob"].to_numpy()).astype(np.int32)
        log_p = self.logging_probabilities(cells)
        q = self.expected_reward(cells)
        cum = np.cumsum(log_p, axis=1)
        u = rng.random(n)
        action = np.empty(n, dtype=np.int32)
        step = 1_000_000  # bounds the (rows × plans) comparison in memory
        for start in range(0, n, step):
            stop = min(start + step, n)
            drawn = (u[start:stop, None] >= cum[cell[start:stop]]).sum(axis=1)
            action[start:stop] = np.minimum(drawn, len(self.menu) - 1)
        pscore = log_p[cell, action]
        cost = self.cost_per_extra_strategy * (np.array([len(set(p.strategies)) for p in self.menu]) - 1.0)
        hit_prob = q[cell, action] + cost[action]
        reward = (rng.random(n) < hit_prob).astype(np.float64) - cost[action]
        return {"cell": cell, "action": action, "pscore": pscore, "reward": reward}

    def sample(self, n: int, seed: int, *, n_days: int = 1, start_ds: str = "2026-01-01") -> pd.DataFrame:
        """A logged bandit dataset frame (the contract of :mod:`ltrr.bandit.plan_features`).

        Args:
            n: number of searches.
            seed: random seed (the same seed gives the same frame).
            n_days: the rows are split into this many consecutive days.
            start_ds: the first day.

        Returns:
            Columns ``search_id``, ``ds``, ``plan_id``, ``propensity``, ``reward`` and the context
            columns ``n_words``, ``device``, ``history``, ``head``.
        """
        arrays = self.sample_cells(n, seed)
        cells = self.cells()
        frame = cells.iloc[arrays["cell"]][list(CONTEXT_COLUMNS)].reset_index(drop=True)
        days = pd.date_range(start_ds, periods=n_days, freq="D").strftime("%Y-%m-%d").to_numpy()
        day_index = (np.arange(n) * n_days) // max(n, 1)
        plan_ids = np.array(self.plan_ids, dtype=object)
        frame.insert(0, "search_id", [f"s{seed}-{i:09d}" for i in range(n)])
        frame.insert(1, "ds", days[day_index])
        frame.insert(2, "plan_id", plan_ids[arrays["action"]])
        frame.insert(3, "propensity", arrays["pscore"])
        frame.insert(4, "reward", arrays["reward"])
        return frame

    def biased_reward_model(self, shrink: float = 0.3, offset: float = 0.03) -> np.ndarray:
        """A deliberately wrong q̂ on :meth:`cells`: ``(1 − shrink) q + shrink · mean(q) + offset``.

        Fixed in advance (independent of any sample), so DR stays unbiased while DM inherits its
        bias; used to measure interval coverage without fitting a model per replication.

        Returns:
            Shape (500, len(menu)).
        """
        q = self.expected_reward(self.cells())
        return (1.0 - shrink) * q + shrink * q.mean() + offset

    def ope_arrays(
        self, arrays: dict[str, np.ndarray], target_cells: np.ndarray, q_hat_cells: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The estimator inputs of :meth:`sample_cells` output for a target policy and a q̂.

        Args:
            arrays: from :meth:`sample_cells`.
            target_cells: π_target(a|x) on :meth:`cells`, shape (500, len(menu)).
            q_hat_cells: q̂(x, a) on :meth:`cells`, shape (500, len(menu)).

        Returns:
            ``reward``, ``pscore``, ``target_pscore``, ``q_logged``, ``q_target`` (each shape (n,)).
        """
        cell, action = arrays["cell"], arrays["action"]
        q_target_cells = np.sum(target_cells * q_hat_cells, axis=1)
        return {
            "reward": arrays["reward"],
            "pscore": arrays["pscore"],
            "target_pscore": target_cells[cell, action],
            "q_logged": q_hat_cells[cell, action],
            "q_target": q_target_cells[cell],
        }
