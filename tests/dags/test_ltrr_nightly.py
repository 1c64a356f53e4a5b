"""The nightly DAG with real Airflow: it parses cheaply, and dag.test() runs a simulated day."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ltrr.config import Settings, load_settings
from ltrr.orchestration.alerts import read_failures
from ltrr.orchestration.local_run import airflow_env, run_dag_locally
from ltrr.schemas import LOG_TABLES
from ltrr.zones import artifact_dir, partition_path, validation_dir
from tests.jvm import FAST_JVM_OPTIONS
from tests.temp_settings import temp_settings

HEAVY = ("pyspark", "great_expectations", "mlflow", "lightgbm", "implicit", "annoy", "tantivy")

INSPECT_DAG = r"""
import json, sys, importlib.util
spec = importlib.util.spec_from_file_location("ltrr_nightly_dag", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in sys.argv[2].split(","))
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[3])
dag = bag.dags.get("ltrr_nightly")
print(json.dumps({
    "heavy": heavy,
    "import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
    "dag_ids": sorted(bag.dag_ids),
    "schedule": str(dag.schedule) if dag else None,
    "catchup": dag.catchup if dag else None,
    "tasks": {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks} if dag else {},
    "retries": {t.task_id: t.retries for t in dag.tasks} if dag else {},
    "outlets": {t.task_id: sorted(a.uri for a in t.outlets) for t in dag.tasks if t.outlets} if dag else {},
    "inlets": {t.task_id: sorted(a.uri for a in t.inlets) for t in dag.tasks if t.inlets} if dag else {},
    "failure_callbacks": sorted(t.task_id for t in dag.tasks if t.on_failure_callback) if dag else [],
}))
"""


def _inspect(settings: Settings) -> dict:
    env = airflow_env(settings)
    dag_file = Path(env["AIRFLOW__CORE__DAGS_FOLDER"]) / "ltrr_nightly.py"
    proc = subprocess.run(
        [sys.executable, "-c", INSPECT_DAG, str(dag_file), ",".join(HEAVY), env["AIRFLOW__CORE__DAGS_FOLDER"]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def dag_info(tmp_path_factory: pytest.TempPathFactory) -> dict:
    tmp = tmp_path_factory.mktemp("dagbag")
    return _inspect(load_settings(data_root=tmp / "data", state_dir=tmp / "state"))


def test_dagbag_has_no_import_errors(dag_info: dict) -> None:
    assert dag_info["import_errors"] == {}
    assert "ltrr_nightly" in dag_info["dag_ids"]


def test_dag_file_imports_nothing_heavy(dag_info: dict) -> None:
    assert dag_info["heavy"] == []


def test_dag_shape(dag_info: dict) -> None:
    assert dag_info["schedule"] == "@daily"
    assert dag_info["catchup"] is False
    assert dag_info["tasks"] == {
        "check_raw_inputs": ["validate_inputs"],
        "validate_inputs": ["validation_gate"],
        "validation_gate": ["build_bandit_dataset", "build_interactions", "build_q2e", "build_training_set"],
        "build_q2e": ["memory_gate"],
        "memory_gate": ["publish_bundle"],
        "build_interactions": ["train_embeddings"],
        "train_embeddings": ["embeddings_gate"],
        "embeddings_gate": ["publish_bundle"],
        "build_training_set": ["training_set_gate"],
        "training_set_gate": ["build_retrieval", "train_ranker"],
        "build_retrieval": ["publish_bundle"],
        "train_ranker": ["ranker_gate"],
        "ranker_gate": ["publish_bundle"],
        "build_bandit_dataset": ["bandit_dataset_gate"],
        "bandit_dataset_gate": ["train_policy"],
        "train_policy": ["publish_bundle"],
        "publish_bundle": [],
    }
    # A data rejection is deterministic: the gate must not retry it; the Spark job may.
    assert dag_info["retries"]["validation_gate"] == 0
    assert dag_info["retries"]["memory_gate"] == 0
    assert dag_info["retries"]["embeddings_gate"] == 0
    assert dag_info["retries"]["training_set_gate"] == 0
    assert dag_info["retries"]["ranker_gate"] == 0
    assert dag_info["retries"]["bandit_dataset_gate"] == 0
    assert dag_info["retries"]["build_bandit_dataset"] >= 1
    assert dag_info["retries"]["build_training_set"] >= 1
    assert dag_info["retries"]["train_ranker"] >= 1
    assert dag_info["retries"]["validate_inputs"] >= 1
    assert dag_info["retries"]["build_q2e"] >= 1
    assert dag_info["retries"]["build_interactions"] >= 1
    assert dag_info["retries"]["train_embeddings"] >= 1


def test_gates_emit_assets_and_every_task_reports_failures(dag_info: dict) -> None:
    artifacts = {
        "validation_gate": "clean_logs",
        "memory_gate": "q2e",
        "embeddings_gate": "embeddings",
        "training_set_gate": "training_set",
        "ranker_gate": "ranker",
        "bandit_dataset_gate": "bandit_dataset",
        "train_policy": "policy",
        "build_retrieval": "retrieval",
    }
    expected = {task: [f"ltrr://artifacts/{name}"] for task, name in artifacts.items()}
    expected["publish_bundle"] = ["ltrr://bundles/published"]
    assert dag_info["outlets"] == expected
    # The bundle is made of every artifact the gates emitted.
    assert dag_info["inlets"] == {"publish_bundle": sorted(f"ltrr://artifacts/{n}" for n in artifacts.values())}
    assert dag_info["failure_callbacks"] == sorted(dag_info["tasks"])


def _rows(path: Path) -> int:
    return sum(pq.ParquetFile(f).metadata.num_rows for f in path.glob("*.parquet"))


@pytest.fixture(scope="module")
def simulated_day(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, str]:
    from ltrr.sim import simulate

    tmp = tmp_path_factory.mktemp("dagrun")
    settings = temp_settings(tmp, spark_driver_java_options=FAST_JVM_OPTIONS)
    summary = simulate(out=settings.data_root, start=settings.sim_start, days=1, scale="small", seed=3)
    return settings, summary["days"][0]["ds"]


def test_dag_test_runs_a_simulated_day_end_to_end(simulated_day: tuple[Settings, str]) -> None:
    settings, ds = simulated_day
    result = run_dag_locally(settings, ds, quiet=True)
    log = (settings.airflow_home / f"dag_test_{ds}.log").read_text()
    assert result.ok, log[-4000:]
    assert result.task_states == {
        "check_raw_inputs": "success",
        "validate_inputs": "success",
        "validation_gate": "success",
        "build_q2e": "success",
        "memory_gate": "success",
        "build_interactions": "success",
        "train_embeddings": "success",
        "embeddings_gate": "success",
        "build_training_set": "success",
        "training_set_gate": "success",
        "train_ranker": "success",
        "ranker_gate": "success",
        "build_bandit_dataset": "success",
        "bandit_dataset_gate": "success",
        "train_policy": "success",
        "build_retrieval": "success",
        "publish_bundle": "success",
    }
    report = json.loads((validation_dir(settings.data_root, ds) / "report.json").read_text())
    assert report["status"] == "accepted"
    memory = json.loads((artifact_dir(settings.data_root, ds) / "report.json").read_text())
    assert memory["validation"]["success"] is True and memory["rows"]["pairs"] > 0
    embeddings = artifact_dir(settings.data_root, ds, "embeddings")
    metrics = json.loads((embeddings / "metrics.json").read_text())
    assert metrics["recall"]["passed"] is True and metrics["recall"]["recall"] >= 0.95
    assert metrics["index"]["items"] == metrics["rows"]["entities"] > 0
    for name in ("item_factors.parquet", "user_factors.parquet", "query_vectors.parquet", "items.ann"):
        assert (embeddings / name).is_file(), name
    # The first day has no history to learn a ranker from: the skip is recorded, not hidden.
    training = json.loads((artifact_dir(settings.data_root, ds, "training_set") / "report.json").read_text())
    assert training["validation"]["rows"]["success"] is True and training["counts"]["rows"] > 0
    skipped = json.loads((validation_dir(settings.data_root, ds) / "ranker_skipped.json").read_text())
    assert "no training rows" in skipped["reason"]
    # One bandit row per clean search; the first day's policy learns on 80% of it and is
    # gated on the rest: whatever the outcome, it is recorded and never blocks the bundle.
    bandit = json.loads((artifact_dir(settings.data_root, ds, "bandit_dataset") / "report.json").read_text())
    assert bandit["validation"]["success"] is True
    assert (
        bandit["counts"]["rows"]
        == bandit["counts"]["searches"]
        == _rows(partition_path(settings.data_root, "clean", "searches", ds))
    )
    policy_report = artifact_dir(settings.data_root, ds, "policy") / "report.json"
    refused = validation_dir(settings.data_root, ds) / "policy_rejected.json"
    assert policy_report.is_file() != refused.is_file()
    # The day's bundle was published, verified on load, and holds both artifacts.
    from ltrr.serving import load_bundle

    bundle = load_bundle(settings.bundle_store, alias="champion")
    assert bundle.manifest.ds == ds
    assert set(bundle.manifest.artifacts) >= {"q2e", "embeddings", "retrieval"}
    if policy_report.is_file():  # the policy passed its gate: serving can load it, parity-checked
        assert bundle.plan_policy().plan_ids
    else:
        with pytest.raises(KeyError, match="policy"):
            bundle.plan_policy()
    for table in LOG_TABLES:
        raw = _rows(partition_path(settings.data_root, "raw", table, ds))
        clean = _rows(partition_path(settings.data_root, "clean", table, ds))
        quarantined_dir = partition_path(settings.data_root, "quarantine", table, ds)
        quarantined = _rows(quarantined_dir) if quarantined_dir.is_dir() else 0
        assert raw > 0
        assert raw == clean + quarantined, table


def test_dag_fails_at_the_gate_when_the_day_is_rejected(simulated_day: tuple[Settings, str]) -> None:
    from ltrr.faults import inject_bad_rows

    settings, ds = simulated_day
    injected = inject_bad_rows(settings.data_root, ds, share=0.08, seed=1)
    assert sum(injected.values()) > 0
    strict = settings.model_copy(update={"max_rejected_share": 0.02})
    result = run_dag_locally(strict, ds, quiet=True)
    log = (strict.airflow_home / f"dag_test_{ds}.log").read_text()
    assert not result.ok
    assert result.task_states["validate_inputs"] == "success", log[-4000:]
    assert result.task_states["validation_gate"] == "failed"
    assert result.task_states["build_q2e"] == "upstream_failed"
    assert result.task_states["build_interactions"] == "upstream_failed"
    assert result.task_states["build_training_set"] == "upstream_failed"
    assert result.task_states["build_bandit_dataset"] == "upstream_failed"
    assert "threshold" in log
    # The gate's failure was recorded for the operators (ltrr.orchestration.alerts).
    failures = read_failures(strict)
    assert [f["task_id"] for f in failures] == ["validation_gate"], failures
    assert failures[0]["ds"] == ds and "threshold" in failures[0]["error"]
