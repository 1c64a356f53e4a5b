"""Collect every artifact of day D into a staging folder and describe it in a manifest.

Bundle layout (see docs/bundle.md)::

    manifest.json                 written last, by the store (the commit marker)
    q2e/ ...                      a copy of artifacts/q2e/ds=D/
    embeddings/ ...               a copy of artifacts/embeddings/ds=D/ (when built)
    validation/inputs/            the day's input validation: report.json, gx/, data_docs/
    validation/<kind>_rejected.json   the record of an artifact its own gate refused
    report.html                   the day's report, when it exists

Spark's bookkeeping files (``_SUCCESS``, ``.*.crc``) are left out, and Spark part files
lose the random id in their names (``part-00000-<uuid>-c000.zstd.parquet`` becomes
``part-00000-c000.zstd.parquet``), so the same data gives the same paths and content hash.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import re
from pathlib import Path
from typing import Any

from ltrr.bundle.errors import NothingToPublishError
from ltrr.bundle.hashing import content_hash, copy_and_hash, parquet_content_digest, volatile_json_digest
from ltrr.bundle.lineage import code_version, input_lineage
from ltrr.bundle.manifest import FORMAT_VERSION, FileEntry, Manifest, bundle_version, check_suffix
from ltrr.bundle.sources import ARTIFACT_KINDS, ArtifactFacts, ArtifactKind
from ltrr.config import Settings
from ltrr.zones import artifact_dir, parse_ds, validation_dir

ACCEPTED = "accepted"
"""``status`` of an accepted day in ``validation/ds=D/report.json`` (``ltrr.validate.report``)."""
INPUT_GX_VOLATILE = ("*.json",)
"""Files of ``validation/ds=D/gx/`` that are GX results (timestamps; see ``ltrr.bundle.hashing``)."""
REPORT_ARTIFACT = "report"
"""The day's HTML report is read from ``artifacts/report/ds=D/report.html`` when it exists."""
_SPARK_PART = re.compile(r"^(part-\d+)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(-c\d+)?(\..+)$")


def bundle_file_name(name: str) -> str:
    """The name a file gets in the bundle: Spark part files lose their random id.

    Args:
        name: a file name, e.g. ``part-00000-0552869e-fd0d-44b8-8cd3-d80d6f2c432a-c000.zstd.parquet``.

    Returns:
        E.g. ``part-00000-c000.zstd.parquet``; other names unchanged.
    """
    match = _SPARK_PART.match(name)
    return f"{match.group(1)}{match.group(2) or ''}{match.group(3)}" if match else name


def _skipped(rel: Path) -> bool:
    return any(part.startswith((".", "_")) or part.endswith(".crc") for part in rel.parts)


class _Collector:
    """Copies files into the staging folder and records their entries."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.files: dict[str, FileEntry] = {}

    def add_file(self, src: Path, dest: str, volatile: bool, rendering_of: Path | None = None) -> None:
        """Copy one file; ``rendering_of``: the GX result JSON an HTML page renders (hashed as it)."""
        check_suffix(dest)
        if dest in self.files:
            raise ValueError(f"two source files map to the same bundle path {dest!r} (from {src})")
        target = self.staging / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = copy_and_hash(src, target)
        if rendering_of is not None:
            content = volatile_json_digest(rendering_of)
        elif volatile:
            content = volatile_json_digest(target)
        elif dest.endswith(".parquet"):
            content = parquet_content_digest(target)
        else:
            content = None
        self.files[dest] = FileEntry(path=dest, sha256=digest, size=size, content_sha256=content)

    def add_tree(self, src: Path, dest: str, volatile: tuple[str, ...] = ()) -> None:
        for path in sorted(src.rglob("*")):
            rel = path.relative_to(src)
            if path.is_dir() or _skipped(rel):
                continue
            rel_posix = rel.as_posix()
            is_volatile = any(fnmatch.fnmatchcase(rel_posix, pattern) for pattern in volatile)
            renamed = "/".join([*rel.parts[:-1], bundle_file_name(rel.name)])
            # A Data Docs page beside a GX result (X.html next to X.json) renders that result.
            result = path.with_suffix(".json")
            rendering_of = (
                result
                if path.suffix == ".html"
                and result.is_file()
                and any(fnmatch.fnmatchcase(rel.with_suffix(".json").as_posix(), p) for p in volatile)
                else None
            )
            self.add_file(path, f"{dest}/{renamed}", is_volatile, rendering_of)


def _read_facts(kind: ArtifactKind, folder: Path) -> ArtifactFacts:
    try:
        return kind.read(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return ArtifactFacts(passed=False, reasons=[f"{kind.name}: cannot read its report: {exc}"])


def _input_validation(data_root: Path, ds: str) -> dict[str, Any]:
    path = validation_dir(data_root, ds) / "report.json"
    if not path.is_file():
        return {"status": "missing", "passed": False, "problems": [f"no input validation report ({path.name})"]}
    report = json.loads(path.read_text())
    status = report.get("status")
    return {
        "status": status,
        "passed": status == ACCEPTED,
        "problems": list(report.get("problems") or []),
        "gx_ran": report.get("gx_ran"),
    }


def assemble_day(
    settings: Settings,
    ds: str,
    staging: Path,
    *,
    kinds: tuple[ArtifactKind, ...] = ARTIFACT_KINDS,
    created_at: str | None = None,
) -> Manifest:
    """Copy the day's artifacts into ``staging`` and build the manifest describing them.

    Args:
        settings: run settings (``data_root``).
        ds: the day.
        staging: an empty folder to fill (the store moves it into place).
        kinds: the artifact kinds to collect (default: every known kind).
        created_at: ISO timestamp to record (default: now, UTC); not part of the content hash.

    Returns:
        The manifest (``manifest.json`` is not written: the store writes it last).

    Raises:
        NothingToPublishError: when no artifact of the day is present.
        ValueError: when an artifact holds a file type a bundle may not carry.
    """
    parse_ds(ds)
    root = settings.data_root
    sources = {kind.name: kind.source_dir(root, ds) for kind in kinds}
    present = [kind for kind in kinds if (sources[kind.name] / kind.marker).is_file()]
    if not present:
        details = "; ".join(
            f"{kind.name}: {'rejected' if kind.rejection_file(root, ds).is_file() else 'missing'}" for kind in kinds
        )
        raise NothingToPublishError(f"nothing to publish for {ds}: no artifact was built ({details})")

    collector = _Collector(staging)
    artifacts: dict[str, dict[str, Any]] = {}
    parameters: dict[str, Any] = {}
    metrics: dict[str, Any] = {}
    validation: dict[str, Any] = {}
    windows = []
    for kind in kinds:
        source = sources[kind.name]
        rejection = kind.rejection_file(root, ds)
        if kind in present:
            facts = _read_facts(kind, source)
            collector.add_tree(source, kind.name, kind.volatile)
            entry = {
                "status": "present",
                "gate": "passed" if facts.passed else "failed",
                "reasons": facts.reasons,
                "path": kind.name,
                "source": source.relative_to(root).as_posix(),
                "window": facts.window,
                "indexes": {
                    name: {**index, "path": f"{kind.name}/{index['path']}"} for name, index in facts.indexes.items()
                },
            }
            parameters[kind.name] = facts.parameters
            metrics[kind.name] = facts.metrics
            if facts.window:
                windows.append(facts.window)
        elif rejection.is_file():
            collector.add_file(rejection, f"validation/{rejection.name}", volatile=True)
            entry = {
                "status": "rejected",
                "gate": "failed",
                "reasons": [f"{kind.name}: rejected by its own validation (validation/{rejection.name})"],
            }
        else:
            entry = {
                "status": "missing",
                "gate": "missing",
                "reasons": [f"{kind.name}: no artifact for {ds} ({source.relative_to(root).as_posix()})"],
            }
        artifacts[kind.name] = entry
        validation[kind.name] = {"gate": entry["gate"], "reasons": entry["reasons"]}

    inputs_validation = _input_validation(root, ds)
    validation["inputs"] = inputs_validation
    input_dir = validation_dir(root, ds)
    if (input_dir / "report.json").is_file():
        collector.add_file(input_dir / "report.json", "validation/inputs/report.json", volatile=False)
        for sub in ("gx", "data_docs"):
            if (input_dir / sub).is_dir():
                volatile = INPUT_GX_VOLATILE if sub == "gx" else ()
                collector.add_tree(input_dir / sub, f"validation/inputs/{sub}", volatile)
    report_html = artifact_dir(root, ds, REPORT_ARTIFACT) / "report.html"
    if report_html.is_file():
        collector.add_file(report_html, "report.html", volatile=False)

    reasons = [] if inputs_validation["passed"] else [f"inputs: validation status {inputs_validation['status']}"]
    for kind in kinds:
        if artifacts[kind.name]["gate"] != "passed" and (kind.required or artifacts[kind.name]["status"] == "present"):
            reasons += artifacts[kind.name]["reasons"]

    interval = {
        "start": min([w["start"] for w in windows], default=ds),
        "end": max([w["end"] for w in windows], default=ds),
    }
    files = sorted(collector.files.values(), key=lambda f: f.path)
    digest = content_hash(
        format_version=FORMAT_VERSION,
        ds=ds,
        parameters=parameters,
        files=[(f.path, f.content_digest) for f in files],
    )
    return Manifest(
        format_version=FORMAT_VERSION,
        bundle_version=bundle_version(ds, digest),
        content_hash=digest,
        ds=ds,
        data_interval=interval,
        created_at=created_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        code_version=code_version(),
        inputs=input_lineage(root, interval["start"], interval["end"]),
        parameters=parameters,
        metrics=metrics,
        validation=validation,
        artifacts=artifacts,
        promotion={"eligible": not reasons, "reasons": reasons},
        files=files,
    )
