"""Backfills through the Airflow REST API v2: create one, wait for its runs, read what they did.

What a person does from the UI's "Backfill" form, done by a program (the slow integration test
and scripts): ``POST /api/v2/backfills``, then poll ``GET /api/v2/backfills/{id}`` until the
scheduler marks it complete, then read each run's task states and XCom results.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Protocol

from ltrr.orchestration.services import ServicesError

REPROCESS_BEHAVIORS = ("none", "failed", "completed")
"""Airflow's choices for days that already have a run: skip them, rerun failed ones, rerun all."""

TERMINAL_RUN_STATES = ("success", "failed")


class RestApi(Protocol):
    """What this module needs of ``AirflowServices``: its REST calls and whether it still runs."""

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]: ...

    def exited(self) -> dict[str, int]: ...

    def logs_tail(self, lines: int = 30) -> str: ...


@dataclass(frozen=True)
class BackfillRun:
    """One DAG run of a backfill, once it has finished.

    Attributes:
        run_id: the Airflow run id.
        ds: the run's logical day, ``YYYY-MM-DD`` (the ``ds`` its tasks were given).
        state: ``success`` or ``failed``.
        run_type: ``backfill`` for runs a backfill created.
        task_states: task id to final state.
    """

    run_id: str
    ds: str
    state: str
    run_type: str
    task_states: dict[str, str]


def backfill_body(
    dag_id: str, first_ds: str, last_ds: str, *, reprocess: str = "none", max_active_runs: int = 1
) -> dict[str, Any]:
    """The body of ``POST /api/v2/backfills`` for the days ``first_ds`` to ``last_ds`` (both included).

    Args:
        dag_id: the DAG.
        first_ds: first day, ``YYYY-MM-DD``.
        last_ds: last day, ``YYYY-MM-DD``.
        reprocess: what to do with days that already ran (one of ``REPROCESS_BEHAVIORS``).
        max_active_runs: runs at once; 1 for ``ltrr_nightly``, whose days read the days before.

    Returns:
        The JSON body.

    Raises:
        ValueError: an unknown ``reprocess`` or days in the wrong order.
    """
    if reprocess not in REPROCESS_BEHAVIORS:
        raise ValueError(f"reprocess must be one of {REPROCESS_BEHAVIORS}, got {reprocess!r}")
    if dt.date.fromisoformat(last_ds) < dt.date.fromisoformat(first_ds):
        raise ValueError(f"the backfill ends before it starts: {first_ds} > {last_ds}")
    return {
        "dag_id": dag_id,
        "from_date": f"{first_ds}T00:00:00Z",
        "to_date": f"{last_ds}T00:00:00Z",
        "max_active_runs": max_active_runs,
        "reprocess_behavior": reprocess,
    }


def create_backfill(api: RestApi, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create a backfill (``POST /api/v2/backfills``).

    Args:
        api: the running services.
        token: a JWT from ``AirflowServices.token()``.
        body: from ``backfill_body``.

    Returns:
        Airflow's description of the backfill (``id``, ``from_date``, ``to_date``, ...).

    Raises:
        ServicesError: Airflow refused it (the status and answer are in the message).
    """
    status, answer = api.api("POST", "/api/v2/backfills", body, token=token)
    if status not in (200, 201) or not isinstance(answer, dict) or "id" not in answer:
        raise ServicesError(f"backfill refused: {status} {answer}")
    return answer


def set_paused(api: RestApi, token: str, dag_id: str, paused: bool) -> None:
    """Pause or unpause a DAG (``PATCH /api/v2/dags/{dag_id}``).

    Airflow 3.3 starts a backfill's runs only while its DAG is unpaused (the UI's "Unpause on
    trigger" box); unpausing also lets the scheduler create the run of the latest scheduled day.

    Args:
        api: the running services.
        token: a JWT.
        dag_id: the DAG.
        paused: the new state.

    Raises:
        ServicesError: Airflow refused the change.
    """
    status, answer = api.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused}, token=token)
    if status != 200 or not isinstance(answer, dict) or answer.get("is_paused") is not paused:
        raise ServicesError(f"cannot set is_paused={paused} on {dag_id}: {status} {answer}")


def wait_for_backfill(
    api: RestApi, token: str, backfill: dict[str, Any], *, timeout: float, poll: float = 5.0
) -> list[BackfillRun]:
    """Wait until the scheduler marks a backfill complete, then describe its runs.

    Args:
        api: the running services.
        token: a JWT.
        backfill: what ``create_backfill`` returned.
        timeout: seconds to wait for completion.
        poll: seconds between polls.

    Returns:
        The DAG's runs whose logical day lies in the backfill's range, oldest first.

    Raises:
        ServicesError: not complete in time, or a service exited (with the end of the logs).
    """
    deadline = time.monotonic() + timeout
    path = f"/api/v2/backfills/{backfill['id']}"
    while True:
        status, answer = api.api("GET", path, token=token)
        if status == 200 and isinstance(answer, dict) and answer.get("completed_at"):
            break
        if exited := api.exited():
            raise ServicesError(f"Airflow services exited during the backfill: {exited}\n{api.logs_tail()}")
        if time.monotonic() >= deadline:
            raise ServicesError(
                f"backfill {backfill['id']} not complete after {timeout:.0f} s (last answer {status} {answer})\n"
                f"{api.logs_tail()}"
            )
        time.sleep(poll)
    return dag_runs(api, token, backfill["dag_id"], backfill["from_date"], backfill["to_date"])


def dag_runs(api: RestApi, token: str, dag_id: str, from_date: str, to_date: str) -> list[BackfillRun]:
    """The finished or unfinished runs of ``dag_id`` with a logical date in ``[from_date, to_date]``.

    Args:
        api: the running services.
        token: a JWT.
        dag_id: the DAG.
        from_date: first logical date (ISO 8601, as the backfill reports it).
        to_date: last logical date.

    Returns:
        One ``BackfillRun`` per run, oldest first, with its task states.
    """
    query = urllib.parse.urlencode(
        {"logical_date_gte": from_date, "logical_date_lte": to_date, "order_by": "logical_date", "limit": 100}
    )
    status, answer = api.api("GET", f"/api/v2/dags/{dag_id}/dagRuns?{query}", token=token)
    if status != 200 or not isinstance(answer, dict):
        raise ServicesError(f"cannot list the runs of {dag_id}: {status} {answer}")
    runs = []
    for run in answer["dag_runs"]:
        run_id = run["dag_run_id"]
        quoted = urllib.parse.quote(run_id, safe="")
        status, tis = api.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances?limit=100", token=token)
        if status != 200 or not isinstance(tis, dict):
            raise ServicesError(f"cannot list the tasks of {run_id}: {status} {tis}")
        runs.append(
            BackfillRun(
                run_id=run_id,
                ds=str(run["logical_date"])[:10],
                state=str(run["state"]),
                run_type=str(run["run_type"]),
                task_states={ti["task_id"]: str(ti["state"]) for ti in tis["task_instances"]},
            )
        )
    return runs


def task_result(api: RestApi, token: str, dag_id: str, run_id: str, task_id: str) -> Any:
    """What a task returned (its ``return_value`` XCom), e.g. ``publish_bundle``'s publish result.

    Args:
        api: the running services.
        token: a JWT.
        dag_id: the DAG.
        run_id: the run.
        task_id: the task.

    Returns:
        The deserialised value.

    Raises:
        ServicesError: the task has no result.
    """
    quoted = urllib.parse.quote(run_id, safe="")
    path = f"/api/v2/dags/{dag_id}/dagRuns/{quoted}/taskInstances/{task_id}/xcomEntries/return_value?deserialize=true"
    status, answer = api.api("GET", path, token=token)
    if status != 200 or not isinstance(answer, dict) or "value" not in answer:
        raise ServicesError(f"no result of {task_id} in {run_id}: {status} {answer}")
    return answer["value"]
