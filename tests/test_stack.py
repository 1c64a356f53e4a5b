"""The pinned stack is consistent on this machine."""

from __future__ import annotations

import pyspark


def test_pyspark_python_files_match_the_jars(spark) -> None:
    # pyspark-client installs its Python files into the same folder as pyspark: a version
    # mismatch between the two leaves Python files and jars of different releases.
    assert pyspark.__version__ == spark.version


def test_spark_session_is_utc_and_keeps_ds_as_string(spark) -> None:
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.sources.partitionColumnTypeInference.enabled") == "false"
