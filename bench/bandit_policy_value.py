"""The learned plan policy against the logging policy, by serving the next day with each (simulated world).

Given a data root where the nightly pipeline ran up to day D (``artifacts/policy/ds=D`` published
or kept, plus the memory table, counters and bandit rows of D), this:

1. serves day D + 1 of the same world twice, into scratch folders: with the day-0 logging policy
   and with the learned policy (``LearnedPlanChooser``, context features from the artifacts of D);
2. turns both days' logs into bandit rows with the nightly job's SQL: the mean reward of each is
   the policy's realized value, and the share of searches whose candidates hold the intended
   entity its realized hit rate;
3. estimates the learned policy's value off-policy from the logging policy's day D + 1 alone
   (IPS, SNIPS, DM, DR, Switch-DR with 95% bootstrap intervals, reward model fitted on the
   bandit rows up to D), and says whether each interval covers the realized value.

Run (after ``make run`` or the per-day jobs on a medium world)::

    .venv/bin/python bench/bandit_policy_value.py --data-root data --ds 2026-01-07 --out /tmp/ltrr-policy-value

Writes ``bench/results/bandit-policy-value-<timestamp>.json`` and prints a summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, serve and score both days, print and save the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-root", type=Path, required=True)
    parser.add_argument("--ds", required=True, help="the day whose published policy serves ds + 1")
    parser.add_argument("--out", type=Path, required=True, help="scratch folder for the served days")
    parser.add_argument("--train-days", type=int, default=7, help="bandit-row days (up to ds) for the reward model")
    parser.add_argument(
        "--learn",
        action="store_true",
        help="learn the policy here on every bandit row up to ds (no gate) instead of loading artifacts/policy/ds=D",
    )
    parser.add_argument(
        "--searcher",
        action="store_true",
        help="serve with Searcher(bundle of ds) (LTRR_BUNDLE_STORE) instead of the day-0 engine: logging = the "
        "bundle without a policy (day-0 rule + LTRR_SERVING_EXPLORATION over every runnable plan, as a loop "
        "started from day-0 logs it), learned = the policy under test (artifact or --learn) without extra exploration",
    )
    parser.add_argument("--temperature", type=float, help="with --learn: softmax temperature (default: settings)")
    parser.add_argument("--epsilon", type=float, help="with --learn: exploration floor (default: settings)")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    from pyspark.sql import SparkSession

    from ltrr.bandit.context import BANDIT_CONTEXT_SPEC, ContextLookups
    from ltrr.bandit.dataset import BanditDatasetParams
    from ltrr.bandit.gate import ESTIMATORS, evaluate_policy
    from ltrr.bandit.plan_features import BANDIT_COLUMNS
    from ltrr.bandit.policy import learn_policy, load_policy
    from ltrr.bandit.policy_day import logged_menu, params_from_settings, read_window
    from ltrr.bandit.reward_model import fit_reward_model
    from ltrr.bandit.sim_value import intended_hits, learned_engine_factory, mean_with_se, serve_day, served_rows
    from ltrr.config import load_settings
    from ltrr.rank.training_day import history_as_of, memory_as_of
    from ltrr.serving.day0 import day0_engine_factory
    from ltrr.serving.plan_choice import entity_names
    from ltrr.spark_conf import session_conf
    from ltrr.text.normalize import normalize_query
    from ltrr.zones import artifact_dir, partition_path

    root = args.data_root.resolve()
    overrides = {"bandit_temperature": args.temperature, "bandit_epsilon": args.epsilon}
    settings = load_settings(data_root=root, **{k: v for k, v in overrides.items() if v is not None})
    day = dt.date.fromisoformat(args.ds)
    next_ds = (day + dt.timedelta(days=1)).isoformat()
    train, _ = read_window(root, args.ds, args.train_days)
    clock = time.perf_counter()
    if args.learn:
        train = train[[*BANDIT_COLUMNS, "plan", *BANDIT_CONTEXT_SPEC.names]]
        policy, reward_model = learn_policy(
            train, BANDIT_CONTEXT_SPEC, logged_menu(train), params_from_settings(settings)
        )
        report = {
            "outcome": f"learned here on {len(train)} rows up to {args.ds} (no gate)",
            "temperature": settings.bandit_temperature,
            "epsilon": settings.bandit_epsilon,
        }
    else:
        policy_dir = artifact_dir(root, args.ds, "policy")
        report = json.loads((policy_dir / "report.json").read_text())
        policy = load_policy(policy_dir)
        reward_model = fit_reward_model(train, policy.spec, policy.menu)
    timings = {"learn_s": time.perf_counter() - clock}
    world = json.loads((root / "sim" / "world.json").read_text())
    # The day-0 engine's epsilon as the world recorded it (None once a custom engine served a day).
    exploration = float(world["parameters"].get("exploration") or settings.sim_exploration)
    builder = SparkSession.builder.master(settings.spark_master).appName("bandit-policy-value")
    for key, value in session_conf(settings, local=True).items():  # the jobs' configuration
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    # The counters and memory the dataset job reads for the day after ds; serving reads the same.
    params = BanditDatasetParams.from_settings(settings)
    history, history_info = history_as_of(spark, root, args.ds, params.history_days, reuse=True)
    history = history.cache()
    memory, _ = memory_as_of(spark, root, args.ds)
    catalog = pq.read_table(partition_path(root, "clean", "catalog", args.ds)).to_pandas()
    lookups = ContextLookups.from_frames(
        pd.Series(sorted(entity_names(catalog, normalize_query))),
        memory.select("query_key", "score").toPandas(),
        history.toPandas(),
    )

    if args.searcher:
        from ltrr.bundle.store import BundleStore
        from ltrr.serving import load_bundle
        from ltrr.serving.plan_choice import LearnedPlanChooser
        from ltrr.serving.searcher import SearcherParams, searcher_factory

        store = BundleStore(settings.bundle_store)
        versions = [v for v in store.versions() if v.startswith(args.ds)]
        bundle = load_bundle(store.url_of(versions[-1]))
        base = SearcherParams.from_settings(settings)
        logging_factory = searcher_factory(bundle, SearcherParams(exploration=base.exploration, use_policy=False))
        # The policy under test alone (no extra exploration), so its realized value is what OPE estimates.
        learned_factory = searcher_factory(
            bundle, SearcherParams(exploration=0.0), chooser=LearnedPlanChooser(policy, lookups)
        )
        report["bundle"] = bundle.version
    else:
        logging_factory = day0_engine_factory(exploration)
        learned_factory = learned_engine_factory(policy, lookups)
    clock = time.perf_counter()
    serve_day(root, args.out / "logging", next_ds, logging_factory)
    timings["serve_logging_s"] = time.perf_counter() - clock
    clock = time.perf_counter()
    serve_day(root, args.out / "learned", next_ds, learned_factory)
    timings["serve_learned_s"] = time.perf_counter() - clock

    try:
        clock = time.perf_counter()
        rows = {}
        hits = {}
        for name in ("logging", "learned"):
            frame = served_rows(spark, args.out / name, next_ds, params, memory=memory, history=history).toPandas()
            rows[name] = frame.assign(ds=next_ds)
            hits[name] = intended_hits(spark, args.out / name, next_ds).toPandas()
        timings["rows_s"] = time.perf_counter() - clock
    finally:
        spark.stop()

    clock = time.perf_counter()
    estimates = evaluate_policy(rows["logging"], policy, reward_model, estimators=ESTIMATORS)
    timings["estimate_s"] = time.perf_counter() - clock

    realized = {}
    for name in ("logging", "learned"):
        value, se = mean_with_se(rows[name]["reward"].to_numpy())
        hit = hits[name]
        realized[name] = {
            "value": value,
            "se": se,
            "searches": len(rows[name]),
            "intended_hit_rate": float(hit["intended_hit"].mean()),
            "hit_rate_by_class": hit.groupby("query_class")["intended_hit"].mean().round(4).to_dict(),
            "mean_candidates": float(rows[name]["n_candidates"].mean()),
            "plan_shares": rows[name]["plan_id"].value_counts(normalize=True).round(4).to_dict(),
        }
    truth = realized["learned"]["value"]
    result = {
        "data_root": str(root),
        "ds": args.ds,
        "served_ds": next_ds,
        "policy_outcome": report.get("outcome"),
        "engine": f"Searcher(bundle {report['bundle']})" if args.searcher else "day0 retrieval",
        "counters": history_info,
        "temperature": policy.temperature,
        "epsilon": policy.epsilon,
        "policy_menu": list(policy.plan_ids),
        "policy_gate": report.get("gate"),
        "realized": realized,
        "estimates_on_logging_day": {
            k: {**v.to_dict(), "covers_realized": bool(v.ci_low <= truth <= v.ci_high)} for k, v in estimates.items()
        },
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "load_average": os.getloadavg(),
    }
    for est in result["estimates_on_logging_day"].values():
        est.pop("extra", None)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bandit-policy-value-{time.strftime('%Y-%m-%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2, default=float) + "\n")

    for name, r in realized.items():
        print(
            f"{name:8s} realized {r['value']:.4f} ± {r['se']:.4f}  intended-hit {r['intended_hit_rate']:.4f}  "
            f"candidates {r['mean_candidates']:.1f}  plans {r['plan_shares']}"
        )
    for name, v in estimates.items():
        cover = "covers" if v.ci_low <= truth <= v.ci_high else "misses"
        print(f"  {name:9s} {v.value:.4f} [{v.ci_low:.4f}, {v.ci_high:.4f}] ess {v.ess:.0f}  {cover} {truth:.4f}")
    print(f"saved {path}")
    return 0 if np.isfinite(truth) else 1


if __name__ == "__main__":
    sys.exit(main())
