"""Parameters of the embeddings build: engagement weights (constants) and run settings."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from ltrr.config import Settings

ACTION_WEIGHTS: dict[str, float] = {"click": 1.0, "play": 1.0, "like": 4.0, "add": 4.0, "skip": -1.0}
"""Weight of one engagement by action (docs/embeddings.md). A skip cancels the click before it."""
PLAY_TIME_WEIGHT = 2.0
"""Extra weight of a play, reached at ``PLAY_FULL_MS`` of listening (linear below, flat above)."""
PLAY_FULL_MS = 180_000
"""Listening time (3 minutes) that earns the full play-time weight."""
MIN_WEIGHT = 1e-9
"""A pair is a positive when its decayed weight sum is above this (0 up to rounding)."""


@dataclass(frozen=True)
class EmbedParams:
    """What one embeddings build needs from the settings (documented in docs/configuration.md).

    Attributes mirror the ``embed_*`` settings; ``seed`` is the run's master seed.
    """

    window_days: int = 30
    half_life_days: float = 14.0
    alpha: float = 2.0
    model: Literal["als", "bpr"] = "als"
    factors: int = 64
    regularization: float = 1.0
    iterations: int = 15
    learning_rate: float = 0.05
    num_threads: int = 1
    popularity_weight: float = 32.0
    n_trees: int = 50
    search_k: int = 100_000
    max_search_k: int = 1_600_000
    recall_threshold: float = 0.95
    recall_sample: int = 500
    max_norm: float = 1_000.0
    eval_k: int = 50
    eval_max_users: int = 20_000
    seed: int = 7

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbedParams:
        """The parameters a run's settings ask for.

        Args:
            settings: run settings.

        Returns:
            The parameters (a plain frozen dataclass, easy to record in metrics).
        """
        return cls(
            window_days=settings.embed_window_days,
            half_life_days=settings.embed_half_life_days,
            alpha=settings.embed_alpha,
            model=settings.embed_model,
            factors=settings.embed_factors,
            regularization=settings.embed_regularization,
            iterations=settings.embed_iterations,
            learning_rate=settings.embed_learning_rate,
            num_threads=settings.embed_num_threads,
            popularity_weight=settings.embed_popularity_weight,
            n_trees=settings.embed_n_trees,
            search_k=settings.embed_search_k,
            max_search_k=settings.embed_max_search_k,
            recall_threshold=settings.embed_recall_threshold,
            recall_sample=settings.embed_recall_sample,
            max_norm=settings.embed_max_norm,
            eval_k=settings.embed_eval_k,
            eval_max_users=settings.embed_eval_max_users,
            seed=settings.seed,
        )

    def to_dict(self) -> dict:
        """JSON-ready form (for the artifact's metrics)."""
        return asdict(self)
