"""World sizes (``small``, ``medium``, ``large``) and the seeded random streams.

A scale fixes how many entities, users and searches the world has; everything else (the click
model, intent shares, ...) is the same at every scale, so a small world is a faithful miniature.
Random numbers come from ``numpy.random.Generator`` objects seeded from a tuple
``(seed, stream, day, chunk)`` through ``SeedSequence``: each part of the world draws from its own
stream, so changing the search engine does not change the queries customers type.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Scale:
    """Sizes of one world scale.

    Attributes:
        name: scale name.
        artists: artists in the initial catalog (albums, tracks follow from it).
        playlists: editorial playlists in the initial catalog.
        podcasts: podcasts in the initial catalog (episodes follow from it).
        users: number of customers.
        searches_per_day: searches on a weekday (weekends get more, see ``traffic``).
        daily_new_share: share of the initial catalog added as new entities each day.
        chunk_size: searches generated and written per part file (bounds memory).
    """

    name: str
    artists: int
    playlists: int
    podcasts: int
    users: int
    searches_per_day: int
    daily_new_share: float = 0.01
    chunk_size: int = 50_000

    def to_dict(self) -> dict:
        """The scale as a plain dict (for ``world.json``)."""
        return asdict(self)


SCALES: dict[str, Scale] = {
    "small": Scale("small", artists=250, playlists=150, podcasts=60, users=1_500, searches_per_day=1_500),
    "medium": Scale("medium", artists=2_500, playlists=1_500, podcasts=600, users=20_000, searches_per_day=30_000),
    "large": Scale(
        "large", artists=25_000, playlists=15_000, podcasts=6_000, users=300_000, searches_per_day=1_000_000
    ),
}
"""The three scales: small (tests, ~4k entities), medium (``make run``, ~40k), large (benchmarks)."""

# Stream ids: one independent random stream per part of the world.
STREAM_CATALOG = 1
STREAM_ADDITIONS = 2
STREAM_USERS = 3
STREAM_TRAFFIC = 4
STREAM_ENGINE = 5
STREAM_BEHAVIOUR = 6


def get_scale(name: str) -> Scale:
    """Look up a scale by name.

    Args:
        name: ``small``, ``medium`` or ``large``.

    Returns:
        The scale.

    Raises:
        ValueError: for an unknown name.
    """
    try:
        return SCALES[name]
    except KeyError:
        raise ValueError(f"unknown scale {name!r}; expected one of {sorted(SCALES)}") from None


def make_rng(seed: int, stream: int, day: int = 0, chunk: int = 0) -> np.random.Generator:
    """A random generator for one stream, day and chunk of the world.

    Args:
        seed: the world's master seed (non-negative).
        stream: one of the ``STREAM_*`` ids.
        day: the day's ordinal (``date.toordinal()``), 0 for day-independent streams.
        chunk: the chunk number within the day.

    Returns:
        A PCG64 generator; the same arguments always give the same numbers.
    """
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stream, day, chunk])))
