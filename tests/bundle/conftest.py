"""Fixtures of the bundle tests: a real MLflow (sqlite) per test, settings in tmp_path.

Creating an MLflow sqlite database runs its migrations (about 9 s), so one empty migrated
database is made per session and copied for each test (about 0.2 s): every test still talks
to a real, private MLflow tracking and registry store.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ltrr.config import Settings, load_settings


@pytest.fixture(scope="session")
def mlflow_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated MLflow sqlite database."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    uri = f"sqlite:///{path}"
    MlflowClient(tracking_uri=uri, registry_uri=uri).search_experiments()
    return path


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """Settings with data, state and store under the test's tmp_path (no MLflow database yet)."""
    return load_settings(
        data_root=tmp_path / "data",
        state_dir=tmp_path / "state",
        bundle_store=str(tmp_path / "bundles"),
        mlflow_tracking_uri=f"sqlite:///{tmp_path / 'state' / 'mlflow.db'}",
        bundle_keep=10,
    )


@pytest.fixture()
def mlflow_settings(settings: Settings, mlflow_template: Path) -> Settings:
    """``settings`` plus a private, migrated MLflow database at its tracking URI."""
    db = Path(settings.mlflow_uri.removeprefix("sqlite:///"))
    db.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(mlflow_template, db)
    return settings


@pytest.fixture()
def client(mlflow_settings: Settings):
    """An MLflow client on the test's database."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_settings.mlflow_uri, registry_uri=mlflow_settings.mlflow_uri)
