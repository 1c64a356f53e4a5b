"""True value of policy-learning variants on a served day of a finished experiment.

The nightly policy job learns one policy; to choose how it should learn (weight cap,
temperature, training window, ...) we need each candidate's *true* value, which the simulated
world gives. For a served day ``DS`` of an experiment (``ltrr experiment``), this learns every
variant on the bandit rows up to ``DS − 1`` (what the nightly job had), replays ``DS``'s requests
through every evaluated plan once (``plan_outcomes``, as the experiment does) with every variant
recording its scores, and prints each variant's exact expected value as it would serve (its T,
its floor ε and the serving exploration η) against the plans the day logged (``vs_served``) and
the day-0 rule, paired on the same searches. Nothing is re-simulated and no nightly job runs.

Variants are ``name=key:value,key:value`` over ``PolicyParams`` fields (``max_weight``, 0 for
no cap; ``temperature``; ``epsilon``) and ``days`` (training days up to DS − 1); an empty spec
is the nightly job's settings::

    LTRR_SPARK_MASTER='local[2]' OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/compare_policy_variants.py \\
        /tmp/exp-t0 2026-01-11 --variant nightly= --variant nocap=max_weight:0 --max-ranked 6000

One medium day with 6,000 ranked searches and four variants takes about 15 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

from reevaluate_experiment import _params

from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
from ltrr.bandit.gate import evaluate_policy, improvement_over_logged, logged_policy_value
from ltrr.bandit.plan_features import BANDIT_COLUMNS
from ltrr.bandit.policy import PolicyParams, learn_policy
from ltrr.bandit.policy_day import logged_menu, params_from_settings, read_window
from ltrr.config import load_settings
from ltrr.experiment import arms as A
from ltrr.experiment.plan_outcomes import evaluated_plans, plan_outcomes
from ltrr.experiment.run import Experiment, logged_plan_ids
from ltrr.retrieval.plans import menu_for
from ltrr.serving.plan_choice import LearnedPlanChooser
from ltrr.serving.searcher import Searcher, SearcherParams, day0_rule_chooser
from ltrr.sim.replay import WorldDay

PARAM_KEYS = ("max_weight", "temperature", "epsilon")


def parse_variant(text: str) -> tuple[str, dict[str, float]]:
    """``cap10=max_weight:10,days:3`` → ``("cap10", {"max_weight": 10.0, "days": 3.0})``."""
    name, _, spec = text.partition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"variant {text!r} has no name (NAME=key:value,...)")
    settings: dict[str, float] = {}
    for item in filter(None, spec.split(",")):
        key, _, value = item.partition(":")
        if key not in (*PARAM_KEYS, "days", "margin"):
            raise argparse.ArgumentTypeError(
                f"variant {name!r}: unknown key {key!r} (one of {PARAM_KEYS}, days or margin)"
            )
        settings[key] = float(value)
    return name, settings


def _interval(figures: dict) -> str:
    low, high = figures["ci"]
    return f"{figures['difference']:+.4f} [{low:+.4f}, {high:+.4f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path, help="the experiment's output folder")
    parser.add_argument("ds", help="a served day (YYYY-MM-DD)")
    parser.add_argument("--variant", action="append", type=parse_variant, required=True, help="NAME=key:value,...")
    parser.add_argument("--max-ranked", type=int, default=3000, help="ranked searches (default 3000; 0: all)")
    parser.add_argument("--out", type=Path, default=None, help="JSON file for the figures")
    parser.add_argument(
        "--save-outcomes", type=Path, default=None, help="NPZ file of the day's per-plan rewards, for headroom analyses"
    )
    args = parser.parse_args(argv)

    experiment_dir = args.experiment.resolve()
    experiment = Experiment(None, load_settings(), _params(experiment_dir), experiment_dir)
    settings = experiment.settings
    day = dt.date.fromisoformat(args.ds)
    bundle = experiment._champion(args.ds)
    if bundle is None:
        print(f"{args.ds}: no champion bundle before it", file=sys.stderr)
        return 1
    world = WorldDay(settings.data_root, day)
    searcher = Searcher(bundle, SearcherParams.from_settings(settings), serving_day=day, catalog=world.catalog)
    runnable = menu_for(searcher.strategies)
    previous = (day - dt.timedelta(days=1)).isoformat()
    frame, _ = read_window(settings.data_root, previous, settings.bandit_train_days)
    frame = frame[[*BANDIT_COLUMNS, "plan", *BANDIT_CONTEXT_SPEC.names]]
    menu = logged_menu(frame)
    # The served day's own bandit rows (logged by its champion): the nightly gate's holdout.
    holdout, _ = read_window(settings.data_root, args.ds, 1)
    holdout = holdout[[*BANDIT_COLUMNS, "plan", *BANDIT_CONTEXT_SPEC.names]]
    logged = logged_policy_value(holdout)
    estimates: dict[str, dict] = {}
    base: PolicyParams = params_from_settings(settings)

    clock = time.perf_counter()
    choosers: dict[str, Any] = {A.DAY0_RULE: day0_rule_chooser()}
    learned: dict[tuple, Any] = {}
    margins: dict[str, tuple[str, float]] = {}
    for name, spec in args.variant:
        key = tuple(sorted((k, v) for k, v in spec.items() if k != "margin"))
        if "margin" in spec and key in learned:
            margins[name] = (learned[key], spec["margin"])
            continue
        days = int(spec.get("days", 0))
        first = (day - dt.timedelta(days=days)).isoformat() if days else ""
        train = frame[frame["ds"].astype(str) >= first]
        overrides: dict[str, float | None] = {k: v for k, v in spec.items() if k in PARAM_KEYS}
        if overrides.get("max_weight") == 0.0:  # as LTRR_BANDIT_MAX_WEIGHT=0: no cap
            overrides["max_weight"] = None
        params = dataclasses.replace(base, **overrides)
        policy, reward_model = learn_policy(train, BANDIT_CONTEXT_SPEC, menu, params)
        if "margin" not in spec and set(holdout["plan_id"]) <= set(policy.plan_ids):  # margins: not estimated
            estimates[name] = {
                "dr": evaluate_policy(holdout, policy, reward_model, estimators=("dr",))["dr"].to_dict(),
                "dr_minus_logged": improvement_over_logged(holdout, policy, reward_model).to_dict(),
                "logged": logged.to_dict(),
            }
        choosers[name] = LearnedPlanChooser(policy, searcher.policy_lookups())
        learned.setdefault(key, name)
        if "margin" in spec:
            margins[name] = (name, spec["margin"])
    print(f"learned {len(args.variant)} variants in {time.perf_counter() - clock:.0f} s", flush=True)

    outcomes = plan_outcomes(
        searcher,
        world,
        evaluated_plans(runnable, sorted(searcher.strategies)),
        menu_size=len(runnable),
        max_ranked=args.max_ranked or None,
        seed=experiment.params.seed,
        choosers=choosers,
        cost_per_candidate=settings.bandit_cost_per_candidate,
    )
    # A margin variant: the champion's (day-0 rule's) plan gets a bonus of `margin` in reward
    # units, so the policy leaves it only where its scorer sees a larger advantage.
    rows = range(len(outcomes.search_ids))
    unmargined = {name: scores.copy() for name, scores in outcomes.chosen_scores.items()}
    for name, (source, margin) in margins.items():
        scores = unmargined[source].copy()
        scores[rows, outcomes.chosen[A.DAY0_RULE]] += margin
        outcomes.chosen_scores[name] = scores
        choosers.setdefault(name, choosers[source])
    choices = A.arm_choices(
        outcomes,
        logged_plan_ids(settings.data_root, args.ds, outcomes.search_ids),
        seed=experiment.params.seed,
        day_ordinal=day.toordinal(),
    )
    # The experiment's own sweep (its rows use each policy's floor and the serving exploration).
    sweep = Experiment._policy_sweep(outcomes, choosers, choices[A.DAY0_RULE], searcher.policy, served=choices[A.LTRR])
    figures = {}
    for name, _ in args.variant:
        rows = sweep[name]
        row = dict(rows[f"T={rows['policy_temperature']:g}"])
        # What the off-policy estimates target: the policy itself, without serving exploration.
        row["as_policy"] = A.softmax_policy_value(
            outcomes,
            outcomes.chosen_scores[name],
            choices[A.DAY0_RULE],
            temperature=rows["policy_temperature"],
            epsilon=rows["policy_epsilon"],
            versus={"served": choices[A.LTRR]},
        )
        row["estimates"] = estimates.get(name)
        figures[name] = row
        print(
            f"{args.ds} {name:10s} value {row['value']:.4f}  − served {_interval(row['vs_served'])}  "
            f"− day0_rule {_interval(row['vs_day0_rule'])}",
            flush=True,
        )
        if row["estimates"]:
            est, mine = row["estimates"], row["as_policy"]
            dr_, gap = est["dr"], est["dr_minus_logged"]
            print(
                f"{'':10s} {name:10s} true {mine['value']:.4f} (no serving exploration), DR {dr_['value']:.4f} "
                f"[{dr_['ci_low']:.4f}, {dr_['ci_high']:.4f}]; true − served {_interval(mine['vs_served'])}, "
                f"DR − logged {gap['value']:+.4f} [{gap['ci_low']:+.4f}, {gap['ci_high']:+.4f}] "
                f"(logged {est['logged']['value']:.4f})",
                flush=True,
            )
    if args.save_outcomes:
        import numpy as np

        np.savez_compressed(
            args.save_outcomes,
            plan_ids=np.asarray(outcomes.plan_ids),
            menu_size=outcomes.menu_size,
            reward=outcomes.reward,
            ranked=outcomes.ranked,
            query_class=outcomes.query_class,
            intent_type=outcomes.intent_type,
            served=choices[A.LTRR],
            day0_rule=choices[A.DAY0_RULE],
            search_ids=np.asarray(outcomes.search_ids),
            **{f"scores_{name}": scores for name, scores in outcomes.chosen_scores.items()},
        )
    if args.out:
        args.out.write_text(json.dumps({"ds": args.ds, "variants": figures}, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
