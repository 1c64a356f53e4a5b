"""The artifact kinds a bundle collects: where each lives and how to read its gates.

A kind is one entry of :data:`ARTIFACT_KINDS`: the folder name under
``<data_root>/artifacts/<name>/ds=D/``, the file whose presence marks a published
artifact, the rejection record a refused build leaves under ``validation/ds=D/``, which of
its files are GX results (timestamps, see ``ltrr.bundle.hashing``), and a ``read``
function that turns the artifact's own reports into gate outcome, parameters, metrics,
data window and Annoy indexes. The ranker and the policy plug in as entries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltrr.zones import artifact_dir, validation_dir


@dataclass(frozen=True)
class ArtifactFacts:
    """What an artifact's own files say about it.

    Attributes:
        passed: whether every gate of the artifact passed.
        reasons: why not (one line each), empty when it passed.
        parameters: the parameters it was built with.
        metrics: its figures (nested dicts of numbers).
        window: ``{"start", "end"}`` of the input days it read, or None.
        indexes: Annoy indexes, name -> ``{"path" (relative to the artifact), "dims", "metric"}``.
    """

    passed: bool
    reasons: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    window: dict[str, str] | None = None
    indexes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ArtifactKind:
    """One kind of artifact of the nightly pipeline.

    Attributes:
        name: folder under ``artifacts/`` and under the bundle.
        marker: file whose presence means the artifact was published.
        rejection: file name under ``validation/ds=D/`` a refused build leaves.
        volatile: glob patterns (relative to the artifact) of GX result JSON files.
        read: reads the artifact folder into :class:`ArtifactFacts`.
        required: whether a missing artifact blocks promotion to champion.
    """

    name: str
    marker: str
    rejection: str
    volatile: tuple[str, ...]
    read: Callable[[Path], ArtifactFacts]
    required: bool = True

    def source_dir(self, data_root: Path, ds: str) -> Path:
        """``<data_root>/artifacts/<name>/ds=D``."""
        return artifact_dir(data_root, ds, self.name)

    def rejection_file(self, data_root: Path, ds: str) -> Path:
        """``<data_root>/validation/ds=D/<rejection>``."""
        return validation_dir(data_root, ds) / self.rejection


def finite(value: Any) -> Any:
    """A JSON value with NaN and infinities replaced by None (manifests are strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def _json(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} does not hold a JSON object")
    return data


def _window(window: Any) -> dict[str, str] | None:
    if isinstance(window, dict) and "start" in window and "end" in window:
        return {"start": str(window["start"]), "end": str(window["end"])}
    return None


def read_q2e(folder: Path) -> ArtifactFacts:
    """Read the Q2E memory artifact (``report.json``, ``validation.json``).

    The gate is the table's GX suite: ``success`` in ``validation.json`` and in the report.
    """
    report = _json(folder / "report.json")
    reasons = []
    gx = _json(folder / "validation.json") if (folder / "validation.json").is_file() else None
    if gx is None:
        reasons.append("q2e: validation.json is missing")
    elif gx.get("success") is not True:
        reasons.append("q2e: GX suite of the memory table did not pass (validation.json)")
    if (report.get("validation") or {}).get("success") is not True:
        failed = (report.get("validation") or {}).get("failed") or []
        reasons.append("q2e: report says validation failed" + (f": {'; '.join(failed)}" if failed else ""))
    skip = {"params", "validation", "window", "ds"}
    return ArtifactFacts(
        passed=not reasons,
        reasons=reasons,
        parameters=finite(report.get("params", {})),
        metrics=finite({k: v for k, v in report.items() if k not in skip}),
        window=_window(report.get("window")),
    )


def read_retrieval(folder: Path) -> ArtifactFacts:
    """Read the retrieval artifact (``report.json``, ``validation.json``; ``ltrr.retrieval.day``).

    Gates: the counters' GX suite and the lexical exact-title recall (``passed`` in the report).
    """
    report = _json(folder / "report.json")
    reasons = []
    gx = _json(folder / "validation.json") if (folder / "validation.json").is_file() else None
    if gx is None or gx.get("success") is not True:
        reasons.append("retrieval: GX suite of the counters did not pass (validation.json)")
    if report.get("passed") is not True:
        reasons.append("retrieval: " + ("; ".join(report.get("reasons") or []) or "report says the gate did not pass"))
    for name in ("catalog.parquet", "counters.parquet", "lexical/lexical.json", "semantic"):
        if not (folder / name).exists():
            reasons.append(f"retrieval: {name} is missing")
    skip = {"params", "validation", "ds", "passed", "reasons"}
    return ArtifactFacts(
        passed=not reasons,
        reasons=reasons,
        parameters=finite(report.get("params", {})),
        metrics=finite({k: v for k, v in report.items() if k not in skip}),
    )


def read_embeddings(folder: Path) -> ArtifactFacts:
    """Read the embeddings artifact (``metrics.json``, ``validation.json``, ``items.ann``).

    Gates: the GX suites (``success`` in ``validation.json`` and ``metrics.json``) and the
    Annoy recall gate (``recall.passed``).
    """
    metrics = _json(folder / "metrics.json")
    reasons = []
    gx = _json(folder / "validation.json") if (folder / "validation.json").is_file() else None
    if gx is None:
        reasons.append("embeddings: validation.json is missing")
    elif gx.get("success") is not True:
        reasons.append("embeddings: GX suites did not pass (validation.json)")
    if (metrics.get("validation") or {}).get("success") is not True:
        reasons.append("embeddings: metrics.json says validation failed")
    recall = metrics.get("recall") or {}
    if recall.get("passed") is not True:
        reasons.append(
            f"embeddings: Annoy recall gate did not pass (recall {recall.get('recall')} < {recall.get('threshold')})"
        )
    indexes = {}
    index = metrics.get("index") or {}
    if (folder / "items.ann").is_file():
        if not isinstance(index.get("dims"), int):
            reasons.append("embeddings: metrics.json has no index.dims for items.ann")
        else:
            indexes["items"] = {"path": "items.ann", "dims": index["dims"], "metric": "angular"}
    skip = {"params", "validation", "ds"}
    return ArtifactFacts(
        passed=not reasons,
        reasons=reasons,
        parameters=finite(metrics.get("params", {})),
        metrics=finite({k: v for k, v in metrics.items() if k not in skip}),
        window=_window((metrics.get("interactions") or {}).get("window")),
        indexes=indexes,
    )


def read_ranker(folder: Path) -> ArtifactFacts:
    """Read the ranker artifact (``report.json``, ``metrics.json``, ``validation.json``).

    Gates: the NDCG@10 gate against the baselines and the metrics suite (``passed`` in the
    report), and score parity of the exported model on the golden set (at most 1e-9). A
    ``kept`` artifact carries the champion ranker forward after the day's model was refused:
    its files and gate figures are the champion's, and its metrics say it was kept and why.
    """
    report = _json(folder / "report.json")
    metrics = _json(folder / "metrics.json") if (folder / "metrics.json").is_file() else {}
    reasons = []
    if report.get("passed") is not True:
        reasons.append("ranker: " + ("; ".join(report.get("reasons") or []) or "report says the gate did not pass"))
    gx = _json(folder / "validation.json") if (folder / "validation.json").is_file() else None
    if gx is None or gx.get("success") is not True:
        reasons.append("ranker: GX suite of the metrics did not pass (validation.json)")
    parity = (metrics.get("export") or {}).get("parity_max_abs_diff")
    if not isinstance(parity, int | float) or parity > 1e-9:
        reasons.append(f"ranker: exported model parity {parity} is not within 1e-9")
    model = (metrics.get("models") or {}).get("model") or {}
    return ArtifactFacts(
        passed=not reasons,
        reasons=reasons,
        parameters=finite({"model": model.get("params", {}), "lightgbm": model.get("lightgbm_params", {})}),
        metrics=finite(
            {
                "outcome": report.get("outcome", "published"),
                "kept_from": report.get("kept_from"),
                "refused_because": (report.get("refused") or {}).get("reasons", []),
                "ndcg@10": report.get("ndcg@10"),
                "gate": report.get("gate"),
                "rows": report.get("rows"),
                "best_iteration": model.get("best_iteration"),
            }
        ),
        window=None,
    )


def read_policy(folder: Path) -> ArtifactFacts:
    """Read the policy artifact (``report.json``, ``validation.json``, ``policy.json``).

    Gates: the safe-improvement gate and the estimates suite (``passed`` in the report of a
    ``published`` policy). A ``kept`` artifact carries the earlier champion policy forward after
    today's policy was refused: it passes (the champion passed its own gate, recorded in
    ``champion_report.json``), and its metrics say it was kept and why.
    """
    report = _json(folder / "report.json")
    outcome = report.get("outcome")
    reasons = []
    if outcome == "published":
        if report.get("passed") is not True:
            reasons.append("policy: " + ("; ".join(report.get("reasons") or []) or "report says the gate did not pass"))
        gx = _json(folder / "validation.json") if (folder / "validation.json").is_file() else None
        if gx is None or gx.get("success") is not True:
            reasons.append("policy: GX suite of the estimates did not pass (validation.json)")
    elif outcome == "kept":
        if not (folder / "champion_report.json").is_file():
            reasons.append("policy: a kept policy has no champion_report.json")
    else:
        reasons.append(f"policy: unexpected outcome {outcome!r} for a published artifact")
    if not (folder / "policy.json").is_file() or not (folder / "model.txt").is_file():
        reasons.append("policy: policy.json or model.txt is missing")
    gate = report.get("gate") or {}
    return ArtifactFacts(
        passed=not reasons,
        reasons=reasons,
        parameters=finite(report.get("params", {})),
        metrics=finite(
            {
                "outcome": outcome,
                "kept_from": report.get("kept_from"),
                "refused_because": report.get("reasons") if outcome == "kept" else [],
                "dr": (gate.get("new") or {}).get("value"),
                "dr_ci_low": (gate.get("new") or {}).get("ci_low"),
                "dr_ci_high": (gate.get("new") or {}).get("ci_high"),
                "logged_value": (gate.get("champion") or {}).get("value"),
                "rows": report.get("rows"),
            }
        ),
        window=_window(report.get("window")),
    )


ARTIFACT_KINDS: tuple[ArtifactKind, ...] = (
    ArtifactKind("q2e", "report.json", "q2e_rejected.json", ("validation.json",), read_q2e),
    ArtifactKind("embeddings", "metrics.json", "embeddings_rejected.json", ("validation/*.json",), read_embeddings),
    ArtifactKind("retrieval", "report.json", "retrieval_rejected.json", ("validation.json",), read_retrieval),
    # Not required: while history is too short no ranker is fitted (recorded), and the bundle
    # ships without one; a refused model is replaced by the champion ranker (kept) or, before
    # any ranker passed, leaves the bundle without one, like the policy.
    ArtifactKind("ranker", "report.json", "ranker_rejected.json", ("validation.json",), read_ranker, required=False),
    # Not required: no policy exists until enough bandit rows accrue (skipped, recorded), and a
    # refused day-1 policy has no champion to keep; serving then keeps the day-0 logging policy.
    ArtifactKind("policy", "report.json", "policy_rejected.json", ("validation.json",), read_policy, required=False),
)
"""Every artifact kind a bundle collects, in bundle order."""
