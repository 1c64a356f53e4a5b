"""Measure the personalized strategy's next-day hit rate against popularity on a simulated world.

The check of issue 4: for each day, build the interactions and the embeddings the way the
nightly DAG does (validating the raw logs first unless already validated); every build after
the first judges the previous day's model on this day's positive pairs (see
docs/embeddings.md, "Offline quality"). Prints one row per judged day.

Usage::

    .venv/bin/python bench/embed_hit_rate.py [--scale medium] [--days 8] [--seed 7]
        [--out /tmp/ltrr-q2e-recall]

The default ``--out`` is the world ``bench/q2e_recall.py`` builds (seed 7), so the two
measurements share one world; it is simulated here when missing. Results go to
``bench/results/embed-hit-rate-<timestamp>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--days", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2026-01-05")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ltrr-q2e-recall"))
    parser.add_argument("--spark-memory", default="4g")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    from ltrr.config import load_settings
    from ltrr.embed.day import train_embeddings_day
    from ltrr.embed.interactions import build_interactions_day
    from ltrr.sim import simulate
    from ltrr.spark_conf import session_conf
    from ltrr.validate.day import validate_day
    from ltrr.zones import validation_dir

    start = dt.date.fromisoformat(args.start)
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range(args.days)]
    settings = load_settings(
        data_root=args.out / "data", state_dir=args.out / "state", spark_master="local[2]", seed=args.seed,
        spark_driver_memory=args.spark_memory,
    )  # fmt: skip
    if not (settings.data_root / "raw" / "searches" / f"ds={days[-1]}").is_dir():
        simulate(out=settings.data_root, start=start, days=len(days), scale=args.scale, seed=args.seed)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(settings.spark_master).appName("ltrr-embed-hit-rate")
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    rows = []
    try:
        for ds in days:
            t0 = time.perf_counter()
            if not (validation_dir(settings.data_root, ds) / "report.json").is_file():
                validate_day(spark, settings, ds, run_gx=False)
            build_interactions_day(spark, settings, ds)
            metrics = train_embeddings_day(spark, settings, ds)
            seconds = time.perf_counter() - t0
            judged = metrics.get("previous_model_on_this_day")
            rows.append({"ds": ds, "seconds": round(seconds, 1), "recall": metrics.get("recall"), "judged": judged})
            print(f"{ds}: {seconds:.0f} s", flush=True)
    finally:
        spark.stop()
    out = REPO / "bench" / "results" / f"embed-hit-rate-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"scale": args.scale, "seed": args.seed, "days": rows}, indent=2) + "\n")
    for row in rows:
        if row["judged"]:
            print(row["ds"], json.dumps(row["judged"]))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
