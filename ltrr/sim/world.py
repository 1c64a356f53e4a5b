"""Run the simulated world: catalog, customers, searches through an engine, engagements, truth.

One call simulates ``days`` consecutive days. Each day:

1. the day's new entities are added and the full catalog snapshot is written;
2. an engine is built for the day (``engine_factory(catalog_table, day)``; the day-0 engine by
   default);
3. the day's searches are generated in chunks (``Scale.chunk_size``): traffic and intents from
   the traffic stream, the engine's choices from the engine stream, customer behaviour from the
   behaviour stream, each seeded from ``(seed, stream, day, chunk)``;
4. ``searches``, ``engagements`` and ``truth`` parts are written, and all four partitions of the
   day are published at once.

``sim/world.json`` describes the world (scale, seed, epoch, parameters, the true examination
curve) and accumulates per-day row counts across calls. The *epoch* (the world's first day) is
kept there: a later call with the same seed and scale continues the same world, so entity ids
and the catalog of a day do not depend on how the days were split into calls.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ltrr.schemas import DEVICES, ENTITY_TYPES, INTENT_TYPES, SCHEMA_VERSION
from ltrr.serving.day0 import day0_engine_factory
from ltrr.serving.engine import EngineFactory, SearchEngine
from ltrr.sim import words as W
from ltrr.sim.behaviour import ClickModel, simulate_engagements
from ltrr.sim.catalog import (
    ARTIST_ALPHA,
    FRESH_BOOST,
    FRESH_DAYS,
    OTHER_ALPHA,
    POP_CAP_QUANTILE,
    CatalogArrays,
    CatalogState,
    daily_additions,
    initial_catalog,
)
from ltrr.sim.io import DayWriter, write_json_atomic
from ltrr.sim.queries import (
    DIRECT_TYPE_SHARES,
    HEAD_SHARE,
    INTENT_SHARES,
    QUERY_CLASSES,
    TORSO_SHARE,
    Intents,
    QueryModel,
)
from ltrr.sim.relevance import relevance
from ltrr.sim.scales import STREAM_BEHAVIOUR, STREAM_ENGINE, STREAM_TRAFFIC, Scale, get_scale, make_rng
from ltrr.sim.surface import EXTRA_P, PARTIAL_P, TYPO_P
from ltrr.sim.tables import Requests, ServedLog, engagements_table, searches_table, truth_table
from ltrr.sim.traffic import WEEKDAY_FACTOR, WEEKDAY_NAMES, Traffic, chunk_sizes, sample_traffic, searches_on
from ltrr.sim.users import Users, generate_users

WORLD_FORMAT = 1
SHOWN_K = 10
"""Results shown per search."""
_EPOCH_1970 = dt.date(1970, 1, 1).toordinal()
_US_PER_DAY = 86_400 * 1_000_000
TABLES = [("raw", "catalog"), ("raw", "searches"), ("raw", "engagements"), ("sim", "truth")]


def simulate(
    out: Path,
    start: dt.date,
    days: int,
    scale: str,
    seed: int,
    exploration: float = 0.2,
    randomized_share: float = 0.05,
    engine_factory: EngineFactory | None = None,
) -> dict:
    """Simulate ``days`` days of the world from ``start`` and write them under ``out``.

    Args:
        out: data root; writes ``raw/{catalog,searches,engagements}/ds=D/`` and
            ``sim/truth/ds=D/`` plus ``sim/world.json``.
        start: first day to simulate.
        days: number of consecutive days (>= 1).
        scale: ``small``, ``medium`` or ``large``.
        seed: master seed (>= 0); the same arguments give byte-identical files.
        exploration: epsilon of the day-0 plan policy (used only without ``engine_factory``).
        randomized_share: share of searches the day-0 engine shows in random order (used only
            without ``engine_factory``).
        engine_factory: builds the serving engine of a day from its catalog snapshot; the day-0
            engine (lexical + popular) when None.

    Returns:
        ``{"days": [{"ds", "searches", "engagements", "catalog", "truth"}, ...], "out": str,
        "scale": str, "seed": int, "epoch": str, "world": path of world.json}``.

    Raises:
        ValueError: on invalid arguments, or when ``out`` holds a world of the same seed and
            scale that starts after ``start``.
    """
    if days < 1:
        raise ValueError(f"days must be >= 1, got {days}")
    if not 0.0 <= exploration <= 1.0:
        raise ValueError(f"exploration must be in [0, 1], got {exploration}")
    if not 0.0 <= randomized_share <= 1.0:
        raise ValueError(f"randomized_share must be in [0, 1], got {randomized_share}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    sc = get_scale(scale)
    out = Path(out)
    world_path = out / "sim" / "world.json"
    world = _load_world(world_path, sc, seed, start)
    epoch = dt.date.fromisoformat(world["epoch"])
    factory = engine_factory or day0_engine_factory(exploration, randomized_share)
    click_model = ClickModel()
    users = generate_users(sc, seed)
    state = initial_catalog(sc, seed, epoch)
    n_initial = len(state)
    day = epoch
    while day < start:
        state.extend(daily_additions(state, n_initial, sc, seed, day))
        day += dt.timedelta(days=1)
    world["parameters"] = _parameters(sc, click_model, exploration, randomized_share, engine_factory is None)
    summaries = []
    for i in range(days):
        day = start + dt.timedelta(days=i)
        state.extend(daily_additions(state, n_initial, sc, seed, day))
        summary = _simulate_day(out, day, state, users, sc, seed, factory, click_model)
        summaries.append({k: summary[k] for k in ("ds", "searches", "engagements", "catalog", "truth")})
        params = world["parameters"]
        summary["engine"] = {k: params[k] for k in ("engine", "exploration", "randomized_share")}
        world["days"][summary["ds"]] = summary
        write_json_atomic(world_path, world)
    return {
        "days": summaries,
        "out": str(out),
        "scale": sc.name,
        "seed": seed,
        "epoch": epoch.isoformat(),
        "world": str(world_path),
    }


def _load_world(path: Path, sc: Scale, seed: int, start: dt.date) -> dict:
    fresh = {
        "format_version": WORLD_FORMAT,
        "schema_version": SCHEMA_VERSION,
        "scale": sc.name,
        "scale_params": sc.to_dict(),
        "seed": seed,
        "epoch": start.isoformat(),
        "days": {},
    }
    if not path.exists():
        return fresh
    existing = json.loads(path.read_text(encoding="utf-8"))
    if (
        existing.get("scale") != sc.name
        or existing.get("seed") != seed
        or existing.get("format_version") != WORLD_FORMAT
    ):
        return fresh
    epoch = dt.date.fromisoformat(existing["epoch"])
    if start < epoch:
        raise ValueError(
            f"{path} holds a world (seed {seed}, scale {sc.name}) that starts on {epoch}; simulate days from "
            f"{epoch} on, or use an empty output directory"
        )
    existing.setdefault("days", {})
    return existing


def _parameters(sc: Scale, model: ClickModel, exploration: float, randomized_share: float, day0: bool) -> dict:
    from ltrr.retrieval.plans import DAY0_MENU, PLAN_MENU, TOTAL_BUDGET

    return {
        "shown_k": SHOWN_K,
        "click_model": model.to_dict(SHOWN_K),
        "intent_shares": dict(zip(INTENT_TYPES, INTENT_SHARES, strict=True)),
        "direct_type_shares": dict(zip(ENTITY_TYPES, DIRECT_TYPE_SHARES, strict=True)),
        "query_classes": {
            "head_share": HEAD_SHARE,
            "torso_share": TORSO_SHARE,
            "rule": "clean queries sorted by expected frequency; head = top queries making the first "
            f"{HEAD_SHARE:.0%} of expected traffic, torso = the next {TORSO_SHARE:.0%}, tail = the rest",
        },
        "surface": {"typo_p": TYPO_P, "partial_p": PARTIAL_P, "extra_words_p": EXTRA_P},
        "catalog": {
            "artist_alpha": ARTIST_ALPHA,
            "other_alpha": OTHER_ALPHA,
            "fresh_boost": FRESH_BOOST,
            "fresh_days": FRESH_DAYS,
            "popularity_cap_quantile": POP_CAP_QUANTILE,
        },
        "traffic": {"searches_per_day": sc.searches_per_day, "weekday_factor": list(WEEKDAY_FACTOR)},
        "engine": "day0" if day0 else "custom",
        "exploration": exploration if day0 else None,
        "randomized_share": randomized_share if day0 else None,
        "plan_menu": [p.to_dict() for p in PLAN_MENU],
        "day0_menu": [p.plan_id for p in DAY0_MENU],
        "total_budget": TOTAL_BUDGET,
    }


@dataclass
class _DayContext:
    day: dt.date
    ds: str
    tag: str
    state: CatalogState
    cat: CatalogArrays
    users: Users
    qm: QueryModel
    engine: SearchEngine
    catalog_ids: pa.Array
    seed: int
    model: ClickModel
    day_us: int


def _simulate_day(
    out: Path,
    day: dt.date,
    state: CatalogState,
    users: Users,
    sc: Scale,
    seed: int,
    factory: EngineFactory,
    model: ClickModel,
) -> dict:
    ds = day.isoformat()
    catalog = state.to_arrow()
    cat = state.arrays()
    artist_names = [a.lower() if a else "" for a in state.artist]
    qm = QueryModel(cat, artist_names, cat.name_keys, users, day.toordinal())
    engine = factory(catalog, day)
    ctx = _DayContext(
        day=day,
        ds=ds,
        tag=day.strftime("%Y%m%d"),
        state=state,
        cat=cat,
        users=users,
        qm=qm,
        engine=engine,
        catalog_ids=catalog.column("entity_id").combine_chunks(),
        seed=seed,
        model=model,
        day_us=(day.toordinal() - _EPOCH_1970) * _US_PER_DAY,
    )
    writer = DayWriter(out, ds, TABLES)
    versions: set[tuple[str, str, str]] = set()
    try:
        writer.write("catalog", 0, catalog)
        for chunk, size in enumerate(chunk_sizes(searches_on(day, sc.searches_per_day), sc.chunk_size)):
            searches, engagements, truth, chunk_versions = _simulate_chunk(ctx, chunk, size)
            writer.write("searches", chunk, searches)
            writer.write("engagements", chunk, engagements)
            writer.write("truth", chunk, truth)
            versions |= chunk_versions
        writer.publish()
    except BaseException:
        writer.abort()
        raise
    return {
        "ds": ds,
        "searches": writer.rows["searches"],
        "engagements": writer.rows["engagements"],
        "catalog": writer.rows["catalog"],
        "truth": writer.rows["truth"],
        "query_classes": qm.class_counts(),
        "versions": [
            dict(zip(("policy_version", "ranker_version", "bundle_version"), v, strict=True)) for v in sorted(versions)
        ],
    }


def _codes(entity_ids: pa.Array, catalog_ids: pa.Array) -> np.ndarray:
    """Catalog row of each id; unknown ids get distinct codes from ``len(catalog_ids)`` on."""
    codes = pc.index_in(entity_ids, value_set=catalog_ids)
    out = codes.fill_null(-1).to_numpy(zero_copy_only=False).astype(np.int64)
    unknown = np.flatnonzero(out < 0)
    if len(unknown):
        extra: dict[str, int] = {}
        for i in unknown.tolist():
            out[i] = len(catalog_ids) + extra.setdefault(entity_ids[i].as_py(), len(extra))
    return out


def _contexts(ctx: _DayContext, traffic: Traffic) -> list[dict[str, str]]:
    weekday = WEEKDAY_NAMES[ctx.day.weekday()]
    app = ctx.users.app_version
    return [
        {"surface": "search", "app_version": app[u], "local_hour": str(h), "weekday": weekday, "session_seq": str(q)}
        for u, h, q in zip(
            traffic.user.tolist(), traffic.local_hour.tolist(), traffic.session_seq.tolist(), strict=True
        )
    ]


def request_context(req: Requests, i: int) -> dict[str, str]:
    """What the engine sees of search ``i``: the logged context plus locale and device."""
    return {**req.contexts[i], "locale": req.locales[i], "device": req.devices[i]}


def _chunk_requests(
    ctx: _DayContext, chunk: int, size: int, rng_traffic: np.random.Generator
) -> tuple[Traffic, Intents, Requests]:
    """The chunk's traffic, intents and requests: drawn from the traffic stream alone, so every
    engine of the same world and day receives exactly the same requests."""
    users = ctx.users
    traffic = sample_traffic(size, ctx.day, users, rng_traffic)
    intents = ctx.qm.sample(traffic.user, rng_traffic)
    n = len(traffic)
    req = Requests(
        search_ids=[f"s{ctx.tag}-{chunk:03d}-{i:06d}" for i in range(n)],
        session_ids=[f"ss{ctx.tag}-{chunk:03d}-{s:06d}" for s in traffic.session.tolist()],
        user_ids=[users.ids[u] for u in traffic.user.tolist()],
        locales=[W.LOCALES[i] for i in users.locale[traffic.user].tolist()],
        devices=[DEVICES[d] for d in traffic.device.tolist()],
        contexts=_contexts(ctx, traffic),
        ts_us=ctx.day_us + traffic.ts_us,
        queries=intents.surface,
    )
    return traffic, intents, req


def _simulate_chunk(ctx: _DayContext, chunk: int, size: int) -> tuple[pa.Table, pa.Table, pa.Table, set]:
    """Generate, serve and score one chunk of searches; returns its three tables and versions."""
    day_ord = ctx.day.toordinal()
    rng_traffic = make_rng(ctx.seed, STREAM_TRAFFIC, day_ord, chunk)
    rng_engine = make_rng(ctx.seed, STREAM_ENGINE, day_ord, chunk)
    rng_behaviour = make_rng(ctx.seed, STREAM_BEHAVIOUR, day_ord, chunk)
    users = ctx.users
    traffic, intents, req = _chunk_requests(ctx, chunk, size, rng_traffic)
    n = len(traffic)

    served = ServedLog()
    engine = ctx.engine
    for i in range(n):
        served.add(engine.search(req.queries[i], req.user_ids[i], request_context(req, i), SHOWN_K, rng_engine))

    # Truth: relevance of every distinct candidate of each search. Ids the world does not know
    # (an engine bug) get codes past the catalog and relevance 0.
    n_known = len(ctx.state.ids)
    cand_code = _codes(served.cand_entities(), ctx.catalog_ids)
    cand_search = np.repeat(np.arange(n), np.diff(np.asarray(served.cand_off)))
    _, first = np.unique(cand_search * (int(cand_code.max(initial=0)) + 1) + cand_code, return_index=True)
    first.sort()
    t_search, t_code = cand_search[first], cand_code[first]
    t_rel = relevance(t_search, np.where(t_code < n_known, t_code, -1), intents, traffic.user, ctx.cat, users)
    t_off = np.searchsorted(t_search, np.arange(n + 1)).tolist()
    t_ent = served.cand_entities().take(pa.array(first, pa.int64()))

    # Behaviour on the shown lists.
    shown_code = _codes(served.shown_entities(), ctx.catalog_ids)
    shown_row = np.where(shown_code < n_known, shown_code, -1)
    shown_search = np.repeat(np.arange(n), np.diff(np.asarray(served.shown_off)))
    shown_pos = np.asarray(served.s_pos, dtype=np.int64)
    shown_rel = relevance(shown_search, shown_row, intents, traffic.user, ctx.cat, users)
    safe = np.maximum(shown_row, 0)
    fit = users.taste_fit(traffic.user[shown_search], ctx.cat.etype[safe].astype(np.int64), ctx.cat.group[safe])
    duration = np.where(shown_row >= 0, ctx.cat.duration_ms[safe], 180_000)
    eng = simulate_engagements(
        shown_search, shown_pos, shown_rel, fit, duration, traffic.ts_us, rng_behaviour, ctx.model
    )

    searches = searches_table(req, served)
    engagements = engagements_table(
        req, served, eng.search, eng.shown, eng.action, eng.amount_ms, ctx.day_us + eng.ts_us
    )
    truth = truth_table(
        req.search_ids,
        [INTENT_TYPES[i] for i in intents.itype.tolist()],
        [ctx.state.ids[t] for t in intents.target.tolist()],
        intents.canonical,
        [QUERY_CLASSES[c] for c in intents.query_class.tolist()],
        intents.has_typo,
        t_off,
        t_ent,
        t_rel,
    )
    return searches, engagements, truth, set(served.versions)
