"""The bandit's context features: their spec, and how serving computes them for one request.

The nightly job computes these features in Spark SQL (``sql/bandit/bandit_rows.sql``) for every
logged search; a serving process computes them here, from the request and small lookup tables
built from the same artifacts the job reads (the counters of the window ending the day before
and the memory table of that day). Both sides must agree exactly, or the policy chooses with
features it was not trained on: ``tests/bandit/test_bandit_dataset.py`` compares them row by row.

| feature | kind | what |
|---|---|---|
| ``query_chars``, ``query_tokens`` | numeric | length of the normalized query in characters and tokens |
| ``query_is_entity_name`` | numeric | 1 when the normalized query equals an entity title or artist name |
| ``query_searches`` | numeric | log1p(searches of the query in the window): its frequency class |
| ``memory_entities``, ``memory_top_score`` | numeric | log1p(entities in memory for the query), best score |
| ``user_searches``, ``user_positives`` | numeric | log1p of the customer's searches and positive engagements |
| ``user_top_genre`` | categorical | the customer's most engaged genre (``none`` without history) |
| ``hour``, ``weekend``, ``session_seq`` | numeric | local hour, Saturday/Sunday, rank of the search in its session |
| ``weekday``, ``device``, ``locale``, ``language`` | categorical | request context; language = locale's first part |
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ltrr.bandit.plan_features import ContextFeature, ContextSpec
from ltrr.text.normalize import normalize_query

BANDIT_CONTEXT_SPEC = ContextSpec(
    (
        ContextFeature("query_chars", "numeric", 0.0),
        ContextFeature("query_tokens", "numeric", 0.0),
        ContextFeature("query_is_entity_name", "numeric", 0.0),
        ContextFeature("query_searches", "numeric", 0.0),
        ContextFeature("memory_entities", "numeric", 0.0),
        ContextFeature("memory_top_score", "numeric", 0.0),
        ContextFeature("user_searches", "numeric", 0.0),
        ContextFeature("user_positives", "numeric", 0.0),
        ContextFeature("user_top_genre", "categorical", "none"),
        ContextFeature("hour", "numeric", 12.0),
        ContextFeature("weekend", "numeric", 0.0),
        ContextFeature("session_seq", "numeric", 1.0),
        ContextFeature("weekday", "categorical", "unknown"),
        ContextFeature("device", "categorical", "mobile"),
        ContextFeature("locale", "categorical", "en-US"),
        ContextFeature("language", "categorical", "en"),
    )
)
"""The context features the nightly policy learns from (categories are learned at training)."""

WEEKEND_DAYS = frozenset({"sat", "sun"})


@dataclass(frozen=True)
class ContextLookups:
    """What serving needs besides the request to compute the context features.

    Attributes:
        entity_names: normalized entity titles and artist names.
        memory: query_key -> (entities in the memory table, best score).
        query_searches: query_key -> searches in the counters' window.
        users: user_id -> (searches, positive engagements) in the window.
        user_top_genre: user_id -> most engaged genre.
    """

    entity_names: frozenset[str] = frozenset()
    memory: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    query_searches: Mapping[str, int] = field(default_factory=dict)
    users: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    user_top_genre: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_frames(cls, entity_names: pd.Series, memory: pd.DataFrame, history: pd.DataFrame) -> ContextLookups:
        """Build the lookups from the artifacts the nightly job reads.

        Args:
            entity_names: distinct normalized titles and artist names (``query_key``).
            memory: the memory table (``query_key, entity_id, score``), may be empty.
            history: the counters in the long form of ``sql/rank/history_stats.sql``
                (``table, key1, key2, n1, n2``).

        Returns:
            The lookups, with the same tie-breaks as the SQL (top genre: most positives, then
            the smallest genre name).
        """
        mem: dict[str, tuple[int, float]] = {}
        if len(memory):
            grouped = memory.groupby("query_key")["score"].agg(["size", "max"])
            mem = {
                k: (int(n), float(s)) for k, n, s in zip(grouped.index, grouped["size"], grouped["max"], strict=True)
            }
        by_table = {t: g for t, g in history.groupby("table")} if len(history) else {}
        query = by_table.get("query", history.iloc[:0])
        user = by_table.get("user", history.iloc[:0])
        genre = by_table.get("genre", history.iloc[:0])
        top = genre.sort_values(["key1", "n2", "key2"], ascending=[True, False, True]).drop_duplicates("key1")
        return cls(
            entity_names=frozenset(str(k) for k in entity_names),
            memory=mem,
            query_searches={str(k): int(n) for k, n in zip(query["key1"], query["n1"], strict=True)},
            users={str(k): (int(a), int(b)) for k, a, b in zip(user["key1"], user["n1"], user["n2"], strict=True)},
            user_top_genre={str(k): str(g) for k, g in zip(top["key1"], top["key2"], strict=True)},
        )


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan  # missing: the spec's default applies


def request_context(query: str, user_id: str, context: Mapping[str, str], lookups: ContextLookups) -> dict[str, Any]:
    """The context features of one request, as the nightly job computes them for its log row.

    Args:
        query: the raw query.
        user_id: the customer.
        context: the request context: ``local_hour``, ``weekday``, ``session_seq``, ``device``,
            ``locale`` (missing keys give the spec's defaults).
        lookups: the counters and memory summary of the day before.

    Returns:
        Feature name -> value (float, or string for categorical features).
    """
    key = normalize_query(query or "")
    tokens = len(key.split(" ")) if key else 0
    mem_n, mem_top = lookups.memory.get(key, (0, 0.0))
    u_searches, u_pos = lookups.users.get(user_id, (0, 0))
    weekday = context.get("weekday")
    locale = context.get("locale")
    return {
        "query_chars": float(len(key)),
        "query_tokens": float(tokens),
        "query_is_entity_name": 1.0 if key in lookups.entity_names else 0.0,
        "query_searches": math.log1p(lookups.query_searches.get(key, 0)),
        "memory_entities": math.log1p(mem_n),
        "memory_top_score": float(mem_top),
        "user_searches": math.log1p(u_searches),
        "user_positives": math.log1p(u_pos),
        "user_top_genre": lookups.user_top_genre.get(user_id, "none"),
        "hour": _float(context.get("local_hour")),
        "weekend": 1.0 if weekday in WEEKEND_DAYS else 0.0,
        "session_seq": _float(context.get("session_seq")),
        "weekday": weekday if weekday is not None else "unknown",
        "device": context.get("device"),
        "locale": locale,
        "language": locale.split("-")[0] if locale is not None else None,
    }
