"""Run the nightly DAG on this machine with real Airflow (``dag.test()``), the embedded default.

Airflow reads its configuration from the environment when it is first imported, so each run
happens in a child process whose environment points Airflow at a local home (sqlite metadata
DB under ``Settings.state_dir``), this repository's ``dags/`` folder, and a ``spark_default``
connection built from ``Settings.spark_master``. The child calls ``dag.test()`` and reports
the final state of every task.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ltrr.config import Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
DAG_ID = "ltrr_nightly"


@dataclass(frozen=True)
class DagRunResult:
    """What one local DAG run did."""

    ds: str
    state: str
    task_states: dict[str, str]
    returncode: int

    @property
    def ok(self) -> bool:
        """Whether the run succeeded."""
        return self.state == "success"


def dags_folder() -> Path:
    """The repository's ``dags/`` folder (the package is installed editable from the repo)."""
    folder = REPO_ROOT / "dags"
    if not (folder / f"{DAG_ID}.py").is_file():
        raise FileNotFoundError(f"cannot find {DAG_ID}.py under {folder}; run ltrr from a checkout of the repository")
    return folder


def airflow_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of an embedded Airflow that runs ltrr's DAGs locally.

    Args:
        settings: run settings; exported as ``LTRR_*`` so tasks and Spark jobs rebuild them.
        base: the environment to start from (default: this process's).

    Returns:
        A complete environment for a child process.
    """
    env = dict(os.environ if base is None else base)
    env.update(settings.to_env())
    home = settings.airflow_home
    bin_dir = str(Path(sys.executable).parent)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder()),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps({"conn_type": "spark", "host": settings.spark_master}),
            # spark-submit and the Python workers must be the venv's.
            "PATH": bin_dir + os.pathsep + env.get("PATH", ""),
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": env.get("SPARK_LOCAL_IP", "127.0.0.1"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p),
        }
    )
    return env


def run_dag_locally(settings: Settings, ds: str, *, quiet: bool = False) -> DagRunResult:
    """Run ``ltrr_nightly`` for one day with ``dag.test()`` in a child process.

    Args:
        settings: run settings.
        ds: the day to run, ``YYYY-MM-DD``.
        quiet: send Airflow's output to a log file under ``state_dir`` instead of the terminal.

    Returns:
        The run's final state and the state of every task.
    """
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    env = airflow_env(settings)
    result_file = settings.airflow_home / f"last_run_{ds}.json"
    result_file.unlink(missing_ok=True)
    log_path = settings.airflow_home / f"dag_test_{ds}.log"
    cmd = [sys.executable, "-m", "ltrr.orchestration.dag_test_child", DAG_ID, ds, str(result_file)]
    with open(log_path, "w") as log:
        out = log if quiet else None
        proc = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.STDOUT if quiet else None, check=False)
    if result_file.is_file():
        data = json.loads(result_file.read_text())
        return DagRunResult(ds=ds, state=data["state"], task_states=data["tasks"], returncode=proc.returncode)
    return DagRunResult(ds=ds, state="error", task_states={}, returncode=proc.returncode)
