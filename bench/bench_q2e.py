"""Benchmark the Q2E memory aggregation: Spark (as the job runs it) beside DuckDB, per scale rung.

A rung is a number N of engagement rows (default ladder 1e5, 1e6, 1e7). For each rung the
script generates synthetic *clean* logs once (numpy + pyarrow, cached under ``--out``): about
N/2 ``searches`` with 10 shown results each and about N ``engagements``, in the contract
schemas (``ltrr.schemas.arrow_schema``), spread over 7 daily partitions
``<out>/n=<N>/clean/<table>/ds=D/``, queries drawn from a Zipf-like distribution over a fixed
vocabulary (so head queries repeat and the number of distinct queries grows sublinearly).

Then, each engine in its own child process (so peak memory is that engine's alone):

* **Spark** — the observed-pairs aggregation exactly as ``ltrr.memory.q2e.build_memory`` runs
  it: ``read_clean_window`` over the job's look-back window, the views the SQL expects,
  ``query_keys`` (the ``normalize_query`` pandas UDF over distinct raw queries, cached), a
  fixed ``examination`` curve, ``load_sql("q2e/observed_pairs")``, written to Parquet. The
  session comes from ``ltrr.spark_conf.session_conf(load_settings(spark_master="local[2]"))``
  with ``spark.driver.memory`` set before the JVM starts; session start is timed apart from
  the job.
* **DuckDB** — the same aggregation written in DuckDB SQL over the same Parquet files
  (``SET threads=2``), written to Parquet. Query keys use the *same* Python function,
  ``normalize_query``, applied to the distinct raw queries (fetched from DuckDB, mapped in
  pandas, registered as a table) — so both engines run identical key logic, and both
  include its cost in the job time.

The parent checks that the two outputs agree pair by pair (same pairs, identical integer
counts, decayed and debiased sums within 1e-9 relative) — a comparison of different answers
would be worthless — and prints one row per rung: rows, wall seconds, rows per second, the
Spark/DuckDB ratio and the peak RSS of each engine's process tree (Spark: driver Python +
JVM + Python workers; sum of RSS sampled every 0.1 s, so shared pages of forked workers
count more than once). Results also go to ``bench/results/q2e-<timestamp>.json``.

Usage::

    .venv/bin/python bench/bench_q2e.py [--rungs 1e5 1e6 1e7] [--out /tmp/ltrr-bench-q2e]
        [--spark-memory 6g] [--repeats 1]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BENCH_DS = "2026-01-11"
"""The day the benchmark builds the table of; the data covers the 7 days ending here."""
DAYS = 7
SHOWN_PER_SEARCH = 10
VOCABULARY = 1_000_000
"""Canonical queries the Zipf distribution draws from (each rendered in up to 4 raw forms)."""
ZIPF_EXPONENT = 1.07
ENTITIES = 300_000
HALF_LIFE_DAYS = 7.0
MAX_POSITION = 10
EXAMINATION = [round(1.0 / p**0.8, 6) for p in range(1, MAX_POSITION + 1)]
"""Fixed examination curve (both engines): exam(p) = p^-0.8, exam(1) = 1."""
GENERATOR_VERSION = 1
"""Bump when the generated data changes, so cached rungs are regenerated."""
INT_COLUMNS = ("impressions", "clicks", "plays", "likes_adds", "skips", "positives")
FLOAT_COLUMNS = (
    "impressions_decayed",
    "clicks_decayed",
    "plays_decayed",
    "likes_adds_decayed",
    "skips_decayed",
    "positives_decayed",
    "debiased_impressions",
    "debiased_impressions_decayed",
)


# --------------------------------------------------------------------------------------------
# synthetic data
# --------------------------------------------------------------------------------------------


def rung_root(out: Path, rung: int) -> Path:
    """The data root of one rung (holds ``clean/`` and the engines' outputs)."""
    return out / f"n={rung}"


def _days() -> list[str]:
    end = dt.date.fromisoformat(BENCH_DS)
    return [(end - dt.timedelta(days=offset)).isoformat() for offset in range(DAYS - 1, -1, -1)]


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _words(count: int, seed: int) -> list[str]:
    """Pseudo-words from syllables (a few accented, so normalization has accents to fold)."""
    import numpy as np

    syllables = ["ka", "lo", "mi", "ra", "te", "su", "no", "vi", "da", "ré", "zé", "ño", "bel", "tor", "ian", "us"]
    rng = np.random.default_rng(seed)
    words: set[str] = set()
    while len(words) < count:
        words.add("".join(syllables[i] for i in rng.integers(0, len(syllables), rng.integers(2, 5))))
    return sorted(words)


def _render_queries(codes: Any, words: list[str]) -> list[str]:
    """Raw query strings of ``codes`` = canonical * 4 + variant.

    Variants: 0 lower case, 1 Title Case, 2 UPPER CASE, 3 doubled spaces and a trailing "!";
    all four normalize to the same key.
    """
    import numpy as np

    canonical, variant = np.divmod(codes, 4)
    n_words = np.where(canonical < 2000, 1, 2 + canonical % 2)
    w = len(words)
    idx = np.stack([(canonical * 7919 + 11) % w, (canonical * 104729 + 3) % w, (canonical // w + 17) % w], axis=1)
    out = []
    for row, n, v in zip(idx.tolist(), n_words.tolist(), variant.tolist(), strict=True):
        text = " ".join(words[i] for i in row[:n])
        if v == 1:
            text = text.title()
        elif v == 2:
            text = text.upper()
        elif v == 3:
            text = text.replace(" ", "  ") + " !"
        out.append(text)
    return out


def _strings(prefix: str, values: Any) -> Any:
    """``prefix`` + decimal ``values`` as an Arrow string array (vectorized)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(values), pa.string()), "")


def _list_of(structs: Any, width: int) -> Any:
    import numpy as np
    import pyarrow as pa

    offsets = pa.array(np.arange(0, len(structs) + 1, width, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, structs)


def _generate_day(
    rng: Any, day_index: int, day: str, n_searches: int, n_engagements: int, cdf: Any, words: list[str]
) -> tuple[Any, Any]:
    """One day's searches and engagements as Arrow tables in the contract schemas."""
    import numpy as np
    import pyarrow as pa

    from ltrr.schemas import arrow_schema

    s = n_searches
    day_start_us = int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp() * 1_000_000)
    ts_us = day_start_us + rng.integers(0, 86_400_000_000, s)
    ts_type = pa.timestamp("us", tz="UTC")

    canonical = np.searchsorted(cdf, rng.random(s))
    variant = rng.choice(4, size=s, p=[0.8, 0.1, 0.05, 0.05])
    codes = canonical * 4 + variant
    unique_codes, inverse = np.unique(codes, return_inverse=True)
    query = pa.array(_render_queries(unique_codes, words), pa.string()).take(pa.array(inverse))

    # Each canonical query has a pool of ~30 entities; 10 of them are shown in order.
    base = (canonical.astype(np.int64) * 2654435761) % ENTITIES
    shown_idx = (base[:, None] + 3 * np.arange(SHOWN_PER_SEARCH) + rng.integers(0, 3, (s, SHOWN_PER_SEARCH))) % ENTITIES
    flat_idx = shown_idx.reshape(-1)
    entity_ids = _strings("ent-", flat_idx)
    positions = pa.array(np.tile(np.arange(1, SHOWN_PER_SEARCH + 1, dtype=np.int32), s))
    scores = pa.array(np.tile(np.linspace(1.0, 0.1, SHOWN_PER_SEARCH), s))
    shown = _list_of(pa.StructArray.from_arrays([entity_ids, positions, scores], ["entity_id", "position", "score"]),
                     SHOWN_PER_SEARCH)  # fmt: skip
    strategies = pa.array(np.full(s * SHOWN_PER_SEARCH, "memory", dtype=object), pa.string())
    candidates = _list_of(
        pa.StructArray.from_arrays(
            [entity_ids, strategies, positions, scores], ["entity_id", "strategy", "rank", "score"]
        ),
        SHOWN_PER_SEARCH,
    )
    plan = _list_of(
        pa.StructArray.from_arrays(
            [pa.array(np.full(s, "memory", dtype=object), pa.string()), pa.array(np.full(s, 10, dtype=np.int32))],
            ["strategy", "budget"],
        ),
        1,
    )
    empty = pa.array([], pa.string())
    context = pa.MapArray.from_arrays(pa.array(np.zeros(s + 1, dtype=np.int32)), empty, empty)
    users = rng.integers(0, max(1000, s // 5), s)
    user_id = _strings("u-", users)
    search_id = _strings(f"s{day_index}-", np.arange(s))

    def const(value: str) -> Any:
        return pa.array(np.full(s, value, dtype=object), pa.string())

    searches = {
        "search_id": search_id,
        "ts": pa.array(ts_us).cast(ts_type),
        "user_id": user_id,
        "session_id": _strings(f"d{day_index}-", users),
        "query": query,
        "locale": pa.array(["en_US", "en_GB", "de_DE", "fr_FR", "es_ES"]).take(pa.array(rng.integers(0, 5, s))),
        "device": pa.array(["mobile", "desktop", "web", "tv", "car"]).take(pa.array(rng.integers(0, 5, s))),
        "context": context,
        "plan_id": const("plan-memory"),
        "plan": plan,
        "propensity": pa.array(np.full(s, 0.8)),
        "policy_version": const("bench-1"),
        "ranker_version": const("bench-1"),
        "bundle_version": const("bench-1"),
        "candidates": candidates,
        "shown": shown,
        "shown_randomized": pa.array(rng.random(s) < 0.05),
    }
    schema = arrow_schema("searches")
    searches_table = pa.Table.from_arrays([searches[f.name].cast(f.type) for f in schema], schema=schema)

    # Engagements: a uniformly chosen search, a position ~ 1/p, an action.
    e = n_engagements
    of_search = rng.integers(0, s, e)
    weights = 1.0 / np.arange(1, SHOWN_PER_SEARCH + 1)
    position0 = rng.choice(SHOWN_PER_SEARCH, size=e, p=weights / weights.sum())
    action_idx = rng.choice(5, size=e, p=[0.35, 0.35, 0.08, 0.07, 0.15])
    actions = ["click", "play", "like", "add", "skip"]
    amount = rng.integers(1_000, 240_000, e)
    engagements = {
        "engagement_id": _strings(f"g{day_index}-", np.arange(e)),
        "search_id": search_id.take(pa.array(of_search)),
        "ts": pa.array(ts_us[of_search] + rng.integers(1_000_000, 600_000_000, e)).cast(ts_type),
        "user_id": user_id.take(pa.array(of_search)),
        "entity_id": _strings("ent-", shown_idx[of_search, position0]),
        "position": pa.array((position0 + 1).astype(np.int32)),
        "action": pa.array(actions).take(pa.array(action_idx)),
        "amount_ms": pa.array(amount, mask=action_idx != 1),
    }
    schema = arrow_schema("engagements")
    engagements_table = pa.Table.from_arrays([engagements[f.name].cast(f.type) for f in schema], schema=schema)
    return searches_table, engagements_table


def generate(out: Path, rung: int, seed: int = 7) -> dict:
    """Write the clean searches and engagements of a rung, unless already there.

    Args:
        out: the bench data folder.
        rung: engagement rows wanted (searches are about half as many).
        seed: random seed (same seed, same data).

    Returns:
        The rung's manifest: rows per table, generation seconds (0 when cached).
    """
    import numpy as np
    import pyarrow.parquet as pq

    root = rung_root(out, rung)
    manifest_path = root / "manifest.json"
    wanted = {"rung": rung, "seed": seed, "generator": GENERATOR_VERSION, "days": _days()}
    if manifest_path.is_file():
        manifest = json.loads(manifest_path.read_text())
        if all(manifest.get(k) == v for k, v in wanted.items()):
            return {**manifest, "generate_s": 0.0, "cached": True}
    if (root / "clean").exists():
        shutil.rmtree(root / "clean")
    start = time.perf_counter()
    rng = np.random.default_rng([seed, rung])
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** ZIPF_EXPONENT
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    words = _words(5000, seed)
    searches_total = engagements_total = 0
    for i, (day, n_s, n_e) in enumerate(zip(_days(), _split(rung // 2, DAYS), _split(rung, DAYS), strict=True)):
        searches, engagements = _generate_day(rng, i, day, n_s, n_e, cdf, words)
        for table, data in (("searches", searches), ("engagements", engagements)):
            folder = root / "clean" / table / f"ds={day}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(data, folder / "part-00000.parquet", row_group_size=128 * 1024)
        searches_total += searches.num_rows
        engagements_total += engagements.num_rows
    manifest = {**wanted, "searches": searches_total, "engagements": engagements_total,
                "impressions": searches_total * SHOWN_PER_SEARCH}  # fmt: skip
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return {**manifest, "generate_s": round(time.perf_counter() - start, 2), "cached": False}


# --------------------------------------------------------------------------------------------
# engines (each runs in a child process)
# --------------------------------------------------------------------------------------------


def tree_cpu_s() -> float:
    """CPU seconds (user + system) used so far by this process and its descendants.

    Live descendants (the JVM, Python workers) are read directly; exited ones are included
    in their parent's ``children_*`` times once reaped.
    """
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


def spark_breakdown(spark: Any, sql: str) -> dict[str, dict[str, float]]:
    """Time the pieces of the observed-pairs query, each up to a ``noop`` sink (no write).

    Run after the job in the same (warm) session, with the cached query keys. Each step
    includes the ones before it (Spark recomputes from the Parquet files every time):

    * ``shown``: scan searches, explode ``shown``, join the query keys;
    * ``eng``: scan engagements, aggregate per (search, entity) — alone;
    * ``shown_eng``: ``shown`` left-joined with ``eng``;
    * ``impressions``: plus the join with the examination curve;
    * ``observed``: plus the final aggregation (the job's query, without the Parquet write);
    * ``observed_broadcast_exam``: the same with a ``BROADCAST`` hint on the examination
      view (a ``createDataFrame`` from a Python list has no size estimate, so Spark plans a
      sort-merge join that shuffles every impression by position).

    Returns:
        Step name -> wall and CPU seconds (process tree).
    """
    cut = sql.rindex("\nSELECT query_key,")
    prefix = sql[:cut]
    hinted = sql.replace("SELECT shown.query_key,", "SELECT /*+ BROADCAST(x) */ shown.query_key,", 1)
    if hinted == sql:
        raise ValueError("sql/q2e/observed_pairs.sql changed: cannot place the broadcast hint")
    steps = {
        "shown": prefix + "\nSELECT * FROM shown",
        "eng": prefix + "\nSELECT * FROM eng",
        "shown_eng": prefix + "\nSELECT shown.*, e.played, e.liked, e.skipped FROM shown LEFT JOIN eng e"
        " ON shown.search_id = e.search_id AND shown.entity_id = e.entity_id",
        "impressions": prefix + "\nSELECT * FROM impressions",
        "observed": sql,
        "observed_broadcast_exam": hinted,
    }
    out = {}
    for name, text in steps.items():
        cpu, wall = tree_cpu_s(), time.perf_counter()
        spark.sql(text).write.format("noop").mode("overwrite").save()
        out[name] = {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(tree_cpu_s() - cpu, 2)}
        print(f"# breakdown {name}: {out[name]}", file=sys.stderr, flush=True)
    return out


def run_spark(root: Path, spark_memory: str, shuffle_partitions: int | None, breakdown: bool = False) -> dict:
    """Run the observed-pairs aggregation in Spark as ``build_memory`` does; time it.

    Args:
        root: the rung's data root.
        spark_memory: ``spark.driver.memory``.
        shuffle_partitions: ``spark.sql.shuffle.partitions`` (None: the job's setting).
        breakdown: after the job, also time its sub-steps (``spark_breakdown``).

    Returns:
        Seconds for session start, query keys (distinct + pandas UDF, cached), aggregation and
        write, the job total (wall and CPU), a diagnostic distinct-only count, output rows,
        distinct queries and, when asked, the breakdown.
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ["TZ"] = "UTC"
    time.tzset()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    from ltrr.config import load_settings
    from ltrr.memory.keys import query_keys
    from ltrr.memory.q2e import Q2EParams, _double, read_clean_window, window
    from ltrr.spark_conf import session_conf
    from ltrr.sqlfiles import load_sql

    overrides: dict[str, object] = {"spark_master": "local[2]", "spark_driver_memory": spark_memory, "data_root": root}
    if shuffle_partitions:
        overrides["spark_shuffle_partitions"] = shuffle_partitions
    settings = load_settings(**overrides)
    conf = session_conf(settings)
    output = root / "out" / "spark_observed"
    shutil.rmtree(output, ignore_errors=True)

    start = time.perf_counter()
    builder = SparkSession.builder.master(settings.spark_master).appName("ltrr-bench-q2e")
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - start

    params = Q2EParams()
    cpu_start = tree_cpu_s()
    job_start = time.perf_counter()
    days = window(BENCH_DS, params.window_days)
    searches, _ = read_clean_window(spark, root, "searches", days)
    engagements, _ = read_clean_window(spark, root, "engagements", days)
    searches.createOrReplaceTempView("window_searches")
    engagements.createOrReplaceTempView("window_engagements")
    spark.createDataFrame(
        [(p, float(EXAMINATION[p - 1])) for p in range(1, MAX_POSITION + 1)], "position INT, exam DOUBLE"
    ).createOrReplaceTempView("examination")
    qk = query_keys(searches).cache()
    qk.createOrReplaceTempView("query_keys")
    distinct_queries = qk.count()  # materializes the pandas UDF stage into the cache
    keys_s = time.perf_counter() - job_start
    sql = load_sql("q2e/observed_pairs", ds=BENCH_DS, half_life_days=_double(HALF_LIFE_DAYS), max_position=MAX_POSITION)
    observed = spark.sql(sql)
    observed.write.mode("overwrite").parquet(str(output))
    job_s = time.perf_counter() - job_start
    job_cpu_s = tree_cpu_s() - cpu_start
    agg_s = job_s - keys_s

    # Diagnostic, outside the job time: the same scan + distinct without the pandas UDF
    # (JVM already warm, so keys_s - distinct_only_s slightly overstates the UDF's cost).
    diag_start = time.perf_counter()
    searches.select("query").distinct().count()
    distinct_only_s = time.perf_counter() - diag_start
    rows = spark.read.parquet(str(output)).count()
    steps = spark_breakdown(spark, sql) if breakdown else None
    spark.stop()
    return {
        "breakdown": steps,
        "session_s": round(session_s, 2),
        "keys_s": round(keys_s, 2),
        "agg_write_s": round(agg_s, 2),
        "job_s": round(job_s, 2),
        "job_cpu_s": round(job_cpu_s, 2),
        "diag_distinct_only_s": round(distinct_only_s, 2),
        "distinct_queries": distinct_queries,
        "output_rows": rows,
        "shuffle_partitions": int(conf["spark.sql.shuffle.partitions"]),
        "driver_memory": conf["spark.driver.memory"],
    }


def duckdb_sql(root: Path, output: Path) -> str:
    """The observed-pairs aggregation of ``sql/q2e/observed_pairs.sql`` in DuckDB SQL.

    Same logic, line for line: explode ``shown`` (``unnest``), join the query-key table,
    drop empty keys, left-join engagements aggregated per (search, entity), join the
    examination curve on the capped position, decay 0.5^(age/half-life) with the age in
    days from the ``ds`` partition to ``BENCH_DS``, group by (query_key, entity_id).
    """
    searches = root / "clean" / "searches" / "*" / "*.parquet"
    engagements = root / "clean" / "engagements" / "*" / "*.parquet"
    return f"""
COPY (
WITH s AS (
  SELECT search_id, ts, query, ds, unnest(shown) AS sh
  FROM read_parquet('{searches}', hive_partitioning = true, hive_types = {{'ds': VARCHAR}})
),
shown AS (
  SELECT k.query_key, s.sh.entity_id AS entity_id, s.sh.position AS position, s.search_id, s.ts,
         date_diff('day', CAST(s.ds AS DATE), DATE '{BENCH_DS}') AS age_days
  FROM s JOIN query_keys k ON s.query = k.query
  WHERE k.query_key <> ''
),
eng AS (
  SELECT search_id, entity_id,
         MAX(CASE WHEN action = 'play' THEN 1 ELSE 0 END)           AS played,
         MAX(CASE WHEN action IN ('like', 'add') THEN 1 ELSE 0 END) AS liked,
         MAX(CASE WHEN action = 'skip' THEN 1 ELSE 0 END)           AS skipped
  FROM read_parquet('{engagements}', hive_partitioning = true, hive_types = {{'ds': VARCHAR}})
  GROUP BY search_id, entity_id
),
impressions AS (
  SELECT shown.query_key, shown.entity_id, shown.ts,
         CASE WHEN e.search_id IS NULL THEN 0 ELSE 1 END AS clicked,
         COALESCE(e.played, 0)  AS played,
         COALESCE(e.liked, 0)   AS liked,
         COALESCE(e.skipped, 0) AS skipped,
         CASE WHEN e.played = 1 OR e.liked = 1
                OR (e.search_id IS NOT NULL AND e.skipped = 0) THEN 1 ELSE 0 END AS positive,
         x.exam,
         pow(0.5, CAST(shown.age_days AS DOUBLE) / {HALF_LIFE_DAYS!r}) AS decay
  FROM shown
  LEFT JOIN eng e ON shown.search_id = e.search_id AND shown.entity_id = e.entity_id
  JOIN examination x ON x.position = LEAST(shown.position, {MAX_POSITION})
)
SELECT query_key, entity_id,
       COUNT(*)                          AS impressions,
       CAST(SUM(clicked) AS BIGINT)      AS clicks,
       CAST(SUM(played) AS BIGINT)       AS plays,
       CAST(SUM(liked) AS BIGINT)        AS likes_adds,
       CAST(SUM(skipped) AS BIGINT)      AS skips,
       CAST(SUM(positive) AS BIGINT)     AS positives,
       MAX(ts)                           AS last_seen,
       SUM(decay)                        AS impressions_decayed,
       SUM(clicked * decay)              AS clicks_decayed,
       SUM(played * decay)               AS plays_decayed,
       SUM(liked * decay)                AS likes_adds_decayed,
       SUM(skipped * decay)              AS skips_decayed,
       SUM(positive * decay)             AS positives_decayed,
       SUM(exam)                         AS debiased_impressions,
       SUM(exam * decay)                 AS debiased_impressions_decayed
FROM impressions
GROUP BY query_key, entity_id
) TO '{output}' (FORMAT parquet)
"""


def run_duckdb(root: Path, threads: int) -> dict:
    """Run the same aggregation in DuckDB (``threads`` threads); time keys and aggregation.

    Returns:
        Seconds for query keys (distinct + ``normalize_query`` in pandas + register),
        aggregation and write, the job total, output rows and distinct queries.
    """
    import duckdb
    import pandas as pd

    from ltrr.text.normalize import normalize_query

    output = root / "out" / "duckdb_observed.parquet"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.unlink(missing_ok=True)
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.execute("SET TimeZone = 'UTC'")
    con.register("examination", pd.DataFrame({"position": range(1, MAX_POSITION + 1), "exam": EXAMINATION}))

    cpu_start = tree_cpu_s()
    job_start = time.perf_counter()
    searches = root / "clean" / "searches" / "*" / "*.parquet"
    distinct = con.execute(f"SELECT DISTINCT query FROM read_parquet('{searches}') WHERE query IS NOT NULL").df()
    distinct["query_key"] = distinct["query"].map(normalize_query)
    con.register("query_keys", distinct)
    keys_s = time.perf_counter() - job_start
    con.execute(duckdb_sql(root, output))
    job_s = time.perf_counter() - job_start
    job_cpu_s = tree_cpu_s() - cpu_start
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{output}')").fetchone()[0]
    return {
        "keys_s": round(keys_s, 2),
        "agg_write_s": round(job_s - keys_s, 2),
        "job_s": round(job_s, 2),
        "job_cpu_s": round(job_cpu_s, 2),
        "distinct_queries": len(distinct),
        "output_rows": int(rows),
        "threads": int(threads),
        "duckdb_version": duckdb.__version__,
    }


# --------------------------------------------------------------------------------------------
# parent: child processes, memory sampling, agreement check, report
# --------------------------------------------------------------------------------------------


def _run_child(argv: list[str]) -> dict:
    """Run this script as a child; sample the RSS of its process tree; return its JSON."""
    import psutil

    proc = subprocess.Popen(
        [sys.executable, __file__, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        try:
            parent = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not stop.is_set():
            total = 0
            try:
                for p in [parent, *parent.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += p.memory_info().rss
            except psutil.Error:
                break
            peak = max(peak, total)
            stop.wait(0.1)

    load_before = os.getloadavg()
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    stdout, stderr = proc.communicate()
    stop.set()
    thread.join()
    if proc.returncode != 0:
        sys.stderr.write(stderr[-5000:])
        raise RuntimeError(f"child {argv} failed with exit code {proc.returncode}")
    result = json.loads(stdout.strip().splitlines()[-1])
    result["peak_rss_mib"] = round(peak / 2**20, 1)
    result["load_before"] = [round(x, 2) for x in load_before]
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def compare(root: Path) -> dict:
    """Check that the Spark and DuckDB outputs agree pair by pair.

    Returns:
        Row counts, pairs present on one side only, pairs whose integer counts differ or
        whose float sums differ by more than 1e-9 relative, and column totals.
    """
    import duckdb

    spark_out = root / "out" / "spark_observed" / "*.parquet"
    duck_out = root / "out" / "duckdb_observed.parquet"
    con = duckdb.connect()
    con.execute("SET threads = 2")
    ints = " OR ".join(f"s.{c} <> d.{c}" for c in INT_COLUMNS)
    floats = " OR ".join(f"abs(s.{c} - d.{c}) > 1e-9 * greatest(1.0, abs(d.{c}))" for c in FLOAT_COLUMNS)
    diff = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE s.query_key IS NULL) AS only_duckdb,
               count(*) FILTER (WHERE d.query_key IS NULL) AS only_spark,
               count(*) FILTER (WHERE s.query_key IS NOT NULL AND d.query_key IS NOT NULL
                                  AND ({ints} OR {floats} OR s.last_seen <> d.last_seen)) AS differing
        FROM read_parquet('{spark_out}') s
        FULL OUTER JOIN read_parquet('{duck_out}') d
          ON s.query_key = d.query_key AND s.entity_id = d.entity_id
        """
    ).fetchone()
    totals = {}
    for name, path in (("spark", spark_out), ("duckdb", duck_out)):
        cols = ", ".join(f"sum({c}) AS {c}" for c in (*INT_COLUMNS, *FLOAT_COLUMNS))
        row = con.execute(
            f"SELECT count(*) AS rows, count(DISTINCT query_key) AS keys, {cols} FROM read_parquet('{path}')"
        )
        totals[name] = dict(zip([d[0] for d in row.description], row.fetchone(), strict=True))
    agree = diff == (0, 0, 0) and totals["spark"]["rows"] == totals["duckdb"]["rows"]
    return {"agree": agree, "only_duckdb": diff[0], "only_spark": diff[1], "differing": diff[2], "totals": totals}


def _parse_rung(text: str) -> int:
    value = float(text)
    if value < 1000 or value != int(value):
        raise argparse.ArgumentTypeError(f"a rung is an integer number of engagement rows >= 1000, got {text}")
    return int(value)


def _best(runs: list[dict]) -> dict:
    best = dict(min(runs, key=lambda r: r["job_s"]))
    best["peak_rss_mib"] = max(r["peak_rss_mib"] for r in runs)
    best["job_s_all"] = [r["job_s"] for r in runs]
    return best


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())


def print_table(rows: list[dict]) -> None:
    """Print one line per rung (wall and CPU seconds of the job; session start apart)."""
    header = (
        f"{'engagements':>12}{'searches':>10}{'spark s':>9}{'keys':>7}{'agg':>7}{'cpu s':>8}{'rows/s':>9}"
        f"{'duckdb s':>9}{'cpu s':>8}{'ratio':>7}{'cpu ratio':>10}{'spark MiB':>10}{'duck MiB':>9}"
        f"{'session s':>10}{'agree':>6}{'load1':>6}"
    )
    print(header)
    for r in rows:
        sp, dd = r["spark"], r["duckdb"]
        print(
            f"{r['engagements']:>12,}{r['searches']:>10,}{sp['job_s']:>9.1f}{sp['keys_s']:>7.1f}{sp['agg_write_s']:>7.1f}"
            f"{sp['job_cpu_s']:>8.1f}{r['spark_rows_per_s']:>9,.0f}{dd['job_s']:>9.1f}{dd['job_cpu_s']:>8.1f}"
            f"{r['ratio']:>7.1f}{r['cpu_ratio']:>10.1f}{sp['peak_rss_mib']:>10,.0f}{dd['peak_rss_mib']:>9,.0f}"
            f"{sp['session_s']:>10.1f}{'yes' if r['check']['agree'] else 'NO':>6}{sp['load_before'][0]:>6.1f}"
        )
    for r in rows:
        for name, step in (r["spark"].get("breakdown") or {}).items():
            wall, cpu = step["wall_s"], step["cpu_s"]
            print(f"# {r['engagements']:,} spark breakdown {name:<24} wall {wall:>7.1f} s  cpu {cpu:>7.1f} s")


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) each rung's data, run both engines, check, print and save."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rungs", nargs="+", type=_parse_rung, default=[100_000, 1_000_000, 10_000_000],
                        help="engagement rows per rung (default 1e5 1e6 1e7)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("/tmp/ltrr-bench-q2e"), help="bench data folder")
    parser.add_argument("--spark-memory", default="6g", help="spark.driver.memory (default 6g)")
    parser.add_argument("--shuffle-partitions", type=int, default=None,
                        help="spark.sql.shuffle.partitions (default: the job's setting)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=2, help="DuckDB threads (default 2, like local[2])")
    parser.add_argument("--repeats", type=int, default=1, help="runs per engine and rung; the fastest is reported")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--breakdown", action="store_true", help="also time the Spark query's sub-steps (slow)")
    parser.add_argument("--generate-only", action="store_true", help="generate (or check) the rungs' data and stop")
    parser.add_argument("--child", choices=["spark", "duckdb"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child == "spark":
        print(json.dumps(run_spark(args.root, args.spark_memory, args.shuffle_partitions, args.breakdown)))
        return 0
    if args.child == "duckdb":
        print(json.dumps(run_duckdb(args.root, args.threads)))
        return 0

    out = args.out.resolve()
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    print(f"# {_uptime()}", flush=True)
    rows = []
    for rung in args.rungs:
        data = generate(out, rung, args.seed)
        root = rung_root(out, rung)
        note = "cached" if data["cached"] else f"generated in {data['generate_s']} s"
        print(
            f"# rung {rung:,}: {data['searches']:,} searches, {data['engagements']:,} engagements ({note})", flush=True
        )
        if args.generate_only:
            continue
        spark_args = ["--child", "spark", "--root", str(root), "--spark-memory", args.spark_memory]
        if args.shuffle_partitions:
            spark_args += ["--shuffle-partitions", str(args.shuffle_partitions)]
        if args.breakdown:
            spark_args.append("--breakdown")
        duck_args = ["--child", "duckdb", "--root", str(root), "--threads", str(args.threads)]
        spark_runs, duck_runs = [], []
        for _ in range(args.repeats):
            duck_runs.append(_run_child(duck_args))
            print(f"#   duckdb {duck_runs[-1]['job_s']} s", flush=True)
            spark_runs.append(_run_child(spark_args))
            print(f"#   spark  {spark_runs[-1]['job_s']} s (session {spark_runs[-1]['session_s']} s)", flush=True)
        spark, duck = _best(spark_runs), _best(duck_runs)
        check = compare(root)
        if not check["agree"]:
            print(f"# WARNING: outputs differ at rung {rung}: {json.dumps(check, default=str)}", flush=True)
        rows.append(
            {
                "rung": rung,
                "engagements": data["engagements"],
                "searches": data["searches"],
                "impressions": data["impressions"],
                "spark": spark,
                "duckdb": duck,
                "spark_rows_per_s": data["engagements"] / spark["job_s"],
                "duckdb_rows_per_s": data["engagements"] / duck["job_s"],
                "spark_us_per_row": 1e6 * spark["job_s"] / data["engagements"],
                "duckdb_us_per_row": 1e6 * duck["job_s"] / data["engagements"],
                "ratio": spark["job_s"] / duck["job_s"],
                "agg_ratio": spark["agg_write_s"] / max(duck["agg_write_s"], 1e-3),
                "cpu_ratio": spark["job_cpu_s"] / max(duck["job_cpu_s"], 1e-3),
                "check": check,
            }
        )
    if args.generate_only:
        return 0
    print()
    print_table(rows)
    print(f"# {_uptime()}")
    results = REPO / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / f"q2e-{started.replace(':', '')}.json"
    meta = {"started": started, "cpus": os.cpu_count(), "args": {k: str(v) for k, v in vars(args).items()},
            "uptime_end": _uptime(), "examination": EXAMINATION}  # fmt: skip
    path.write_text(json.dumps({"meta": meta, "rungs": rows}, indent=2, default=str) + "\n")
    print(f"# results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
