"""What the nightly DAG does when a task fails for good: a durable record and an optional webhook.

Airflow calls a task's ``on_failure_callback`` once the task has failed with no retry left
(a gate's ``AirflowFailException`` at once; a crashing Spark job after its retries). Operators
need to learn that a night did not publish without watching the UI, so every such failure is

- appended as one JSON line to ``<state_dir>/alerts/task_failures.jsonl`` (the durable record:
  which day, which task, which try, the error and the log URL), and
- POSTed as JSON to ``LTRR_ALERT_WEBHOOK_URL`` when it is set (an incoming webhook of Slack,
  Opsgenie, PagerDuty's events bridge, ...).

A failing alert never raises: the callback must not hide the task's own failure, so a webhook
error is written into the record (``webhook_error``) and logged instead.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ltrr.config import Settings

FAILURES_FILE = "task_failures.jsonl"
WEBHOOK_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


def failures_path(settings: Settings) -> Path:
    """Where failure records are appended: ``<state_dir>/alerts/task_failures.jsonl``."""
    return settings.state_dir / "alerts" / FAILURES_FILE


def failure_record(context: Mapping[str, Any], now: dt.datetime | None = None) -> dict:
    """The JSON-ready facts of a failed task, from Airflow's callback context.

    Args:
        context: the context Airflow passes to ``on_failure_callback`` (``ti``, ``ds``,
            ``exception``, ``dag_run``); missing parts become None.
        now: the time to record (default: now, UTC).

    Returns:
        ``{"dag_id", "task_id", "run_id", "ds", "try_number", "error", "log_url", "recorded_at"}``.
    """
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    error = context.get("exception")
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None),
        "ds": context.get("ds"),
        "try_number": getattr(ti, "try_number", None),
        "error": f"{type(error).__name__}: {error}" if error is not None else None,
        "log_url": getattr(ti, "log_url", None),
        "recorded_at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
    }


def post_json(url: str, payload: Mapping[str, Any], timeout: float = WEBHOOK_TIMEOUT_S) -> int:
    """POST ``payload`` as JSON to ``url``; returns the HTTP status (raises on a connection or HTTP error)."""
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return int(response.status)


def record_task_failure(
    settings: Settings,
    context: Mapping[str, Any],
    *,
    post: Callable[[str, Mapping[str, Any]], int] = post_json,
) -> dict:
    """Record a failed task (the DAG's ``on_failure_callback``); never raises for the webhook.

    Args:
        settings: where the record goes (``state_dir``) and the webhook URL.
        context: Airflow's callback context.
        post: how the webhook is called (the default POSTs JSON with a timeout).

    Returns:
        The record as written, with ``webhook_status`` or ``webhook_error`` when a webhook is set.
    """
    record = failure_record(context)
    if settings.alert_webhook_url:
        try:
            record["webhook_status"] = post(settings.alert_webhook_url, record)
        except Exception as exc:  # a failing alert must not hide the task's own failure
            record["webhook_error"] = f"{type(exc).__name__}: {exc}"
            log.warning("ltrr alert webhook failed for %s.%s: %s", record["dag_id"], record["task_id"], exc)
    path = failures_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    return record


def read_failures(settings: Settings) -> list[dict]:
    """Every failure record so far, oldest first (empty when none)."""
    path = failures_path(settings)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
