"""Benchmark the Annoy MIPS index of the embeddings beside exact numpy search, per size.

For each size N (default 1e5 and 1e6 entities, 64 dimensions) a child process:

1. generates N entity vectors that look like factor vectors (planted clusters: 256 random
   centres plus Gaussian noise, each vector scaled by a log-normal norm so inner-product
   and cosine rankings differ, as they do for ALS factors) and 1,000 query vectors (user-
   like: a centre plus noise), float32, seeded;
2. builds the index exactly as the nightly job does (``ltrr.embed.ann.build_index``: augmented
   angular MIPS, one build thread, fixed seed, saved to disk) and times it;
3. computes the exact inner-product top-10 of every query with numpy (batched matrix
   product + argpartition, ``ltrr.embed.ann.exact_top_k``, BLAS on one thread) and times it:
   the reference and the brute-force throughput, batched (256 queries per product, its best
   case) and one query at a time (100 queries: float32 matrix-vector product and
   argpartition, as a serving call would run it);
4. sweeps ``search_k`` upwards, measuring recall@10 against the exact answer and queries/s
   (one query at a time, one thread, as serving calls it), and reports the smallest
   ``search_k`` with recall@10 >= 0.95 and its throughput;
5. reports the process's peak RSS right after the build (generated vectors + Annoy build)
   and at the end (the exact search's float64 copy and score batches included), and the
   index file size.

The parent prints one row per size and writes ``bench/results/ann-<timestamp>.json``.

Usage::

    .venv/bin/python bench/bench_ann.py [--sizes 1e5 1e6] [--dims 64] [--trees 50]
        [--queries 1000] [--out /tmp/ltrr-bench-ann]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SEARCH_K_LADDER = (500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000)
TARGET_RECALL = 0.95
CENTRES = 256


def _vectors(n: int, dims: int, queries: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(CENTRES, dims))
    items = np.empty((n, dims), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        block = centres[rng.integers(0, CENTRES, m)] + 0.7 * rng.normal(size=(m, dims))
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        items[start : start + m] = block * rng.lognormal(0.0, 0.5, size=(m, 1))
    users = centres[rng.integers(0, CENTRES, queries)] + 0.7 * rng.normal(size=(queries, dims))
    return items, users.astype(np.float32)


def run_size(n: int, dims: int, trees: int, queries: int, out: Path, seed: int = 1) -> dict:
    """One size, in this process (the parent runs each in a child). Returns the figures."""
    import resource

    import numpy as np
    from threadpoolctl import threadpool_limits

    from ltrr.embed.ann import ann_search, build_index, exact_top_k, load_index, recall_at_k

    items, users = _vectors(n, dims, queries, seed)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"items-{n}.ann"
    start = time.perf_counter()
    size = build_index(items, trees, seed, path)
    build_s = time.perf_counter() - start
    assert size == n
    build_peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # vectors + build, so far
    with threadpool_limits(1, "blas"):
        start = time.perf_counter()
        exact = exact_top_k(users, items, 10, batch=256)
        exact_s = time.perf_counter() - start
        # One query at a time, the way a serving call would do it: float32 scores, argpartition.
        single = users[: min(100, queries)]
        start = time.perf_counter()
        for q in single:
            scores = items @ q
            top = np.argpartition(-scores, 9)[:10]
            top[np.argsort(-scores[top])]
        single_s = time.perf_counter() - start
    index = load_index(path, dims + 1)
    ladder = []
    for search_k in SEARCH_K_LADDER:
        start = time.perf_counter()
        found = ann_search(index, users, 10, search_k)
        elapsed = time.perf_counter() - start
        recall = recall_at_k(found, exact)
        ladder.append({"search_k": search_k, "recall_at_10": round(recall, 4), "qps": round(queries / elapsed, 1)})
        if recall >= 0.99:
            break
    index.unload()
    chosen = next((r for r in ladder if r["recall_at_10"] >= TARGET_RECALL), None)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "items": n,
        "dims": dims,
        "trees": trees,
        "queries": queries,
        "build_s": round(build_s, 2),
        "index_mib": round(path.stat().st_size / 2**20, 1),
        "vectors_mib": round(items.nbytes / 2**20, 1),
        "build_peak_rss_mib": round(build_peak_mib, 1),
        "peak_rss_mib": round(peak_mib, 1),
        "exact_s": round(exact_s, 3),
        "exact_qps": round(queries / exact_s, 1),
        "exact_single_qps": round(len(single) / single_s, 1),
        "ladder": ladder,
        "at_target": chosen,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    path.unlink()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run every size in a child process and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["1e5", "1e6"])
    parser.add_argument("--dims", type=int, default=64)
    parser.add_argument("--trees", type=int, default=50)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/ltrr-bench-ann"))
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        print(json.dumps(run_size(args.child, args.dims, args.trees, args.queries, args.out)))
        return 0
    results = []
    for size in args.sizes:
        n = int(float(size))
        cmd = [sys.executable, __file__, "--child", str(n), "--dims", str(args.dims), "--trees", str(args.trees)]
        cmd += ["--queries", str(args.queries), "--out", str(args.out)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(result)
        target = result["at_target"] or {}
        print(
            f"items {n:>9,}  build {result['build_s']:>7.1f} s  index {result['index_mib']:>7.1f} MiB  "
            f"peak RSS build {result['build_peak_rss_mib']:>7.1f} MiB, run {result['peak_rss_mib']:>7.1f} MiB  "
            f"exact {result['exact_qps']:>8.1f} q/s batched, "
            f"{result['exact_single_qps']:>7.1f} q/s single  "
            f"annoy search_k {target.get('search_k')} recall@10 {target.get('recall_at_10')} "
            f"{target.get('qps')} q/s  load {result['load_avg_1m']}",
            flush=True,
        )
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%S%z")
    results_dir = REPO / "bench" / "results"
    results_dir.mkdir(exist_ok=True)
    (results_dir / f"ann-{stamp}.json").write_text(json.dumps({"command": sys.argv, "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
