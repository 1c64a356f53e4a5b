"""Settings: defaults, environment overrides, clear errors, documentation in sync."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from ltrr.config import ConfigError, Settings, load_settings

REPO = Path(__file__).resolve().parents[1]


def test_defaults_are_documented_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("LTRR_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.sim_scale == "medium"
    assert settings.spark_master == "local[*]"
    assert settings.sim_start == dt.date(2026, 1, 5)
    assert settings.data_root.is_absolute()
    assert settings.mlflow_uri.startswith("sqlite:///") and settings.mlflow_uri.endswith("mlflow.db")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LTRR_DATA_ROOT", str(tmp_path / "d"))
    monkeypatch.setenv("LTRR_SEED", "123")
    monkeypatch.setenv("LTRR_SIM_SCALE", "small")
    monkeypatch.setenv("LTRR_BUNDLE_STORE", "s3://bucket/ltrr")
    settings = load_settings()
    assert settings.data_root == tmp_path / "d"
    assert settings.seed == 123
    assert settings.sim_scale == "small"
    assert settings.bundle_store == "s3://bucket/ltrr"


def test_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LTRR_SIM_SCALE", "huge")
    with pytest.raises(ConfigError, match="LTRR_SIM_SCALE"):
        load_settings()
    monkeypatch.delenv("LTRR_SIM_SCALE")
    monkeypatch.setenv("LTRR_MAX_REJECTED_SHARE", "1.5")
    with pytest.raises(ConfigError, match="LTRR_MAX_REJECTED_SHARE"):
        load_settings()
    monkeypatch.delenv("LTRR_MAX_REJECTED_SHARE")
    monkeypatch.setenv("LTRR_BANDIT_MAX_WEIGHT", "0.5")
    with pytest.raises(ConfigError, match="LTRR_BANDIT_MAX_WEIGHT"):
        load_settings()


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(Exception, match="frozen"):
        settings.seed = 1  # type: ignore[misc]


def test_to_env_round_trips(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    original = load_settings(data_root=tmp_path / "x", seed=99, sim_start=dt.date(2026, 2, 1), sim_exploration=0.3)
    for key, value in original.to_env().items():
        monkeypatch.setenv(key, value)
    assert load_settings() == original


def test_every_field_is_documented() -> None:
    doc = (REPO / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `(LTRR_[A-Z0-9_]+)` \|", doc, flags=re.M))
    fields = {"LTRR_" + name.upper() for name in Settings.model_fields}
    assert documented == fields
