"""A publish that dies midway leaves no visible partial bundle; the re-run finishes the job."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from bundle_days import DaySpec, write_day

import ltrr.bundle.publish as publish_module
from ltrr.bundle import BundleStore, PartialBundleError, publish_day
from ltrr.cli import main
from ltrr.config import Settings
from ltrr.serving import load_bundle

# Dies like a killed process (no cleanup, no finally blocks) at the moment of the commit rename.
KILLED_AT_RENAME = """
import os, sys
import ltrr.bundle.store as store
from ltrr.bundle import publish_day
from ltrr.config import load_settings
store._rename = lambda src, dst: os._exit(9)
publish_day(load_settings(), sys.argv[1])
"""


def test_killed_at_commit_leaves_no_visible_bundle_and_rerun_succeeds(
    mlflow_settings: Settings, client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = mlflow_settings
    write_day(settings.data_root, DaySpec("2026-01-07"))
    first = publish_day(settings, "2026-01-07")
    write_day(settings.data_root, DaySpec("2026-01-08", seed=1))

    env = {**os.environ, **settings.to_env()}
    proc = subprocess.run(
        [sys.executable, "-c", KILLED_AT_RENAME, "2026-01-08"], env=env, capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == 9, proc.stderr.decode()[-2000:]

    store = BundleStore(settings.bundle_store)
    root = Path(settings.bundle_store)
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".staging-")]
    assert len(leftovers) == 1  # the dead publish's staging folder: hidden, never listed
    assert store.versions() == [first.version]
    assert store.resolve("champion") == first.version
    assert load_bundle(settings.bundle_store, alias="champion").version == first.version
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    assert main(["bundle", "list"]) == 0
    listed = capsys.readouterr().out
    assert first.version in listed and "2026-01-08" not in listed and "staging" not in listed

    second = publish_day(settings, "2026-01-08")
    assert second.created and second.promoted
    assert store.versions() == sorted([first.version, second.version])
    assert not [p for p in root.iterdir() if p.name.startswith(".staging-")]
    assert load_bundle(second.url).version == second.version
    assert str(client.get_model_version_by_alias(settings.bundle_model_name, "champion").version) == (
        second.model_version
    )


def test_crash_after_commit_before_registry_is_finished_by_the_rerun(
    mlflow_settings: Settings, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = mlflow_settings
    write_day(settings.data_root, DaySpec("2026-01-07"))
    first = publish_day(settings, "2026-01-07")
    write_day(settings.data_root, DaySpec("2026-01-08", seed=1))

    def down(*args, **kwargs):
        raise ConnectionError("MLflow is down")

    with monkeypatch.context() as patch:
        patch.setattr(publish_module.registry, "register_bundle", down)
        with pytest.raises(ConnectionError):
            publish_day(settings, "2026-01-08")
    store = BundleStore(settings.bundle_store)
    assert len(store.versions()) == 2  # committed, complete, verifiable ...
    assert store.resolve("champion") == first.version  # ... but not promoted
    for version in store.versions():
        load_bundle(store.url_of(version))

    second = publish_day(settings, "2026-01-08")
    assert not second.created and second.promoted
    assert len(client.search_model_versions(f"name='{settings.bundle_model_name}'")) == 2


def test_interrupted_upload_to_an_object_store_is_invisible(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fsspec ``memory://``: no directory rename, so manifest.json is the commit marker."""
    from ltrr.bundle.assemble import assemble_day

    url = f"memory://ltrr-test-{uuid.uuid4().hex}"
    store = BundleStore(url)
    assert not store.local
    write_day(settings.data_root, DaySpec("2026-01-07"))

    def commit(fail_after: int | None) -> str:
        staging = store.new_staging()
        manifest = assemble_day(settings, "2026-01-07", staging)
        if fail_after is not None:
            real_put = store.fs.put_file
            calls = []

            def flaky(src, dst, **kwargs):
                calls.append(dst)
                if len(calls) > fail_after:
                    raise OSError("connection reset")
                return real_put(src, dst, **kwargs)

            monkeypatch.setattr(store.fs, "put_file", flaky)
            with pytest.raises(OSError):
                store.commit(staging, manifest)
            monkeypatch.undo()
        else:
            store.commit(staging, manifest)
        return manifest.bundle_version

    version = commit(fail_after=3)
    assert store.versions() == [] and store.partial() == [version]
    with pytest.raises(PartialBundleError):
        load_bundle(store.url_of(version))
    assert commit(fail_after=None) == version
    assert store.versions() == [version] and store.partial() == []
    bundle = load_bundle(store.url_of(version), cache_dir=settings.state_dir / "cache")
    assert bundle.root == settings.state_dir / "cache" / version
    assert bundle.q2e_serving().num_rows == 40
    store.fs.rm(store.root, recursive=True)
