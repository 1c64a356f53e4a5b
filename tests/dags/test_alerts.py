"""Failure alerts of the nightly DAG (``ltrr.orchestration.alerts``).

The callback context is a plain dict holding an object with the task instance's attributes:
Airflow builds the real one only inside a running task (the DAG test checks that path). The
webhook is a real HTTP server on 127.0.0.1, stopped by the test.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest

from ltrr.config import load_settings
from ltrr.orchestration.alerts import failure_record, failures_path, read_failures, record_task_failure


def _context(task_id: str = "validation_gate") -> dict:
    ti = SimpleNamespace(
        dag_id="ltrr_nightly",
        task_id=task_id,
        run_id="manual__2026-01-07",
        try_number=1,
        log_url="http://127.0.0.1:8080/log",
    )
    return {"ti": ti, "ds": "2026-01-07", "exception": ValueError("4.1% of searches quarantined > threshold 2%")}


@pytest.fixture()
def webhook():
    """A webhook on 127.0.0.1 that records the JSON bodies it receives (status 200, or 500 when told)."""
    received: list[dict] = []
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(state["status"])
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received, state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_failure_record_reads_the_context() -> None:
    record = failure_record(_context())
    assert record["dag_id"] == "ltrr_nightly"
    assert record["task_id"] == "validation_gate"
    assert record["run_id"] == "manual__2026-01-07"
    assert record["ds"] == "2026-01-07"
    assert record["try_number"] == 1
    assert record["error"] == "ValueError: 4.1% of searches quarantined > threshold 2%"
    # A sparse context never raises: what is missing is None.
    assert failure_record({})["task_id"] is None and failure_record({})["error"] is None


def test_failures_are_appended_to_the_state_dir_without_a_webhook(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path / "state")
    record_task_failure(settings, _context("validation_gate"))
    record_task_failure(settings, _context("memory_gate"))
    assert failures_path(settings) == tmp_path / "state" / "alerts" / "task_failures.jsonl"
    records = read_failures(settings)
    assert [r["task_id"] for r in records] == ["validation_gate", "memory_gate"]
    assert all("webhook_status" not in r and "webhook_error" not in r for r in records)


def test_the_webhook_receives_the_record(tmp_path: Path, webhook) -> None:
    url, received, _ = webhook
    settings = load_settings(state_dir=tmp_path / "state", alert_webhook_url=url)
    record = record_task_failure(settings, _context())
    assert record["webhook_status"] == 200
    assert len(received) == 1 and received[0]["task_id"] == "validation_gate"
    assert received[0]["error"].startswith("ValueError")


def test_a_failing_webhook_is_recorded_not_raised(tmp_path: Path, webhook) -> None:
    url, _, state = webhook
    state["status"] = 500
    settings = load_settings(state_dir=tmp_path / "state", alert_webhook_url=url)
    record = record_task_failure(settings, _context())
    assert "HTTP Error 500" in record["webhook_error"]
    # Nothing listens on port 9 of 127.0.0.1 (discard): a connection error is recorded too.
    down = load_settings(state_dir=tmp_path / "state", alert_webhook_url="http://127.0.0.1:9/hook")
    assert "webhook_error" in record_task_failure(down, _context())
    assert [("webhook_error" in r) for r in read_failures(settings)] == [True, True]
