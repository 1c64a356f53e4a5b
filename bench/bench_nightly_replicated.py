"""The whole nightly run on a day whose traffic is replicated K times: how cost grows with searches.

A large-world day (1,000,000 searches) needs about 8 minutes of simulation and half an hour of
nightly steps per day of history before its first full night, so the exponent of
``bench_nightly.py`` had two points (small, medium).
This bench adds points on one machine and in one process: from a data root whose nightlies
already ran (e.g. ``bench_nightly.py --scales medium --days 7``), it builds for each K in
``--copies`` a scratch data root in which day DS's raw searches, engagements and simulated truth
appear K times under new ids (searches, sessions and engagements suffixed ``~rK``), beside
links to every other partition of the source (the days before DS, the catalogs, the world), and
runs DS's nightly on it (``run_nightly_inprocess``, the DAG's tasks and gates). K = 1 is the
reference run, built the same way.

The catalog and the customers stay the medium world's: K times the searches of the same
people, a denser day rather than a larger world. The jobs write only into the scratch root
(the links point at earlier days, which a night only reads).

Usage::

    .venv/bin/python bench/bench_nightly_replicated.py /tmp/bench-nightly/medium/data 2026-01-11 \\
        --copies 1 3 --scratch /tmp/nightly-x

Results: one line per K, the exponent fitted on the (searches, seconds) points, and
``bench/results/nightly-replicated-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# (zone, table): the id columns made unique per copy.
REPLICATED = {
    ("raw", "searches"): ("search_id", "session_id"),
    ("raw", "engagements"): ("engagement_id", "search_id"),
    ("sim", "truth"): ("search_id",),
}


def replicate_night(source: Path, scratch: Path, ds: str, copies: int) -> Path:
    """A scratch data root where day ``ds``'s traffic appears ``copies`` times and nothing of ``ds`` was built.

    Args:
        source: a data root with ``ds`` and the days before it (read only).
        scratch: the folder to create (replaced if it exists).
        ds: the day to replicate.
        copies: how many times each search (with its engagements and truth) appears.

    Returns:
        The scratch data root.
    """
    from bench_training_set import write_copies

    shutil.rmtree(scratch, ignore_errors=True)
    root = scratch / "data"
    day = f"ds={ds}"
    for zone in ("raw", "clean", "artifacts", "sim", "validation", "quarantine"):
        for table in sorted((source / zone).glob("*")) if (source / zone).is_dir() else []:
            if zone == "validation":  # validation/ds=D/...: earlier days' records only
                if table.name != day:
                    (root / zone).mkdir(parents=True, exist_ok=True)
                    (root / zone / table.name).symlink_to(table)
                continue
            if not table.is_dir():
                (root / zone).mkdir(parents=True, exist_ok=True)
                (root / zone / table.name).symlink_to(table)
                continue
            for part in sorted(table.iterdir()):
                keep_catalog = zone == "raw" and table.name == "catalog"
                if part.name == day and not keep_catalog:
                    continue  # built by the night (clean, artifacts) or replicated below
                (root / zone / table.name).mkdir(parents=True, exist_ok=True)
                (root / zone / table.name / part.name).symlink_to(part)
    for (zone, table), columns in REPLICATED.items():
        write_copies(source / zone / table / day, root / zone / table / day, columns, copies)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="data root whose nightlies ran up to the day before DS")
    parser.add_argument("ds", help="the day to replicate and run")
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 3], help="K values (default 1 3)")
    parser.add_argument("--scratch", type=Path, required=True, help="scratch folder (one sub-folder per K)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--no-input-gx", action="store_true", help="skip the input-validation GX suites")
    args = parser.parse_args(argv)

    import pyarrow.parquet as pq
    from bench_nightly import PeakMemory, fit_exponent
    from pyspark.sql import SparkSession

    from ltrr.config import load_settings
    from ltrr.orchestration.inprocess import run_nightly_inprocess
    from ltrr.spark_conf import session_conf

    source = args.source.resolve()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    spark = None
    runs = []
    try:
        for copies in args.copies:
            scratch = args.scratch.resolve() / f"x{copies}"
            clock = time.perf_counter()
            root = replicate_night(source, scratch, args.ds, copies)
            build_s = time.perf_counter() - clock
            settings = load_settings(
                data_root=root,
                state_dir=scratch / "state",
                bundle_store=str(scratch / "bundles"),
                spark_master=args.master,
                spark_driver_memory=args.driver_memory,
            )
            if spark is None:
                builder = SparkSession.builder.master(args.master).appName("ltrr-bench-nightly-replicated")
                for key, value in session_conf(settings).items():
                    builder = builder.config(key, value)
                spark = builder.getOrCreate()
                spark.sparkContext.setLogLevel("ERROR")
            searches = pq.ParquetDataset(str(root / "raw" / "searches" / f"ds={args.ds}")).read(["search_id"]).num_rows
            with PeakMemory() as peak:
                clock = time.perf_counter()
                result = run_nightly_inprocess(spark, settings, args.ds, run_gx=not args.no_input_gx)
                total = time.perf_counter() - clock
            runs.append(
                {
                    "copies": copies,
                    "searches": searches,
                    "build_scratch_s": round(build_s, 1),
                    "total_s": round(total, 1),
                    "peak_rss_mb": round(peak.peak / 2**20),
                    "tasks": result.tasks,
                    "seconds": {k: round(v, 1) for k, v in result.seconds.items()},
                }
            )
            top = sorted(result.seconds.items(), key=lambda kv: -kv[1])[:4]
            print(
                f"x{copies}: {searches:,} searches, {total:.0f} s, peak {peak.peak / 2**20:,.0f} MB; "
                + ", ".join(f"{k} {v:.0f} s" for k, v in top),
                flush=True,
            )
    finally:
        if spark is not None:
            spark.stop()
    exponent = fit_exponent([(r["searches"], r["total_s"]) for r in runs])
    if exponent is not None:
        print(f"total seconds ~ searches^{exponent:.2f} (copies {', '.join(str(c) for c in args.copies)})")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%S")
    path = REPO / "bench" / "results" / f"nightly-replicated-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    args_out = vars(args) | {"source": str(args.source), "scratch": str(args.scratch)}
    path.write_text(
        json.dumps({"args": args_out, "load_average": os.getloadavg(), "runs": runs, "exponent": exponent}, indent=1)
        + "\n"
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
