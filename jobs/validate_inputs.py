"""Spark job: validate one day of raw logs (catalog, searches, engagements).

Rows that break a rule go to ``<data_root>/quarantine/<table>/ds=D/`` with a reason,
accepted rows to ``<data_root>/clean/<table>/ds=D/`` (only when the day is accepted), and
the day's ``report.json`` plus GX results to ``<data_root>/validation/ds=D/``. See
docs/validation.md.

Run by hand (settings come from ``LTRR_*`` environment variables)::

    LTRR_DATA_ROOT=$PWD/data PYSPARK_PYTHON=$PWD/.venv/bin/python \\
        .venv/bin/spark-submit --master 'local[*]' jobs/validate_inputs.py --ds 2026-01-07

(``ltrr`` must be importable: installed with ``pip install -e .``, or ``PYTHONPATH=$PWD``;
on a cluster ship it with ``--py-files``). ``python jobs/validate_inputs.py --ds ...``
works too; the master is then ``LTRR_SPARK_MASTER``.

Prints one JSON line (job, ds, status, per-table counts, problems, report path).
Exit codes: 0 the day was accepted; 3 the day was rejected, the reason on stderr
(``--exit-zero-on-reject`` makes it 0, so the DAG's ``validation_gate`` fails the run
without retries: retrying cannot change the data); 4 a raw partition of the day is missing
(checked before Spark starts); 2 bad arguments; anything else is a crash.
"""

from __future__ import annotations

import json
import sys

from jobkit import day_arguments, settings_from_env, spark_session

EXIT_ACCEPTED = 0
EXIT_USAGE = 2
EXIT_REJECTED = 3
EXIT_MISSING_INPUT = 4


def main(argv: list[str] | None = None) -> int:
    """Validate the day given on the command line; return the process exit code."""
    args = day_arguments(
        "Validate one day of raw logs: quarantine bad rows, publish clean partitions.",
        argv,
        **{"--exit-zero-on-reject": {"action": "store_true", "help": "exit 0 when validation rejects the day"}},
    )
    settings = settings_from_env()
    from ltrr.validate import TABLES, MissingPartitionError, validate_day
    from ltrr.validate.read import inspect_partition

    try:  # fail fast, before paying for a Spark session
        for table in TABLES:
            inspect_partition(settings.data_root, table, args.ds)
    except MissingPartitionError as exc:
        print(f"validate_inputs: {exc}", file=sys.stderr)
        return EXIT_MISSING_INPUT

    with spark_session(f"ltrr-validate-inputs-{args.ds}", settings) as spark:
        report = validate_day(spark, settings, args.ds)
    print(json.dumps({"job": "validate_inputs", **report.summary()}, sort_keys=True), flush=True)
    if not report.passed:
        print(f"validate_inputs: {report.message}", file=sys.stderr)
        return EXIT_ACCEPTED if args.exit_zero_on_reject else EXIT_REJECTED
    return EXIT_ACCEPTED


if __name__ == "__main__":
    sys.exit(main())
