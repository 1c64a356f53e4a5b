"""A small synthetic world for the ranker tests, built here (independent of ltrr.sim).

Each search has ``n_candidates`` candidates with five features:

- ``match`` (uniform 0..1): how well the candidate matches the query, the main driver of
  relevance;
- ``popularity`` (standard normal): the catalog prior, a weak driver of relevance;
- ``genre`` (categorical code 0..4, NaN for 10% of rows): each genre shifts relevance;
- ``q2e_score``: a noisy view of relevance, NaN (not in memory) for 60% of rows;
- ``promo`` (uniform 0..1): what the logging ranker favours, NOT related to relevance.

True relevance is ``expit(5 (match − 0.6) + 0.4 popularity + genre effect)``. The logging ranker
scores ``promo_weight · promo + match + noise`` and shows its top ``n_shown``, except on a
``randomized_share`` of searches where the shown order is a random permutation of those.
Customers follow the position-based model: a result at position p is examined with
probability 1/p and then engaged with probability equal to its relevance; an engaged result
is played (label 2) with probability rel and then liked (label 3) with probability rel / 2,
else it stays a click (label 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ltrr.debias.examination import ExaminationCurve
from ltrr.rank.spec import FeatureDef, FeatureSpec

GENRE_EFFECT = np.array([0.8, 0.3, 0.0, -0.3, -0.8])
TRUE_CURVE = ExaminationCurve(probabilities=tuple(1.0 / p for p in range(1, 11)), method="true")

SPEC = FeatureSpec(
    features=(
        FeatureDef("match", "numeric", description="query match"),
        FeatureDef("popularity", "numeric", description="catalog prior"),
        FeatureDef("genre", "categorical", description="genre code", categories=("a", "b", "c", "d", "e")),
        FeatureDef("q2e_score", "numeric", description="memory score, NaN when not in memory"),
        FeatureDef("promo", "numeric", default=0.0, description="promotion flag the logging ranker likes"),
    ),
    version="test-1",
)


def make_world(
    n_searches: int,
    seed: int,
    *,
    n_candidates: int = 20,
    n_shown: int = 10,
    promo_weight: float = 3.0,
    randomized_share: float = 0.05,
    ds: str = "2026-01-01",
    prefix: str = "s",
) -> pd.DataFrame:
    """One day of searches in the training-set contract (with ``true_relevance``).

    Returns:
        One row per (search, candidate): ``search_id, ds, user_id, entity_id, shown_position,
        shown_randomized, label, logged_score``, the features of ``SPEC`` and ``true_relevance``.
    """
    rng = np.random.default_rng(seed)
    n = n_searches * n_candidates
    search = np.repeat(np.arange(n_searches), n_candidates)
    match = rng.random(n)
    popularity = rng.normal(size=n)
    genre = rng.integers(0, 5, n).astype(np.float64)
    promo = rng.random(n)
    rel = 1.0 / (1.0 + np.exp(-(5.0 * (match - 0.6) + 0.4 * popularity + GENRE_EFFECT[genre.astype(int)])))
    genre[rng.random(n) < 0.1] = np.nan
    q2e = np.where(rng.random(n) < 0.6, np.nan, rel + rng.normal(0, 0.3, n))
    logged = promo_weight * promo + match + rng.normal(0, 0.3, n)
    randomized = rng.random(n_searches) < randomized_share

    # Shown order: by logged score within the search (or a random permutation of the top).
    order = np.lexsort((-logged, search))
    rank_in_search = np.empty(n, dtype=np.int64)
    rank_in_search[order] = np.tile(np.arange(1, n_candidates + 1), n_searches)
    position = np.where(rank_in_search <= n_shown, rank_in_search, 0)
    for s in np.flatnonzero(randomized):
        idx = np.flatnonzero((search == s) & (position > 0))
        position[idx] = rng.permutation(np.arange(1, len(idx) + 1))
    shown = position > 0

    examined = shown & (rng.random(n) < 1.0 / np.maximum(position, 1))
    engaged = examined & (rng.random(n) < rel)
    played = engaged & (rng.random(n) < rel)
    liked = played & (rng.random(n) < rel / 2)
    label = engaged.astype(np.int64) + played + liked

    frame = pd.DataFrame(
        {
            "search_id": [f"{prefix}{s:06d}" for s in search],
            "ds": ds,
            "user_id": [f"u{s % 97:03d}" for s in search],
            "entity_id": [
                f"e{(s * 31 + i) % 5000:05d}" for s, i in zip(search, np.arange(n) % n_candidates, strict=True)
            ],
            "shown_position": pd.array(np.where(shown, position, 0), dtype="Int64"),
            "shown_randomized": randomized[search],
            "label": pd.array(label, dtype="Int64"),
            "logged_score": logged,
            "match": match,
            "popularity": popularity,
            "genre": genre,
            "q2e_score": q2e,
            "promo": promo,
            "true_relevance": rel,
        }
    )
    frame.loc[~shown, "shown_position"] = pd.NA
    frame.loc[~shown, "label"] = pd.NA
    return frame


def shown_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The shown rows of a world frame."""
    return frame[frame["shown_position"].notna()].reset_index(drop=True)
