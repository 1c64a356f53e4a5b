"""Benchmark the whole nightly run: per-task wall time, peak memory, and growth with the day's searches.

For each ``--scales`` entry a child process simulates ``--days`` days of that world (day-0
engine) under ``--out/<scale>`` unless they are already there, then runs the nightly pipeline
of each day in order, in process, on one Spark session (``run_nightly_inprocess``: the DAG's
tasks, order and gates, without Airflow's per-task ``spark-submit`` start-up; see
docs/performance.md for that overhead). It samples the resident memory of the whole process
tree (Python driver, JVM, Python workers) every 0.2 s.

The figure of a scale is its **last** day: the first days skip the ranker and the policy
(not enough history), so only later days run every task. With two or more scales, the
exponent b of ``total seconds ≈ a · searches^b`` is fitted by least squares on the log-log
points of those last days.

Usage::

    .venv/bin/python bench/bench_nightly.py [--scales small medium] [--days 3] \\
        [--out /tmp/ltrr-bench-nightly] [--master 'local[2]'] [--no-input-gx]

Results: a table per scale, and ``bench/results/nightly-<UTC time>.json``. Goal (issue 9): the
medium world's nightly run under 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _tree_rss(proc: object) -> int:
    """Resident bytes of a process and all its descendants (0 for those gone meanwhile)."""
    import psutil

    total = 0
    for p in [proc, *proc.children(recursive=True)]:  # type: ignore[attr-defined]
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


class PeakMemory:
    """Samples the process tree's resident memory every ``interval`` seconds until stopped."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(self._proc))
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_scale(
    scale: str,
    days: int,
    out: Path,
    master: str,
    run_gx: bool,
    seed: int,
    driver_memory: str,
    resume_from: str | None = None,
) -> dict:
    """Simulate (if needed) and run every day's nightly of one scale; returns its figures.

    A night that a gate stops (``NightlyFailed``: nothing published, as in Airflow) is recorded
    with the task that stopped it and the tasks' times, and the next night runs, as the next
    scheduled run would. Days before ``resume_from`` are taken as already run under ``out``.
    """
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession

    from ltrr.config import load_settings
    from ltrr.orchestration.inprocess import NightlyFailed, run_nightly_inprocess
    from ltrr.sim import simulate
    from ltrr.spark_conf import session_conf
    from ltrr.zones import partition_path

    root = out / scale
    settings = load_settings(
        data_root=root / "data",
        state_dir=root / "state",
        bundle_store=str(root / "bundles"),
        spark_master=master,
        spark_driver_memory=driver_memory,
        sim_scale=scale,
    )
    start = settings.sim_start
    wanted = [(start + dt.timedelta(days=i)).isoformat() for i in range(days)]
    clock = time.perf_counter()
    missing = [ds for ds in wanted if not partition_path(settings.data_root, "raw", "searches", ds).is_dir()]
    if missing:
        simulate(out=settings.data_root, start=start, days=days, scale=scale, seed=seed)
    simulate_s = time.perf_counter() - clock
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.master(master).appName(f"ltrr-bench-nightly-{scale}")
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    clock = time.perf_counter()
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - clock
    per_day = []
    try:
        for ds in wanted:
            if resume_from and ds < resume_from:
                continue
            searches = sum(
                pq.ParquetFile(path).metadata.num_rows
                for path in partition_path(settings.data_root, "raw", "searches", ds).glob("*.parquet")
            )
            stopped = None
            with PeakMemory() as peak:
                clock = time.perf_counter()
                try:
                    result = run_nightly_inprocess(spark, settings, ds, run_gx=run_gx)
                except NightlyFailed as exc:  # a gate stopped the night: record it, run the next
                    if exc.result is None:
                        raise
                    result, stopped = exc.result, f"{exc.task}: {exc.reason}"
                total = time.perf_counter() - clock
            per_day.append(
                {
                    "ds": ds,
                    "searches": searches,
                    "total_s": round(total, 1),
                    "peak_rss_mb": round(peak.peak / 2**20),
                    "stopped": stopped,
                    "tasks": result.tasks,
                    "seconds": {k: round(v, 1) for k, v in result.seconds.items()},
                }
            )
            print(
                f"{scale} {ds}: {searches:,} searches, {total:.0f} s, peak {peak.peak / 2**20:,.0f} MB"
                + (f"; stopped by {stopped}" if stopped else ""),
                flush=True,
            )
    finally:
        spark.stop()
    return {"scale": scale, "simulate_s": round(simulate_s, 1), "session_s": round(session_s, 1), "days": per_day}


def fit_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(seconds) on log(searches), or None with fewer than two sizes."""
    if len({n for n, _ in points}) < 2:
        return None
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(s) for _, s in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum((x - mx) ** 2 for x in xs)


def _print_scale(figures: dict) -> None:
    last = figures["days"][-1]
    print(
        f"\n{figures['scale']}: last day {last['ds']}, {last['searches']:,} searches, "
        f"{last['total_s']:.0f} s, peak RSS {last['peak_rss_mb']:,} MB (session start {figures['session_s']:.0f} s)"
    )
    for task, seconds in sorted(last["seconds"].items(), key=lambda kv: -kv[1]):
        print(f"  {task:22s} {seconds:8.1f} s  {last['tasks'][task][:60]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", default=["small"], choices=["small", "medium", "large"])
    parser.add_argument("--days", type=int, default=3, help="days per scale; the last is reported (default 3)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/ltrr-bench-nightly"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--driver-memory",
        default="4g",
        help="Spark driver memory (default 4g, as medium experiments use; a 2g run failed on medium)",
    )
    parser.add_argument("--no-input-gx", action="store_true", help="skip the input-validation GX suites")
    parser.add_argument(
        "--resume-from",
        metavar="DS",
        help="take the days before DS as already run under --out (e.g. after a stopped long run)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = run_scale(
            args.child,
            args.days,
            args.out,
            args.master,
            not args.no_input_gx,
            args.seed,
            args.driver_memory,
            args.resume_from,
        )
        print("RESULT " + json.dumps(figures), flush=True)
        return 0
    results = []
    for scale in args.scales:
        command = [
            sys.executable,
            __file__,
            "--child",
            scale,
            "--days",
            str(args.days),
            "--out",
            str(args.out),
            "--master",
            args.master,
            "--driver-memory",
            args.driver_memory,
            "--seed",
            str(args.seed),
        ] + (["--no-input-gx"] if args.no_input_gx else [])
        command += ["--resume-from", args.resume_from] if args.resume_from else []
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            # The child's own lines (its traceback among them), without the JVM's stack frames.
            tail = [line for line in proc.stderr.splitlines() if not line.startswith("\tat ")][-40:]
            print(
                f"{scale}: failed (exit {proc.returncode})\n{proc.stdout[-2000:]}\n" + "\n".join(tail),
                file=sys.stderr,
            )
            return 1
        results.append(json.loads(lines[-1][len("RESULT ") :]))
        _print_scale(results[-1])
    exponent = fit_exponent([(r["days"][-1]["searches"], r["days"][-1]["total_s"]) for r in results])
    if exponent is not None:
        print(f"\ntotal seconds ~ searches^{exponent:.2f} (last days of {', '.join(args.scales)})")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%S")
    path = REPO / "bench" / "results" / f"nightly-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    path.write_text(
        json.dumps(
            {
                "args": vars(args) | {"out": str(args.out)},
                "load_average": load,
                "results": results,
                "exponent": exponent,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
