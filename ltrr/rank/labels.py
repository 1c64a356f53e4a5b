"""Graded relevance labels of the ranker, from engagements, and the gain LightGBM gives them.

Every shown (search, entity) gets one label in 0..3:

======  =====================================================================
label   meaning
======  =====================================================================
3       liked or added to the library
2       played at least ``MIN_PLAY_MS`` (30 s)
0       skipped: clicked, then skipped without a qualifying play (a negative
        judgement), or shown and not engaged
1       clicked, without a skip or a qualifying play (a play shorter than 30 s,
        or a play without a recorded duration, counts as a click)
======  =====================================================================

So the label is the highest grade among the engagements, except that a skip vetoes a bare
click: a customer who opened a result and skipped it told us it was not what they wanted
(the issue's mapping "skip 0, click 1"). A skip after a 30 s play or a like does not undo
them. The Q2E memory counts such pairs the same way (positive = played, liked, added, or
clicked without a skip; ``sql/q2e/observed_pairs.sql``).

The Spark training-set job implements the same mapping in SQL; ``grade`` is the pure
Python reference both are tested against.
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_PLAY_MS = 30_000
"""Shortest play (ms) that counts as a listen (label 2); shorter plays count as clicks."""

MAX_LABEL = 3
"""Highest label."""

LABEL_BY_ACTION: dict[str, int] = {"skip": 0, "click": 1, "play": 2, "like": 3, "add": 3}
"""Grade of each action (``ltrr.schemas.ACTIONS``); a ``play`` earns it only when it lasted at
least ``MIN_PLAY_MS``, otherwise it earns ``SHORT_PLAY_LABEL``."""

SHORT_PLAY_LABEL = 1
"""Grade of a play shorter than ``MIN_PLAY_MS`` or without a duration (the result was opened)."""

LABEL_GAIN: tuple[float, ...] = tuple(float(2**label - 1) for label in range(MAX_LABEL + 1))
"""Gain of each label, ``2**label - 1`` = (0, 1, 3, 7): the gain LambdaMART optimises and the
gain of every label-based NDCG we report.

It is passed to LightGBM explicitly (``label_gain``) although it equals LightGBM's default for
labels 0..3, because: (1) the gain is part of what the model means, and setting it keeps the
training objective and our own metrics (``ltrr.rank.metrics``) on one definition that a
change of LightGBM's default cannot move; (2) LightGBM then rejects any label above
``MAX_LABEL`` ("label ... is not less than the number of label mappings"), so an upstream
mapping bug fails the fit instead of training on it; (3) the value is written into the model
file's parameters, so the bundle records it."""


def action_grade(action: str, amount_ms: int | float | None = None) -> int:
    """Grade of one engagement.

    Args:
        action: one of ``click, play, like, add, skip``.
        amount_ms: play time in ms for a ``play`` (``None``/NaN when not recorded); ignored
            for the other actions.

    Returns:
        The grade in 0..MAX_LABEL.

    Raises:
        ValueError: for an unknown action.
    """
    if action not in LABEL_BY_ACTION:
        raise ValueError(f"unknown action {action!r}; expected one of {sorted(LABEL_BY_ACTION)}")
    short = amount_ms is None or amount_ms != amount_ms or amount_ms < MIN_PLAY_MS  # None, NaN or short
    if action == "play" and short:
        return SHORT_PLAY_LABEL
    return LABEL_BY_ACTION[action]


def grade(actions_with_amounts: Iterable[tuple[str, int | float | None]]) -> int:
    """Label of one shown (search, entity): the highest grade among its engagements, 0 for a skipped click.

    Args:
        actions_with_amounts: ``(action, amount_ms)`` of each engagement of that search on that
            entity (``amount_ms`` may be ``None``); empty when the result was shown and nothing
            happened.

    Returns:
        The label in 0..MAX_LABEL (0 when there was no engagement).

    Raises:
        ValueError: for an unknown action.
    """
    events = list(actions_with_amounts)
    best = max((action_grade(action, amount) for action, amount in events), default=0)
    if best <= SHORT_PLAY_LABEL and any(action == "skip" for action, _ in events):
        return 0
    return best
