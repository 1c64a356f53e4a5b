"""The ltrr command line as a user calls it (a real subprocess of the console script)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LTRR = str(Path(sys.executable).parent / "ltrr")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LTRR, *args], capture_output=True, text=True, env=env, check=False, timeout=120)


def test_help_lists_every_command() -> None:
    proc = _run("--help")
    assert proc.returncode == 0
    for command in ("simulate", "run", "summary", "config", "inject-faults", "bundle"):
        assert command in proc.stdout


def test_bundle_help_lists_every_action() -> None:
    proc = _run("bundle", "--help")
    assert proc.returncode == 0
    for action in ("list", "show", "verify", "promote", "rollback", "diff"):
        assert f"    {action} " in proc.stdout


def test_simulate_help_documents_its_flags() -> None:
    proc = _run("simulate", "--help")
    assert proc.returncode == 0
    for flag in ("--start", "--days", "--scale", "--seed", "--out"):
        assert flag in proc.stdout


def test_bad_setting_is_a_one_line_error() -> None:
    env = dict(os.environ, LTRR_SIM_SCALE="huge")
    proc = _run("config", env=env)
    assert proc.returncode == 2
    assert "LTRR_SIM_SCALE" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_day_is_rejected_by_the_parser() -> None:
    proc = _run("run", "--ds", "2026-13-01")
    assert proc.returncode == 2
    assert "YYYY-MM-DD" in proc.stderr


def test_config_prints_effective_settings(tmp_path: Path) -> None:
    env = dict(os.environ, LTRR_DATA_ROOT=str(tmp_path / "d"), LTRR_SEED="11")
    proc = _run("config", env=env)
    assert proc.returncode == 0
    assert f"LTRR_DATA_ROOT={tmp_path / 'd'}" in proc.stdout.splitlines()
    assert "LTRR_SEED=11" in proc.stdout.splitlines()


def test_experiment_summary_lines() -> None:
    from ltrr.cli import format_experiment_summary

    summary = {
        "ds": "2026-01-07",
        "ltrr_hit_rate": 0.597,
        "ltrr_mean_candidates": 86.0,
        "best_static_arm": "static:lex75_pop25",
        "best_static_hit_rate": 0.647,
        "best_static_mean_candidates": 98.0,
        "uniform_hit_rate": 0.59,
        "oracle_hit_rate": 0.747,
        "oracle_mean_candidates": 34.0,
        "learned_ungated_hit_rate": None,
        "ltrr_value": 0.3812,
        "day0_rule_value": 0.3901,
        "ltrr_value_vs_day0_rule": {"difference": -0.0089, "ci": [-0.0150, -0.0028], "searches": 3000},
        "lift_points": -5.0,
        "gap_closed": None,
        "goal": "+10 points",
        "goal_met": False,
    }
    text = format_experiment_summary({"summary": summary})
    assert "LTR&R       59.7% (86.0 candidates)" in text
    assert (
        "value (bandit reward per search): LTR&R 0.3812, day-0 rule 0.3901; difference -0.0089 [-0.0150, -0.0028]"
        in text
    )
    assert "without its gate" not in text
    assert "against the policy that logged" not in text
    summary["learned_policy_vs_served"] = {"difference": 0.0117, "ci": [0.0016, 0.0219], "searches": 6000}
    text = format_experiment_summary({"summary": summary})
    assert (
        "policy learned that night, as it would serve, against the policy that logged the day: "
        "difference +0.0117 [+0.0016, +0.0219]" in text
    )
    assert "lift -5.0 points, gap to the oracle closed n/a; goal (+10 points) not met" in text
    assert format_experiment_summary({"summary": None}) == "no served day yet"
