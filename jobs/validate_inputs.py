"""Spark job: validate one day of raw logs (catalog, searches, engagements).

Rows that break a rule go to ``<data_root>/quarantine/<table>/ds=D/`` with a reason,
accepted rows to ``<data_root>/clean/<table>/ds=D/`` (only when the day passes), and the
day's ``report.json`` plus GX results to ``<data_root>/validation/ds=D/``. See
``docs/validation.md``.

Run it by hand from the repository root, with the venv's ``spark-submit`` on PATH and
``ltrr`` importable (``pip install -e .``, or prefix ``PYTHONPATH=.``); settings come
from ``LTRR_*`` environment variables::

    LTRR_DATA_ROOT=data spark-submit --master 'local[*]' jobs/validate_inputs.py --ds 2026-01-07

``python jobs/validate_inputs.py --ds 2026-01-07`` works too (the driver then runs in
this process and the master is ``LTRR_SPARK_MASTER``; under spark-submit its
``--master`` wins). On a cluster, ship the library with ``--py-files ltrr.zip``.

Prints one JSON line (status and per-table counts) on stdout. Exit codes: 0 the day
passed; 1 the day was rejected (the reason is printed on stderr) or the job failed;
2 bad arguments or settings; 3 a raw partition of the day is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

EXIT_PASSED = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_MISSING_INPUT = 3


def launched_by_spark_submit() -> bool:
    """Whether spark-submit started this process (it passes its JVM gateway in the env)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line (``--ds`` is required)."""
    parser = argparse.ArgumentParser(prog="validate_inputs", description=__doc__.splitlines()[0])
    parser.add_argument("--ds", required=True, help="the day to validate, YYYY-MM-DD")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Validate the day given on the command line; return the process exit code."""
    args = parse_args(argv)
    from ltrr.config import ConfigError, load_settings
    from ltrr.zones import parse_ds

    try:
        parse_ds(args.ds)
        settings = load_settings()
    except (ConfigError, ValueError) as exc:
        print(f"validate_inputs: {exc}", file=sys.stderr)
        return EXIT_USAGE

    from pyspark.sql import SparkSession

    from ltrr.spark_conf import session_conf
    from ltrr.validate import MissingPartitionError, validate_day

    builder = SparkSession.builder.appName(f"ltrr-validate-inputs-{args.ds}")
    if not launched_by_spark_submit():
        builder = builder.master(settings.spark_master)  # under spark-submit, its --master wins
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        report = validate_day(spark, settings, args.ds)
    except MissingPartitionError as exc:
        print(f"validate_inputs: {exc}", file=sys.stderr)
        return EXIT_MISSING_INPUT
    finally:
        spark.stop()
    print(json.dumps(report.summary(), sort_keys=True), flush=True)
    if not report.passed:
        print(f"validate_inputs: {report.message}", file=sys.stderr)
        return EXIT_REJECTED
    return EXIT_PASSED


if __name__ == "__main__":
    sys.exit(main())
