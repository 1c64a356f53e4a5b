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

6. ``build_interactions`` — Spark job ``jobs/build_interactions.py --ds {{ ds }}`` (in parallel
   with ``build_q2e``): the user × entity confidence matrix of the look-back window of clean
   engagements, with dense id maps and the query × entity weights.
7. ``train_embeddings`` — ``jobs/train_embeddings.py --ds {{ ds }}`` through spark-submit: the
   model fit (implicit ALS/BPR) and the Annoy index build run on one machine, the Spark
   driver; the session is used for the GX suites of the factor tables. Enforces the recall
   gate (Annoy recall@10 against exact search, raising ``search_k`` up to its configured cap).
8. ``embeddings_gate`` — fails the run, without retries, when the recall gate or a suite
   rejected the embeddings (nothing was published).
9. ``build_training_set`` — Spark job ``jobs/build_training_set.py --ds {{ ds }}`` (after the
   validation gate; it reads the memory and embeddings of the day before, never of ``ds``):
   one row per (search, candidate) of the day with point-in-time features and graded labels,
   validated by GX, plus the counters as of ``ds``.
10. ``training_set_gate`` — fails the run, without retries, when the rows failed validation.
11. ``train_ranker`` — ``jobs/train_ranker.py --ds {{ ds }}``: LightGBM lambdarank on the days
    before ``ds`` (position-debiased), evaluated on ``ds`` against the logged order, popularity
    and memory baselines, exported with a parity-checked feature spec. Skipped (recorded) while
    there is too little history.
    When the model does not beat the best baseline (its NDCG@10 lower confidence bound) or its
    metrics fail validation, it is never published: the refusal is recorded and the champion
    ranker is carried into the day's artifact (``kept``), like the policy below.
12. ``ranker_gate`` — reads the job's recorded outcome (published, kept, refused without a
    champion, skipped) and fails only when the job left none. A refused model does not hold
    back the day's memory, embeddings, retrieval and policy.
13. ``build_bandit_dataset`` — Spark job ``jobs/build_bandit_dataset.py --ds {{ ds }}`` (after the
    validation gate): one row per search with context features as of the day before, the logged
    plan and propensity, the reward and per-strategy hit flags, validated by GX.
14. ``bandit_dataset_gate`` — fails the run, without retries, when the rows failed validation.
15. ``train_policy`` — Python task (``ltrr.bandit.policy_day``): learns the plan policy on the
    days before ``ds``, estimates it off-policy on ``ds`` (IPS, SNIPS, DM, DR, Switch-DR with
    intervals) and gates it against the logged policy's value and the propensity diagnostics.
    A refused policy does not fail the run: the champion policy is carried into the day's
    artifact (or, before any policy exists, the bundle ships without one and serving keeps the
    day-0 policy).
16. ``build_retrieval`` — Python task (``ltrr.retrieval.day``, after the training-set gate, whose
    job wrote the counters as of ``ds``): the catalog snapshot, the lexical (tantivy) and semantic
    (LSA) indexes and the counters serving reads, gated by an exact-title recall check and a GX
    suite of the counters; a refusal fails the run without retries.
17. ``publish_bundle`` — after every gate passed: assembles the day's artifacts into one
   verified bundle in the bundle store, registers it in MLflow as ``candidate`` and promotes
   it to ``champion`` (``ltrr.bundle.publish_day``, docs/bundle.md). A failed gate upstream
   means no publish at all, so the previous champion keeps serving.

Spark steps run wherever ``spark_default`` points; on a cluster whose workers lack ltrr,
``LTRR_SPARK_PY_FILES`` (a zip of ltrr, docs/deployment.md) is passed to each of them as
``--py-files``.

Every gate emits its artifact as an Airflow asset (``ltrr://artifacts/<name>``) and
``publish_bundle`` emits ``ltrr://bundles/published``, so downstream DAGs can be scheduled on
a published bundle. A task that fails for good calls ``record_failure`` (``ltrr.orchestration.alerts``:
a line in ``<state_dir>/alerts/task_failures.jsonl`` and, when set, ``LTRR_ALERT_WEBHOOK_URL``).

Kept thin on purpose: no heavy imports (pyspark, great_expectations, ...) and no I/O at
parse time; ``ltrr`` is imported inside the tasks.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Asset, dag, task

JOBS_DIR = Path(__file__).resolve().parent.parent / "jobs"
# spark-submit sizes the driver JVM before the job's code runs, so the setting must travel on
# the command line (a session option is too late). Same variable and default as
# ``Settings.spark_driver_memory``; reading one environment variable at parse time is free.
DRIVER_MEMORY = os.environ.get("LTRR_SPARK_DRIVER_MEMORY", "2g")
# Likewise the driver's JVM options (``Settings.spark_driver_java_options``; empty by default).
DRIVER_CONF = (
    {"spark.driver.extraJavaOptions": os.environ["LTRR_SPARK_DRIVER_JAVA_OPTIONS"]}
    if os.environ.get("LTRR_SPARK_DRIVER_JAVA_OPTIONS")
    else {}
)
# On a cluster whose workers do not have ltrr installed, the jobs ship it as ``--py-files``: a zip
# built by ``ltrr.orchestration.package.build_py_files`` (``Settings.spark_py_files``; unset or
# empty means none, as in local mode, where the venv has ltrr).
PY_FILES = os.environ.get("LTRR_SPARK_PY_FILES") or None

# What each night produces, as Airflow assets: each gate emits its artifact's event once the
# day's artifact passed validation, and ``publish_bundle`` emits ``ltrr_bundle`` when a bundle
# was published. Serving teams can schedule on it (``Asset.ref(name="ltrr_bundle")``)
# instead of polling the store. The URIs name the logical artifact; where it lives depends on
# ``LTRR_DATA_ROOT`` and ``LTRR_BUNDLE_STORE``.
ARTIFACTS = ("clean_logs", "q2e", "embeddings", "training_set", "ranker", "bandit_dataset", "policy", "retrieval")
ASSETS = {name: Asset(uri=f"ltrr://artifacts/{name}", name=f"ltrr_{name}") for name in ARTIFACTS}
BUNDLE = Asset(uri="ltrr://bundles/published", name="ltrr_bundle")


def record_failure(context: dict) -> None:
    """``on_failure_callback``: record a task that failed for good (``ltrr.orchestration.alerts``)."""
    from ltrr.config import load_settings
    from ltrr.orchestration.alerts import record_task_failure

    record_task_failure(load_settings(), context)


DEFAULT_ARGS = {
    "owner": "ltrr",
    "on_failure_callback": record_failure,
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
    """Validate one day of raw search logs, then build the day's memory, embeddings and ranker, and publish."""

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
        driver_memory=DRIVER_MEMORY,
        conf=DRIVER_CONF,
        py_files=PY_FILES,
        name="ltrr-validate-inputs-{{ ds }}",
    )

    @task(retries=0, outlets=[ASSETS["clean_logs"]])
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
        driver_memory=DRIVER_MEMORY,
        conf=DRIVER_CONF,
        py_files=PY_FILES,
        name="ltrr-build-q2e-{{ ds }}",
    )

    @task(retries=0, outlets=[ASSETS["q2e"]])
    def memory_gate(ds: str | None = None) -> dict:
        """Stop the run, without retries, when the memory table failed validation."""
        from airflow.sdk.exceptions import AirflowFailException

        from ltrr.config import load_settings
        from ltrr.orchestration.checks import DayRejected, require_published_memory

        try:
            return require_published_memory(load_settings(), ds)
        except DayRejected as exc:
            raise AirflowFailException(str(exc)) from None

    build_interactions = SparkSubmitOperator(
        task_id="build_interactions",
        application=str(JOBS_DIR / "build_interactions.py"),
        application_args=["--ds", "{{ ds }}"],
        conn_id="spark_default",
        driver_memory=DRIVER_MEMORY,
        conf=DRIVER_CONF,
        py_files=PY_FILES,
        name="ltrr-build-interactions-{{ ds }}",
    )

    train_embeddings = SparkSubmitOperator(
        task_id="train_embeddings",
        application=str(JOBS_DIR / "train_embeddings.py"),
        application_args=["--ds", "{{ ds }}", "--exit-zero-on-reject"],
        conn_id="spark_default",
        driver_memory=DRIVER_MEMORY,
        conf=DRIVER_CONF,
        py_files=PY_FILES,
        name="ltrr-train-embeddings-{{ ds }}",
    )

    @task(retries=0, outlets=[ASSETS["embeddings"]])
    def embeddings_gate(ds: str | None = None) -> dict:
        """Stop the run, without retries, when the recall gate or validation rejected the embeddings."""
        from airflow.sdk.exceptions import AirflowFailException

        from ltrr.config import load_settings
        from ltrr.embed.gate import require_published_embeddings
        from ltrr.orchestration.checks import DayRejected

        try:
            return require_published_embeddings(load_settings(), ds)
        except DayRejected as exc:
            raise AirflowFailException(str(exc)) from None

    build_training_set = SparkSubmitOperator(
        task_id="build_training_set",
        application=str(JOBS_DIR / "build_training_set.py"),
        application_args=["--ds", "{{ ds }}", "--exit-zero-on-reject"],
        conn_id="spark_default",
        driver_memory=DRIVER_MEMORY,
        conf=DRIVER_CONF,
        py_files=PY_FILES,
        name="ltrr-build-training-set-{{ ds }}",
    )

    @task(retries=0, outlets=[ASSETS["training_set"]])
    def training_set_gate(ds: str | None = None) -> dict:
        """Stop the run, without retries, when the day's training rows failed validation."""
        from airflow.sdk.exceptions import AirflowFailException

        from ltrr.config import load_settings
        from ltrr.orchestration.checks import DayRejected, require_training_set

        try:
            return require_training_set(load_settings(), ds)
        except DayRejected as exc:
            raise AirflowFailException(str(exc)) from None

    train_ranker = SparkSubmitOperator(
        task_id="train_ranker",
        application=str(JOBS_DIR / "train_ranker.py"),
        application_args=["--ds", "{{ ds }}", "--exit-zero-on-reject"],
        conn_id="spark_default",
        driver_memory=DRIVER_MEMORY,
        conf=DRIVER_CONF,
        py_files=PY_FILES,
        name="ltrr-train-ranker-{{ ds }}",
    )

    @task(retries=0, outlets=[ASSETS["ranker"]])
    def ranker_gate(ds: str | None = None) -> dict:
        """Return the ranker job's recorded outcome (published, kept, refused or skipped); fail when it left none.

        A refused model is never published; the job carries the champion ranker forward, so a
        refusal does not hold back the day's memory, embeddings, retrieval and policy.
        """
        from ltrr.config import load_settings
        from ltrr.orchestration.checks import require_ranker_outcome

        return require_ranker_outcome(load_settings(), ds)

    build_bandit_dataset = SparkSubmitOperator(
        task_id="build_bandit_dataset",
        application=str(JOBS_DIR / "build_bandit_dataset.py"),
        application_args=["--ds", "{{ ds }}", "--exit-zero-on-reject"],
        conn_id="spark_default",
        driver_memory=DRIVER_MEMORY,
        conf=DRIVER_CONF,
        py_files=PY_FILES,
        name="ltrr-build-bandit-dataset-{{ ds }}",
    )

    @task(retries=0, outlets=[ASSETS["bandit_dataset"]])
    def bandit_dataset_gate(ds: str | None = None) -> dict:
        """Stop the run, without retries, when the day's bandit rows failed validation."""
        from airflow.sdk.exceptions import AirflowFailException

        from ltrr.config import load_settings
        from ltrr.orchestration.checks import DayRejected, require_bandit_dataset

        try:
            return require_bandit_dataset(load_settings(), ds)
        except DayRejected as exc:
            raise AirflowFailException(str(exc)) from None

    @task(retries=1, retry_delay=dt.timedelta(minutes=5), outlets=[ASSETS["policy"]])
    def train_policy(ds: str | None = None) -> dict:
        """Learn the plan policy, estimate it off-policy on ``ds`` and gate it; a refusal keeps the champion."""
        from ltrr.bandit.policy_day import PolicySkipped, train_policy_day
        from ltrr.config import load_settings

        try:
            report = train_policy_day(load_settings(), ds)
        except PolicySkipped as exc:
            return {"outcome": "skipped", "reason": str(exc)}
        return {"outcome": report["outcome"], "reasons": report["reasons"], "gate": report["gate"]}

    @task(retries=1, retry_delay=dt.timedelta(minutes=5), outlets=[ASSETS["retrieval"]])
    def build_retrieval(ds: str | None = None) -> dict:
        """Build the retrieval artifact (catalog, lexical/semantic indexes, counters); a refusal stops the run."""
        from airflow.sdk.exceptions import AirflowFailException

        from ltrr.config import load_settings
        from ltrr.retrieval.day import RetrievalRejected, build_retrieval_day

        try:
            report = build_retrieval_day(load_settings(), ds)
        except RetrievalRejected as exc:
            raise AirflowFailException(str(exc)) from None
        return {"entities": report["entities"], "counters": report["counters"], "lexical": report["lexical"]}

    @task(retries=1, retry_delay=dt.timedelta(minutes=5), inlets=list(ASSETS.values()), outlets=[BUNDLE])
    def publish_bundle(ds: str | None = None) -> dict:
        """Publish the day's artifacts as one verified, versioned bundle (MLflow candidate/champion)."""
        from ltrr.bundle import publish_day
        from ltrr.config import load_settings

        return publish_day(load_settings(), ds).to_dict()

    accepted = check_raw_inputs() >> validate_inputs >> validation_gate()
    memory = accepted >> build_q2e >> memory_gate()
    embeddings = accepted >> build_interactions >> train_embeddings >> embeddings_gate()
    rows_accepted = accepted >> build_training_set >> training_set_gate()
    ranker = rows_accepted >> train_ranker >> ranker_gate()
    retrieval = rows_accepted >> build_retrieval()
    policy = accepted >> build_bandit_dataset >> bandit_dataset_gate() >> train_policy()
    [memory, embeddings, ranker, retrieval, policy] >> publish_bundle()


ltrr_nightly()
