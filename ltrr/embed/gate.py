"""The nightly DAG's ``embeddings_gate``: fail the run when the day's embeddings were rejected."""

from __future__ import annotations

import json

from ltrr.config import Settings
from ltrr.embed.artifact import ARTIFACT
from ltrr.orchestration.checks import DayRejected
from ltrr.zones import artifact_dir, validation_dir


def require_published_embeddings(settings: Settings, ds: str) -> dict:
    """Check that the day's embeddings were published, and fail when a gate rejected them.

    Args:
        settings: run settings (``data_root``).
        ds: the day.

    Returns:
        Sizes, the recall figures and the next-day hit rates of the artifact's metrics.

    Raises:
        DayRejected: when the recall gate or a GX suite rejected the build (the message names it).
        FileNotFoundError: when no artifact exists for the day.
    """
    rejected = validation_dir(settings.data_root, ds) / "embeddings_rejected.json"
    if rejected.is_file():
        detail = json.loads(rejected.read_text())
        if detail.get("reason") == "recall":
            r = detail["recall"]
            raise DayRejected(
                f"embeddings of {ds}: recall@{r['k']} {r['recall']:.4f} below the threshold {r['threshold']} "
                f"at search_k {r['search_k']} (see {rejected})"
            )
        failed = [f"{t}: {line}" for t, res in detail.get("validation", {}).items() for line in res.get("failed", [])]
        raise DayRejected(f"embeddings of {ds} failed validation: {'; '.join(failed)} (see {rejected})")
    metrics_path = artifact_dir(settings.data_root, ds, ARTIFACT) / "metrics.json"
    if not metrics_path.is_file():
        raise FileNotFoundError(f"no embeddings artifact for {ds} at {metrics_path.parent}; did train_embeddings run?")
    metrics = json.loads(metrics_path.read_text())
    return {
        "rows": metrics["rows"],
        "recall": metrics["recall"],
        "previous_model_on_this_day": metrics.get("previous_model_on_this_day"),
    }
