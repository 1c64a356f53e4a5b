"""Re-evaluate served days of an experiment with the current arms (true values, policy sweeps).

An experiment (``ltrr experiment``) measures its arms once per served day. When the arms gain a
measurement (e.g. the paired value difference against the day-0 rule, or the policy sweeps),
this re-runs only the measurement on a finished experiment's stored world, bundles and logs,
without re-simulating or re-running any nightly job: for each ``DS`` it loads the champion
bundle published before ``DS`` (the one that served it), replays the day's requests through
every evaluated plan, and writes the day's entry (``arms``, ``value_vs_day0_rule``,
``policy_sweep``, ...) to ``OUT/reeval-DS.json``. The experiment's own ``results.json`` is not
touched.

Usage::

    LTRR_SPARK_MASTER='local[2]' OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/reevaluate_experiment.py \\
        /tmp/exp-med 2026-01-07 2026-01-09 2026-01-11 [--max-ranked 3000] [--out DIR]

One medium day with 3,000 ranked searches takes 5–11 minutes on 2 busy cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

from ltrr.config import load_settings
from ltrr.experiment.run import Experiment, ExperimentParams
from ltrr.serving.searcher import SearcherParams

SHOWN_ARMS = ("ltrr", "ltrr_greedy", "learned_ungated", "day0_rule", "uniform")


def _params(experiment_dir: Path) -> ExperimentParams:
    """The parameters the experiment in ``experiment_dir`` ran with (from its ``results.json``)."""
    recorded = json.loads((experiment_dir / "results.json").read_text())["experiment"]
    return ExperimentParams(
        days=recorded["days"],
        scale=recorded["scale"],
        seed=recorded["seed"],
        start=dt.date.fromisoformat(recorded["start"]),
        max_ranked=recorded["max_ranked"],
        run_gx=recorded["run_gx"],
        day0_exploration=recorded["day0_exploration"],
        randomized_share=recorded["randomized_share"],
    )


def _interval(figures: dict) -> str:
    low, high = figures["ci"]
    return f"{figures['difference']:+.4f} [{low:+.4f}, {high:+.4f}]"


def _print_day(entry: dict) -> None:
    print(f"{entry['ds']} served by {entry['served_by']}")
    for arm in SHOWN_ARMS:
        if arm in entry["arms"]:
            o = entry["arms"][arm]["overall"]
            low, high = o["value_ci"]
            print(
                f"  {arm:16s} value {o['value']:.4f} [{low:.4f}, {high:.4f}] "
                f"hit {o['hit_rate']:.3f} candidates {o['mean_candidates']:.1f}"
            )
    for arm, figures in entry.get("value_vs_day0_rule", {}).items():
        print(f"  {arm} − day0_rule: {_interval(figures)}")
    for name, rows in entry.get("policy_sweep", {}).items():
        print(f"  sweep of {name} (its T {rows['policy_temperature']:g}, ε {rows['policy_epsilon']:g}):")
        for key, row in rows.items():
            if isinstance(row, dict):
                served = f", − served {_interval(row['vs_served'])}" if "vs_served" in row else ""
                print(f"    {key:8s} value {row['value']:.4f} − day0_rule {_interval(row['vs_day0_rule'])}{served}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path, help="the experiment's output folder")
    parser.add_argument("days", nargs="+", help="served days to re-evaluate (YYYY-MM-DD)")
    parser.add_argument("--max-ranked", type=int, default=None, help="ranked searches per day (default: as run)")
    parser.add_argument("--out", type=Path, default=None, help="where reeval-DS.json go (default: the experiment)")
    args = parser.parse_args(argv)
    experiment_dir = args.experiment.resolve()
    out = (args.out or experiment_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    experiment = Experiment(None, load_settings(), _params(experiment_dir), experiment_dir)
    if args.max_ranked is not None:
        experiment.params = dataclasses.replace(experiment.params, max_ranked=args.max_ranked)
    for ds in args.days:
        clock = time.perf_counter()
        bundle = experiment._champion(ds)
        if bundle is None:
            print(f"{ds}: no champion bundle before it (a day-0 day is not re-evaluated)", file=sys.stderr)
            return 1
        entry: dict = {"ds": ds, "served_by": bundle.version, "arms": {}}
        searcher_params = SearcherParams.from_settings(experiment.settings)
        experiment._evaluate(entry, bundle, searcher_params, dt.date.fromisoformat(ds))
        entry["seconds"] = round(time.perf_counter() - clock, 1)
        (out / f"reeval-{ds}.json").write_text(json.dumps(entry, indent=1, default=float) + "\n")
        _print_day(entry)
    return 0


if __name__ == "__main__":
    sys.exit(main())
