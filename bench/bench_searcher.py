"""Search latency and throughput of ``Searcher(bundle)``.

Replays the logged requests of the day after the bundle's day (query, user, context) through
one Searcher: a warm-up pass, then per-request latency on one thread (p50, p90, p99, max) and
throughput with 1 and 2 threads. Each request draws its plan with the bundle's policy and
exploration, so every strategy and the ranker are exercised as in production. The retrieval
cache is disabled by default (``--cache``), so figures are for uncached requests; a reference
run in the same process (lexical search alone) gives a machine-independent ratio.

Run (a data root where a bundle was published for ``--ds``; see docs/serving.md)::

    .venv/bin/python bench/bench_searcher.py --bundle-store bundles --ds 2026-01-06 \\
        --data-root data --requests 3000

Writes ``bench/results/searcher-<timestamp>.json`` and prints a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results"


def _requests(data_root: Path, ds: str, n: int) -> list[tuple[str, str, dict]]:
    from ltrr.zones import partition_path

    folder = partition_path(data_root, "clean", "searches", ds)
    if not folder.is_dir():
        folder = partition_path(data_root, "raw", "searches", ds)
    table = pq.read_table(folder, columns=["query", "user_id", "locale", "device", "context"]).slice(0, n)
    return [
        (r["query"], r["user_id"], {**dict(r["context"]), "locale": r["locale"], "device": r["device"]})
        for r in table.to_pylist()
    ]


def _latencies(searcher, requests, seed: int) -> np.ndarray:
    out = np.empty(len(requests))
    for i, (query, user, context) in enumerate(requests):
        rng = np.random.default_rng((seed, i))
        start = time.perf_counter()
        searcher.search(query, user, context, 10, rng)
        out[i] = time.perf_counter() - start
    return out


def _throughput(searcher, requests, threads: int) -> float:
    def serve(i: int) -> None:
        query, user, context = requests[i]
        searcher.search(query, user, context, 10, np.random.default_rng((9, i)))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(serve, range(len(requests)), chunksize=16))
    return len(requests) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle-store", required=True, help="the bundle store (a local path)")
    parser.add_argument("--ds", required=True, help="the bundle's day; requests come from the next day (or this one)")
    parser.add_argument("--data-root", type=Path, required=True, help="the data root holding the request logs")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--cache", action="store_true", help="keep the Searcher's retrieval cache on")
    args = parser.parse_args(argv)

    from ltrr.bundle.store import BundleStore
    from ltrr.serving import load_bundle
    from ltrr.serving.searcher import Searcher, SearcherParams

    store = BundleStore(args.bundle_store)
    versions = [v for v in store.versions() if v.startswith(args.ds)]
    if not versions:
        raise SystemExit(f"no bundle of {args.ds} in {args.bundle_store}")
    start = time.perf_counter()
    bundle = load_bundle(store.url_of(versions[-1]))
    searcher = Searcher(bundle, SearcherParams(cache_size=20_000 if args.cache else 0))
    load_s = time.perf_counter() - start
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    next_day = (dt.date.fromisoformat(args.ds) + dt.timedelta(days=1)).isoformat()
    try:
        requests = _requests(args.data_root, next_day, args.requests)
    except FileNotFoundError:
        requests = _requests(args.data_root, args.ds, args.requests)

    _latencies(searcher, requests[: min(300, len(requests))], seed=1)  # warm-up
    lat = _latencies(searcher, requests, seed=2) * 1e3
    reference = np.empty(len(requests))
    for i, (query, _, _) in enumerate(requests):
        t = time.perf_counter()
        searcher.lexical.search_rows(query, 100)
        reference[i] = time.perf_counter() - t
    qps = {f"{t}_threads": round(_throughput(searcher, requests, t), 1) for t in (1, 2)}
    result = {
        "bundle": bundle.version,
        "artifacts": sorted(bundle.artifacts),
        "entities": len(searcher.popular.entity_ids),
        "strategies": sorted(searcher.strategies),
        "menu": len(searcher.policy.menu),
        "ranker": searcher.ranker is not None,
        "policy": searcher.versions["policy_version"],
        "requests": len(requests),
        "cache": bool(args.cache),
        "load_s": round(load_s, 2),
        "rss_mb_after_load": round(rss_after_load, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "latency_ms": {q: round(float(np.percentile(lat, p)), 3) for q, p in (("p50", 50), ("p90", 90), ("p99", 99))}
        | {"max": round(float(lat.max()), 3), "mean": round(float(lat.mean()), 3)},
        "reference_lexical_ms_p50": round(float(np.percentile(reference, 50) * 1e3), 3),
        "throughput_qps": qps,
        "threads_alive": threading.active_count(),
    }
    ratio = result["latency_ms"]["p50"] / max(result["reference_lexical_ms_p50"], 1e-9)
    result["p50_over_lexical_p50"] = round(ratio, 1)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"searcher-{dt.datetime.now(dt.UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
