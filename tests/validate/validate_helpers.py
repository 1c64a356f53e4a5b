"""Helpers of the validation tests: a tiny, hand-checkable valid day of raw logs; readers.

The valid day (``D = 2026-01-07``), every value derivable by hand:

- catalog: 20 entities ``e00``..``e19`` (types cycle through ``ENTITY_TYPES``);
- searches: 30 searches ``s00``..``s29`` at ``search_ts(i)`` = ``D 00:30 + i * 46 min``
  (23 h spread over the searches); each has 4
  candidates ``e{(i+k) % 20}`` (k = 0..3, rank k+1) and shows the first 3 at positions 1..3;
- engagements: 40 engagements ``g00``..``g39``; ``g{j}`` belongs to search ``s{j % 30}``,
  one minute after it, on its shown entity at position ``j % 3 + 1``.

Tests start from this day, change a few rows by hand and write it as raw Parquet.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ltrr import schemas
from ltrr.faults import writable_schema
from ltrr.zones import partition_path

DS = "2026-01-07"
DAY_START = dt.datetime(2026, 1, 7, tzinfo=dt.UTC)

Rows = list[dict[str, Any]]


def search_ts(i: int, n_searches: int = 30) -> dt.datetime:
    """When search ``i`` of a day with ``n_searches`` searches happens (all within 00:30-23:30)."""
    return DAY_START + dt.timedelta(minutes=30) + i * dt.timedelta(hours=23) / n_searches


def valid_day(n_entities: int = 20, n_searches: int = 30, n_engagements: int = 40) -> dict[str, Rows]:
    """The rows of a valid day (see the module docstring)."""
    catalog = [
        {
            "entity_id": f"e{i:02d}",
            "entity_type": schemas.ENTITY_TYPES[i % len(schemas.ENTITY_TYPES)],
            "title": f"title {i}",
            "artist_id": f"a{i % 4}",
            "artist": f"artist {i % 4}",
            "album": None,
            "parent_id": None,
            "genres": ["pop"] if i % 2 else ["rock", "indie"],
            "topics": [],
            "language": "en",
            "popularity": float(i) / n_entities,
            "duration_ms": 180_000 + i,
            "added_ds": dt.date(2025, 12, 1),
            "description": f"entity number {i}",
        }
        for i in range(n_entities)
    ]
    searches = []
    for i in range(n_searches):
        entities = [f"e{(i + k) % n_entities:02d}" for k in range(4)]
        searches.append(
            {
                "search_id": f"s{i:02d}",
                "ts": search_ts(i, n_searches),
                "user_id": f"u{i % 5}",
                "session_id": f"sess{i % 7}",
                "query": f"query {i}",
                "locale": "en-US",
                "device": schemas.DEVICES[i % len(schemas.DEVICES)],
                "context": [("hour", str(i % 24))],
                "plan_id": "lexical10+memory5",
                "plan": [{"strategy": "lexical", "budget": 10}, {"strategy": "memory", "budget": 5}],
                "propensity": 0.5,
                "policy_version": "pv1",
                "ranker_version": "rv1",
                "bundle_version": "bv1",
                "candidates": [
                    {"entity_id": e, "strategy": "lexical", "rank": k + 1, "score": 1.0 / (k + 1)}
                    for k, e in enumerate(entities)
                ],
                "shown": [
                    {"entity_id": e, "position": k + 1, "score": 1.0 / (k + 1)} for k, e in enumerate(entities[:3])
                ],
                "shown_randomized": False,
            }
        )
    engagements = []
    for j in range(n_engagements):
        search = searches[j % n_searches]
        position = j % 3 + 1
        action = schemas.ACTIONS[j % len(schemas.ACTIONS)]
        engagements.append(
            {
                "engagement_id": f"g{j:02d}",
                "search_id": search["search_id"],
                "ts": search["ts"] + dt.timedelta(minutes=1),
                "user_id": search["user_id"],
                "entity_id": search["shown"][position - 1]["entity_id"],
                "position": position,
                "action": action,
                "amount_ms": 30_000 if action == "play" else None,
            }
        )
    return {"catalog": catalog, "searches": searches, "engagements": engagements}


def write_raw(
    data_root: Path, day: dict[str, Rows], ds: str = DS, extra_files: dict[str, pa.Table] | None = None
) -> None:
    """Write a day's rows as raw partitions (``part-0.parquet`` each, contract types).

    Args:
        data_root: root of the zones.
        day: table -> rows.
        ds: the day.
        extra_files: ``"<table>/<file name>"`` -> an Arrow table written beside it (for
            files with another schema).
    """
    for table, rows in day.items():
        path = partition_path(data_root, "raw", table, ds)
        path.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=writable_schema(table)), path / "part-0.parquet")
    for name, content in (extra_files or {}).items():
        table, file_name = name.split("/")
        pq.write_table(content, partition_path(data_root, "raw", table, ds) / file_name)


def read_zone(data_root: Path, zone: str, table: str, ds: str = DS) -> pa.Table:
    """Read a written partition with pyarrow (independently of the Spark code under test)."""
    path = partition_path(data_root, zone, table, ds)
    files = sorted(p for p in path.iterdir() if p.suffix == ".parquet" and not p.name.startswith(("_", ".")))
    return pa.concat_tables([pq.read_table(f) for f in files]) if files else pa.table({})


def count_rows(data_root: Path, zone: str, table: str, ds: str = DS) -> int:
    """Rows in a partition, from the Parquet footers (files may have different schemas)."""
    path = partition_path(data_root, zone, table, ds)
    files = [p for p in path.iterdir() if p.suffix == ".parquet" and not p.name.startswith(("_", "."))]
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def load_report(data_root: Path, ds: str = DS) -> dict[str, Any]:
    """The day's report.json, parsed."""
    return json.loads((data_root / "validation" / f"ds={ds}" / "report.json").read_text())
