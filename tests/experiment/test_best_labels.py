"""The experiment's engagement grade mirrors the bandit reward's labels (sql/rank/labels.sql), by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from ltrr.experiment.plan_outcomes import MIN_PLAY_MS, best_labels
from ltrr.schemas import ACTIONS


def _events(rows: list[tuple[int, str, int]]) -> SimpleNamespace:
    """Events as (shown row, action, amount_ms)."""
    return SimpleNamespace(
        shown=np.array([r for r, _, _ in rows], dtype=np.int64),
        action=np.array([ACTIONS.index(a) for _, a, _ in rows], dtype=np.int64),
        amount_ms=np.array([m for _, _, m in rows], dtype=np.int64),
    )


def test_best_label_per_search_by_hand() -> None:
    # Shown rows -> search: rows 0, 1 -> search 0; rows 2, 3 -> search 1; row 4 -> search 2;
    # row 5 -> search 3; search 4 has no shown row.
    shown_search = np.array([0, 0, 1, 1, 2, 3])
    events = _events(
        [
            (0, "click", -1),
            (0, "skip", 4_000),  # clicked then skipped: 0
            (1, "click", -1),
            (1, "play", MIN_PLAY_MS - 1),  # a short play: 1
            (2, "click", -1),
            (2, "play", MIN_PLAY_MS),  # a full play: 2
            (3, "click", -1),
            (3, "play", 200_000),
            (3, "add", -1),  # added: 3
            (4, "click", -1),  # clicked, nothing else: 1
            # row 5 (search 3): no event: 0
        ]
    )
    assert best_labels(events, shown_search, 5).tolist() == [1.0, 3.0, 1.0, 0.0, 0.0]


def test_no_events_give_zero_labels() -> None:
    assert best_labels(_events([]), np.array([0, 1, 1]), 2).tolist() == [0.0, 0.0]
