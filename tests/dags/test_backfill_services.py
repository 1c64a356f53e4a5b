"""A 3-day backfill of ``ltrr_nightly`` on the real Airflow services, through the REST API v2.

What a person does from the UI (docs/operations.md, "Backfilling days"): the api-server,
scheduler (LocalExecutor) and dag-processor on 127.0.0.1, ``POST /api/v2/backfills`` for three
simulated small days, every task of every run a real task process (the Spark jobs through
``SparkSubmitOperator`` and ``spark-submit``). Then one day is backfilled again with
``reprocess_behavior: completed``, and its bundle must come out with the same content hash.
The slowest test of the suite (about 4 runs × 5 min on 2 cores).
"""

from __future__ import annotations

import pytest

from ltrr.bundle.store import BundleStore
from ltrr.config import Settings
from ltrr.orchestration.backfill import (
    backfill_body,
    create_backfill,
    set_paused,
    task_result,
    wait_for_backfill,
)
from ltrr.orchestration.services import AirflowServices
from ltrr.zones import parse_ds
from tests.jvm import FAST_JVM_OPTIONS
from tests.listeners import listening
from tests.temp_settings import temp_settings

pytestmark = pytest.mark.slow

DAG_ID = "ltrr_nightly"
DAYS = 3
RUN_TIMEOUT = 1200.0
"""Seconds one day may take under the services (about 300 s measured on 2 cores)."""


@pytest.fixture(scope="module")
def settings_and_days(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list[str]]:
    from ltrr.sim import simulate

    tmp = tmp_path_factory.mktemp("backfill")
    settings = temp_settings(tmp, spark_driver_java_options=FAST_JVM_OPTIONS)
    summary = simulate(out=settings.data_root, start=settings.sim_start, days=DAYS, scale="small", seed=5)
    return settings, [day["ds"] for day in summary["days"]]


def test_backfill_three_days_then_reprocess_one(settings_and_days: tuple[Settings, list[str]]) -> None:
    settings, days = settings_and_days
    services = AirflowServices(settings, startup_timeout=240)
    try:
        services.start()
        token = services.token()
        dag = services.wait_for_dag(DAG_ID, token, timeout=120)
        assert dag["is_paused"] is True

        # As the UI's "Unpause on trigger": Airflow starts a backfill's runs only while the DAG
        # is unpaused. (The scheduler then also creates today's scheduled run, which waits for
        # raw logs that do not exist; it lies outside the backfilled days.)
        backfill = create_backfill(services, token, backfill_body(DAG_ID, days[0], days[-1]))
        set_paused(services, token, DAG_ID, False)
        runs = wait_for_backfill(services, token, backfill, timeout=RUN_TIMEOUT * DAYS)
        assert [r.ds for r in runs] == days
        for run in runs:
            failed = {t: s for t, s in run.task_states.items() if s != "success"}
            assert run.state == "success" and not failed, (run, services.logs_tail())
            assert run.run_type == "backfill"
        published = {r.ds: task_result(services, token, DAG_ID, r.run_id, "publish_bundle") for r in runs}

        # One bundle per day, each built from that day and the days before it, never after.
        store = BundleStore(settings.bundle_store)
        assert sorted(store.versions()) == sorted(p["version"] for p in published.values())
        for ds, result in published.items():
            assert result["ds"] == ds and result["created"] is True
            manifest = store.read_manifest(result["version"])
            assert manifest.ds == ds and manifest.bundle_version.startswith(ds)
            assert manifest.content_hash == result["content_hash"]
            assert manifest.data_interval["end"] == ds
            assert {i.ds for i in manifest.inputs} and max(parse_ds(i.ds) for i in manifest.inputs) == parse_ds(ds)
        assert store.read_state().champion == published[days[-1]]["version"]

        # Re-processing a day that already succeeded gives the same bundle: same content hash,
        # found already in the store, and the champion (a later day) stays.
        again = create_backfill(services, token, backfill_body(DAG_ID, days[1], days[1], reprocess="completed"))
        rerun = wait_for_backfill(services, token, again, timeout=RUN_TIMEOUT)
        assert [r.ds for r in rerun] == [days[1]]
        assert rerun[0].state == "success", (rerun, services.logs_tail())
        result = task_result(services, token, DAG_ID, rerun[0].run_id, "publish_bundle")
        assert result["content_hash"] == published[days[1]]["content_hash"]
        assert result["version"] == published[days[1]]["version"]
        assert result["created"] is False
        assert result["promoted"] is False and "later day" in result["decision"]
        assert sorted(store.versions()) == sorted(p["version"] for p in published.values())
        assert store.read_state().champion == published[days[-1]]["version"]
        set_paused(services, token, DAG_ID, True)
    finally:
        services.stop()
    assert not listening(services.port)
