"""Measure the memory index's next-day recall of intended entities on a simulated world.

The check of issue 3: build the memory table for each of ``--days`` consecutive simulated
days (validating each day's raw logs first, as the nightly DAG does), then judge the table
of the last built day on the following day's searches: coverage, recall of the intended
entity in the table's top-N by query class (head/torso/tail) and intent type, and the
hindsight bound (the best any table of N entities per query could do on that day).

Usage::

    .venv/bin/python bench/q2e_recall.py [--scale medium] [--days 7] [--out /tmp/ltrr-q2e-recall]

The world (``days + 1`` days) is simulated under ``--out`` unless already there. Results go
to ``bench/results/q2e-recall-<timestamp>.json`` and are printed as a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--days", type=int, default=7, help="days of logs before the judged day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2026-01-05")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ltrr-q2e-recall"))
    parser.add_argument("--spark-memory", default="4g")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    from ltrr.config import load_settings
    from ltrr.memory.day import build_q2e_day
    from ltrr.sim import simulate
    from ltrr.spark_conf import session_conf
    from ltrr.validate.day import validate_day

    start = dt.date.fromisoformat(args.start)
    days = [(start + dt.timedelta(days=i)).isoformat() for i in range(args.days + 1)]
    settings = load_settings(
        data_root=args.out / "data", state_dir=args.out / "state", spark_master="local[2]", seed=args.seed,
        spark_driver_memory=args.spark_memory,
    )  # fmt: skip
    timings: dict[str, dict[str, float]] = {}
    if not (settings.data_root / "raw" / "searches" / f"ds={days[-1]}").is_dir():
        t0 = time.perf_counter()
        simulate(out=settings.data_root, start=start, days=len(days), scale=args.scale, seed=args.seed)
        timings["simulate_s"] = {"all": round(time.perf_counter() - t0, 1)}
    builder = SparkSession.builder.master(settings.spark_master).appName("ltrr-q2e-recall")
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    reports = {}
    try:
        for ds in days:
            t0 = time.perf_counter()
            validate_day(spark, settings, ds, run_gx=False)
            t1 = time.perf_counter()
            reports[ds] = build_q2e_day(spark, settings, ds)
            t2 = time.perf_counter()
            timings[ds] = {"validate_s": round(t1 - t0, 1), "q2e_s": round(t2 - t1, 1)}
            print(f"{ds}: validate {t1 - t0:.0f} s, q2e {t2 - t1:.0f} s", flush=True)
    finally:
        spark.stop()
    evaluation = reports[days[-1]]["previous_table_on_this_day"]
    result = {"scale": args.scale, "days_of_logs": args.days, "seed": args.seed, "evaluation": evaluation,
              "timings": timings}  # fmt: skip
    out = REPO / "bench" / "results" / f"q2e-recall-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"table of {evaluation['table_ds']} judged on the searches of {evaluation['searches_ds']}")
    print(f"coverage {evaluation['coverage']['rate']:.3f} of {evaluation['coverage']['n']:,} searches")
    print(f"{'slice':<22}{'searches':>10}{'recall':>9}{'bound':>9}")
    recall, bound = evaluation["recall"], evaluation["recall_bound"]
    rows = [("overall", recall["overall"], bound["overall"])]
    for group in ("by_query_class", "by_intent_type"):
        rows += [(name, value, bound[group][name]) for name, value in recall[group].items()]
    for name, got, best in rows:
        print(f"{name:<22}{got['n']:>10,}{got['rate']:>9.3f}{best['rate']:>9.3f}")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
