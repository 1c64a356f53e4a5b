"""True value of policy-learning variants, scored offline on a day's saved per-plan rewards.

``bench/compare_policy_variants.py`` replays a served day through every plan (about 9 minutes
for a medium day) and scores the variants it learned while replaying. This bench reuses the
saved rewards of such a run (``--save-outcomes``) and scores any number of new variants in about
a minute each: every variant learns on the bandit rows up to ``DS − 1`` (as the nightly job) and
chooses plans from the context features of the day's own bandit rows (the nightly SQL computes
them as of each search, as serving does from the previous day's artifacts). Each variant's
greedy plan and its value as it would serve (its floor ε and the serving exploration η over its
menu) are scored on the saved true rewards, paired against the day-0 rule and the served plans.

Variant keys: ``max_weight`` (0: no cap), ``num_leaves``, ``min_data_in_leaf``,
``num_boost_round``, ``learning_rate`` (the scorer's; ``reward_*`` for the reward model), and
``method:dm`` (the argmax of the reward model instead of the DR-target scorer)::

    .venv/bin/python bench/policy_variants_offline.py /tmp/cpv/outcomes-2026-01-11.npz /tmp/exp-t0 2026-01-11 \\
        --variant nightly= --variant small=num_leaves:7,min_data_in_leaf:1000
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BOOSTER_KEYS = ("num_leaves", "min_data_in_leaf", "num_boost_round", "learning_rate", "lambda_l2")
KEYS = ("max_weight", "method", *BOOSTER_KEYS, *(f"reward_{k}" for k in BOOSTER_KEYS))


def parse_variant(text: str) -> tuple[str, dict[str, str]]:
    """``small=num_leaves:7,method:dm`` → ``("small", {"num_leaves": "7", "method": "dm"})``."""
    name, _, spec = text.partition("=")
    settings = dict(item.partition(":")[::2] for item in filter(None, spec.split(",")))
    unknown = set(settings) - set(KEYS)
    if not name or unknown:
        raise argparse.ArgumentTypeError(f"variant {text!r}: NAME=key:value,... with keys in {KEYS}")
    return name, settings


def _booster(base: object, spec: dict[str, str], prefix: str) -> object:
    changes = {}
    for key in BOOSTER_KEYS:
        if prefix + key in spec:
            kind = type(getattr(base, key))
            changes[key] = kind(float(spec[prefix + key]))
    return dataclasses.replace(base, **changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outcomes", type=Path, help="compare_policy_variants.py --save-outcomes file of DS")
    parser.add_argument("experiment", type=Path, help="the experiment's output folder")
    parser.add_argument("ds", help="the served day of the outcomes")
    parser.add_argument("--variant", action="append", type=parse_variant, required=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from plan_headroom import paired

    from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
    from ltrr.bandit.plan_features import BANDIT_COLUMNS
    from ltrr.bandit.policy import PolicyParams, learn_policy, softmax_with_floor
    from ltrr.bandit.policy_day import logged_menu, params_from_settings, read_window
    from ltrr.config import load_settings

    settings = load_settings(data_root=args.experiment.resolve() / "data")
    z = np.load(args.outcomes, allow_pickle=False)
    plan_ids = [str(p) for p in z["plan_ids"]]
    column = {p: j for j, p in enumerate(plan_ids)}
    keep = z["ranked"] & np.all(np.isfinite(z["reward"]), axis=1)
    reward, search_ids = z["reward"][keep], z["search_ids"][keep]
    n, at = len(reward), np.arange(keep.sum())
    day0, served = z["day0_rule"][keep], z["served"][keep]
    base, logged = reward[at, day0], reward[at, served]
    runnable = np.arange(int(z["menu_size"]))

    day_rows, _ = read_window(settings.data_root, args.ds, 1)
    contexts = day_rows.set_index("search_id").reindex(search_ids).reset_index()
    previous = (dt.date.fromisoformat(args.ds) - dt.timedelta(days=1)).isoformat()
    frame, _ = read_window(settings.data_root, previous, settings.bandit_train_days)
    frame = frame[[*BANDIT_COLUMNS, "plan", *BANDIT_CONTEXT_SPEC.names]]
    menu = logged_menu(frame)
    columns = np.array([column[p.plan_id] for p in menu])
    nightly: PolicyParams = params_from_settings(settings)
    eta = settings.serving_exploration

    # The logging policy of a day served at exploration η (the day-0 rule mixed with η uniform over
    # the runnable plans), in exact expectation: the reference when the day itself was served at
    # another η (an experiment run with more exploration to collect evidence).
    rule_as_served = (1 - eta) * base + eta * np.nan_to_num(reward[:, runnable]).mean(axis=1)
    print(
        f"{args.ds}: {n} searches; day-0 rule {base.mean():.4f}, served {logged.mean():.4f}, "
        f"day-0 rule at η = {eta} {rule_as_served.mean():.4f}"
    )
    figures = {}
    for name, spec in args.variant:
        clock = time.perf_counter()
        cap = float(spec.get("max_weight", nightly.max_weight or 0.0))
        params = dataclasses.replace(
            nightly,
            max_weight=cap or None,
            scorer=_booster(nightly.scorer, spec, ""),
            reward=_booster(nightly.reward, spec, "reward_"),
        )
        policy, reward_model = learn_policy(frame, BANDIT_CONTEXT_SPEC, menu, params)
        if spec.get("method") == "dm":
            scores = reward_model.predict_all_plans(contexts, menu)
        else:
            scores = policy.scores(policy.spec.encode(contexts))
        greedy = columns[np.argmax(scores, axis=1)]
        probs = np.zeros((n, len(plan_ids)))
        probs[:, columns] = softmax_with_floor(scores, policy.temperature, policy.epsilon)
        explore = np.union1d(columns, runnable)
        probs = (1 - eta) * probs
        probs[:, explore] += eta / len(explore)
        as_served = (probs * np.nan_to_num(reward)).sum(axis=1)
        row = {
            "spec": spec,
            "greedy_vs_day0_rule": paired(reward[at, greedy], base),
            "as_served_vs_served": paired(as_served, logged),
            "as_served_vs_day0_rule_as_served": paired(as_served, rule_as_served),
            "greedy_plans": {plan_ids[j]: round(float(np.mean(greedy == j)), 4) for j in np.unique(greedy)},
            "seconds": round(time.perf_counter() - clock, 1),
        }
        figures[name] = row
        g, s, r = row["greedy_vs_day0_rule"], row["as_served_vs_served"], row["as_served_vs_day0_rule_as_served"]
        print(
            f"  {name:12s} greedy {g['value']:.4f} − day0 {g['difference']:+.4f} [{g['ci'][0]:+.4f}, {g['ci'][1]:+.4f}]"
            f"   as served − served {s['difference']:+.4f} [{s['ci'][0]:+.4f}, {s['ci'][1]:+.4f}]"
            f"   − rule at η {r['difference']:+.4f} [{r['ci'][0]:+.4f}, {r['ci'][1]:+.4f}]"
            f"   ({row['seconds']:.0f} s) {dict(sorted(row['greedy_plans'].items(), key=lambda kv: -kv[1])[:3])}",
            flush=True,
        )
    if args.out:
        args.out.write_text(json.dumps({"ds": args.ds, "variants": figures}, indent=1, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
