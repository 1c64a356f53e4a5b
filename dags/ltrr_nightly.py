"""ltrr_nightly: one run turns one day (``ds``) of search logs into clean tables and artifacts.

Steps (each reads and writes only the ``ds`` partition, so a run can be retried or
backfilled on its own and gives the same result):

1. ``check_raw_inputs`` — the day's raw ``catalog``, ``searches`` and ``engagements``
   partitions exist (fails with the missing paths, retried in case they land late).
2. ``validate_inputs`` — Spark job ``jobs/validate_inputs.py --ds {{ ds }}`` (through
   ``SparkSubmitOperator`` on the ``spark_default`` connection, which comes from the
   environment: ``AIRFLOW_CONN_SPARK_DEFAULT``; ``ltrr run`` sets it to ``local[*]``):
   GX suites and row rules; clean rows to the clean zone, rejected rows with a reason to
   quarantine.
3. ``validation_gate`` — reads the day's validation report and fails the run, without
   retries, when the day was rejected (quarantined share over the threshold, failed GX
   expectation), naming the rules. Data rejections are deterministic, so retrying them would
   only waste time; crashes of the Spark job are retried with backoff.

4. ``build_q2e`` — Spark job ``jobs/build_q2e.py --ds {{ ds }}``: the Q2E memory table over
   the look-back window of clean logs, with its examination curve, GX result and report.
5. ``memory_gate`` — fails the run, without retries, when the memory table failed its
   validation suite.

Later steps (embeddings, ranker, bandit, bundle) hang off the gates.

Kept thin on purpose: no heavy imports (pyspark, great_expectations, ...) and no I/O at
parse time; ``ltrr`` is imported inside the tasks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import dag, task

JOBS_DIR = Path(__file__).resolve().parent.parent / "jobs"

DEFAULT_ARGS = {
    "owner": "ltrr",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=20),
    "execution_timeout": dt.timedelta(hours=3),
}


@dag(
    dag_id="ltrr_nightly",
    schedule="@daily",
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ltrr", "nightly"],
    doc_md=__doc__,
)
def ltrr_nightly() -> None:
    """Validate one day of raw search logs, then build the day's Q2E memory table."""

    @task(retries=3, retry_delay=dt.timedelta(minutes=5))
    def check_raw_inputs(ds: str | None = None) -> dict[str, str]:
        """Fail (and retry later) while one of the day's raw partitions is missing."""
        from ltrr.config import load_settings
        from ltrr.orchestration.checks import require_raw_partitions

        return require_raw_partitions(load_settings(), ds)

    validate_inputs = SparkSubmitOperator(
        task_id="validate_inputs",
        application=str(JOBS_DIR / "validate_inputs.py"),
        application_args=["--ds", "{{ ds }}", "--exit-zero-on-reject"],
        conn_id="spark_default",
        name="ltrr-validate-inputs-{{ ds }}",
    )

    @task(retries=0)
    def validation_gate(ds: str | None = None) -> dict:
        """Stop the run, without retries, when validation rejected the day."""
        from airflow.sdk.exceptions import AirflowFailException

        from ltrr.config import load_settings
        from ltrr.orchestration.checks import DayRejected, require_accepted_day

        try:
            return require_accepted_day(load_settings(), ds)
        except DayRejected as exc:
            raise AirflowFailException(str(exc)) from None

    build_q2e = SparkSubmitOperator(
        task_id="build_q2e",
        application=str(JOBS_DIR / "build_q2e.py"),
        application_args=["--ds", "{{ ds }}", "--exit-zero-on-reject"],
        conn_id="spark_default",
        name="ltrr-build-q2e-{{ ds }}",
    )

    @task(retries=0)
    def memory_gate(ds: str | None = None) -> dict:
        """Stop the run, without retries, when the memory table failed validation."""
        from airflow.sdk.exceptions import AirflowFailException

        from ltrr.config import load_settings
        from ltrr.orchestration.checks import DayRejected, require_published_memory

        try:
            return require_published_memory(load_settings(), ds)
        except DayRejected as exc:
            raise AirflowFailException(str(exc)) from None

    check_raw_inputs() >> validate_inputs >> validation_gate() >> build_q2e >> memory_gate()


ltrr_nightly()
