"""Shared fixtures: one real local Spark session per test run, and isolated settings."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ltrr.config import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings whose every path lives in the test's temporary folder."""
    return load_settings(
        data_root=tmp_path / "data",
        state_dir=tmp_path / "state",
        bundle_store=str(tmp_path / "bundles"),
        sim_scale="small",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
    )


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """One real local Spark session for the whole test run (starting one takes ~8 s)."""
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    # Spark hands timestamps to Python in the process's local zone: make it UTC like the data.
    os.environ["TZ"] = "UTC"
    time.tzset()
    # Python workers must run the venv's interpreter, not whatever `python3` is on PATH.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from pyspark.sql import SparkSession

    from ltrr.spark_conf import session_conf

    conf = session_conf(load_settings(spark_master="local[2]", spark_shuffle_partitions=2), local=True)
    # Tests run many short jobs on tiny data: the C1 JIT alone compiles faster than it would
    # gain from C2 (measured: about half the JVM time of the memory tests).
    conf["spark.driver.extraJavaOptions"] = "-XX:+TieredCompilation -XX:TieredStopAtLevel=1"
    builder = SparkSession.builder.master("local[2]").appName("ltrr-tests")
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
