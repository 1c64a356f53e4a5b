"""Replay a simulated day: the same requests, intents and customers, for any other engine.

The simulator draws a day's traffic and intents from their own random stream, seeded from
``(seed, stream, day, chunk)``, so they do not depend on the engine that served the day. A
:class:`WorldDay` rebuilds the world of one day from ``sim/world.json`` (catalog as of the day,
customers, query model) and yields the day's requests chunk by chunk, exactly as the served day
received them, together with the ground truth a counterfactual evaluation needs: each search's
intended entity, the true relevance of any (search, entity) pair, and what the customer would do
with any shown list (the world's click model).

This is what lets the closed-loop experiment (``ltrr.experiment``) compare retrieval policies on
the same query stream instead of on different random days.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from ltrr.schemas import INTENT_TYPES
from ltrr.sim.behaviour import ClickModel, Engagements, simulate_engagements
from ltrr.sim.catalog import daily_additions, initial_catalog
from ltrr.sim.queries import QUERY_CLASSES, Intents, QueryModel
from ltrr.sim.relevance import relevance
from ltrr.sim.scales import STREAM_ENGINE, STREAM_TRAFFIC, get_scale, make_rng
from ltrr.sim.tables import Requests
from ltrr.sim.traffic import Traffic, chunk_sizes, searches_on
from ltrr.sim.users import generate_users
from ltrr.sim.world import _EPOCH_1970, _US_PER_DAY, _chunk_requests, _codes, _DayContext, request_context

__all__ = ["ReplayChunk", "WorldDay", "request_context"]


@dataclass
class ReplayChunk:
    """One chunk of a replayed day.

    Attributes:
        chunk: the chunk number (as in the served day's part files).
        requests: the requests, identical to the served day's (same search ids).
        intents: what each customer wanted (intended entity, intent type, query class).
        traffic: user rows, hours, sessions of the chunk.
        engine_rng: a fresh copy of the engine stream the served day drew its plans and
            presentation from (replaying an engine with it reproduces the served day).
    """

    chunk: int
    requests: Requests
    intents: Intents
    traffic: Traffic
    engine_rng: np.random.Generator

    def __len__(self) -> int:
        return len(self.requests.search_ids)


class WorldDay:
    """The simulated world as it was on one day, rebuilt from ``sim/world.json``.

    Args:
        root: the world's data root (holds ``sim/world.json``).
        day: the day to rebuild; it must be on or after the world's epoch.

    Raises:
        FileNotFoundError: no ``sim/world.json`` under ``root``.
        ValueError: ``day`` is before the world's epoch.
    """

    def __init__(self, root: Path, day: dt.date) -> None:
        world_path = Path(root) / "sim" / "world.json"
        if not world_path.is_file():
            raise FileNotFoundError(f"no simulated world at {world_path}")
        world = json.loads(world_path.read_text(encoding="utf-8"))
        self.scale = get_scale(world["scale"])
        self.seed = int(world["seed"])
        epoch = dt.date.fromisoformat(world["epoch"])
        if day < epoch:
            raise ValueError(f"{day} is before the world's epoch {epoch}")
        self.day = day
        self.ds = day.isoformat()
        self.users = generate_users(self.scale, self.seed)
        state = initial_catalog(self.scale, self.seed, epoch)
        n_initial = len(state)
        d = epoch
        while d <= day:
            state.extend(daily_additions(state, n_initial, self.scale, self.seed, d))
            d += dt.timedelta(days=1)
        self.state = state
        self.catalog: pa.Table = state.to_arrow()
        self.cat = state.arrays()
        artist_names = [a.lower() if a else "" for a in state.artist]
        qm = QueryModel(self.cat, artist_names, self.cat.name_keys, self.users, day.toordinal())
        self.click_model = ClickModel()
        self._ctx = _DayContext(
            day=day,
            ds=self.ds,
            tag=day.strftime("%Y%m%d"),
            state=state,
            cat=self.cat,
            users=self.users,
            qm=qm,
            engine=None,  # type: ignore[arg-type]  # requests do not depend on the engine
            catalog_ids=self.catalog.column("entity_id").combine_chunks(),
            seed=self.seed,
            model=self.click_model,
            day_us=(day.toordinal() - _EPOCH_1970) * _US_PER_DAY,
        )

    def chunks(self) -> Iterator[ReplayChunk]:
        """The day's requests, chunk by chunk, as the served day received them."""
        day_ord = self.day.toordinal()
        sizes = chunk_sizes(searches_on(self.day, self.scale.searches_per_day), self.scale.chunk_size)
        for chunk, size in enumerate(sizes):
            rng_traffic = make_rng(self.seed, STREAM_TRAFFIC, day_ord, chunk)
            traffic, intents, req = _chunk_requests(self._ctx, chunk, size, rng_traffic)
            yield ReplayChunk(chunk, req, intents, traffic, make_rng(self.seed, STREAM_ENGINE, day_ord, chunk))

    def target_ids(self, chunk: ReplayChunk) -> list[str]:
        """The intended entity of each search of the chunk."""
        ids = self.state.ids
        return [ids[t] for t in chunk.intents.target.tolist()]

    @staticmethod
    def intent_types(chunk: ReplayChunk) -> list[str]:
        """The intent type (direct, broad, topic, ambiguous) of each search of the chunk."""
        return [INTENT_TYPES[i] for i in chunk.intents.itype.tolist()]

    @staticmethod
    def query_classes(chunk: ReplayChunk) -> list[str]:
        """The query class (head, torso, tail) of each search of the chunk."""
        return [QUERY_CLASSES[c] for c in chunk.intents.query_class.tolist()]

    def rows_of(self, entity_ids: Sequence[str]) -> np.ndarray:
        """Catalog rows of entity ids; -1 for an id the world does not know."""
        codes = _codes(pa.array(list(entity_ids), pa.string()), self._ctx.catalog_ids)
        return np.where(codes < len(self.state.ids), codes, -1)

    def relevance(self, chunk: ReplayChunk, search: np.ndarray, entity_ids: Sequence[str]) -> np.ndarray:
        """True relevance of (search of the chunk, entity) pairs, in [0, 1] (0 for unknown ids)."""
        if not len(search):
            return np.zeros(0)
        rows = self.rows_of(entity_ids)
        return relevance(np.asarray(search, np.int64), rows, chunk.intents, chunk.traffic.user, self.cat, self.users)

    def engagements(
        self,
        chunk: ReplayChunk,
        shown_search: np.ndarray,
        shown_position: np.ndarray,
        shown_entity_ids: Sequence[str],
        rng: np.random.Generator,
    ) -> Engagements:
        """What the customers would do with the given shown lists (the world's click model).

        Args:
            chunk: the replayed chunk.
            shown_search: search index within the chunk, per shown row (grouped by search).
            shown_position: 1-based position per shown row.
            shown_entity_ids: the entity per shown row.
            rng: the behaviour generator (pass equally seeded ones to compare engines with
                common random numbers).

        Returns:
            The engagement events (``search`` indexes the chunk's searches).
        """
        shown_search = np.asarray(shown_search, np.int64)
        rows = self.rows_of(shown_entity_ids)
        rel = self.relevance(chunk, shown_search, shown_entity_ids)
        safe = np.maximum(rows, 0)
        users = self.users
        user = chunk.traffic.user[shown_search]
        fit = users.taste_fit(user, self.cat.etype[safe].astype(np.int64), self.cat.group[safe])
        duration = np.where(rows >= 0, self.cat.duration_ms[safe], 180_000)
        return simulate_engagements(
            shown_search,
            np.asarray(shown_position, np.int64),
            rel,
            fit,
            duration,
            chunk.traffic.ts_us,
            rng,
            self.click_model,
        )
