"""``ltrr bundle list|show|verify|promote|rollback|diff`` as a user runs them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bundle_days import DaySpec, write_day

from ltrr.bundle import publish_day
from ltrr.cli import main
from ltrr.config import Settings


@pytest.fixture()
def two_days(mlflow_settings: Settings, monkeypatch: pytest.MonkeyPatch):
    """Day A passes every gate; day B has more queries and no embeddings (so it is not promoted)."""
    for key, value in mlflow_settings.to_env().items():
        monkeypatch.setenv(key, value)
    write_day(mlflow_settings.data_root, DaySpec("2026-01-07", queries=40))
    a = publish_day(mlflow_settings, "2026-01-07")
    write_day(mlflow_settings.data_root, DaySpec("2026-01-08", seed=1, queries=45, embeddings="missing"))
    b = publish_day(mlflow_settings, "2026-01-08")
    return a, b


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["bundle", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_shows_versions_gates_and_aliases(two_days, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_days
    code, out, _ = _run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[1].split() == ["VERSION", "DS", "ARTIFACTS", "FILES", "SIZE", "GATES", "MLFLOW", "ALIASES"]
    row_b, row_a = lines[3], lines[4]  # newest day first
    assert row_b.startswith(b.version) and "failed (1)" in row_b and row_b.endswith("candidate")
    assert row_a.startswith(a.version) and " passed " in row_a and row_a.endswith("champion")
    assert "embeddings,q2e" in row_a and re.search(r"\s1\s+champion$", row_a)


def test_show_prints_lineage_gates_and_metrics(two_days, capsys: pytest.CaptureFixture[str]) -> None:
    _, b = two_days
    code, out, _ = _run(capsys, "show", "candidate")
    assert code == 0
    assert out.startswith(f"bundle          {b.version}  (candidate)")
    assert "champion gate   failed: embeddings: no artifact for 2026-01-08" in out
    assert re.search(r"^embeddings\s+missing\s+missing\s+embeddings: no artifact", out, re.M)
    # Interval 2026-01-01..08 holds the clean searches of both days: 50 (day A) + 51 (day B).
    assert re.search(r"^searches\s+2\s+101$", out, re.M)
    assert re.search(r"^q2e\.rows\.queries\s+45$", out, re.M)


def test_verify_passes_then_fails_after_tampering(two_days, capsys: pytest.CaptureFixture[str]) -> None:
    a, _ = two_days
    code, out, _ = _run(capsys, "verify", "champion")
    assert code == 0 and out.startswith(f"OK {a.version}")
    target = Path(a.url) / "q2e" / "report.json"
    target.write_text(target.read_text().replace('"top_n": 50', '"top_n": 51'))
    code, out, _ = _run(capsys, "verify", a.version)
    assert code == 1
    assert out.splitlines() == [f"FAILED {a.url}: 1 problem(s)", out.splitlines()[1]]
    assert out.splitlines()[1].startswith("  tampered file: q2e/report.json (sha256 ")


def test_diff_shows_metric_and_file_changes(two_days, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_days
    code, out, _ = _run(capsys, "diff", a.version, b.version)
    assert code == 0
    assert out.startswith(f"diff {a.version} (2026-01-07) -> {b.version} (2026-01-08)")
    assert re.search(r"^q2e\.rows\.queries\s+40\s+45\s+5$", out, re.M)
    assert re.search(r"^embeddings\.rows\.entities\s+25\s+-\s+-$", out, re.M)
    assert re.search(r"^removed\s+embeddings/items\.ann$", out, re.M)
    assert re.search(r"^changed\s+q2e/serving/part-00000-c000\.zstd\.parquet$", out, re.M)
    assert not re.search(r"^added", out, re.M)


def test_promote_refuses_failed_gates_and_rollback_restores(two_days, capsys: pytest.CaptureFixture[str]) -> None:
    a, b = two_days
    code, _, err = _run(capsys, "promote", b.version)
    assert code == 1 and "did not pass every gate" in err and "--force" in err
    code, out, _ = _run(capsys, "promote", b.version, "--force")
    assert code == 0 and out.strip().startswith(f"champion moved from {a.version} to {b.version}")
    code, out, _ = _run(capsys, "rollback")
    assert code == 0 and f"from {b.version} to {a.version}" in out
    code, out, _ = _run(capsys, "list")
    assert next(line for line in out.splitlines() if line.startswith(a.version)).endswith("champion")
    code, _, err = _run(capsys, "rollback")
    assert code == 1 and "no previous champion" in err


def test_unknown_version_is_a_clear_error(two_days, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "show", "2026-01-01-000000000000")
    assert code == 1 and "no bundle '2026-01-01-000000000000'" in err
