"""The ``searches`` log row of a served request (the contract of docs/schemas.md).

A serving process logs one row per request: the request (ids, time, query, locale, device,
context) and what the engine did (``SearchOutcome``: plan, propensity, candidates with
provenance, shown results, versions). :func:`search_record` builds that row as a plain dict;
:func:`records_table` turns rows into an Arrow table with the exact ``searches`` schema, which
is what the nightly input validation reads.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from ltrr.schemas import arrow_schema
from ltrr.serving.engine import SearchOutcome

CONTEXT_EXCLUDED = frozenset({"locale", "device"})
"""Request keys logged in their own columns rather than in ``context``."""


def search_record(
    outcome: SearchOutcome,
    *,
    search_id: str,
    ts: dt.datetime,
    user_id: str,
    session_id: str,
    query: str,
    locale: str,
    device: str,
    context: Mapping[str, str],
) -> dict[str, Any]:
    """The ``searches`` row of one served request.

    Args:
        outcome: what the engine returned.
        search_id, session_id: the request's ids.
        ts: request time (UTC; a naive datetime is taken as UTC).
        user_id, query, locale, device: the request.
        context: the request context (``locale`` and ``device`` keys are dropped: they have columns).

    Returns:
        Column name -> value, in the schema's column order.
    """
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=dt.UTC)
    return {
        "search_id": search_id,
        "ts": ts,
        "user_id": user_id,
        "session_id": session_id,
        "query": query,
        "locale": locale,
        "device": device,
        "context": [(k, str(v)) for k, v in context.items() if k not in CONTEXT_EXCLUDED],
        "plan_id": outcome.plan_id,
        "plan": [{"strategy": s.strategy, "budget": s.budget} for s in outcome.plan],
        "propensity": float(outcome.propensity),
        "policy_version": outcome.versions["policy_version"],
        "ranker_version": outcome.versions["ranker_version"],
        "bundle_version": outcome.versions["bundle_version"],
        "candidates": [
            {"entity_id": c.entity_id, "strategy": c.strategy, "rank": int(c.rank), "score": float(c.score)}
            for c in outcome.candidates
        ],
        "shown": [
            {"entity_id": s.entity_id, "position": int(s.position), "score": float(s.score)} for s in outcome.shown
        ],
        "shown_randomized": bool(outcome.shown_randomized),
    }


def records_table(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows of :func:`search_record` as an Arrow table with the ``searches`` schema.

    Raises:
        pyarrow.ArrowInvalid / ArrowTypeError: a row does not fit the schema.
    """
    return pa.Table.from_pylist(list(records), schema=arrow_schema("searches"))
