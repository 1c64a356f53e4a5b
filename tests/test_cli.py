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
