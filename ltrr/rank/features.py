"""The ranker's features: names, kinds and meanings, in the order the model sees them.

``sql/rank/training_rows.sql`` computes every feature below (a test checks the two agree);
serving computes the same values for a (query, user, context, candidate) from the bundle.
Missing values are NaN on both sides (LightGBM's own missing handling); a feature that is
missing for a reason a model can use (no memory entry, unknown user) stays missing rather
than being imputed, so the trees learn what "unknown" means.

Categorical codes: ``entity_type`` and ``device`` index the fixed lists of ``ltrr.schemas``;
``weekday`` counts from Monday; ``genre`` and ``locale`` are ``crc32(value) mod buckets``, a
code any serving language can compute without a vocabulary that changes daily.
"""

from __future__ import annotations

from ltrr.schemas import DEVICES, ENTITY_TYPES, STRATEGIES

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday names as logged in the ``weekday`` context key; the code is the index."""

HASH_BUCKETS = 1000
"""Buckets of the crc32 codes of ``genre`` and ``locale``."""


def _provenance() -> list[tuple[str, str, str]]:
    out = []
    for strategy in STRATEGIES:
        out.append((f"{strategy}_rank", "numeric", f"1-based rank of the candidate in the {strategy} results"))
        out.append((f"{strategy}_score", "numeric", f"the {strategy} strategy's own score of the candidate"))
    return out


FEATURES: tuple[tuple[str, str, str], ...] = (
    *_provenance(),
    ("n_strategies", "numeric", "how many strategies retrieved the candidate"),
    ("best_rank", "numeric", "best (smallest) rank over the strategies that retrieved it"),
    ("q2e_score", "numeric", "memory (Q2E) score of (query, entity) in the previous day's table"),
    ("q2e_rank", "numeric", "rank of the entity in the query's memory list"),
    ("q2e_evidence", "numeric", "log1p of the memory's debiased, decayed trials (its evidence)"),
    ("q2e_predicted", "numeric", "1 when the memory entry is a cold-start prediction, 0 when observed"),
    ("popularity", "numeric", "catalog popularity prior in [0, 1]"),
    ("entity_type", "categorical", f"index in {ENTITY_TYPES}"),
    ("genre", "categorical", "crc32 code of the entity's first genre (mod HASH_BUCKETS)"),
    ("age_days", "numeric", "days since the entity was added to the catalog"),
    ("entity_impressions", "numeric", "log1p of the entity's shown impressions in the history window"),
    (
        "entity_positives",
        "numeric",
        "log1p of its positive (search, entity) pairs in the window: played, liked, added or clicked without a skip",
    ),
    ("entity_positive_rate", "numeric", "(positives + 1) / (impressions + 20), a smoothed engagement rate"),
    ("title_exact", "numeric", "1 when the normalized query equals the normalized title"),
    ("title_jaccard", "numeric", "Jaccard overlap of query and title tokens"),
    ("query_coverage", "numeric", "share of query tokens found in title, artist, album, genres or topics"),
    ("artist_in_query", "numeric", "share of the artist name's tokens present in the query"),
    ("affinity", "numeric", "user vector . entity vector of the previous day's embeddings"),
    ("user_positives", "numeric", "log1p of the user's positive engagements in the window (activity)"),
    ("user_artist_positives", "numeric", "log1p of the user's positive engagements with the entity's artist"),
    ("user_genre_share", "numeric", "share of the user's positive engagements in the entity's first genre"),
    ("query_chars", "numeric", "length of the normalized query"),
    ("query_tokens", "numeric", "tokens of the normalized query"),
    ("query_is_entity_name", "numeric", "1 when the normalized query is some entity's title or artist name"),
    ("query_searches", "numeric", "log1p of searches with this normalized query in the window"),
    ("hour", "numeric", "the user's local hour (context key local_hour)"),
    ("weekday", "categorical", f"index in {WEEKDAYS} (context key weekday)"),
    ("device", "categorical", f"index in {DEVICES}"),
    ("locale", "categorical", "crc32 code of the locale (mod HASH_BUCKETS)"),
)
"""(name, kind, meaning) of every ranker feature, in model order."""

FEATURE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in FEATURES)

ID_COLUMNS = ("search_id", "ds", "user_id", "entity_id", "shown_position", "shown_randomized", "plan_id", "full_union")
"""Columns of a training row that identify it (not features); ``full_union`` marks the searches
whose unshown candidates are kept too."""

TARGET_COLUMNS = ("label", "logged_score")
"""The graded label (null for candidates that were not shown) and the logging ranker's score."""


def ranker_feature_spec(version: str = "1"):
    """The :class:`ltrr.rank.spec.FeatureSpec` of :data:`FEATURES` (no defaults: missing is NaN).

    Args:
        version: the spec version written into the model folder.

    Returns:
        The spec.
    """
    from ltrr.rank.spec import FeatureDef, FeatureSpec

    return FeatureSpec(
        features=tuple(FeatureDef(name=n, kind=k, default=None, description=d) for n, k, d in FEATURES),
        version=version,
    )
