"""Measure the memory index's next-day recall of intended entities on a simulated world.

The check of issue 3: build the memory table for each of ``--days`` consecutive simulated
days (validating each day's raw logs first, as the nightly DAG does), then judge the table
of the last built day on the following day's searches: coverage, recall of the intended
entity in the table's top-N by query class (head/torso/tail) and intent type, and the
hindsight bound (the best any table of N entities per query could do on that day), and the
recall split by **exposure**: whether the searcher's intended entity had been shown for that
query at all in the table's window. Memory learns only from what the logging engine showed,
so its recall among exposed searches measures the memory; the exposed share measures the
engine's exploration.

Usage::

    .venv/bin/python bench/q2e_recall.py [--scale medium] [--days 7] [--out /tmp/ltrr-q2e-recall]

The world (``days + 1`` days) is simulated under ``--out`` unless already there. Results go
to ``bench/results/q2e-recall-<timestamp>.json`` and are printed as a table.
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

from ltrr.zones import artifact_dir, partition_path  # noqa: E402


def exposure_breakdown(data_root: Path, window: list[str], judged: str) -> dict[str, dict[str, float]]:
    """Recall of the table of ``window[-1]`` on ``judged``'s searches, split by exposure.

    A search is *exposed* when its intended entity was shown for its normalized query in any
    clean search of ``window`` (so memory had evidence to learn from).

    Returns:
        Per query class and overall: searches, exposed share, recall among exposed and
        among unexposed searches.
    """
    import pandas as pd
    import pyarrow.dataset as pads

    from ltrr.text import normalize_query

    def clean(day: str, columns: list[str]) -> pd.DataFrame:
        return pads.dataset(partition_path(data_root, "clean", "searches", day)).to_table(columns=columns).to_pandas()

    truth = pads.dataset(data_root / "sim" / "truth" / f"ds={judged}").to_table().to_pandas()
    day = truth.merge(clean(judged, ["search_id", "query"]), on="search_id")
    day["key"] = day["query"].map(normalize_query)
    wanted = set(zip(day["key"], day["intended_entity_id"], strict=True))
    shown: set[tuple[str, str]] = set()
    for d in window:
        if not partition_path(data_root, "clean", "searches", d).is_dir():
            continue
        frame = clean(d, ["query", "shown"])
        for query, results in zip(frame["query"], frame["shown"], strict=True):
            key = normalize_query(query)
            shown.update(p for p in ((key, r["entity_id"]) for r in results) if p in wanted)
    table = pads.dataset(artifact_dir(data_root, window[-1]) / "table").to_table(columns=["query_key", "entity_id"])
    in_table = set(zip(table.column("query_key").to_pylist(), table.column("entity_id").to_pylist(), strict=True))
    pairs = list(zip(day["key"], day["intended_entity_id"], strict=True))
    day["exposed"] = [p in shown for p in pairs]
    day["hit"] = [p in in_table for p in pairs]
    out = {}
    for name, part in [("overall", day), *sorted(day.groupby("query_class"))]:
        exposed = part[part["exposed"]]
        unexposed = part[~part["exposed"]]
        out[str(name)] = {
            "n": len(part),
            "exposed": float(part["exposed"].mean()),
            "recall_exposed": float(exposed["hit"].mean()) if len(exposed) else float("nan"),
            "recall_unexposed": float(unexposed["hit"].mean()) if len(unexposed) else float("nan"),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="medium", choices=["small", "medium", "large"])
    parser.add_argument("--days", type=int, default=7, help="days of logs before the judged day")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--start", default="2026-01-05")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ltrr-q2e-recall"))
    parser.add_argument("--spark-memory", default="4g")
    parser.add_argument("--evaluate-only", action="store_true", help="judge the tables already built under --out")
    parser.add_argument(
        "--rebuild-from",
        default=None,
        help="reuse the clean logs and tables of the days before this one (already built under --out): "
        "to compare a change of the memory build on the same world quickly",
    )
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
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the query-key pandas UDF runs in workers
    builder = SparkSession.builder.master(settings.spark_master).appName("ltrr-q2e-recall")
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    reports = {}
    try:
        for ds in days:
            if args.evaluate_only or (args.rebuild_from and ds < args.rebuild_from):
                continue
            t0 = time.perf_counter()
            validate_day(spark, settings, ds, run_gx=False)
            t1 = time.perf_counter()
            reports[ds] = build_q2e_day(spark, settings, ds)
            t2 = time.perf_counter()
            timings[ds] = {"validate_s": round(t1 - t0, 1), "q2e_s": round(t2 - t1, 1)}
            print(f"{ds}: validate {t1 - t0:.0f} s, q2e {t2 - t1:.0f} s", flush=True)
    finally:
        spark.stop()
    if days[-1] not in reports:
        reports[days[-1]] = json.loads((artifact_dir(settings.data_root, days[-1]) / "report.json").read_text())
    evaluation = reports[days[-1]]["previous_table_on_this_day"]
    exposure = exposure_breakdown(settings.data_root, days[:-1], days[-1])
    result = {"scale": args.scale, "days_of_logs": args.days, "seed": args.seed, "evaluation": evaluation,
              "exposure": exposure, "rebuilt_from": args.rebuild_from, "timings": timings}  # fmt: skip
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
    print(f"{'query class':<22}{'searches':>10}{'exposed':>9}{'recall|exposed':>16}{'recall|unexposed':>18}")
    for name, row in exposure.items():
        print(
            f"{name:<22}{row['n']:>10,}{row['exposed']:>9.3f}{row['recall_exposed']:>16.3f}{row['recall_unexposed']:>18.3f}"
        )
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
