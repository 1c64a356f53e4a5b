"""MLflow side of publishing: one run per bundle, a registered model version, aliases.

Every published bundle gets one MLflow run (experiment ``Settings.bundle_experiment``) with
its parameters, metrics, tags (version, day, content hash, promotion decision and reasons)
and ``manifest.json`` as an artifact, and one version of the registered model
``Settings.bundle_model_name`` whose ``source`` is the bundle's URL in the store. The aliases
``candidate`` and ``champion`` point at those versions. Registration is idempotent: a
version tagged with the same ``ltrr.bundle_version`` is reused, so a re-run registers once.

MLflow is imported inside the functions (it takes seconds to import).
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ltrr.bundle.manifest import Manifest
from ltrr.config import Settings

TAG = "ltrr.bundle_version"
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 5000
_KEY = re.compile(r"[^A-Za-z0-9_\-. /]")


@dataclass(frozen=True)
class Registration:
    """Where a bundle is registered.

    Attributes:
        model_name: the registered model.
        model_version: its version number (a string, as MLflow returns it).
        run_id: the run that recorded the publish.
        created: False when an earlier publish of the same bundle had registered it.
    """

    model_name: str
    model_version: str
    run_id: str
    created: bool


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts into dotted keys (``{"q2e": {"rows": {"pairs": 3}}}`` -> ``q2e.rows.pairs``)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, inner in value.items():
            out.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    else:
        out[prefix] = value
    return out


def _key(key: str) -> str:
    return _KEY.sub("_", key)[:250]


def mlflow_params(manifest: Manifest) -> dict[str, str]:
    """The run's parameters: the artifacts' parameters, flattened, as strings."""
    params = {}
    for key, value in flatten(manifest.parameters).items():
        text = value if isinstance(value, str) else json.dumps(value)
        params[_key(key)] = text[:MAX_PARAM_VALUE]
    return params


def mlflow_metrics(manifest: Manifest) -> dict[str, float]:
    """The run's metrics: every number of the artifacts' metrics (booleans as 0/1), flattened."""
    metrics = {}
    for key, value in flatten(manifest.metrics).items():
        if isinstance(value, int | float):  # bool is an int: recorded as 0/1
            metrics[_key(key)] = float(value)
    return metrics


def _client(settings: Settings) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=settings.mlflow_uri, registry_uri=settings.mlflow_uri)


def _experiment_id(client: Any, settings: Settings) -> str:
    from mlflow.exceptions import MlflowException

    experiment = client.get_experiment_by_name(settings.bundle_experiment)
    if experiment is not None:
        return experiment.experiment_id
    # With a local sqlite backend, keep run artifacts under state_dir (not ./mlruns).
    location = (settings.state_dir / "mlflow-artifacts").as_uri() if settings.mlflow_uri.startswith("sqlite:") else None
    try:
        return client.create_experiment(settings.bundle_experiment, artifact_location=location)
    except MlflowException:  # created concurrently
        return client.get_experiment_by_name(settings.bundle_experiment).experiment_id


def _ensure_model(client: Any, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        try:
            client.create_registered_model(name, description="ltrr nightly bundles (see docs/bundle.md)")
        except MlflowException:
            client.get_registered_model(name)


def find_model_version(settings: Settings, version: str, client: Any = None) -> Any | None:
    """The registered model version of bundle ``version``, or None."""
    client = client or _client(settings)
    found = client.search_model_versions(f"name='{settings.bundle_model_name}' and tags.`{TAG}`='{version}'")
    return max(found, key=lambda mv: int(mv.version)) if found else None


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def register_bundle(settings: Settings, manifest: Manifest, url: str) -> Registration:
    """Record a published bundle in MLflow (idempotent).

    Args:
        settings: run settings (``mlflow_uri``, ``bundle_experiment``, ``bundle_model_name``).
        manifest: the committed bundle's manifest.
        url: where the bundle lives (the model version's ``source``).

    Returns:
        The registration (``created`` False when it existed already).
    """
    from mlflow.entities import Metric, Param

    client = _client(settings)
    name = settings.bundle_model_name
    existing = find_model_version(settings, manifest.bundle_version, client)
    if existing is not None:
        return Registration(name, str(existing.version), existing.run_id or "", created=False)

    experiment_id = _experiment_id(client, settings)
    reasons = "; ".join(manifest.promotion.reasons) or "every gate passed"
    tags = {
        TAG: manifest.bundle_version,
        "ltrr.ds": manifest.ds,
        "ltrr.content_hash": manifest.content_hash,
        "ltrr.format_version": manifest.format_version,
        "ltrr.code_version": manifest.code_version.get("git") or manifest.code_version.get("package") or "",
        "ltrr.eligible_for_champion": str(manifest.promotion.eligible).lower(),
        "ltrr.promotion_reasons": reasons[:MAX_TAG_VALUE],
        "ltrr.store_url": url,
    }
    run = client.create_run(experiment_id, run_name=f"bundle {manifest.bundle_version}", tags=tags)
    run_id = run.info.run_id
    stamp = int(time.time() * 1000)
    params = [Param(k, v) for k, v in sorted(mlflow_params(manifest).items())]
    metrics = [Metric(k, v, stamp, 0) for k, v in sorted(mlflow_metrics(manifest).items())]
    for chunk in _chunks(params, 100):
        client.log_batch(run_id, params=chunk)
    for chunk in _chunks(metrics, 1000):
        client.log_batch(run_id, metrics=chunk)
    with tempfile.TemporaryDirectory(prefix="ltrr-manifest-") as tmp:
        path = Path(tmp) / "manifest.json"
        path.write_text(manifest.to_json())
        client.log_artifact(run_id, str(path))
    client.set_terminated(run_id, "FINISHED")

    _ensure_model(client, name)
    model_version = client.create_model_version(
        name,
        source=url,
        run_id=run_id,
        tags={k: v for k, v in tags.items() if k != "ltrr.store_url"},
        description=f"bundle {manifest.bundle_version} of {manifest.ds}: {reasons}"[:MAX_TAG_VALUE],
    )
    return Registration(name, str(model_version.version), run_id, created=True)


def set_alias(settings: Settings, alias: str, model_version: str) -> None:
    """Point ``alias`` of the registered bundle model at ``model_version``."""
    _client(settings).set_registered_model_alias(settings.bundle_model_name, alias, str(model_version))


def record_decision(settings: Settings, run_id: str, decision: str) -> None:
    """Tag the publish run with what happened to ``champion`` (and why)."""
    if run_id:
        _client(settings).set_tag(run_id, "ltrr.champion_decision", decision[:MAX_TAG_VALUE])


def mark_deleted(settings: Settings, model_version: str) -> None:
    """Tag a model version whose bundle retention removed from the store."""
    client = _client(settings)
    client.set_model_version_tag(settings.bundle_model_name, str(model_version), "ltrr.store", "deleted")


def aliases(settings: Settings) -> dict[str, str]:
    """The aliases of the registered bundle model (alias -> model version), empty if none."""
    from mlflow.exceptions import MlflowException

    try:
        model = _client(settings).get_registered_model(settings.bundle_model_name)
    except MlflowException:
        return {}
    return {alias: str(version) for alias, version in (model.aliases or {}).items()}
