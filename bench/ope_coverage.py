"""Measured coverage of the off-policy intervals on synthetic logs with an exactly known truth.

For each size n and replication r, draw n logged rows from ``ltrr.bandit.synthetic.SyntheticBandit``
(seed r), estimate the fixed target policy's value with every estimator and every interval
method, and count the intervals that contain the exact true value (Σ_x P(x) Σ_a π(a|x) q(x, a)
over the generator's 500 context cells). The reward model q̂ is a fixed, deliberately biased
transform of the truth (``biased_reward_model``: shrunk 30% towards the mean, +0.03), so DM,
Switch-DR and DR-os carry a bias that no interval accounts for, while IPS, SNIPS and DR do not.

Usage::

    .venv/bin/python bench/ope_coverage.py                         # 200 reps × n ∈ {300, 3000, 30000}
    .venv/bin/python bench/ope_coverage.py --reps 50 --sizes 1000

Prints a table (coverage share, mean interval width, mean bias per estimator × method × n) and
writes ``bench/results/ope-coverage-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

METHODS = ("bootstrap", "normal", "bernstein")


def run(sizes: list[int], reps: int, n_bootstrap: int, alpha: float, tau: float, lam: float) -> dict:
    """Coverage, mean width and mean bias per (n, estimator, method)."""
    from ltrr.bandit import ope
    from ltrr.bandit.synthetic import SyntheticBandit

    sb = SyntheticBandit()
    cells = sb.cells()
    target = sb.target_probabilities(cells)
    truth = sb.true_value(target)
    q_hat = sb.biased_reward_model()
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        stats: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
        for rep in range(reps):
            a = sb.ope_arrays(sb.sample_cells(n, seed=rep), target, q_hat)
            w = {k: a[k] for k in ("reward", "pscore", "target_pscore")}
            m = {"q_logged": a["q_logged"], "q_target": a["q_target"]}
            for method in METHODS:
                kw = {
                    "ci": method,
                    "alpha": alpha,
                    "n_bootstrap": n_bootstrap,
                    "random_state": rep,
                    "reward_range": sb.reward_range,
                }
                for v in (
                    ope.ips(**w, **kw),
                    ope.snips(**w, **kw),
                    ope.dm(q_target=a["q_target"], **kw),
                    ope.dr(**w, **m, **kw),
                    ope.switch_dr(**w, **m, tau=tau, **kw),
                    ope.dr_os(**w, **m, lam=lam, **kw),
                ):
                    stats.setdefault((v.estimator, method), []).append((v.value, v.ci_low, v.ci_high))
        for (estimator, method), values in stats.items():
            arr = np.array(values)
            rows.append(
                {
                    "n": n,
                    "estimator": estimator,
                    "ci": method,
                    "reps": reps,
                    "coverage": float(np.mean((arr[:, 1] <= truth) & (truth <= arr[:, 2]))),
                    "mean_width": float(np.mean(arr[:, 2] - arr[:, 1])),
                    "mean_bias": float(np.mean(arr[:, 0]) - truth),
                }
            )
        print(f"n={n}: {reps} replications in {time.perf_counter() - t0:.0f} s", flush=True)
    return {"truth": truth, "rows": rows}


def main() -> None:
    """Run the coverage study, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", type=lambda s: int(float(s)), default=[300, 3000, 30000])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n-bootstrap", type=int, default=1000)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--tau", type=float, default=10.0, help="Switch-DR threshold")
    parser.add_argument("--lam", type=float, default=10.0, help="DR-os shrinkage")
    args = parser.parse_args()
    started = datetime.now(UTC)
    result = run(args.sizes, args.reps, args.n_bootstrap, args.alpha, args.tau, args.lam)
    print(f"true value {result['truth']:.5f}; nominal coverage {1 - args.alpha:.0%}")
    print(f"{'n':>7} {'estimator':>10} " + " ".join(f"{m:>22}" for m in METHODS) + f" {'mean bias':>10}")
    by_key = {(r["n"], r["estimator"], r["ci"]): r for r in result["rows"]}
    for n in args.sizes:
        for est in ("ips", "snips", "dm", "dr", "switch_dr", "dr_os"):
            cells = [by_key[(n, est, m)] for m in METHODS]
            text = " ".join(f"{c['coverage']:>8.1%} (w {c['mean_width']:.4f})" for c in cells)
            print(f"{n:>7} {est:>10} {text} {cells[0]['mean_bias']:>+10.5f}")
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"ope-coverage-{started.strftime('%Y-%m-%dT%H%M%S')}.json"
    payload = {"started": started.isoformat(timespec="seconds"), "args": vars(args), **result}
    out.write_text(json.dumps(payload, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
