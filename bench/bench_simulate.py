"""Benchmark the simulator: searches per second and peak memory per scale.

Each scale runs in its own child process (so peak RSS, read with ``resource.getrusage``, is that
scale's alone) and writes into a temporary directory that is removed afterwards.

Usage::

    .venv/bin/python bench/bench_simulate.py --scales small medium [large] [--days 1] [--seed 7]

Prints one row per scale: days, searches, engagements, wall seconds, CPU seconds, searches per
wall second, wall seconds per day and peak RSS in MiB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_one(scale: str, days: int, seed: int, out: Path) -> dict:
    """Simulate in this process and measure it.

    Args:
        scale: world scale.
        days: number of days.
        seed: master seed.
        out: output directory.

    Returns:
        Measurements: searches, engagements, wall/CPU seconds, peak RSS (MiB).
    """
    sys.path.insert(0, str(REPO))
    from ltrr.sim import simulate

    wall, cpu = time.perf_counter(), time.process_time()
    summary = simulate(out, dt.date(2026, 1, 5), days, scale, seed)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {
        "scale": scale,
        "days": days,
        "searches": sum(d["searches"] for d in summary["days"]),
        "engagements": sum(d["engagements"] for d in summary["days"]),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_rss_mib": round(peak_kib / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark for the requested scales and print a table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", nargs="+", default=["small", "medium"], choices=["small", "medium", "large"])
    parser.add_argument("--days", type=int, default=1, help="days per scale (default 1)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_one(args.child, args.days, args.seed, args.out)))
        return 0
    rows = []
    for scale in args.scales:
        with tempfile.TemporaryDirectory(prefix=f"ltrr-bench-{scale}-") as tmp:
            cmd = [sys.executable, __file__, "--child", scale, "--days", str(args.days), "--seed", str(args.seed),
                   "--out", tmp]  # fmt: skip
            done = subprocess.run(cmd, check=True, capture_output=True, text=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    header = f"{'scale':<8}{'days':>5}{'searches':>11}{'engagements':>13}{'wall s':>9}{'cpu s':>9}"
    header += f"{'searches/s':>12}{'s/day':>8}{'peak RSS MiB':>14}"
    print(header)
    for r in rows:
        print(
            f"{r['scale']:<8}{r['days']:>5}{r['searches']:>11,}{r['engagements']:>13,}{r['wall_s']:>9.1f}"
            f"{r['cpu_s']:>9.1f}{r['searches'] / r['wall_s']:>12,.0f}{r['wall_s'] / r['days']:>8.1f}"
            f"{r['peak_rss_mib']:>14,.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
