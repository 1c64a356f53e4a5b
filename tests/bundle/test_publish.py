"""Publishing with a real MLflow (sqlite): round trip, gates, promotion, rollback, retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bundle_days import DIMS, DaySpec, write_day

from ltrr.bundle import BundleStore, NothingToPublishError, PromotionError, promote, publish_day, rollback
from ltrr.config import Settings
from ltrr.serving import load_bundle

REPO = Path(__file__).resolve().parents[2]


def _alias(client, settings: Settings, alias: str) -> str:
    return str(client.get_model_version_by_alias(settings.bundle_model_name, alias).version)


def test_publish_then_load_round_trip(mlflow_settings: Settings, client) -> None:
    settings = mlflow_settings
    written = write_day(settings.data_root, DaySpec("2026-01-07", seed=3))
    result = publish_day(settings, "2026-01-07")

    assert result.created and result.eligible and result.promoted
    assert result.version.startswith("2026-01-07-") and len(result.version) == len("2026-01-07-") + 12
    assert result.champion == result.version and result.deleted == []

    bundle = load_bundle(result.url)
    manifest = bundle.manifest
    assert bundle.version == result.version and bundle.ds == "2026-01-07"
    assert manifest.content_hash == result.content_hash
    assert set(bundle.artifacts) == {"q2e", "embeddings", "retrieval"}
    # The serving table round-trips row for row.
    served = bundle.q2e_serving().to_pylist()
    assert [(r["query_key"], r["entity_ids"], r["scores"]) for r in served] == written["q2e_rows"]
    # The Annoy index is the one the job built: same vectors, same neighbours as the source index.
    from annoy import AnnoyIndex

    index = bundle.annoy("items")
    assert index.get_n_items() == len(written["vectors"])
    source = AnnoyIndex(DIMS, "angular")
    source.load(str(settings.data_root / "artifacts/embeddings/ds=2026-01-07/items.ann"))
    assert index.get_nns_by_item(3, 5) == source.get_nns_by_item(3, 5)
    assert index.get_item_vector(4) == pytest.approx(written["vectors"][4].tolist(), rel=1e-6)
    # Spark bookkeeping files are left out, part files lose their random id.
    paths = [f.path for f in manifest.files]
    assert "q2e/serving/part-00000-c000.zstd.parquet" in paths
    assert not any("_SUCCESS" in p or p.endswith(".crc") for p in paths)
    assert "validation/inputs/report.json" in paths and "validation/inputs/gx/searches.json" in paths
    # Lineage: row counts from the validation report, one entry per clean partition.
    rows = {(e.table, e.ds): e.rows for e in manifest.inputs}
    assert rows == {(t, "2026-01-07"): n for t, n in written["counts"].items()}
    assert manifest.data_interval == {"start": "2025-12-20", "end": "2026-01-07"}
    assert manifest.code_version["package"]

    # MLflow: one run with parameters, metrics and the manifest; a model version; both aliases.
    assert _alias(client, settings, "candidate") == _alias(client, settings, "champion") == result.model_version
    version = client.get_model_version(settings.bundle_model_name, result.model_version)
    assert version.source == result.url and version.tags["ltrr.bundle_version"] == result.version
    run = client.get_run(result.run_id)
    assert run.data.params["q2e.top_n"] == "50"
    assert run.data.metrics["q2e.rows.queries"] == 40.0
    assert run.data.tags["ltrr.champion_decision"].startswith("champion moved to")
    assert [a.path for a in client.list_artifacts(result.run_id)] == ["manifest.json"]


def test_republishing_the_same_day_is_idempotent(mlflow_settings: Settings, client) -> None:
    write_day(mlflow_settings.data_root, DaySpec("2026-01-07"))
    first = publish_day(mlflow_settings, "2026-01-07")
    second = publish_day(mlflow_settings, "2026-01-07")
    assert second.version == first.version and not second.created
    assert second.model_version == first.model_version
    assert len(client.search_model_versions(f"name='{mlflow_settings.bundle_model_name}'")) == 1
    assert BundleStore(mlflow_settings.bundle_store).versions() == [first.version]
    # A damaged copy of the same version is replaced by the re-run, not registered as is.
    damaged = Path(first.url) / "q2e" / "report.json"
    damaged.write_text("{}")
    third = publish_day(mlflow_settings, "2026-01-07")
    assert third.created and third.version == first.version
    assert load_bundle(third.url).version == first.version


def test_failed_gate_publishes_a_candidate_and_keeps_the_champion(mlflow_settings: Settings, client) -> None:
    settings = mlflow_settings
    write_day(settings.data_root, DaySpec("2026-01-07"))
    good = publish_day(settings, "2026-01-07")
    write_day(settings.data_root, DaySpec("2026-01-08", seed=1, q2e="failed"))
    bad = publish_day(settings, "2026-01-08")

    assert not bad.eligible and not bad.promoted
    assert bad.champion == good.version
    assert any("q2e" in r and "did not pass" in r for r in bad.reasons)
    assert bad.decision.startswith(f"champion stays {good.version}")
    assert _alias(client, settings, "champion") == good.model_version
    assert _alias(client, settings, "candidate") == bad.model_version
    # The reason is recorded in the manifest and in the run.
    manifest = load_bundle(bad.url).manifest
    assert manifest.promotion.eligible is False and manifest.promotion.reasons == bad.reasons
    assert manifest.artifacts["q2e"].gate == "failed"
    tags = client.get_run(bad.run_id).data.tags
    assert "q2e" in tags["ltrr.promotion_reasons"] and tags["ltrr.eligible_for_champion"] == "false"
    assert tags["ltrr.champion_decision"].startswith("champion stays")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (DaySpec("2026-01-08", embeddings="missing"), "embeddings: no artifact for 2026-01-08"),
        (DaySpec("2026-01-08", embeddings="failed"), "embeddings: Annoy recall gate did not pass"),
        (DaySpec("2026-01-08", q2e="rejected"), "q2e: rejected by its own validation"),
        (DaySpec("2026-01-08", inputs="rejected"), "inputs: validation status rejected"),
    ],
)
def test_every_gate_blocks_promotion(settings: Settings, spec: DaySpec, expected: str) -> None:
    from ltrr.bundle.assemble import assemble_day

    write_day(settings.data_root, spec)
    manifest = assemble_day(settings, spec.ds, BundleStore(settings.bundle_store).new_staging())
    assert not manifest.promotion.eligible
    assert any(r.startswith(expected) for r in manifest.promotion.reasons), manifest.promotion.reasons


def test_nothing_to_publish_is_a_clear_error(settings: Settings) -> None:
    write_day(settings.data_root, DaySpec("2026-01-08", q2e="rejected", embeddings="missing", retrieval="missing"))
    with pytest.raises(NothingToPublishError, match=r"nothing to publish for 2026-01-08.*q2e: rejected"):
        publish_day(settings, "2026-01-08")
    env = {**os.environ, **settings.to_env()}
    proc = subprocess.run(
        [sys.executable, str(REPO / "jobs" / "publish_bundle.py"), "--ds", "2026-01-08"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert "nothing to publish for 2026-01-08" in proc.stderr
    assert BundleStore(settings.bundle_store).versions() == []


def test_rollback_and_promote(mlflow_settings: Settings, client) -> None:
    settings = mlflow_settings
    versions = []
    for i, ds in enumerate(("2026-01-07", "2026-01-08")):
        write_day(settings.data_root, DaySpec(ds, seed=i))
        versions.append(publish_day(settings, ds))
    first, second = versions
    assert _alias(client, settings, "champion") == second.model_version

    message = rollback(settings)
    assert f"from {second.version} to {first.version}" in message
    assert _alias(client, settings, "champion") == first.model_version
    assert BundleStore(settings.bundle_store).resolve("champion") == first.version
    assert load_bundle(settings.bundle_store, alias="champion").version == first.version
    with pytest.raises(PromotionError, match="no previous champion"):
        rollback(settings)

    promote(settings, second.version)
    assert _alias(client, settings, "champion") == second.model_version

    write_day(settings.data_root, DaySpec("2026-01-09", seed=2, embeddings="failed"))
    failed = publish_day(settings, "2026-01-09")
    with pytest.raises(PromotionError, match="did not pass every gate"):
        promote(settings, failed.version)
    assert _alias(client, settings, "champion") == second.model_version
    promote(settings, failed.version, force=True)
    assert _alias(client, settings, "champion") == failed.model_version
    state = json.loads((Path(settings.bundle_store) / "_state.json").read_text())
    assert state["champions"] == [first.version, second.version, failed.version]
    assert [e["action"] for e in state["events"]].count("rollback") == 1


def test_backfill_of_an_older_day_does_not_replace_a_newer_champion(mlflow_settings: Settings) -> None:
    write_day(mlflow_settings.data_root, DaySpec("2026-01-09"))
    newer = publish_day(mlflow_settings, "2026-01-09")
    write_day(mlflow_settings.data_root, DaySpec("2026-01-05", seed=4))
    older = publish_day(mlflow_settings, "2026-01-05")
    assert older.eligible and not older.promoted
    assert older.champion == newer.version and "later day" in older.decision


def test_retention_keeps_the_last_n_and_never_the_champion(mlflow_settings: Settings, client) -> None:
    settings = mlflow_settings.model_copy(update={"bundle_keep": 2})
    champion = None
    published = []
    for i, ds in enumerate(("2026-01-07", "2026-01-08", "2026-01-09", "2026-01-10")):
        write_day(settings.data_root, DaySpec(ds, seed=i, q2e="passed" if i == 0 else "failed"))
        result = publish_day(settings, ds)
        published.append(result)
        champion = champion or result.version
    store = BundleStore(settings.bundle_store)
    # Last two kept, plus the champion (the first day: every later day failed a gate).
    assert store.versions() == sorted([champion, published[2].version, published[3].version])
    # Day 3 keeps days 2 and 3 plus the champion (day 1); day 4 pushes day 2 out.
    assert [r.deleted for r in published] == [[], [], [], [published[1].version]]
    assert store.resolve("champion") == champion
    load_bundle(store.url_of(champion))
    deleted = client.get_model_version(settings.bundle_model_name, published[1].model_version)
    assert deleted.tags["ltrr.store"] == "deleted"
