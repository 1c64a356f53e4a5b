"""Simulated customers: locale, main device, activity level, genre and topic tastes.

Tastes are Dirichlet draws around a locale-specific prior (Spanish and Portuguese locales lean
to latin, Korean to k-pop, ...), concentrated enough that most users have two or three favourite
genres. Activity (how often a user searches) is log-normal, so a minority of heavy users issue
a large share of the searches, as in real logs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ltrr.schemas import DEVICES
from ltrr.sim import words as W
from ltrr.sim.scales import STREAM_USERS, Scale, make_rng

DEVICE_WEIGHTS = (0.62, 0.15, 0.10, 0.05, 0.08)
"""Share of users whose main device is mobile, desktop, web, tv, car."""
TASTE_CONCENTRATION = 3.0
"""Dirichlet concentration of genre tastes (sum of alphas): lower = more specialised users."""
ACTIVITY_SIGMA = 1.2
"""Log-normal sigma of user activity."""
LOCALE_GENRE_BOOST: dict[str, dict[str, float]] = {
    "es": {"latin": 6.0, "pop": 1.2},
    "pt": {"latin": 5.0},
    "ko": {"k-pop": 8.0},
    "ja": {"j-pop": 8.0},
    "hi": {"bollywood": 8.0},
    "fr": {"afrobeats": 2.0, "electronic": 1.5},
    "de": {"electronic": 2.0, "metal": 1.5},
    "sv": {"electronic": 1.5, "pop": 1.5, "metal": 1.5},
    "en": {"country": 1.5, "hip hop": 1.3},
}


def locale_language(locale: str) -> str:
    """The language part of a locale (``es-MX`` -> ``es``)."""
    return locale.split("-")[0]


@dataclass
class Users:
    """All customers as parallel arrays (row = user number).

    Attributes:
        ids: user ids (``u0000001``).
        locale: index into ``words.LOCALES``.
        device: index into ``schemas.DEVICES`` of the main device.
        activity: search rate weights, summing to 1.
        genre_taste: (users x genres) rows summing to 1.
        topic_taste: (users x topics) rows summing to 1.
        app_version: client app version string per user.
    """

    ids: list[str]
    locale: np.ndarray
    device: np.ndarray
    activity: np.ndarray
    genre_taste: np.ndarray
    topic_taste: np.ndarray
    app_version: list[str]

    def __len__(self) -> int:
        return len(self.ids)

    def taste_fit(self, users: np.ndarray, etype: np.ndarray, group: np.ndarray) -> np.ndarray:
        """How much each user likes each entity's primary genre/topic, in [0, 1].

        Args:
            users: user rows (one per pair).
            etype: entity type codes (one per pair); podcasts/episodes use topic taste.
            group: the entities' primary genre (music) or topic (podcasts, episodes).

        Returns:
            taste(user, group) / max taste of the user, per pair.
        """
        spoken = (etype >= 4) & (group >= 0)
        music = ~spoken & (group >= 0)
        out = np.zeros(len(users))
        g = np.clip(group, 0, None)
        out[music] = self.genre_taste[users[music], np.minimum(g[music], self.genre_taste.shape[1] - 1)]
        out[music] /= self._genre_max[users[music]]
        out[spoken] = self.topic_taste[users[spoken], np.minimum(g[spoken], self.topic_taste.shape[1] - 1)]
        out[spoken] /= self._topic_max[users[spoken]]
        return out

    def __post_init__(self) -> None:
        self._genre_max = self.genre_taste.max(axis=1)
        self._topic_max = self.topic_taste.max(axis=1)


def generate_users(scale: Scale, seed: int) -> Users:
    """Generate the customers of a world.

    Args:
        scale: world scale (number of users).
        seed: master seed.

    Returns:
        The users; the same (scale, seed) always gives the same users.
    """
    rng = make_rng(seed, STREAM_USERS)
    n = scale.users
    locale_p = np.array(W.LOCALE_WEIGHTS) / sum(W.LOCALE_WEIGHTS)
    locale = rng.choice(len(W.LOCALES), size=n, p=locale_p)
    device = rng.choice(len(DEVICES), size=n, p=np.array(DEVICE_WEIGHTS) / sum(DEVICE_WEIGHTS))
    activity = rng.lognormal(0.0, ACTIVITY_SIGMA, size=n)
    activity /= activity.sum()
    base = np.array(W.GENRE_WEIGHTS, dtype=np.float64)
    genre_taste = np.empty((n, len(W.GENRES)))
    for li, loc in enumerate(W.LOCALES):
        rows = np.flatnonzero(locale == li)
        prior = base.copy()
        for genre, boost in LOCALE_GENRE_BOOST.get(locale_language(loc), {}).items():
            prior[W.GENRES.index(genre)] *= boost
        alpha = TASTE_CONCENTRATION * prior / prior.sum()
        genre_taste[rows] = rng.dirichlet(alpha, size=len(rows))
    topic_taste = rng.dirichlet(np.full(len(W.TOPICS), 0.5), size=n)
    # Floor tiny tastes so every genre keeps a little probability (Dirichlet can underflow).
    genre_taste = np.maximum(genre_taste, 1e-6)
    genre_taste /= genre_taste.sum(axis=1, keepdims=True)
    topic_taste = np.maximum(topic_taste, 1e-6)
    topic_taste /= topic_taste.sum(axis=1, keepdims=True)
    versions = ("8.2.0", "8.3.1", "8.4.0", "8.4.2")
    version_idx = rng.choice(len(versions), size=n, p=[0.1, 0.2, 0.3, 0.4])
    return Users(
        ids=[f"u{i:07d}" for i in range(n)],
        locale=locale.astype(np.int64),
        device=device.astype(np.int64),
        activity=activity,
        genre_taste=genre_taste,
        topic_taste=topic_taste,
        app_version=[versions[i] for i in version_idx],
    )
