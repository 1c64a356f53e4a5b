"""Inject a known number of bad rows into a day's raw logs, to check input validation.

``inject_bad_rows`` rewrites the raw partitions of a *valid* day (pyarrow only, no Spark)
so that validation must quarantine exactly the returned number of rows per
``(table, reason)``. Tests use it, and so can ``make run`` users (``ltrr inject-faults``
wraps it)::

    python -c "from ltrr.faults import inject_bad_rows; print(inject_bad_rows('data', '2026-01-07', 0.01, 1))"
    LTRR_MAX_REJECTED_SHARE=1 spark-submit jobs/validate_inputs.py --ds 2026-01-07  # compare report.json

What is injected (each kind on its own rows, chosen at random but deterministically from
``seed``; ``per kind = max(1, round(share * rows / kinds))`` for each table):

- catalog (appended rows, never referenced): ``null_id`` (entity_id null),
  ``duplicate_id`` (copy of an entity), ``malformed_value:entity_type`` (a new entity
  of type ``gizmo``);
- searches (existing rows corrupted): ``null_id`` (user_id null),
  ``propensity_out_of_range`` (0, 1.5, NaN in turn), ``timestamp_outside_day`` (D+1 00:00
  exactly, or D-1 23:59:59.999999), ``unknown_entity`` (a candidate entity id that is not
  in the catalog), ``malformed_value:device`` (``fridge``); plus ``duplicate_id``
  (appended copies). The engagements of every corrupted search are then quarantined as
  ``search_quarantined``, and that cascade is counted too;
- engagements (rows of untouched searches): ``null_id`` (engagement_id null),
  ``malformed_value:action`` (``dance``), ``unknown_search``, ``unknown_entity``,
  ``timestamp_outside_day``, ``duplicate_id`` (appended copies), and a wrong-type column:
  a separate file ``fault-wrongtype.parquet`` whose ``position`` column is a string, holding
  as many valid rows (``"3"``, accepted after the cast) as unreadable ones (``"n/a"``,
  ``malformed_value:position``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ltrr.schemas import arrow_schema
from ltrr.zones import parse_ds, partition_path

Rows = list[dict[str, Any]]

MAIN_FILE = "part-faults.parquet"
WRONG_TYPE_FILE = "fault-wrongtype.parquet"

KINDS: dict[str, tuple[str, ...]] = {
    "catalog": ("null_id", "duplicate_id", "malformed_value:entity_type"),
    "searches": (
        "null_id",
        "propensity_out_of_range",
        "timestamp_outside_day",
        "unknown_entity",
        "malformed_value:device",
        "duplicate_id",
    ),
    "engagements": (
        "null_id",
        "malformed_value:action",
        "unknown_search",
        "unknown_entity",
        "timestamp_outside_day",
        "duplicate_id",
        "malformed_value:position",
    ),
}
"""The reasons injected per table (``search_quarantined`` comes on top, as a cascade)."""


def writable_schema(table: str) -> pa.Schema:
    """The contract's Arrow schema with top-level nullability relaxed.

    A buggy writer can produce nulls in required columns; pyarrow refuses to write them
    under a non-nullable field, so bad rows are written with this schema (the types are
    the contract's, so Spark still reads the files as conforming).
    """
    schema = arrow_schema(table)
    return pa.schema([f.with_nullable(True) for f in schema], metadata=schema.metadata)


def _read_day(path: Path, table: str) -> tuple[pa.Table, list[Path]]:
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(("_", ".")))
    if not files:
        raise FileNotFoundError(f"raw partition has no data files: {path}")
    target = writable_schema(table)
    try:
        parts = [pq.read_table(f).select(target.names).cast(target) for f in files]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError) as exc:
        raise ValueError(f"inject_bad_rows needs a day written with the contract schema: {path}: {exc}") from exc
    return pa.concat_tables(parts), files


def _per_kind(share: float, rows: int, kinds: int) -> int:
    return max(1, round(share * rows / kinds))


def _pick(rng: np.random.Generator, eligible: list[int], counts: list[int], what: str) -> list[list[int]]:
    """Disjoint random index sets of the given sizes from ``eligible``."""
    need = sum(counts)
    if need > len(eligible):
        raise ValueError(f"{what}: {need} rows needed for the requested share, only {len(eligible)} eligible")
    order = [eligible[i] for i in rng.permutation(len(eligible))[:need]]
    out, start = [], 0
    for n in counts:
        out.append(sorted(order[start : start + n]))
        start += n
    return out


def _faulty_catalog(table: pa.Table, n: int, rng: np.random.Generator) -> tuple[pa.Table, dict[str, int]]:
    null_rows, dup_rows, type_rows = _pick(rng, list(range(table.num_rows)), [n, n, n], "catalog")
    extra: Rows = []
    for i, row in enumerate(table.take(null_rows).to_pylist()):
        extra.append({**row, "entity_id": None, "title": f"fault null id {i}"})
    extra.extend(table.take(dup_rows).to_pylist())
    for i, row in enumerate(table.take(type_rows).to_pylist()):
        extra.append({**row, "entity_id": f"fault-entity-{i}", "entity_type": "gizmo"})
    out = pa.concat_tables([table, pa.Table.from_pylist(extra, schema=table.schema)])
    return out, {kind: n for kind in KINDS["catalog"]}


def _replace_rows(
    table: pa.Table, rows: dict[int, dict[str, Any]], appended: Rows, drop: Collection[int] = ()
) -> pa.Table:
    """``table`` without the ``drop`` rows, with ``rows`` replaced (moved to the end) and rows appended."""
    keep = np.ones(table.num_rows, dtype=bool)
    keep[[*rows, *drop]] = False
    changed = pa.Table.from_pylist([rows[i] for i in sorted(rows)] + appended, schema=table.schema)
    return pa.concat_tables([table.filter(pa.array(keep)), changed])


def _faulty_searches(
    table: pa.Table, n: int, rng: np.random.Generator, ds: str
) -> tuple[pa.Table, dict[str, int], set[str]]:
    eligible = [i for i, c in enumerate(table.column("candidates").to_pylist()) if c]
    null_r, prop_r, ts_r, ent_r, dev_r, dup_r = _pick(rng, eligible, [n] * 6, "searches")
    day = parse_ds(ds)
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    bad_ts = [start + dt.timedelta(days=1), start - dt.timedelta(microseconds=1)]
    bad_propensity = [0.0, 1.5, math.nan]
    rows: dict[int, dict[str, Any]] = {}
    corrupted = set()
    for kind_rows, change in (
        (null_r, lambda r, k: {"user_id": None}),
        (prop_r, lambda r, k: {"propensity": bad_propensity[k % 3]}),
        (ts_r, lambda r, k: {"ts": bad_ts[k % 2]}),
        (
            ent_r,
            lambda r, k: {
                "candidates": [{**r["candidates"][0], "entity_id": f"fault-missing-entity-s{k}"}, *r["candidates"][1:]]
            },
        ),
        (dev_r, lambda r, k: {"device": "fridge"}),
    ):
        for k, (i, row) in enumerate(zip(kind_rows, table.take(kind_rows).to_pylist(), strict=True)):
            rows[i] = {**row, **change(row, k)}
            corrupted.add(row["search_id"])
    appended = table.take(dup_r).to_pylist()
    return _replace_rows(table, rows, appended), {kind: n for kind in KINDS["searches"]}, corrupted


def _faulty_engagements(
    table: pa.Table, n: int, rng: np.random.Generator, ds: str, bad_searches: set[str]
) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    search_ids = table.column("search_id").to_pylist()
    eligible = [i for i, s in enumerate(search_ids) if s not in bad_searches]
    picks = _pick(rng, eligible, [n] * 8, "engagements")
    null_r, act_r, srch_r, ent_r, ts_r, dup_r, wrong_r, typed_ok_r = picks
    day = parse_ds(ds)
    before_day = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - dt.timedelta(hours=1)
    rows: dict[int, dict[str, Any]] = {}
    for kind_rows, change in (
        (null_r, lambda k: {"engagement_id": None}),
        (act_r, lambda k: {"action": "dance"}),
        (srch_r, lambda k: {"search_id": f"fault-missing-search-{k}"}),
        (ent_r, lambda k: {"entity_id": f"fault-missing-entity-g{k}"}),
        (ts_r, lambda k: {"ts": before_day}),
    ):
        for k, (i, row) in enumerate(zip(kind_rows, table.take(kind_rows).to_pylist(), strict=True)):
            rows[i] = {**row, **change(k)}
    appended = table.take(dup_r).to_pylist()
    main = _replace_rows(table, rows, appended, drop=set(wrong_r) | set(typed_ok_r))
    wrong = [{**r, "position": "n/a"} for r in table.take(wrong_r).to_pylist()]
    wrong += [{**r, "position": str(r["position"])} for r in table.take(typed_ok_r).to_pylist()]
    position = table.schema.get_field_index("position")
    wrong_schema = table.schema.set(position, pa.field("position", pa.string(), True))
    counts = {kind: n for kind in KINDS["engagements"]}
    return main, pa.Table.from_pylist(wrong, schema=wrong_schema), counts


def _rewrite(path: Path, old_files: list[Path], tables: dict[str, pa.Table]) -> None:
    """Replace a partition's data files by ``tables`` (file name -> content)."""
    for name, content in tables.items():
        pq.write_table(content, path / f".{name}.tmp")
    for old in old_files:
        old.unlink()
    for name in tables:
        os.replace(path / f".{name}.tmp", path / name)


def inject_bad_rows(data_root: Path | str, ds: str, share: float, seed: int) -> dict[tuple[str, str], int]:
    """Corrupt a valid day's raw partitions with a known number of bad rows of each kind.

    Args:
        data_root: root of the zones (``<data_root>/raw/<table>/ds=D/`` is rewritten).
        ds: the day, ``YYYY-MM-DD``; its raw partitions must hold valid data written with
            the contract schema (as the simulator writes it).
        share: about this share of each table's rows is corrupted (at least one row per
            kind); must be in ``(0, 0.5]``.
        seed: the same seed and input give the same files.

    Returns:
        ``(table, reason) -> number of rows`` validation must quarantine with that reason,
        including the ``("engagements", "search_quarantined")`` cascade.

    Raises:
        ValueError: a share out of range, a day too small for it, or a day that does not
            have the contract schema (e.g. faults were already injected).
        FileNotFoundError: a raw partition is missing.
    """
    if not 0 < share <= 0.5:
        raise ValueError(f"share must be in (0, 0.5], got {share}")
    root = Path(data_root)
    rng = np.random.default_rng(seed)
    paths = {t: partition_path(root, "raw", t, ds) for t in KINDS}
    for table, path in paths.items():
        if not path.is_dir():
            raise FileNotFoundError(f"raw partition missing: {path} (table {table!r}, ds {ds})")
    read = {t: _read_day(p, t) for t, p in paths.items()}
    counts: dict[tuple[str, str], int] = {}

    catalog, _ = read["catalog"]
    new_catalog, c = _faulty_catalog(catalog, _per_kind(share, catalog.num_rows, len(KINDS["catalog"])), rng)
    counts.update({("catalog", k): v for k, v in c.items()})

    searches, _ = read["searches"]
    n = _per_kind(share, searches.num_rows, len(KINDS["searches"]))
    new_searches, c, bad_searches = _faulty_searches(searches, n, rng, ds)
    counts.update({("searches", k): v for k, v in c.items()})

    engagements, _ = read["engagements"]
    n = _per_kind(share, engagements.num_rows, len(KINDS["engagements"]))
    new_engagements, wrong_type, c = _faulty_engagements(engagements, n, rng, ds, bad_searches)
    counts.update({("engagements", k): v for k, v in c.items()})
    cascade = sum(1 for s in engagements.column("search_id").to_pylist() if s in bad_searches)
    if cascade:
        counts[("engagements", "search_quarantined")] = cascade

    _rewrite(paths["catalog"], read["catalog"][1], {MAIN_FILE: new_catalog})
    _rewrite(paths["searches"], read["searches"][1], {MAIN_FILE: new_searches})
    _rewrite(paths["engagements"], read["engagements"][1], {MAIN_FILE: new_engagements, WRONG_TYPE_FILE: wrong_type})
    return counts
