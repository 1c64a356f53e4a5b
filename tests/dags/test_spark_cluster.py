"""ltrr's Spark jobs on a real Spark standalone cluster, with ltrr shipped as ``--py-files``.

A master and one worker (1 core, 1g) run on 127.0.0.1 from the installed pyspark
(``ltrr.orchestration.spark_cluster.StandaloneCluster``). Jobs are submitted to
``spark://127.0.0.1:PORT`` with the zip of ``ltrr.orchestration.package.build_py_files``:

- a probe app shows that the driver and the executors' Python workers import ltrr from the
  zip (not from the venv's editable install), that the executors are the cluster's (launched
  by its worker), and that every JVM of the run listens on 127.0.0.1 only;
- ``jobs/build_q2e.py`` on the second day of the shared ``small_pipeline`` world writes the
  same memory artifact as the local-mode run of the fixture did.

Afterwards no process of the cluster is left and none of its ports listens. About 2 minutes on
2 cores (plus the shared ``small_pipeline`` fixture, about 4 minutes, when run alone). The fast
tests at the end check the zip itself, SQL read from it, and the DAG's ``py_files``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from ltrr.config import Settings, load_settings
from ltrr.orchestration.package import build_py_files, py_files_entries
from ltrr.orchestration.spark_cluster import ClusterError, StandaloneCluster
from ltrr.zones import artifact_dir
from tests.conftest import PIPELINE_DAYS, REPO_ROOT
from tests.jvm import FAST_JVM_OPTIONS
from tests.listeners import listening

SPARK_SUBMIT = Path(sys.executable).parent / "spark-submit"
SUBMIT_TIMEOUT = 600
LOOPBACK = {"127.0.0.1", "::ffff:127.0.0.1"}

PROBE = textwrap.dedent(
    '''
    """Where do the driver and the executors import ltrr from, and what do their JVMs listen on?"""
    import json
    import os

    import psutil
    from pyspark.sql import SparkSession

    import ltrr
    from ltrr.sqlfiles import load_sql


    def listeners(pid):
        proc = psutil.Process(pid)
        return sorted({c.laddr.ip for c in proc.net_connections("inet") if c.status == psutil.CONN_LISTEN})


    def on_executor(_):
        import ltrr

        me = psutil.Process(os.getpid())
        jvm = next(p for p in me.parents() if p.name() == "java")
        return {
            "ltrr": ltrr.__file__,
            "ancestors": [p.pid for p in me.parents()],
            "jvm_cmdline": " ".join(jvm.cmdline()),
            "jvm_listeners": listeners(jvm.pid),
        }


    spark = SparkSession.builder.appName("ltrr-py-files-probe").getOrCreate()
    executors = spark.sparkContext.parallelize(range(2), 2).map(on_executor).collect()
    print("PROBE " + json.dumps({
        "driver_ltrr": ltrr.__file__,
        "driver_listeners": listeners(os.getppid()),  # spark-submit's JVM
        "sql": load_sql("rank/history_stats")[:200],
        "executors": executors,
    }))
    spark.stop()
    '''
)


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _listen_ips(pids: set[int]) -> set[str]:
    ips = set()
    for pid in pids:
        try:
            conns = psutil.Process(pid).net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        ips.update(c.laddr.ip for c in conns if c.status == psutil.CONN_LISTEN)
    return ips


def _family(cluster: StandaloneCluster) -> set[int]:
    pids = set(cluster.pids.values())
    for pid in list(pids):
        with contextlib.suppress(psutil.NoSuchProcess):
            pids.update(child.pid for child in psutil.Process(pid).children(recursive=True))
    return pids


def copy_inputs(source: Path, dest: Path, ds: str, previous: str) -> None:
    """Copy what the memory job of ``ds`` reads: the clean and sim zones, the validation
    reports and the previous day's memory artifact (its examination curve and table)."""
    for zone in ("clean", "sim", "validation"):
        shutil.copytree(source / zone, dest / zone)
    shutil.copytree(artifact_dir(source, previous), artifact_dir(dest, previous))


def submit_env(settings: Settings, data_root: Path, state_dir: Path, master_url: str) -> dict[str, str]:
    """The environment of a spark-submit: the world's LTRR_* settings on a copy of its data."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LTRR_", "PYSPARK_GATEWAY"))}
    env.update(settings.to_env())
    env.update(
        {
            "LTRR_DATA_ROOT": str(data_root),
            "LTRR_STATE_DIR": str(state_dir),
            "LTRR_BUNDLE_STORE": str(state_dir / "bundles"),
            "LTRR_SPARK_MASTER": master_url,
            "LTRR_SPARK_DRIVER_MEMORY": "1g",
            "LTRR_SPARK_DRIVER_JAVA_OPTIONS": FAST_JVM_OPTIONS,
            "PYSPARK_PYTHON": str(Path(sys.executable).absolute()),
            "PYSPARK_DRIVER_PYTHON": str(Path(sys.executable).absolute()),
            "SPARK_LOCAL_IP": "127.0.0.1",
            "TZ": "UTC",
        }
    )
    return env


def spark_submit(master_url: str, py_files: Path, app: Path, args: list[str], env: dict, cwd: Path) -> str:
    """Run one app on the cluster the way the DAG would (plus the test's JVM options); its output."""
    command = [
        str(SPARK_SUBMIT),
        "--master",
        master_url,
        "--py-files",
        str(py_files),
        "--driver-memory",
        "1g",
        "--driver-java-options",
        FAST_JVM_OPTIONS,
        "--conf",
        f"spark.executor.extraJavaOptions={FAST_JVM_OPTIONS}",
        "--conf",
        "spark.executor.memory=1g",
        "--conf",
        "spark.driver.host=127.0.0.1",
        "--conf",
        "spark.driver.bindAddress=127.0.0.1",
        "--conf",
        "spark.ui.enabled=false",
        "--conf",
        "spark.ui.showConsoleProgress=false",
        str(app),
        *args,
    ]
    # cwd outside the checkout: a Python worker's cwd is on its sys.path, so the repo's ltrr/
    # must not be reachable that way (it is not on a real worker either).
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=SUBMIT_TIMEOUT)
    assert proc.returncode == 0, f"{app.name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
    return proc.stdout


def _rows(path: Path) -> list[str]:
    return sorted(map(str, pq.read_table(path).to_pylist()))


def _gx_results(path: Path) -> list[dict]:
    """A GX validation result without its run metadata (run time, validation and expectation ids)."""
    results = json.loads(path.read_text())["results"]
    for result in results:
        result["expectation_config"].pop("id", None)
    return results


def assert_same_memory_artifact(local: Path, cluster: Path) -> None:
    """The same memory artifact: table and serving rows (sorted), examination curve and report
    byte for byte, and GX's per-expectation results (its run metadata differs by nature)."""
    assert _rows(cluster / "table") == _rows(local / "table")
    assert _rows(cluster / "serving") == _rows(local / "serving")
    for name in ("examination.json", "report.json"):
        assert (cluster / name).read_text() == (local / name).read_text(), name
    assert _gx_results(cluster / "validation.json") == _gx_results(local / "validation.json")


@pytest.mark.slow
def test_jobs_on_a_standalone_cluster_match_local_mode(small_pipeline: Settings, tmp_path: Path) -> None:
    """Submitted to the cluster with the zip, the memory job writes what local mode wrote.

    The job runs on a copy of the inputs (the fixture's root is shared and must not be
    written). Compared: the Parquet rows of the table and of its serving form after sorting,
    ``examination.json`` and ``report.json`` byte for byte, and the GX results per expectation;
    not compared: GX's run metadata (validation time and ids, expectation ids), which differ on
    every run, and the rendered ``validation.html``.
    """
    previous, ds = PIPELINE_DAYS
    data_root = tmp_path / "data"
    copy_inputs(small_pipeline.data_root, data_root, ds, previous)
    zip_path = build_py_files(tmp_path / "py-files")
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    run_dir = tmp_path / "cwd"
    run_dir.mkdir()

    cluster = StandaloneCluster(
        tmp_path / "cluster", cores=1, memory="1g", daemon_java_options=FAST_JVM_OPTIONS, startup_timeout=180
    )
    seen: set[int] = set()
    try:
        cluster.start()
        seen |= _family(cluster)
        assert set(cluster.pids) == {"master", "worker"}
        assert _listen_ips(seen) <= LOOPBACK
        env = submit_env(small_pipeline, data_root, tmp_path / "state", cluster.master_url)

        out = spark_submit(cluster.master_url, zip_path, probe, [], env, run_dir)
        seen |= _family(cluster)
        found = json.loads(next(line for line in out.splitlines() if line.startswith("PROBE "))[6:])
        # Driver and executors import ltrr from the zip, not from the venv (editable install).
        assert found["driver_ltrr"].endswith(f"{zip_path.name}/ltrr/__init__.py"), found["driver_ltrr"]
        for executor in found["executors"]:
            assert f"{zip_path.name}/ltrr/__init__.py" in executor["ltrr"], executor
            assert not executor["ltrr"].startswith(str(REPO_ROOT)), executor
            # The Python worker descends from an executor JVM launched by the cluster's worker.
            assert "CoarseGrainedExecutorBackend" in executor["jvm_cmdline"]
            assert cluster.pids["worker"] in executor["ancestors"]
            assert set(executor["jvm_listeners"]) <= LOOPBACK, executor
        assert set(found["driver_listeners"]) <= LOOPBACK, found
        # The driver reads the SQL shipped in the zip (ltrr.sqlfiles beside the zip's ltrr/).
        assert found["sql"] == (REPO_ROOT / "sql" / "rank" / "history_stats.sql").read_text()[:200]

        out = spark_submit(
            cluster.master_url, zip_path, REPO_ROOT / "jobs" / "build_q2e.py", ["--ds", ds], env, run_dir
        )
        summary = json.loads(out.strip().splitlines()[-1])
        assert summary["status"] == "published", summary
        seen |= _family(cluster)
        status, master = cluster.status()
        assert status == 200
        assert [app["name"] for app in master["completedapps"]] == ["ltrr-py-files-probe", f"ltrr-build-q2e-{ds}"]
    finally:
        seen |= _family(cluster)
        cluster.stop()

    assert [pid for pid in seen if _alive(pid)] == []
    assert [port for port in cluster.ports if listening(port)] == []
    cluster.stop()  # idempotent

    assert_same_memory_artifact(artifact_dir(small_pipeline.data_root, ds), artifact_dir(data_root, ds))


@pytest.mark.slow
def test_failed_start_up_leaves_no_process(tmp_path: Path) -> None:
    cluster = StandaloneCluster(tmp_path / "cluster", startup_timeout=0.5)
    with pytest.raises(ClusterError, match=r"not ready after 0\.5 s") as failure, cluster:
        pytest.fail("the cluster cannot be up within 0.5 s")
    assert "master.log" in str(failure.value)  # the error carries the end of the logs
    assert cluster.processes == {}
    leftovers = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if f"--port {cluster.port}" in " ".join(p.info["cmdline"] or []) and _alive(p.pid)
    ]
    assert leftovers == []
    assert [port for port in cluster.ports if listening(port)] == []


def test_py_files_zip_is_deterministic_and_complete(tmp_path: Path) -> None:
    first = build_py_files(tmp_path / "a")
    second = build_py_files(tmp_path / "b")
    assert first.name == second.name and first.name.startswith("ltrr-") and first.suffix == ".zip"
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        assert names == sorted(names)
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert names == [name for name, _ in py_files_entries()]
    assert "ltrr/__init__.py" in names and "ltrr/orchestration/package.py" in names
    assert "sql/q2e/memory_table.sql" in names
    assert not [n for n in names if "__pycache__" in n or not n.endswith((".py", ".sql"))]
    expected = {f"ltrr/{p.relative_to(REPO_ROOT / 'ltrr').as_posix()}" for p in (REPO_ROOT / "ltrr").rglob("*.py")}
    assert {n for n in names if n.startswith("ltrr/")} == expected


def test_sql_is_read_from_the_zip_when_ltrr_is_imported_from_it(tmp_path: Path) -> None:
    zip_path = build_py_files(tmp_path)
    code = (
        "import json, ltrr\nfrom ltrr.sqlfiles import load_sql\n"
        "print(json.dumps([ltrr.__file__, load_sql('rank/history_stats')]))"
    )
    env = {**os.environ, "PYTHONPATH": str(zip_path)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    origin, sql = json.loads(proc.stdout)
    assert origin == str(zip_path / "ltrr" / "__init__.py")
    assert sql == (REPO_ROOT / "sql" / "rank" / "history_stats.sql").read_text()


DAG_PY_FILES = r"""
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
result = {}
for value in (sys.argv[2], None):
    if value is None:
        os.environ.pop("LTRR_SPARK_PY_FILES", None)
    else:
        os.environ["LTRR_SPARK_PY_FILES"] = value
    dag = DagBag(dag_folder=sys.argv[1]).dags["ltrr_nightly"]
    result[str(value)] = {t.task_id: t.py_files for t in dag.tasks if t.task_type == "SparkSubmitOperator"}
print(json.dumps(result))
"""


def test_dag_passes_py_files_to_every_spark_submit(tmp_path: Path) -> None:
    from ltrr.orchestration.local_run import airflow_env

    env = airflow_env(load_settings(data_root=tmp_path / "data", state_dir=tmp_path / "state"))
    zip_path = "/opt/ltrr/py-files/ltrr-0123456789abcdef.zip"
    proc = subprocess.run(
        [sys.executable, "-c", DAG_PY_FILES, env["AIRFLOW__CORE__DAGS_FOLDER"], zip_path],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    spark_tasks = {
        "validate_inputs",
        "build_q2e",
        "build_interactions",
        "train_embeddings",
        "build_training_set",
        "train_ranker",
        "build_bandit_dataset",
    }
    assert result[zip_path] == dict.fromkeys(spark_tasks, zip_path)
    assert result["None"] == dict.fromkeys(spark_tasks)
