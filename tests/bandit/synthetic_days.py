"""Write ``SyntheticBandit`` rows where the bandit-dataset job writes its rows (no Spark needed).

The synthetic world's context columns are mapped onto the nightly context spec (``n_words`` ->
``query_tokens``, ``history`` -> ``user_searches``, ``head`` -> ``query_searches``; every other
feature at its default), so the nightly policy job (``ltrr.bandit.policy_day``) reads them as
it reads real days.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ltrr.bandit.context import BANDIT_CONTEXT_SPEC
from ltrr.bandit.synthetic import SyntheticBandit
from ltrr.retrieval.plans import Plan
from ltrr.zones import artifact_dir

RENAME = {"n_words": "query_tokens", "history": "user_searches", "head": "query_searches"}


def write_synthetic_days(
    root: Path, menu: Sequence[Plan], start_ds: str, n_days: int, rows_per_day: int, seed: int = 5
) -> None:
    """Write ``n_days`` days of synthetic bandit rows from ``start_ds`` under ``root``'s artifacts."""
    frame = SyntheticBandit(menu=tuple(menu)).sample(rows_per_day * n_days, seed=seed, n_days=n_days, start_ds=start_ds)
    frame = frame.rename(columns=RENAME)
    steps = {p.plan_id: [{"strategy": s.strategy, "budget": s.budget} for s in p.steps] for p in menu}
    frame["plan"] = frame["plan_id"].map(steps)
    for f in BANDIT_CONTEXT_SPEC.features:
        if f.name not in frame.columns:
            frame[f.name] = f.default
    for ds, day in frame.groupby("ds"):
        out = artifact_dir(root, ds, "bandit_dataset") / "rows"
        out.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pandas(day.reset_index(drop=True), preserve_index=False), out / "part-0.parquet")
