"""``jobs/validate_inputs.py`` as a real process: exit codes, the JSON line, the outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from validate_helpers import DS, count_rows, load_report, valid_day, write_raw

from ltrr.config import Settings
from tests.jvm import FAST_JVM_OPTIONS

REPO = Path(__file__).resolve().parents[2]
JOB = REPO / "jobs" / "validate_inputs.py"


def run_job(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        **settings.to_env(),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        # a short-lived test JVM starts about twice as fast with the C1 JIT only
        "PYSPARK_SUBMIT_ARGS": f"--driver-java-options '{FAST_JVM_OPTIONS}' pyspark-shell",
    }
    env.pop("PYSPARK_GATEWAY_PORT", None)
    return subprocess.run(
        [sys.executable, str(JOB), *args], env=env, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.slow  # a fresh JVM: ~30 s on an idle 2-core machine, more under load
def test_rejected_day_exits_3_with_the_reason(settings):
    day = valid_day()
    day["searches"][1]["propensity"] = 1.5  # 1 of 30 = 3.3% > 2%
    write_raw(settings.data_root, day)

    done = run_job(settings, "--ds", DS)

    assert done.returncode == 3, done.stderr[-3000:]
    assert "searches: 3.3% of 30 rows quarantined > threshold 2.0% (propensity_out_of_range: 1)" in done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["job"] == "validate_inputs"
    assert summary["status"] == "rejected"
    assert summary["tables"]["searches"] == {"in": 30, "accepted": 29, "quarantined": 1}
    # engagements g01 and g31 belong to s01: 2 of 40 = 5.0%
    assert summary["tables"]["engagements"] == {"in": 40, "accepted": 38, "quarantined": 2}
    assert load_report(settings.data_root)["status"] == "rejected"
    assert count_rows(settings.data_root, "quarantine", "searches") == 1
    assert not (settings.data_root / "clean" / "searches" / f"ds={DS}").exists()


@pytest.mark.slow  # a fresh JVM plus three GX suites
def test_clean_day_exits_0_and_publishes(settings):
    write_raw(settings.data_root, valid_day())

    done = run_job(settings, "--ds", DS)

    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["status"] == "accepted"
    assert summary["tables"]["engagements"] == {"in": 40, "accepted": 40, "quarantined": 0}
    assert count_rows(settings.data_root, "clean", "engagements") == 40
    assert load_report(settings.data_root)["gx_ran"] is True


def test_missing_input_exits_4_before_starting_spark(settings):
    done = run_job(settings, "--ds", DS)

    assert done.returncode == 4
    assert f"raw partition missing: {settings.data_root / 'raw' / 'catalog' / f'ds={DS}'}" in done.stderr


def test_bad_day_argument_exits_2(settings):
    done = run_job(settings, "--ds", "2026-13-40")

    assert done.returncode == 2
    assert "YYYY-MM-DD" in done.stderr


@pytest.mark.slow  # a fresh JVM
def test_exit_zero_on_reject_is_for_the_dag_gate(settings):
    """With the DAG's flag a rejected day exits 0; the gate then reads report.json."""
    from ltrr.orchestration.checks import DayRejected, require_accepted_day

    day = valid_day()
    day["catalog"].append({**day["catalog"][4], "entity_id": "e90", "entity_type": "gizmo"})  # 1 of 21 > 2%
    write_raw(settings.data_root, day)

    done = run_job(settings, "--ds", DS, "--exit-zero-on-reject")

    assert done.returncode == 0, done.stderr[-3000:]
    assert "catalog: 4.8% of 21 rows quarantined > threshold 2.0% (malformed_value:entity_type: 1)" in done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["status"] == "rejected"
    with pytest.raises(DayRejected, match=r"catalog: 4\.8% of 21 rows"):
        require_accepted_day(settings, DS)
