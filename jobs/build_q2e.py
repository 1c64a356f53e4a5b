"""Spark job: build the Q2E memory table of one day (``artifacts/q2e/ds=D/``).

Reads the clean searches and engagements of the look-back window (``LTRR_Q2E_WINDOW_DAYS``
days ending at D) and the clean catalog of D; writes the memory table, its serving form,
the examination curve, the GX result and a report. See docs/memory.md.

Run by hand::

    LTRR_DATA_ROOT=$PWD/data PYSPARK_PYTHON=$PWD/.venv/bin/python \\
        .venv/bin/spark-submit --master 'local[*]' jobs/build_q2e.py --ds 2026-01-07

Exit codes: 0 published; 3 the table failed validation (``--exit-zero-on-reject`` makes it
0 so the DAG's gate fails the run without retries); anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env, spark_session


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, build the day's memory artifact, print a one-line JSON summary."""
    args = day_arguments(
        "Build the Q2E memory table of one day.",
        argv,
        **{"--exit-zero-on-reject": {"action": "store_true", "help": "exit 0 when validation rejects the table"}},
    )
    settings = settings_from_env()
    from ltrr.memory.day import MemoryRejected, build_q2e_day

    with spark_session(f"ltrr-build-q2e-{args.ds}", settings) as spark:
        try:
            report = build_q2e_day(spark, settings, args.ds)
        except MemoryRejected as exc:
            print(json.dumps({"job": "build_q2e", "ds": args.ds, "status": "rejected", "message": str(exc)}))
            return 0 if args.exit_zero_on_reject else 3
    print(json.dumps({"job": "build_q2e", "ds": args.ds, "status": "published", "rows": report["rows"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
