"""Benchmark the input validation job: input rows per second on a generated day.

A day is generated (by the simulator, or by a fast synthetic generator for bigger sizes),
optionally corrupted with ``ltrr.faults.inject_bad_rows``, and ``validate_day`` is timed in
one local Spark session (session start excluded). Each day is validated twice: the first
run of the first day pays the fresh JVM's warm-up, as a nightly job always does; the re-run
shows the warm cost.

Usage::

    .venv/bin/python bench/bench_validate.py --source sim --scale medium
    .venv/bin/python bench/bench_validate.py --source synthetic --searches 100000 300000
    .venv/bin/python bench/bench_validate.py --source sim --scale small --faults 0.01 --no-gx
    .venv/bin/python bench/bench_validate.py --source synthetic --driver-java-options=-XX:TieredStopAtLevel=1

Prints one row per day: rows in (all three tables), quarantined, wall seconds of the run
and the re-run (GX included unless ``--no-gx``), CPU seconds of the run (driver JVM and
Python; closer to an idle machine's wall time when other jobs share the CPU) and input rows
per wall second of the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ltrr import schemas  # noqa: E402
from ltrr.zones import partition_path  # noqa: E402

DS = "2026-01-07"


def _array(values: object) -> pa.Array:
    """A pyarrow Array (large numpy string arrays come back chunked)."""
    out = pa.array(values)
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _list_of_structs(offsets: np.ndarray, fields: dict[str, pa.Array], struct_type: pa.StructType) -> pa.Array:
    arrays = [f.combine_chunks() if isinstance(f, pa.ChunkedArray) else f for f in fields.values()]
    values = pa.StructArray.from_arrays(arrays, fields=list(struct_type))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), values)


def synthetic_day(root: Path, n_searches: int, seed: int = 7) -> None:
    """Write a valid day: n_searches searches (20 candidates, 10 shown), 1.5x engagements.

    Vectorised numpy/pyarrow (no per-row Python), so a million searches take seconds.
    """
    rng = np.random.default_rng(seed)
    n_entities = max(1_000, n_searches // 5)
    n_engagements = n_searches * 3 // 2
    start = np.datetime64("2026-01-07T00:00:00", "us")

    ids = np.char.add("e", np.arange(n_entities).astype(str))
    types = np.array(schemas.ENTITY_TYPES)[np.arange(n_entities) % len(schemas.ENTITY_TYPES)]
    catalog = {
        "entity_id": ids,
        "entity_type": types,
        "title": np.char.add("title ", np.arange(n_entities).astype(str)),
        "artist_id": np.char.add("a", (np.arange(n_entities) % 997).astype(str)),
        "artist": np.char.add("artist ", (np.arange(n_entities) % 997).astype(str)),
        "album": None,
        "parent_id": None,
        "genres": pa.ListArray.from_arrays(
            pa.array(np.arange(n_entities + 1, dtype=np.int32)), pa.array(np.full(n_entities, "pop"))
        ),
        "topics": pa.ListArray.from_arrays(
            pa.array(np.zeros(n_entities + 1, dtype=np.int32)), pa.array([], pa.string())
        ),
        "language": np.full(n_entities, "en"),
        "popularity": rng.random(n_entities),
        "duration_ms": rng.integers(60_000, 400_000, n_entities),
        "added_ds": np.full(n_entities, np.datetime64("2025-12-01", "D")),
        "description": np.char.add("entity ", np.arange(n_entities).astype(str)),
    }
    _write(root, "catalog", catalog, n_entities)

    k, shown_k = 20, 10
    sid = np.char.add("s", np.arange(n_searches).astype(str))
    ts = start + np.sort(rng.integers(0, 86_400 * 1_000_000 - 1, n_searches)).astype("timedelta64[us]")
    cand_entities = rng.integers(0, n_entities, (n_searches, k))
    st = schemas.arrow_schema("searches")
    candidates = _list_of_structs(
        np.arange(0, n_searches * k + 1, k),
        {
            "entity_id": pa.array(ids[cand_entities.ravel()]),
            "strategy": pa.array(np.array(schemas.STRATEGIES)[np.arange(n_searches * k) % 3]),
            "rank": pa.array(np.tile(np.arange(1, k + 1, dtype=np.int32), n_searches)),
            "score": pa.array(rng.random(n_searches * k)),
        },
        st.field("candidates").type.value_type,
    )
    shown = _list_of_structs(
        np.arange(0, n_searches * shown_k + 1, shown_k),
        {
            "entity_id": pa.array(ids[cand_entities[:, :shown_k].ravel()]),
            "position": pa.array(np.tile(np.arange(1, shown_k + 1, dtype=np.int32), n_searches)),
            "score": pa.array(rng.random(n_searches * shown_k)),
        },
        st.field("shown").type.value_type,
    )
    plan = _list_of_structs(
        np.arange(0, n_searches * 2 + 1, 2),
        {
            "strategy": pa.array(np.tile(np.array(["lexical", "memory"]), n_searches)),
            "budget": pa.array(np.tile(np.array([10, 10], dtype=np.int32), n_searches)),
        },
        st.field("plan").type.value_type,
    )
    context = pa.MapArray.from_arrays(
        pa.array(np.arange(n_searches + 1, dtype=np.int32)),
        pa.array(np.full(n_searches, "hour")),
        pa.array(((ts - start).astype("timedelta64[h]").astype(int) % 24).astype(str)),
    )
    users = np.char.add("u", rng.integers(0, max(100, n_searches // 10), n_searches).astype(str))
    searches = {
        "search_id": sid,
        "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "user_id": users,
        "session_id": np.char.add(users, "-1"),
        "query": np.char.add("query ", rng.integers(0, 5_000, n_searches).astype(str)),
        "locale": np.full(n_searches, "en-US"),
        "device": np.array(schemas.DEVICES)[rng.integers(0, len(schemas.DEVICES), n_searches)],
        "context": context,
        "plan_id": np.full(n_searches, "lexical10+memory10"),
        "plan": plan,
        "propensity": rng.uniform(0.05, 1.0, n_searches),
        "policy_version": np.full(n_searches, "pv1"),
        "ranker_version": np.full(n_searches, "rv1"),
        "bundle_version": np.full(n_searches, "bv1"),
        "candidates": candidates,
        "shown": shown,
        "shown_randomized": np.zeros(n_searches, dtype=bool),
    }
    _write(root, "searches", searches, n_searches)

    of = rng.integers(0, n_searches, n_engagements)
    pos = rng.integers(1, shown_k + 1, n_engagements)
    actions = np.array(schemas.ACTIONS)[rng.integers(0, len(schemas.ACTIONS), n_engagements)]
    engagements = {
        "engagement_id": np.char.add("g", np.arange(n_engagements).astype(str)),
        "search_id": sid[of],
        "ts": pa.array(
            np.minimum(ts[of] + np.timedelta64(1, "s"), start + np.timedelta64(86_399, "s")),
            pa.timestamp("us", tz="UTC"),
        ),
        "user_id": users[of],
        "entity_id": ids[cand_entities[of, pos - 1]],
        "position": pos.astype(np.int32),
        "action": actions,
        "amount_ms": pa.array(np.where(actions == "play", 30_000, 0), pa.int64()),
    }
    _write(root, "engagements", engagements, n_engagements)


def _write(root: Path, table: str, columns: dict, n: int) -> None:
    schema = schemas.arrow_schema(table)
    arrays = []
    for field in schema:
        value = columns[field.name]
        if value is None:
            arrays.append(pa.nulls(n, field.type))
        elif isinstance(value, pa.Array):
            arrays.append(value.cast(field.type))
        else:
            arrays.append(pa.array(value).cast(field.type))
    path = partition_path(root, "raw", table, DS)
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), path / "part-00000.parquet")


def cpu_seconds(spark: object) -> float:
    """CPU seconds used so far by this Python process and the Spark driver JVM (Linux)."""
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()  # type: ignore[attr-defined]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    jvm = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return jvm + time.process_time()


def simulated_day(root: Path, scale: str, seed: int) -> str:
    """Simulate one day at ``scale`` and return its ds."""
    from ltrr.sim import simulate

    day = dt.date.fromisoformat(DS)
    simulate(out=root, start=day, days=1, scale=scale, seed=seed)
    return DS


def main(argv: list[str] | None = None) -> int:
    """Generate days, validate them, print the measurements."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", choices=["sim", "synthetic"], default="sim")
    parser.add_argument("--scale", default="medium", help="simulator scale (--source sim)")
    parser.add_argument("--searches", type=int, nargs="+", default=[100_000], help="synthetic sizes")
    parser.add_argument("--faults", type=float, default=0.0, help="inject_bad_rows share (0: none)")
    parser.add_argument("--no-gx", action="store_true", help="skip the GX suites")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-java-options", default="", help="e.g. -XX:TieredStopAtLevel=1 (C1 JIT only)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    from ltrr.config import load_settings
    from ltrr.faults import inject_bad_rows
    from ltrr.spark_conf import session_conf
    from ltrr.validate import validate_day
    from ltrr.validate.read import inspect_partition

    base = load_settings(spark_master=args.master)
    builder = SparkSession.builder.master(args.master).appName("ltrr-bench-validate")
    for key, value in session_conf(base).items():
        builder = builder.config(key, value)
    if args.driver_java_options:
        builder = builder.config("spark.driver.extraJavaOptions", args.driver_java_options)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    sizes = [None] if args.source == "sim" else args.searches
    print(f"{'day':<22} {'rows in':>10} {'quarant.':>9} {'run s':>7} {'rerun s':>7} {'cpu s':>7} {'rows/s':>8}  tables")
    try:
        for size in sizes:
            with tempfile.TemporaryDirectory(prefix="ltrr-bench-validate-") as tmp:
                root = Path(tmp) / "data"
                if size is None:
                    simulated_day(root, args.scale, args.seed)
                    label = f"sim {args.scale}"
                else:
                    synthetic_day(root, size, args.seed)
                    label = f"synthetic {size:,}"
                if args.faults:
                    inject_bad_rows(root, DS, args.faults, args.seed)
                settings = load_settings(data_root=root, spark_master=args.master, max_rejected_share=1.0)
                rows = {t: inspect_partition(root, t, DS).rows for t in ("catalog", "searches", "engagements")}
                started, cpu_started = time.perf_counter(), cpu_seconds(spark)
                report = validate_day(spark, settings, DS, run_gx=not args.no_gx)
                cold, cpu = time.perf_counter() - started, cpu_seconds(spark) - cpu_started
                started = time.perf_counter()
                validate_day(spark, settings, DS, run_gx=not args.no_gx)
                warm = time.perf_counter() - started
                total = sum(rows.values())
                quarantined = sum(t.quarantined for t in report.tables.values())
                detail = ", ".join(f"{t} {n:,}" for t, n in rows.items())
                figures = f"{total:>10,} {quarantined:>9,} {cold:>7.1f} {warm:>7.1f} {cpu:>7.1f} {total / cold:>8,.0f}"
                print(f"{label:<22} {figures}  {detail}", flush=True)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
