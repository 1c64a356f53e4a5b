"""The real Airflow 3 services on 127.0.0.1 (what `make airflow` starts), through the REST API v2.

Starts api-server, scheduler and dag-processor on a free port with a temporary Airflow home,
waits until the dag-processor has parsed ``ltrr_nightly``, asks for a backfill dry run (no run
is created), and checks that every process started is gone afterwards. About 40 s on 2 cores.
"""

from __future__ import annotations

import contextlib
import os

import psutil
import pytest

from ltrr.config import Settings
from ltrr.orchestration.services import AirflowServices, free_port
from tests.listeners import listening

pytestmark = pytest.mark.slow

DAG_ID = "ltrr_nightly"
BACKFILL = {
    "dag_id": DAG_ID,
    "from_date": "2026-01-05T00:00:00Z",
    "to_date": "2026-01-07T00:00:00Z",
    "max_active_runs": 1,
    "reprocess_behavior": "none",
}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for our purposes.
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_services_serve_the_dag_and_stop_cleanly(settings: Settings) -> None:
    port = free_port()
    services = AirflowServices(settings, port=port, startup_timeout=240)
    spawned: set[int] = set()
    try:
        services.start()
        roots = list(services.pids.values())
        spawned.update(roots)
        assert len(roots) == 3
        for pid in roots:
            spawned.update(child.pid for child in psutil.Process(pid).children(recursive=True))

        # Every TCP listener of the started processes is on 127.0.0.1:port, nothing on 0.0.0.0.
        listeners = {
            (conn.laddr.ip, conn.laddr.port)
            for pid in spawned
            if psutil.pid_exists(pid)
            for conn in psutil.Process(pid).net_connections(kind="inet")
            if conn.status == psutil.CONN_LISTEN
        }
        assert listeners == {("127.0.0.1", port)}

        # The login is the generated password from the passwords file in AIRFLOW_HOME.
        assert services.passwords_file.parent == settings.airflow_home
        assert services.password
        token = services.token()

        status, answer = services.api("GET", f"/api/v2/dags/{DAG_ID}")
        assert status in (401, 403), answer
        status, answer = services.api("GET", f"/api/v2/dags/{DAG_ID}", token="not-a-token")
        assert status in (401, 403), answer

        dag = services.wait_for_dag(DAG_ID, token, timeout=120)
        assert dag["dag_id"] == DAG_ID
        assert dag["has_import_errors"] is False
        assert dag["is_stale"] is False
        assert dag["is_paused"] is True  # DAGs start paused: nothing runs until a person unpauses
        assert dag["max_active_runs"] == 1
        assert dag["fileloc"].endswith("dags/ltrr_nightly.py")
        status, errors = services.api("GET", "/api/v2/importErrors", token=token)
        assert status == 200
        assert errors["total_entries"] == 0, errors

        status, answer = services.api("POST", "/api/v2/backfills/dry_run", BACKFILL, token=token)
        assert status == 200, answer
        assert [row["logical_date"] for row in answer["backfills"]] == [
            "2026-01-05T00:00:00Z",
            "2026-01-06T00:00:00Z",
            "2026-01-07T00:00:00Z",
        ]
        assert answer["total_entries"] == 3
        status, answer = services.api("POST", "/api/v2/backfills/dry_run", BACKFILL)
        assert status in (401, 403), answer

        # The dry run created nothing.
        status, runs = services.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns", token=token)
        assert status == 200
        assert runs["total_entries"] == 0, runs
    finally:
        for pid in list(services.pids.values()):
            spawned.add(pid)
            with contextlib.suppress(psutil.NoSuchProcess):
                spawned.update(child.pid for child in psutil.Process(pid).children(recursive=True))
        services.stop()

    assert spawned
    assert [pid for pid in spawned if _alive(pid)] == []
    assert not listening(port)
    services.stop()  # idempotent
