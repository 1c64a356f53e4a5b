"""What every Spark job entry point in ``jobs/`` shares: arguments, settings, the session.

Imported by the job scripts as a sibling module (the script's folder is first on
``sys.path`` both under ``spark-submit`` and under plain ``python``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from ltrr.config import Settings, load_settings
from ltrr.spark_conf import session_conf
from ltrr.zones import parse_ds


def day_arguments(description: str, argv: list[str] | None = None, **extra: dict) -> argparse.Namespace:
    """Parse ``--ds`` (required, validated) plus any extra flags.

    Args:
        description: the job's one-line description (``--help``).
        argv: arguments (default ``sys.argv[1:]``).
        **extra: flag name -> ``add_argument`` keyword arguments.

    Returns:
        The parsed arguments.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--ds", required=True, help="the day to process, YYYY-MM-DD")
    for flag, kwargs in extra.items():
        parser.add_argument(flag, **kwargs)
    args = parser.parse_args(argv)
    try:
        parse_ds(args.ds)
    except ValueError as exc:
        parser.error(str(exc))
    return args


@contextmanager
def spark_session(app_name: str, settings: Settings) -> Iterator[object]:
    """A SparkSession configured by ``ltrr.spark_conf.session_conf``, stopped on exit.

    Under ``spark-submit`` the master comes from the command line; under plain ``python``
    it comes from ``settings.spark_master``.
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    if not _under_spark_submit():
        builder = builder.master(settings.spark_master)
    for key, value in session_conf(settings).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    try:
        yield spark
    finally:
        spark.stop()


def _under_spark_submit() -> bool:
    # spark-submit launches the Python driver with the gateway already running.
    return "PYSPARK_GATEWAY_PORT" in os.environ


def settings_from_env() -> Settings:
    """The job's settings, from the ``LTRR_*`` environment (exits with the message if invalid)."""
    from ltrr.config import ConfigError

    try:
        return load_settings()
    except ConfigError as exc:
        sys.exit(f"{exc}")
