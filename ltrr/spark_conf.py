"""The Spark configuration every ltrr job and test session uses.

``ltrr`` never creates a session itself (jobs and tests do); this module only says how a
session must be configured so that every entry point reads and writes data the same way.
"""

from __future__ import annotations

from ltrr.config import Settings


def session_conf(settings: Settings, *, local: bool | None = None) -> dict[str, str]:
    """Spark properties for a session of ltrr.

    Args:
        settings: the run's settings (shuffle partitions, driver memory, master).
        local: whether the master is local (binds the driver to 127.0.0.1 and turns the
            UI off); by default derived from ``settings.spark_master``.

    Returns:
        Property names to values, for ``SparkSession.builder.config`` or ``--conf``.
    """
    if local is None:
        local = settings.spark_master.startswith("local")
    conf = {
        "spark.sql.session.timeZone": "UTC",
        # ``ds`` partitions must stay strings, never be inferred as dates or numbers.
        "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        "spark.sql.shuffle.partitions": str(settings.spark_shuffle_partitions),
        "spark.driver.memory": settings.spark_driver_memory,
        "spark.sql.ansi.enabled": "true",
    }
    if settings.spark_driver_java_options:
        conf["spark.driver.extraJavaOptions"] = settings.spark_driver_java_options
    if local:
        conf.update(
            {
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                "spark.ui.enabled": "false",
                "spark.ui.showConsoleProgress": "false",
            }
        )
    return conf
