"""How much true value can any plan policy gain over the day-0 rule on a served day?

The learned plan policy is judged against the logging policy in true value. Before asking why a
policy did not gain, this measures how much there was to gain: from a day's per-plan true
rewards (``bench/compare_policy_variants.py --save-outcomes``, every search of the day through
every plan, paired on the same click-model draws) and the day's bandit rows (the policy's context
features), it reports, each against the day-0 rule with a paired 95 % interval:

- every static plan;
- **cell policies**: the best plan per cell of a few context features, chosen on one half of the
  searches and scored on the other (2-fold cross-fitting, so the figure is honest), for coarser
  and finer cells;
- the per-search hindsight oracle (the best plan of each search, knowing its outcome): a ceiling
  no policy reaches, since the outcome is random given the context.

Usage::

    .venv/bin/python bench/plan_headroom.py OUTCOMES.npz DATA_ROOT DS [--out FILE.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

CELLS: dict[str, tuple[str, ...]] = {
    "tokens": ("tokens",),
    "tokens × entity name": ("tokens", "entity_name"),
    "tokens × entity name × memory": ("tokens", "entity_name", "has_memory"),
    "… × user history": ("tokens", "entity_name", "has_memory", "has_history"),
    "… × user history × device": ("tokens", "entity_name", "has_memory", "has_history", "device"),
}


def paired(values: np.ndarray, reference: np.ndarray) -> dict:
    """Mean of ``values − reference`` with a 95 % normal interval."""
    d = values - reference
    se = float(np.std(d, ddof=1)) / math.sqrt(len(d))
    mean = float(d.mean())
    return {"difference": mean, "ci": [mean - 1.96 * se, mean + 1.96 * se], "value": float(values.mean())}


def fold_of(search_ids: np.ndarray) -> np.ndarray:
    """A fixed 0/1 fold per search id (a hash, so reruns agree)."""
    return np.array([hashlib.blake2b(s.encode(), digest_size=1).digest()[0] & 1 for s in search_ids])


def cell_policy(reward: np.ndarray, keys: pd.Series, fold: np.ndarray, menu: np.ndarray) -> np.ndarray:
    """Per search, the plan column that was best on average in its cell *in the other fold*."""
    chosen = np.empty(len(keys), dtype=np.int64)
    for f in (0, 1):
        learn, apply = fold != f, fold == f
        table = pd.DataFrame(reward[np.ix_(learn, menu)], columns=menu).groupby(keys[learn].to_numpy()).mean()
        best = pd.Series(menu[np.argmax(table.to_numpy(), axis=1)], index=table.index)
        overall = menu[int(np.argmax(reward[np.ix_(learn, menu)].mean(axis=0)))]
        chosen[apply] = keys[apply].map(best).fillna(overall).to_numpy(dtype=np.int64)
    return chosen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outcomes", type=Path)
    parser.add_argument("data_root", type=Path)
    parser.add_argument("ds")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    from ltrr.bandit.dataset_day import ARTIFACT, read_rows
    from ltrr.zones import artifact_dir

    z = np.load(args.outcomes, allow_pickle=False)
    plan_ids = [str(p) for p in z["plan_ids"]]
    keep = z["ranked"] & np.all(np.isfinite(z["reward"]), axis=1)
    reward = z["reward"][keep]
    search_ids = z["search_ids"][keep]
    day0 = z["day0_rule"][keep]
    rows = read_rows(artifact_dir(args.data_root, args.ds, ARTIFACT) / "rows").set_index("search_id")
    ctx = rows.reindex(search_ids)
    missing = int(ctx["query_tokens"].isna().sum())
    features = pd.DataFrame(
        {
            "tokens": ctx["query_tokens"].fillna(0).clip(upper=3).astype(int).to_numpy(),
            "entity_name": (ctx["query_is_entity_name"].fillna(0) > 0).astype(int).to_numpy(),
            "has_memory": (ctx["memory_entities"].fillna(0) > 0).astype(int).to_numpy(),
            "has_history": (ctx["user_searches"].fillna(0) > 0).astype(int).to_numpy(),
            "device": ctx["device"].fillna("?").astype(str).to_numpy(),
        }
    )
    n = len(reward)
    at = np.arange(n)
    base = reward[at, day0]
    menu = np.arange(len(plan_ids))  # every evaluated plan (serving menu and single-strategy baselines)
    serving = np.arange(int(z["menu_size"]))  # the serving menu: what a plan policy chooses from
    fold = fold_of(search_ids)
    out: dict = {"ds": args.ds, "searches": n, "searches_without_bandit_row": missing}
    out["served"] = paired(reward[at, z["served"][keep]], base)
    out["static"] = {plan_ids[j]: paired(reward[:, j], base) for j in menu}
    for name in [k for k in z.files if k.startswith("scores_")]:
        scores = z[name][keep]
        out.setdefault("learned_greedy", {})[name.removeprefix("scores_")] = paired(
            reward[at, np.nanargmax(np.where(np.isfinite(scores), scores, -np.inf), axis=1)], base
        )
    out["cells"] = {}
    for label, cols in CELLS.items():
        keys = features[list(cols)].astype(str).agg("|".join, axis=1)
        chosen = cell_policy(reward, keys, fold, serving)
        out["cells"][label] = {**paired(reward[at, chosen], base), "cells": int(keys.nunique())}
    out["hindsight_oracle"] = paired(reward[:, serving].max(axis=1), base)

    def line(label: str, f: dict) -> str:
        lo, hi = f["ci"]
        return f"  {label:42s} {f['value']:.4f}  {f['difference']:+.4f} [{lo:+.4f}, {hi:+.4f}]"

    print(f"{args.ds}: {n} searches; value and difference against the day-0 rule ({base.mean():.4f})")
    print(line("served (logging policy)", out["served"]))
    for pid, f in sorted(out["static"].items(), key=lambda kv: -kv[1]["difference"])[:6]:
        print(line(f"static {pid}", f))
    for name, f in out.get("learned_greedy", {}).items():
        print(line(f"learned {name} (greedy)", f))
    for label, f in out["cells"].items():
        print(line(f"cells: {label} ({f['cells']})", f))
    print(line("hindsight oracle (ceiling)", out["hindsight_oracle"]))
    if args.out:
        args.out.write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
