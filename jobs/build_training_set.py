"""Spark job: build the ranker's point-in-time training rows of one day (``artifacts/training_set/ds=D/``).

Reads the clean searches, engagements and catalog of D, the memory table and embeddings of
D - 1, and the counters as of D - 1; writes one row per (search, candidate) with its features
and graded label, the counters as of D, GX results and a report. See docs/ranker.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data PYSPARK_PYTHON=$PWD/.venv/bin/python \\
        .venv/bin/spark-submit --master 'local[*]' jobs/build_training_set.py --ds 2026-01-07

Exit codes: 0 published; 3 the rows failed validation (``--exit-zero-on-reject`` makes it 0
so the DAG's gate fails the run without retries); anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env, spark_session


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the day's training rows, print a one-line JSON summary."""
    args = day_arguments(
        "Build the ranker's training rows of one day.",
        argv,
        **{"--exit-zero-on-reject": {"action": "store_true", "help": "exit 0 when validation rejects the rows"}},
    )
    settings = settings_from_env()
    from ltrr.rank.training_day import TrainingSetRejected, build_training_set_day

    with spark_session(f"ltrr-build-training-set-{args.ds}", settings) as spark:
        try:
            report = build_training_set_day(spark, settings, args.ds)
        except TrainingSetRejected as exc:
            print(json.dumps({"job": "build_training_set", "ds": args.ds, "status": "rejected", "message": str(exc)}))
            return 0 if args.exit_zero_on_reject else 3
    counts = report["counts"]
    print(json.dumps({"job": "build_training_set", "ds": args.ds, "status": "published", "rows": counts["rows"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
