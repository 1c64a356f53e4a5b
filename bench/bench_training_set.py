"""Benchmark the training-set job (``jobs/build_training_set.py``): wall time and peak memory per day.

Runs the job as its own process for each given day of a prepared data root (clean logs, and
the memory and embeddings artifacts of the day before, as the nightly DAG leaves them) and
samples the resident memory of the whole process tree (the Python driver, the JVM and the
Python workers) every 0.2 s. Reports candidate rows written, wall time, rows per second and
peak RSS; the ladder comes from the worlds' sizes (small: about 1.3e5 rows a day, medium:
about 3e6).

Usage::

    .venv/bin/python bench/bench_training_set.py --data-root /tmp/ltrr-med/data --days 2026-01-11 \\
        [--label medium] [--master 'local[2]']

Results: printed table, and ``bench/results/training-set-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def _tree_rss(proc: psutil.Process) -> int:
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a worker may exit between listing and reading
            total += p.memory_info().rss
    return total


def run_day(data_root: Path, ds: str, master: str) -> dict:
    """Run the job for one day; return wall time, peak tree RSS and the report's counts."""
    env = {
        **os.environ,
        "LTRR_DATA_ROOT": str(data_root),
        "LTRR_STATE_DIR": str(data_root.parent / "state"),
        "LTRR_SPARK_MASTER": master,
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(REPO / "jobs" / "build_training_set.py"), "--ds", ds],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    proc = psutil.Process(child.pid)
    peak = 0
    while child.poll() is None:
        peak = max(peak, _tree_rss(proc))
        time.sleep(0.2)
    wall = time.perf_counter() - start
    out = child.stdout.read().strip().splitlines() if child.stdout else []
    if child.returncode != 0:
        raise RuntimeError(f"job failed for {ds} (exit {child.returncode}): {out[-1:]}")
    report = json.loads((data_root / "artifacts" / "training_set" / f"ds={ds}" / "report.json").read_text())
    rows = report["counts"]["rows"]
    return {
        "ds": ds,
        "rows": rows,
        "searches": report["counts"]["searches"],
        "wall_s": round(wall, 1),
        "rows_per_s": round(rows / wall),
        "peak_rss_mb": round(peak / 2**20),
    }


def main() -> None:
    """Parse arguments, run each day, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--days", nargs="+", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    results = [run_day(args.data_root.resolve(), ds, args.master) for ds in args.days]
    print(f"{'ds':<12}{'rows':>12}{'searches':>10}{'wall s':>9}{'rows/s':>10}{'peak RSS MB':>13}")
    for r in results:
        print(
            f"{r['ds']:<12}{r['rows']:>12,}{r['searches']:>10,}{r['wall_s']:>9}{r['rows_per_s']:>10,}{r['peak_rss_mb']:>13,}"
        )
    out = REPO / "bench" / "results" / f"training-set-{dt.datetime.now(dt.UTC):%Y-%m-%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"label": args.label, "master": args.master, "results": results}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
