"""Benchmark of ltrr.bandit: estimator and interval throughput, policy learning time and quality.

Sections (``--sections``, default all but ``quality``):

- ``estimators``: every estimator of ``ltrr.bandit.ope`` on 1e6 and 1e7 synthetic logged rows,
  as a point estimate (``ci="none"``, best of 3), and with bootstrap (1000 replicates), normal
  and Bernstein intervals. Each case runs in a fresh child process that loads the arrays from
  ``.npy`` files (written once under ``--data``, by another child), so its peak RSS (VmHWM) is
  the interpreter, the arrays and what the estimator allocates; the RSS after loading is
  reported too, and the difference is the estimator's own memory.
- ``learning``: ``fit_reward_model`` + ``learn_policy`` with the default parameters (5 folds,
  200 rounds, 31 leaves) on 1e5 and 1e6 synthetic searches, one child process per size.
- ``quality`` (opt-in, ~10 min): exact true values of the policy learned with DR targets vs the
  greedy policy of the reward model alone (DM), with a well-specified reward model and a
  misspecified one (3-leaf trees, 20 rounds), 3 seeds × 1e5 searches.

Results: one line per case on stdout, and ``bench/results/ope-<UTC time>.json``.

Usage::

    uptime   # the machine's load moves wall times; note it
    .venv/bin/python bench/bench_ope.py                      # estimators + learning
    .venv/bin/python bench/bench_ope.py --sections quality   # policy quality
    .venv/bin/python bench/bench_ope.py --sizes 1e6 --sections estimators
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

ESTIMATORS = ("ips", "snips", "dm", "dr", "switch_dr", "dr_os")
ARRAYS = ("reward", "pscore", "target_pscore", "q_logged", "q_target")


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _rss_now_mb() -> float:
    return _status_mb("VmRSS")


def _peak_rss_mb() -> float:
    """Peak RSS of this process since its exec: VmHWM.

    ``getrusage(RUSAGE_SELF).ru_maxrss`` is kept across fork + exec on Linux (the kernel carries
    the parent's high-water mark into the child's signal struct), so a child forked from a big
    parent would report the parent's peak; VmHWM belongs to the child's own address space. Both
    are recorded; this one is quoted.
    """
    return _status_mb("VmHWM")


def _ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kilobytes on Linux


def _write_arrays(n: int, folder: Path) -> None:
    from ltrr.bandit.synthetic import SyntheticBandit

    folder.mkdir(parents=True, exist_ok=True)
    sb = SyntheticBandit()
    cells = sb.cells()
    arrays = sb.ope_arrays(sb.sample_cells(n, seed=0), sb.target_probabilities(cells), sb.biased_reward_model())
    for name in ARRAYS:
        np.save(folder / f"{name}.npy", arrays[name])


def _estimate(name: str, arrays: dict[str, np.ndarray], ci: str) -> object:
    from ltrr.bandit import ope

    weights = {k: arrays[k] for k in ("reward", "pscore", "target_pscore")}
    models = {"q_logged": arrays["q_logged"], "q_target": arrays["q_target"]}
    kw = {"ci": ci, "n_bootstrap": 1000, "random_state": 0}
    if name == "ips":
        return ope.ips(**weights, **kw)
    if name == "snips":
        return ope.snips(**weights, **kw)
    if name == "dm":
        return ope.dm(q_target=arrays["q_target"], **kw)
    if name == "dr":
        return ope.dr(**weights, **models, **kw)
    if name == "switch_dr":
        return ope.switch_dr(**weights, **models, tau=10.0, **kw)
    return ope.dr_os(**weights, **models, lam=10.0, **kw)


def child_generate(case: dict) -> dict:
    """Write the arrays of one size (in a child, so the parent stays small)."""
    t0 = time.perf_counter()
    _write_arrays(case["rows"], Path(case["folder"]))
    return {**case, "seconds": time.perf_counter() - t0}


def child_estimator(case: dict) -> dict:
    """One estimator and interval method on the arrays of one size, in this (fresh) process."""
    import ltrr.bandit.ope  # noqa: F401  (imports count in the baseline, not in the estimator)

    folder = Path(case["folder"])
    arrays = {name: np.load(folder / f"{name}.npy") for name in ARRAYS}
    rss_loaded = _rss_now_mb()
    repeats = 3 if case["ci"] == "none" else 1
    times = []
    value = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = _estimate(case["estimator"], arrays, case["ci"])
        times.append(time.perf_counter() - t0)
    n = arrays["reward"].shape[0]
    best = min(times)
    return {
        **case,
        "rows": n,
        "seconds": best,
        "rows_per_s": n / best,
        "rss_after_load_mb": rss_loaded,
        "peak_rss_mb": _peak_rss_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
        "value": value.value,  # type: ignore[attr-defined]
        "ci_low": value.ci_low,  # type: ignore[attr-defined]
        "ci_high": value.ci_high,  # type: ignore[attr-defined]
    }


def child_learning(case: dict) -> dict:
    """Reward model + policy learning on ``rows`` synthetic searches, in this (fresh) process."""
    from ltrr.bandit.policy import PolicyParams, learn_policy
    from ltrr.bandit.reward_model import fit_reward_model
    from ltrr.bandit.synthetic import SyntheticBandit

    sb = SyntheticBandit()
    t0 = time.perf_counter()
    frame = sb.sample(case["rows"], seed=0)
    t_sample = time.perf_counter() - t0
    rss_data = _rss_now_mb()
    params = PolicyParams()
    t0 = time.perf_counter()
    rm = fit_reward_model(frame, sb.spec, sb.menu, params=params.reward, k_folds=params.k_folds)
    t_reward = time.perf_counter() - t0
    t0 = time.perf_counter()
    policy, _ = learn_policy(frame, sb.spec, sb.menu, params, reward_model=rm)
    t_policy = time.perf_counter() - t0
    return {
        **case,
        "sample_seconds": t_sample,
        "reward_model_seconds": t_reward,
        "dr_targets_and_scorer_seconds": t_policy,
        "total_learning_seconds": t_reward + t_policy,
        "rss_after_data_mb": rss_data,
        "peak_rss_mb": _peak_rss_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
        "logging_true_value": sb.true_value(sb.logging_probabilities),
        "learned_true_value": sb.true_value(policy.probabilities_frame),
        "params": {"k_folds": params.k_folds, "reward": params.reward.to_dict(), "scorer": params.scorer.to_dict()},
    }


def child_quality(case: dict) -> dict:
    """True values of DR-target vs DM-greedy policies for one seed and reward model setting."""
    from ltrr.bandit.policy import PolicyParams, learn_policy, softmax_with_floor
    from ltrr.bandit.reward_model import BoosterParams
    from ltrr.bandit.synthetic import SyntheticBandit

    sb = SyntheticBandit()
    cells = sb.cells()
    frame = sb.sample(case["rows"], seed=case["seed"])
    reward = BoosterParams(**case["reward_params"])
    params = PolicyParams(reward=reward)
    policy, rm = learn_policy(frame, sb.spec, sb.menu, params)
    scores = policy.scores(policy.spec.encode(cells))
    q = rm.predict_all_plans(cells)
    out = {**case, "logging": sb.true_value(sb.logging_probabilities)}
    for name, s in (("dr_targets", scores), ("dm_greedy", q)):
        out[f"{name}_greedy"] = sb.true_value(softmax_with_floor(s, 0.0, 0.0))
        out[f"{name}_soft"] = sb.true_value(softmax_with_floor(s, params.temperature, params.epsilon))
    out["oracle"] = sb.true_value(softmax_with_floor(sb.expected_reward(cells), 0.0, 0.0))
    return out


def _run_child(kind: str, case: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", kind, json.dumps(case)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {kind} {case} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Run the selected sections and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", nargs="+", default=["estimators", "learning"])
    parser.add_argument("--sizes", nargs="+", default=["1e6", "1e7"], help="rows for the estimator section")
    parser.add_argument("--learning-sizes", nargs="+", default=["1e5", "1e6"])
    parser.add_argument("--cis", nargs="+", default=["none", "bootstrap", "normal", "bernstein"])
    parser.add_argument("--data", default="/tmp/ltrr-bench-ope", help="cache of the generated arrays")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, case = args.child[0], json.loads(args.child[1])
        fn = {
            "generate": child_generate,
            "estimator": child_estimator,
            "learning": child_learning,
            "quality": child_quality,
        }[kind]
        print(json.dumps(fn(case)))
        return

    results: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "cases": [],
    }
    if "estimators" in args.sections:
        for size in args.sizes:
            n = int(float(size))
            folder = Path(args.data) / f"n={n}"
            if not (folder / "q_target.npy").is_file():
                g = _run_child("generate", {"rows": n, "folder": str(folder)})
                print(f"generated {n:,} rows in {g['seconds']:.1f} s under {folder}", flush=True)
            for ci in args.cis:
                for est in ESTIMATORS:
                    r = _run_child("estimator", {"folder": str(folder), "estimator": est, "ci": ci})
                    r["section"] = "estimators"
                    results["cases"].append(r)
                    print(
                        f"{r['rows']:>10,} {est:>9} ci={ci:<9} {r['seconds']:8.3f} s {r['rows_per_s']:14,.0f} rows/s "
                        f"rss loaded {r['rss_after_load_mb']:7.0f} MB peak {r['peak_rss_mb']:7.0f} MB "
                        f"value {r['value']:.4f} [{r['ci_low']:.4f}, {r['ci_high']:.4f}]",
                        flush=True,
                    )
    if "learning" in args.sections:
        for size in args.learning_sizes:
            r = _run_child("learning", {"rows": int(float(size))})
            r["section"] = "learning"
            results["cases"].append(r)
            print(
                f"learning {r['rows']:>10,} rows: reward model {r['reward_model_seconds']:.1f} s, DR targets + scorer "
                f"{r['dr_targets_and_scorer_seconds']:.1f} s, total {r['total_learning_seconds']:.1f} s, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB; true value {r['learned_true_value']:.4f} "
                f"(logging {r['logging_true_value']:.4f})",
                flush=True,
            )
    if "quality" in args.sections:
        settings = {
            "default": {},
            "misspecified": {"num_boost_round": 20, "num_leaves": 3},
        }
        for label, reward_params in settings.items():
            for seed in (1, 2, 3):
                r = _run_child("quality", {"rows": 100_000, "seed": seed, "reward_params": reward_params})
                r["section"] = "quality"
                r["reward_model"] = label
                results["cases"].append(r)
                print(
                    f"quality {label:>12} seed {seed}: logging {r['logging']:.4f}  DR targets greedy "
                    f"{r['dr_targets_greedy']:.4f} soft {r['dr_targets_soft']:.4f}  DM greedy "
                    f"{r['dm_greedy_greedy']:.4f} soft {r['dm_greedy_soft']:.4f}  oracle {r['oracle']:.4f}",
                    flush=True,
                )
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    out_dir = REPO / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"ope-{datetime.now(UTC).strftime('%Y-%m-%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
