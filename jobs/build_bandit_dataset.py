"""Spark job: build the bandit dataset of one day (``artifacts/bandit_dataset/ds=D/``).

Reads the clean searches, engagements and catalog of D, the memory table of D - 1 and the
counters as of D - 1; writes one row per search with its context features, the logged plan and
its propensity, the reward (graded engagement minus a cost per candidate drawn) and per-strategy
hit flags, with a GX result and a report. See docs/bandit.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data PYSPARK_PYTHON=$PWD/.venv/bin/python \\
        .venv/bin/spark-submit --master 'local[*]' jobs/build_bandit_dataset.py --ds 2026-01-07

Exit codes: 0 published; 3 the rows failed validation (``--exit-zero-on-reject`` makes it 0
so the DAG's gate fails the run without retries); anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env, spark_session


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the day's bandit rows, print a one-line JSON summary."""
    args = day_arguments(
        "Build the bandit dataset of one day.",
        argv,
        **{"--exit-zero-on-reject": {"action": "store_true", "help": "exit 0 when validation rejects the rows"}},
    )
    settings = settings_from_env()
    from ltrr.bandit.dataset_day import BanditDatasetRejected, build_bandit_dataset_day

    summary = {"job": "build_bandit_dataset", "ds": args.ds}
    with spark_session(f"ltrr-build-bandit-dataset-{args.ds}", settings) as spark:
        try:
            report = build_bandit_dataset_day(spark, settings, args.ds)
        except BanditDatasetRejected as exc:
            print(json.dumps({**summary, "status": "rejected", "message": str(exc)}))
            return 0 if args.exit_zero_on_reject else 3
    counts = report["counts"]
    print(json.dumps({**summary, "status": "published", "rows": counts["rows"], "mean_reward": counts["mean_reward"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
