"""Customer behaviour on a result list: a position-based click model, then plays, skips, likes.

Position-based model (PBM): a result at 1-based position ``p`` is examined with probability
``theta_p = 1 / p**eta`` (equivalently ``1 / (p0 + 1)**eta`` for a 0-based position ``p0``),
independently of what it is. An examined result is clicked with its attractiveness

    alpha = attract_min + (attract_max - attract_min) * rel**rel_power * (1 - w + w * taste_fit)

where ``rel`` is the true relevance and ``taste_fit`` in [0, 1] how much the user likes the
entity's genre (or topic), with weight ``w = taste_weight``. So the click probability is
``theta_p * alpha``; on randomized result lists the click-through rate by position traces
``theta_p`` (times the mean attractiveness).

After a click: a *play* with probability ``play_base + play_rel * rel``, listening a
Beta-distributed fraction of the entity's duration with mean ``0.2 + 0.75 * rel`` (at least
30 s), otherwise a *skip* after 2-25 s. A play is liked with probability ``like_rel2 * rel**2``
and added to the library with probability ``add_rel * rel``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ltrr.schemas import ACTIONS

CLICK, PLAY, LIKE, ADD, SKIP = range(5)
assert ACTIONS == ("click", "play", "like", "add", "skip")
DAY_US = 86_400 * 1_000_000


@dataclass(frozen=True)
class ClickModel:
    """Parameters of the behaviour model (see the module docstring)."""

    eta: float = 1.0
    attract_min: float = 0.01
    attract_max: float = 0.9
    rel_power: float = 1.5
    taste_weight: float = 0.3
    play_base: float = 0.15
    play_rel: float = 0.8
    like_rel2: float = 0.3
    add_rel: float = 0.2
    min_play_ms: int = 30_000
    skip_ms_range: tuple[int, int] = (2_000, 25_000)
    click_delay_per_position_s: float = 1.0
    click_delay_mean_s: float = 3.0

    def examination(self, position: np.ndarray) -> np.ndarray:
        """P(examine) at 1-based positions."""
        return np.asarray(position, dtype=np.float64) ** (-self.eta)

    def attractiveness(self, rel: np.ndarray, taste_fit: np.ndarray) -> np.ndarray:
        """P(click | examined) from true relevance and the user's taste fit."""
        w = self.taste_weight
        scale = (1.0 - w) + w * np.clip(taste_fit, 0.0, 1.0)
        return (
            self.attract_min + (self.attract_max - self.attract_min) * np.clip(rel, 0.0, 1.0) ** self.rel_power * scale
        )

    def to_dict(self, max_position: int = 10) -> dict:
        """Parameters plus the true examination curve for positions 1..max_position."""
        out = asdict(self)
        out["skip_ms_range"] = list(self.skip_ms_range)
        out["examination_formula"] = "theta_p = 1 / p**eta (p = 1-based position)"
        out["examination_by_position"] = {
            str(p): round(float(v), 6)
            for p, v in zip(range(1, max_position + 1), self.examination(np.arange(1, max_position + 1)), strict=True)
        }
        return out


@dataclass
class Engagements:
    """Engagement events of one chunk (one entry per event), sorted by search then time.

    Attributes:
        search: index of the search within the chunk.
        shown: index of the shown row (into the chunk's flattened shown arrays).
        action: index into ``schemas.ACTIONS``.
        amount_ms: play/skip time in ms, -1 for none.
        ts_us: microseconds since the day's UTC midnight.
    """

    search: np.ndarray
    shown: np.ndarray
    action: np.ndarray
    amount_ms: np.ndarray
    ts_us: np.ndarray

    def __len__(self) -> int:
        return len(self.search)


def simulate_engagements(
    search: np.ndarray,
    position: np.ndarray,
    rel: np.ndarray,
    taste_fit: np.ndarray,
    duration_ms: np.ndarray,
    search_ts_us: np.ndarray,
    rng: np.random.Generator,
    model: ClickModel,
) -> Engagements:
    """Simulate what customers do with the shown results of one chunk.

    Args:
        search: search index per shown row.
        position: 1-based position per shown row.
        rel: true relevance per shown row.
        taste_fit: user's taste fit per shown row.
        duration_ms: the entity's playable duration per shown row.
        search_ts_us: timestamp of each search (microseconds since midnight), per search.
        rng: the chunk's behaviour generator.
        model: the click model.

    Returns:
        The engagement events.
    """
    n = len(search)
    examined = rng.random(n) < model.examination(position)
    clicked = examined & (rng.random(n) < model.attractiveness(rel, taste_fit))
    c = np.flatnonzero(clicked)
    r = rel[c]
    base_ts = search_ts_us[search[c]]
    delay_s = model.click_delay_per_position_s * position[c] + rng.exponential(model.click_delay_mean_s, len(c))
    click_ts = base_ts + np.round(delay_s * 1e6).astype(np.int64)
    plays = rng.random(len(c)) < model.play_base + model.play_rel * r
    m = 0.2 + 0.75 * r
    frac = rng.beta(1.0 + 8.0 * m, 1.0 + 8.0 * (1.0 - m))
    dur = duration_ms[c].astype(np.float64)
    play_ms = np.minimum(np.maximum(frac * dur, model.min_play_ms), np.maximum(dur, model.min_play_ms)).astype(np.int64)
    skip_ms = rng.integers(model.skip_ms_range[0], model.skip_ms_range[1], len(c))
    likes = plays & (rng.random(len(c)) < model.like_rel2 * r**2)
    adds = plays & (rng.random(len(c)) < model.add_rel * r)
    listen_ts = click_ts + 500_000
    parts = [
        (c, np.full(len(c), CLICK), np.full(len(c), -1), click_ts),
        (c, np.where(plays, PLAY, SKIP), np.where(plays, play_ms, skip_ms), listen_ts),
        (
            c[likes],
            np.full(int(likes.sum()), LIKE),
            np.full(int(likes.sum()), -1),
            listen_ts[likes] + play_ms[likes] * 500,
        ),
        (
            c[adds],
            np.full(int(adds.sum()), ADD),
            np.full(int(adds.sum()), -1),
            listen_ts[adds] + 500_000 + play_ms[adds] * 300,
        ),
    ]
    shown_idx = np.concatenate([p[0] for p in parts]).astype(np.int64)
    action = np.concatenate([p[1] for p in parts]).astype(np.int64)
    amount = np.concatenate([p[2] for p in parts]).astype(np.int64)
    ts = np.concatenate([p[3] for p in parts]).astype(np.int64)
    s_idx = search[shown_idx]
    ts = np.clip(ts, search_ts_us[s_idx] + 1, DAY_US - 1)
    order = np.lexsort((action, shown_idx, ts, s_idx))
    return Engagements(
        search=s_idx[order], shown=shown_idx[order], action=action[order], amount_ms=amount[order], ts_us=ts[order]
    )
