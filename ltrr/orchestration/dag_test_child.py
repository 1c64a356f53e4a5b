"""Child process of ``ltrr run``: ``dag.test()`` one day and write the task states as JSON.

Usage (the environment comes from ``ltrr.orchestration.local_run.airflow_env``)::

    python -m ltrr.orchestration.dag_test_child ltrr_nightly 2026-01-07 /tmp/result.json

Kept separate because Airflow must be imported after its environment is set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def main(argv: list[str]) -> int:
    """Initialise the metadata DB, load the DAG, run it for the day, write the result."""
    dag_id, ds, result_path = argv
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.db import initdb

    initdb()
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        for path, error in bag.import_errors.items():
            print(f"DAG import error in {path}:\n{error}", file=sys.stderr)
        return 2
    dag = bag.dags.get(dag_id)
    if dag is None:
        print(f"no DAG {dag_id!r} in {os.environ['AIRFLOW__CORE__DAGS_FOLDER']}", file=sys.stderr)
        return 2
    day = dt.date.fromisoformat(ds)
    run = dag.test(logical_date=dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))
    tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    state = str(run.state)
    with open(result_path, "w") as fh:
        json.dump({"dag_id": dag_id, "ds": ds, "state": state, "tasks": tasks}, fh, indent=2)
    return 0 if state == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
