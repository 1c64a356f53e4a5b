"""When and by whom searches happen: daily volume, users, sessions, timestamps, devices.

- Volume: ``searches_per_day`` x a weekday factor (``WEEKDAY_FACTOR``; weekends are busier).
- Users: drawn in proportion to their activity, so heavy users search more.
- Sessions: a user's searches in a chunk are split into ``1 + Binomial(n - 1, 0.35)`` sessions;
  searches of a session are ``Exponential(45 s)`` apart.
- Time of day: session start hours are drawn in the user's *local* time from a mixture of
  Gaussians (morning commute, lunch, evening peak, late night; ``DIURNAL``), shifted to UTC by
  the locale's offset and wrapped into the day. Searches end by ``LAST_SEARCH_S`` so that every
  engagement still falls on the same UTC day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from ltrr.schemas import DEVICES
from ltrr.sim import words as W
from ltrr.sim.users import Users

WEEKDAY_FACTOR = (0.95, 0.95, 0.97, 1.0, 1.08, 1.15, 1.10)
"""Search volume multiplier, Monday first."""
DIURNAL = {
    "weekday": ((8.5, 1.5, 0.20), (13.0, 2.0, 0.25), (20.0, 2.5, 0.45), (0.5, 1.5, 0.10)),
    "weekend": ((11.0, 2.5, 0.35), (16.0, 2.5, 0.25), (21.0, 2.5, 0.30), (1.0, 1.5, 0.10)),
}
"""Local-time mixture components (mean hour, sd hours, weight) for session starts."""
SESSION_SPLIT_P = 0.35
SEARCH_GAP_S = 45.0
MAIN_DEVICE_P = 0.8
LAST_SEARCH_S = 86_400 - 900
"""Searches happen before 23:45 UTC (engagements follow within minutes)."""
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def searches_on(day: dt.date, searches_per_day: int) -> int:
    """Number of searches on a day (weekday pattern applied)."""
    return round(searches_per_day * WEEKDAY_FACTOR[day.weekday()])


def chunk_sizes(total: int, chunk_size: int) -> list[int]:
    """Split a day's searches into chunks of at most ``chunk_size`` (sizes differ by <= 1)."""
    n_chunks = max(1, -(-total // chunk_size))
    base, extra = divmod(total, n_chunks)
    return [base + (1 if i < extra else 0) for i in range(n_chunks)]


@dataclass
class Traffic:
    """One chunk of searches, sorted by time.

    Attributes:
        user: user row per search.
        ts_us: microseconds since the day's UTC midnight.
        session: session number within the chunk.
        session_seq: 0-based position of the search within its session.
        device: index into ``schemas.DEVICES``.
        local_hour: the user's local hour when searching.
    """

    user: np.ndarray
    ts_us: np.ndarray
    session: np.ndarray
    session_seq: np.ndarray
    device: np.ndarray
    local_hour: np.ndarray

    def __len__(self) -> int:
        return len(self.user)


def sample_traffic(n: int, day: dt.date, users: Users, rng: np.random.Generator) -> Traffic:
    """Draw the users, sessions, timestamps and devices of ``n`` searches.

    Args:
        n: number of searches in the chunk.
        day: the UTC day.
        users: the customers.
        rng: the chunk's traffic generator.

    Returns:
        The chunk's traffic, sorted by timestamp.
    """
    cum = np.cumsum(users.activity)
    user = np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(users) - 1)
    user.sort(kind="stable")
    uniq, counts = np.unique(user, return_counts=True)
    n_sessions = 1 + rng.binomial(counts - 1, SESSION_SPLIT_P)
    # Each search picks one of its user's sessions; session keys are numbered globally.
    per_search_sessions = np.repeat(n_sessions, counts)
    session_offset = np.repeat(np.cumsum(n_sessions) - n_sessions, counts)
    local_choice = np.minimum((rng.random(n) * per_search_sessions).astype(np.int64), per_search_sessions - 1)
    session_key = session_offset + local_choice
    total_sessions = int(n_sessions.sum())
    session_user = np.repeat(uniq, n_sessions)
    # Session start: local hour from the diurnal mixture, converted to UTC seconds.
    kind = "weekend" if day.weekday() >= 5 else "weekday"
    comps = np.array(DIURNAL[kind])
    comp = rng.choice(len(comps), size=total_sessions, p=comps[:, 2] / comps[:, 2].sum())
    local_h = np.mod(rng.normal(comps[comp, 0], comps[comp, 1]), 24.0)
    offset_h = np.asarray(W.LOCALE_UTC_OFFSET_H, dtype=np.float64)[users.locale[session_user]]
    start_s = np.mod((local_h - offset_h) * 3600.0, 86_400.0)
    main = users.device[session_user]
    other = rng.integers(len(DEVICES), size=total_sessions)
    session_device = np.where(rng.random(total_sessions) < MAIN_DEVICE_P, main, other)
    # Order searches inside a session and space them out.
    order = np.lexsort((np.arange(n), session_key))
    key_sorted = session_key[order]
    gaps = rng.exponential(SEARCH_GAP_S, size=n)
    is_first = np.r_[True, key_sorted[1:] != key_sorted[:-1]]
    gaps[is_first] = 0.0
    csum = np.cumsum(gaps)
    group_start = np.maximum.accumulate(np.where(is_first, np.arange(n), 0))
    within = csum - csum[group_start]
    seq = np.arange(n) - group_start
    ts_s = np.minimum(start_s[key_sorted] + within, LAST_SEARCH_S - 1e-3)
    ts_us = np.floor(ts_s * 1e6).astype(np.int64)
    local_hour = np.mod(np.floor(local_h[key_sorted] + within / 3600.0), 24).astype(np.int64)
    by_time = np.lexsort((np.arange(n), ts_us))
    return Traffic(
        user=user[order][by_time],
        ts_us=ts_us[by_time],
        session=key_sorted[by_time],
        session_seq=seq[by_time],
        device=session_device[key_sorted][by_time],
        local_hour=local_hour[by_time],
    )
