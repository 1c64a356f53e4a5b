"""Turn one chunk of served requests into Arrow tables with the exact log schemas.

Columns are built flat (one Python list or numpy array per field, list offsets for nested
fields) and assembled with ``arrow_schema(...)``, which is much faster than row dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from ltrr.schemas import ACTIONS, arrow_schema
from ltrr.serving.engine import CandidateList, SearchOutcome
from ltrr.sim.io import list_array, table_from_columns

_TS = pa.timestamp("us", tz="UTC")


@dataclass
class Requests:
    """What the world sent to the engine, one entry per search of a chunk."""

    search_ids: list[str]
    session_ids: list[str]
    user_ids: list[str]
    locales: list[str]
    devices: list[str]
    contexts: list[dict[str, str]]
    ts_us: np.ndarray
    """Microseconds since 1970-01-01 UTC."""
    queries: list[str]


@dataclass
class ServedLog:
    """The engine's outcomes of a chunk, flattened into columns (``*_off`` are list offsets)."""

    plan_ids: list[str] = field(default_factory=list)
    plan_off: list[int] = field(default_factory=lambda: [0])
    plan_strategy: list[str] = field(default_factory=list)
    plan_budget: list[int] = field(default_factory=list)
    propensity: list[float] = field(default_factory=list)
    versions: list[tuple[str, str, str]] = field(default_factory=list)
    cand_off: list[int] = field(default_factory=lambda: [0])
    c_ent: list[str] = field(default_factory=list)
    c_strategy: list[str] = field(default_factory=list)
    c_rank: list[int] = field(default_factory=list)
    c_score: list[float] = field(default_factory=list)
    shown_off: list[int] = field(default_factory=lambda: [0])
    s_ent: list[str] = field(default_factory=list)
    s_pos: list[int] = field(default_factory=list)
    s_score: list[float] = field(default_factory=list)
    randomized: list[bool] = field(default_factory=list)

    def cand_entities(self) -> pa.Array:
        """The candidates' entity ids as one Arrow array (built once)."""
        if getattr(self, "_cand_arr", None) is None or len(self._cand_arr) != len(self.c_ent):
            self._cand_arr = pa.array(self.c_ent, pa.string())
        return self._cand_arr

    def shown_entities(self) -> pa.Array:
        """The shown entity ids as one Arrow array (built once)."""
        if getattr(self, "_shown_arr", None) is None or len(self._shown_arr) != len(self.s_ent):
            self._shown_arr = pa.array(self.s_ent, pa.string())
        return self._shown_arr

    def add(self, o: SearchOutcome) -> None:
        """Append one outcome."""
        self.plan_ids.append(o.plan_id)
        for step in o.plan:
            self.plan_strategy.append(step.strategy)
            self.plan_budget.append(step.budget)
        self.plan_off.append(len(self.plan_strategy))
        self.propensity.append(o.propensity)
        v = o.versions
        self.versions.append((v["policy_version"], v["ranker_version"], v["bundle_version"]))
        cands = o.candidates
        if isinstance(cands, CandidateList):
            self.c_ent += cands.entity_ids
            self.c_strategy += cands.strategies
            self.c_rank += cands.ranks
            self.c_score += cands.scores
        elif cands:
            e, s, r, sc = zip(*cands, strict=True)
            self.c_ent.extend(e)
            self.c_strategy.extend(s)
            self.c_rank.extend(r)
            self.c_score.extend(sc)
        self.cand_off.append(len(self.c_ent))
        if o.shown:
            e, p, sc = zip(*o.shown, strict=True)
            self.s_ent.extend(e)
            self.s_pos.extend(p)
            self.s_score.extend(sc)
        self.shown_off.append(len(self.s_ent))
        self.randomized.append(bool(o.shown_randomized))


def _str(values: list[str]) -> pa.Array:
    return pa.array(values, pa.string())


def searches_table(req: Requests, served: ServedLog) -> pa.Table:
    """The ``searches`` table of a chunk."""
    schema = arrow_schema("searches")
    ctx_off, keys, vals = [0], [], []
    for c in req.contexts:
        keys.extend(c.keys())
        vals.extend(c.values())
        ctx_off.append(len(keys))
    context = pa.MapArray.from_arrays(
        pa.array(ctx_off, pa.int32()), _str(keys), _str(vals), type=schema.field("context").type
    )
    pv, rv, bv = (list(x) for x in zip(*served.versions, strict=True)) if served.versions else ([], [], [])
    plan = list_array(
        served.plan_off,
        [_str(served.plan_strategy), pa.array(served.plan_budget, pa.int32())],
        schema.field("plan").type,
    )
    candidates = list_array(
        served.cand_off,
        [
            _str(served.c_ent),
            _str(served.c_strategy),
            pa.array(served.c_rank, pa.int32()),
            pa.array(served.c_score, pa.float64()),
        ],
        schema.field("candidates").type,
    )
    shown = list_array(
        served.shown_off,
        [served.shown_entities(), pa.array(served.s_pos, pa.int32()), pa.array(served.s_score, pa.float64())],
        schema.field("shown").type,
    )
    columns = {
        "search_id": _str(req.search_ids),
        "ts": pa.array(req.ts_us, pa.int64()).cast(_TS),
        "user_id": _str(req.user_ids),
        "session_id": _str(req.session_ids),
        "query": _str(req.queries),
        "locale": _str(req.locales),
        "device": _str(req.devices),
        "context": context,
        "plan_id": _str(served.plan_ids),
        "plan": plan,
        "propensity": pa.array(served.propensity, pa.float64()),
        "policy_version": _str(pv),
        "ranker_version": _str(rv),
        "bundle_version": _str(bv),
        "candidates": candidates,
        "shown": shown,
        "shown_randomized": pa.array(served.randomized, pa.bool_()),
    }
    return table_from_columns("searches", columns)


def engagements_table(
    req: Requests,
    served: ServedLog,
    search: np.ndarray,
    shown: np.ndarray,
    action: np.ndarray,
    amount_ms: np.ndarray,
    ts_us: np.ndarray,
) -> pa.Table:
    """The ``engagements`` table of a chunk.

    Args:
        req: the chunk's requests.
        served: the chunk's outcomes.
        search: search index per event (events grouped by search).
        shown: index into the flattened shown list per event.
        action: index into ``ACTIONS`` per event.
        amount_ms: play/skip ms per event, -1 for null.
        ts_us: event time, microseconds since 1970-01-01 UTC.

    Returns:
        The table; ``engagement_id`` is ``<search_id>-eNN`` (NN numbers a search's events).
    """
    first = np.searchsorted(search, search, side="left")
    j = np.arange(len(search)) - first
    sid = req.search_ids
    s_list = search.tolist()
    columns = {
        "engagement_id": _str([f"{sid[a]}-e{b:02d}" for a, b in zip(s_list, j.tolist(), strict=True)]),
        "search_id": _str([sid[a] for a in s_list]),
        "ts": pa.array(ts_us, pa.int64()).cast(_TS),
        "user_id": _str([req.user_ids[a] for a in s_list]),
        "entity_id": served.shown_entities().take(pa.array(shown, pa.int64())),
        "position": pa.array(np.asarray(served.s_pos, dtype=np.int64)[shown] if len(shown) else [], pa.int32()),
        "action": _str([ACTIONS[a] for a in action.tolist()]),
        "amount_ms": pa.array(amount_ms, pa.int64(), mask=amount_ms < 0),
    }
    return table_from_columns("engagements", columns)


def truth_table(
    search_ids: list[str],
    intent_types: list[str],
    intended: list[str],
    canonical: list[str],
    query_class: list[str],
    has_typo: np.ndarray,
    rel_off: list[int],
    rel_entity: pa.Array,
    rel_value: np.ndarray,
) -> pa.Table:
    """The ``truth`` table of a chunk (``rel_*``: flattened relevance lists with offsets)."""
    schema = arrow_schema("truth")
    columns = {
        "search_id": _str(search_ids),
        "intent_type": _str(intent_types),
        "intended_entity_id": _str(intended),
        "canonical_query": _str(canonical),
        "query_class": _str(query_class),
        "has_typo": pa.array(has_typo, pa.bool_()),
        "relevance": list_array(
            rel_off, [_str(rel_entity), pa.array(rel_value, pa.float64())], schema.field("relevance").type
        ),
    }
    return table_from_columns("truth", columns)
