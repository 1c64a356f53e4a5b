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

``--replicate K --scratch DIR`` builds the 1e7-row rung from a medium day: a scratch data root
whose clean searches and engagements of each day are the original's K times over, under new
search, session and engagement ids (``<id>~r<k>``), beside links to the day before's
artifacts (memory, embeddings, counters) and the day's catalog. The job then writes into the
scratch root only; the original data root is read, never written::

    .venv/bin/python bench/bench_training_set.py --data-root /tmp/exp-t0/data --days 2026-01-11 \
        --replicate 12 --scratch /tmp/ts-x12 --label medium-x12

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
import tempfile
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
    with tempfile.TemporaryFile(mode="w+") as errors:  # the job's stderr, for a failure message only
        child = subprocess.Popen(
            [sys.executable, str(REPO / "jobs" / "build_training_set.py"), "--ds", ds],
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
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
            errors.seek(0)
            causes = [line.strip() for line in errors if "Error" in line or "Exception" in line]
            raise RuntimeError(f"job failed for {ds} (exit {child.returncode}): {out[-1:]} {causes[:5]}")
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


def replicate_day(source: Path, scratch: Path, ds: str, copies: int) -> Path:
    """A scratch data root where day ``ds``'s clean searches and engagements appear ``copies`` times.

    Args:
        source: the original data root (read only).
        scratch: the folder to create (replaced if it exists).
        ds: the day to replicate.
        copies: how many times each search (with its engagements) appears, under new ids.

    Returns:
        The scratch data root.
    """
    import shutil

    shutil.rmtree(scratch, ignore_errors=True)
    root = scratch / "data"
    previous = (dt.date.fromisoformat(ds) - dt.timedelta(days=1)).isoformat()
    for artifact in ("q2e", "embeddings", "training_set", "interactions"):
        link = root / "artifacts" / artifact / f"ds={previous}"
        if (source / "artifacts" / artifact / f"ds={previous}").is_dir():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(source / "artifacts" / artifact / f"ds={previous}")
    catalog = root / "clean" / "catalog" / f"ds={ds}"
    catalog.parent.mkdir(parents=True)
    catalog.symlink_to(source / "clean" / "catalog" / f"ds={ds}")
    renamed = {"searches": ("search_id", "session_id"), "engagements": ("engagement_id", "search_id")}
    for table, columns in renamed.items():
        write_copies(source / "clean" / table / f"ds={ds}", root / "clean" / table / f"ds={ds}", columns, copies)
    return root


def write_copies(partition: Path, out: Path, columns: tuple[str, ...], copies: int) -> None:
    """Write a Parquet partition ``copies`` times into ``out`` (created), copy k's ``columns`` suffixed ``~rk``.

    Args:
        partition: the partition folder to copy.
        out: the folder to create, one ``part-KKK.parquet`` per copy.
        columns: string id columns made unique per copy (copy 0 keeps the original ids).
        copies: how many copies.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    original = pq.read_table(partition)
    out.mkdir(parents=True)
    for k in range(copies):
        copy = original
        if k:
            for name in columns:
                i = copy.schema.get_field_index(name)
                copy = copy.set_column(i, name, pc.binary_join_element_wise(copy[name], pa.scalar(f"~r{k}"), ""))
        pq.write_table(copy, out / f"part-{k:03d}.parquet")


def main() -> None:
    """Parse arguments, run each day, print and save the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--days", nargs="+", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--replicate", type=int, default=1, help="copies of each day's searches (default 1)")
    parser.add_argument("--scratch", type=Path, default=None, help="scratch folder for --replicate")
    args = parser.parse_args()
    results = []
    for ds in args.days:
        root = args.data_root.resolve()
        if args.replicate > 1 and args.scratch is None:
            parser.error("--replicate needs --scratch")
        if args.scratch is not None:  # also with one copy: a reference run that leaves the source alone
            root = replicate_day(root, args.scratch.resolve(), ds, args.replicate)
        results.append({**run_day(root, ds, args.master), "replicate": args.replicate})
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
