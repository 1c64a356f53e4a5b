"""Benchmark the ranker fit (``ltrr.rank.train.fit_ranker``): wall time and peak memory per size.

For each size N (training rows; default 1e5 and 1e6, 1e7 with ``--with-1e7``) a child process:

1. generates a synthetic training frame of N rows and a validation frame of N/10 rows in the
   training-set contract: 10 shown rows per search, ``--features`` (35) features (``popularity``,
   ``q2e_score`` with 60% NaN, 2 categorical features with 20 codes and 5% NaN, the rest numeric
   with 10% NaN), graded labels from a hidden relevance through position-based clicks
   (exam(p) = 1/p), seeded;
2. fits the IPW-debiased LambdaMART exactly as the nightly job does (``fit_ranker``: row
   selection, feature matrix, LightGBM Dataset, lambdarank with the IPS validation metric),
   with ``--rounds`` (100) boosting rounds and early stopping that cannot trigger (patience =
   rounds), so every size runs the same number of trees, on ``--threads`` (1) threads;
3. reports the wall time of the fit and its parts (prepare = row selection and matrices,
   dataset = LightGBM binning, train = boosting incl. the validation metric), and the
   process's peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: native memory included,
   which tracemalloc would miss) after generating the data and after the fit.

The parent prints one row per size and writes ``bench/results/ranker-fit-<UTC time>.json``.

Usage::

    .venv/bin/python bench/bench_ranker_fit.py [--sizes 1e5 1e6] [--with-1e7] [--features 35]
        [--rounds 100] [--threads 1] [--seed 1]
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

ROWS_PER_SEARCH = 10
CATEGORICAL = 2
CODES = 20


def synthetic_frame(n_rows: int, n_features: int, seed: int, prefix: str):
    """A training-set-contract frame of ``n_rows`` shown rows and its feature spec."""
    import numpy as np
    import pandas as pd

    from ltrr.rank.spec import FeatureDef, FeatureSpec

    rng = np.random.default_rng(seed)
    n_search = max(1, n_rows // ROWS_PER_SEARCH)
    n = n_search * ROWS_PER_SEARCH
    numeric = [f"f{i:02d}" for i in range(n_features - 2 - CATEGORICAL)]
    categorical = [f"c{i}" for i in range(CATEGORICAL)]
    columns: dict = {}
    for name in numeric:
        values = rng.normal(size=n)
        values[rng.random(n) < 0.1] = np.nan
        columns[name] = values
    for name in categorical:
        values = rng.integers(0, CODES, n).astype(np.float64)
        values[rng.random(n) < 0.05] = np.nan
        columns[name] = values
    columns["popularity"] = rng.normal(size=n)
    hidden = 0.8 * np.nan_to_num(columns[numeric[0]]) + 0.5 * np.nan_to_num(columns[numeric[1]])
    hidden += 0.3 * columns["popularity"] + 0.2 * (np.nan_to_num(columns[categorical[0]]) % 3)
    rel = 1.0 / (1.0 + np.exp(-(hidden - 1.0)))
    q2e = rel + rng.normal(0, 0.3, n)
    q2e[rng.random(n) < 0.6] = np.nan
    columns["q2e_score"] = q2e
    logged = hidden + rng.normal(0, 1.0, n)
    search = np.repeat(np.arange(n_search), ROWS_PER_SEARCH)
    order = np.lexsort((-logged, search))
    position = np.empty(n, dtype=np.int64)
    position[order] = np.tile(np.arange(1, ROWS_PER_SEARCH + 1), n_search)
    clicked = (rng.random(n) < 1.0 / position) & (rng.random(n) < rel)
    label = clicked.astype(np.int64) + (clicked & (rng.random(n) < rel)) + (clicked & (rng.random(n) < rel**2 / 2))
    frame = pd.DataFrame(
        {
            "search_id": pd.Series(search).map(lambda s: f"{prefix}{s:09d}"),
            "ds": "2026-01-01",
            "user_id": "u",
            "entity_id": pd.Series(np.arange(n)).map(lambda i: f"e{i % 100_000:06d}"),
            "shown_position": pd.array(position, dtype="Int64"),
            "shown_randomized": False,
            "label": pd.array(np.minimum(label, 3), dtype="Int64"),
            "logged_score": logged,
            **columns,
        }
    )
    features = [FeatureDef(n, "numeric") for n in numeric] + [FeatureDef(n, "categorical") for n in categorical]
    features += [FeatureDef("popularity", "numeric"), FeatureDef("q2e_score", "numeric")]
    return frame, FeatureSpec(tuple(features), "bench")


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_size(n_rows: int, n_features: int, rounds: int, threads: int, seed: int) -> dict:
    """One size, in this process (the parent runs each in a child). Returns the figures."""
    import lightgbm  # noqa: F401  (imported before the clock starts: the import alone takes seconds)

    from ltrr.debias.examination import ExaminationCurve
    from ltrr.rank.train import RankerParams, fit_ranker

    start = time.perf_counter()
    train, spec = synthetic_frame(n_rows, n_features, seed, "t")
    valid, _ = synthetic_frame(max(n_rows // 10, 1000), n_features, seed + 1, "v")
    generate_s = time.perf_counter() - start
    rss_data = _peak_rss_mb()
    curve = ExaminationCurve(probabilities=tuple(1.0 / p for p in range(1, 11)))
    params = RankerParams(num_boost_round=rounds, early_stopping_rounds=rounds, num_threads=threads, seed=seed)
    start = time.perf_counter()
    fitted = fit_ranker(train, valid, spec, params, curve)
    fit_s = time.perf_counter() - start
    return {
        "rows": len(train),
        "valid_rows": len(valid),
        "features": len(spec.names),
        "rows_used": fitted.counts["train"]["rows"],
        "searches_used": fitted.counts["train"]["searches"],
        "rounds": len(fitted.history),
        "best_iteration": fitted.best_iteration,
        "threads": threads,
        "generate_s": round(generate_s, 2),
        "fit_s": round(fit_s, 2),
        **{k: round(v, 2) for k, v in fitted.timings.items()},
        "peak_rss_after_data_mb": round(rss_data, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=["1e5", "1e6"], help="training rows per rung")
    parser.add_argument("--with-1e7", action="store_true", help="add the 1e7 rung (about 10 GB of RAM)")
    parser.add_argument("--features", type=int, default=35)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(run_size(args.child, args.features, args.rounds, args.threads, args.seed)))
        return 0
    sizes = [int(float(s)) for s in args.sizes] + ([10_000_000] if args.with_1e7 else [])
    load = os.getloadavg()
    results = []
    header = f"{'rows':>10} {'feat':>4} {'rounds':>6} {'fit s':>8} {'prep s':>7} {'dataset s':>9} {'train s':>8} "
    header += f"{'rows/s':>9} {'RSS data MB':>11} {'peak RSS MB':>11}"
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; {args.threads} LightGBM thread(s)")
    print(header)
    for n in sizes:
        cmd = [sys.executable, __file__, "--child", str(n), "--features", str(args.features)]
        cmd += ["--rounds", str(args.rounds), "--threads", str(args.threads), "--seed", str(args.seed)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=REPO)
        if proc.returncode != 0:
            print(f"{n:>10} failed:\n{proc.stderr[-2000:]}")
            results.append({"rows": n, "error": proc.stderr[-2000:]})
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        print(
            f"{r['rows']:>10,} {r['features']:>4} {r['rounds']:>6} {r['fit_s']:>8.1f} {r['prepare_s']:>7.1f} "
            f"{r['dataset_s']:>9.1f} {r['train_s']:>8.1f} {r['rows_used'] / r['fit_s']:>9,.0f} "
            f"{r['peak_rss_after_data_mb']:>11,.0f} {r['peak_rss_mb']:>11,.0f}"
        )
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H%M%S")
    path = out / f"ranker-fit-{stamp}.json"
    path.write_text(
        json.dumps({"args": vars(args), "load_average": load, "cpus": os.cpu_count(), "results": results}, indent=2)
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
