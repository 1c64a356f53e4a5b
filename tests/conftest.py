"""Shared fixtures: one real local Spark session per test run, and isolated settings."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ltrr.config import Settings, load_settings
from tests.jvm import FAST_JVM_OPTIONS
from tests.temp_settings import temp_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings whose every path lives in the test's temporary folder."""
    return temp_settings(tmp_path)


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

    conf = session_conf(
        load_settings(spark_master="local[2]", spark_shuffle_partitions=2, spark_driver_java_options=FAST_JVM_OPTIONS),
        local=True,
    )
    builder = SparkSession.builder.master("local[2]").appName("ltrr-tests")
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


PIPELINE_START = dt.date(2026, 1, 5)
PIPELINE_DAYS = tuple((PIPELINE_START + dt.timedelta(days=i)).isoformat() for i in range(2))


@pytest.fixture(scope="session")
def small_pipeline(spark, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Two small simulated days run through the nightly steps up to (not including) the models.

    Seed 5, half of the searches shown in random order (so two small days estimate the
    examination curve), a 7-day memory window. Each day: validation, memory, interactions
    and embeddings, training set (with the counters as of the day), retrieval artifact. The
    memory tests read its memory artifacts (and rebuild one, which must give the same
    bytes); the ranker tests fit, refuse and skip rankers on it; the serving tests publish its
    bundles and serve them. Built once per test run (about 4 minutes on 2 cores) and shared,
    because each step costs Spark time.

    Returns:
        The settings of the world (its data root, state dir and bundle store are temporary).
    """
    from ltrr.embed.day import train_embeddings_day
    from ltrr.embed.interactions import build_interactions_day
    from ltrr.memory.day import build_q2e_day
    from ltrr.rank.training_day import build_training_set_day
    from ltrr.retrieval.day import build_retrieval_day
    from ltrr.sim import simulate
    from ltrr.validate.day import validate_day

    tmp = tmp_path_factory.mktemp("pipeline")
    settings = load_settings(
        data_root=tmp / "data",
        state_dir=tmp / "state",
        spark_master="local[2]",
        spark_shuffle_partitions=2,
        q2e_window_days=7,
        rank_min_train_searches=100,
        rank_bootstrap=200,
        rank_num_boost_round=100,
        rank_eval_union_searches=500,
        rank_union_share=0.5,
        semantic_dims=32,
        bundle_store=str(tmp / "bundles"),
    )
    simulate(out=settings.data_root, start=PIPELINE_START, days=2, scale="small", seed=5, randomized_share=0.5)
    for ds in PIPELINE_DAYS:
        validate_day(spark, settings, ds, run_gx=False)
        build_q2e_day(spark, settings, ds)
        build_interactions_day(spark, settings, ds)
        train_embeddings_day(spark, settings, ds)
        build_training_set_day(spark, settings, ds)
        build_retrieval_day(settings, ds)
    return settings
