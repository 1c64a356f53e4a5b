"""Readable text for the ``ltrr bundle`` commands: tables, a bundle's summary, a diff of two."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ltrr.bundle.manifest import Manifest
from ltrr.bundle.registry import flatten
from ltrr.bundle.store import StoreState


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: left-aligned columns, a dashed rule under the header.

    Args:
        headers: column titles.
        rows: cells (anything ``str()`` can print; None prints as ``-``).

    Returns:
        The table, one line per row, without a trailing newline.
    """
    cells = [[("-" if c is None else str(c)) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in cells)])


def human_size(size: int) -> str:
    """Bytes as ``512 B``, ``3.4 kB``, ``10.7 MB``, ``1.2 GB`` (powers of 1000)."""
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


def gates(manifest: Manifest) -> str:
    """``passed`` or ``failed (n)`` with the number of reasons."""
    return "passed" if manifest.promotion.eligible else f"failed ({len(manifest.promotion.reasons)})"


def list_table(manifests: Sequence[Manifest], state: StoreState) -> str:
    """The ``ltrr bundle list`` table, newest day first."""
    rows = []
    for m in sorted(manifests, key=lambda m: (m.ds, m.created_at), reverse=True):
        entry = state.entry(m.bundle_version) or {}
        artifacts = ",".join(n for n, a in m.artifacts.items() if a.status == "present")
        rows.append(
            [
                m.bundle_version,
                m.ds,
                artifacts,
                len(m.files),
                human_size(m.total_size),
                gates(m),
                entry.get("model_version"),
                ", ".join(state.aliases_of(m.bundle_version)),
            ]
        )
    return table(["VERSION", "DS", "ARTIFACTS", "FILES", "SIZE", "GATES", "MLFLOW", "ALIASES"], rows)


def show_text(manifest: Manifest, aliases: Sequence[str], url: str) -> str:
    """The ``ltrr bundle show`` text: identity, artifacts and gates, inputs, metrics."""
    m = manifest
    code = m.code_version.get("git") or m.code_version.get("package")
    head = [
        f"bundle          {m.bundle_version}" + (f"  ({', '.join(aliases)})" if aliases else ""),
        f"location        {url}",
        f"day             {m.ds}   data interval {m.data_interval['start']} .. {m.data_interval['end']}",
        f"content hash    {m.content_hash}",
        f"format          {m.format_version}   code {code}   created {m.created_at}",
        f"files           {len(m.files)} ({human_size(m.total_size)})",
        "champion gate   " + ("passed" if m.promotion.eligible else "failed: " + "; ".join(m.promotion.reasons)),
    ]
    artifacts = table(
        ["ARTIFACT", "STATUS", "GATE", "REASONS"],
        [[n, a.status, a.gate, "; ".join(a.reasons)] for n, a in m.artifacts.items()],
    )
    inputs_status = m.validation.get("inputs", {}).get("status")
    by_table: dict[str, list[int]] = {}
    for entry in m.inputs:
        days_rows = by_table.setdefault(entry.table, [0, 0])
        days_rows[0] += 1
        days_rows[1] += entry.rows or 0
    inputs = table(["INPUT", "DAYS", "ROWS"], [[t, d, f"{r:,}"] for t, (d, r) in sorted(by_table.items())])
    metrics = table(["METRIC", "VALUE"], [[k, _num(v)] for k, v in sorted(numeric_metrics(m).items())])
    return "\n\n".join(
        ["\n".join(head), artifacts, f"input validation: {inputs_status}\n{inputs}", f"metrics\n{metrics}"]
    )


def numeric_metrics(manifest: Manifest) -> dict[str, float]:
    """Every number in the manifest's metrics, under dotted names (booleans as 0/1)."""
    return {k: float(v) for k, v in flatten(manifest.metrics).items() if isinstance(v, int | float)}


def _num(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if float(value).is_integer() and abs(value) >= 1000 else f"{value:.6g}"


@dataclass(frozen=True)
class BundleDiff:
    """What changed from bundle A to bundle B.

    Attributes:
        metrics: ``(name, a, b)`` for every metric that differs (None where absent).
        parameters: ``(name, a, b)`` for every parameter that differs.
        added: files only in B.
        removed: files only in A.
        changed: files in both whose content differs.
    """

    metrics: list[tuple[str, float | None, float | None]]
    parameters: list[tuple[str, Any, Any]]
    added: list[str]
    removed: list[str]
    changed: list[str]


def diff(a: Manifest, b: Manifest) -> BundleDiff:
    """Compare two manifests (no file is read: the manifests hold the digests).

    Files whose bytes differ only in GX timestamps (same content digest) count as unchanged.
    """
    ma, mb = numeric_metrics(a), numeric_metrics(b)
    metrics = [(k, ma.get(k), mb.get(k)) for k in sorted(set(ma) | set(mb)) if ma.get(k) != mb.get(k)]
    pa, pb = flatten(a.parameters), flatten(b.parameters)
    parameters = [(k, pa.get(k), pb.get(k)) for k in sorted(set(pa) | set(pb)) if pa.get(k) != pb.get(k)]
    fa = {f.path: f.content_digest for f in a.files}
    fb = {f.path: f.content_digest for f in b.files}
    return BundleDiff(
        metrics=metrics,
        parameters=parameters,
        added=sorted(set(fb) - set(fa)),
        removed=sorted(set(fa) - set(fb)),
        changed=sorted(p for p in set(fa) & set(fb) if fa[p] != fb[p]),
    )


def diff_text(a: Manifest, b: Manifest) -> str:
    """The ``ltrr bundle diff A B`` text."""
    d = diff(a, b)
    parts = [f"diff {a.bundle_version} ({a.ds}) -> {b.bundle_version} ({b.ds})"]
    if d.metrics:
        rows = [[k, _num(x), _num(y), _num(y - x) if x is not None and y is not None else "-"] for k, x, y in d.metrics]
        parts.append(f"metrics ({len(d.metrics)} changed)\n" + table(["METRIC", "A", "B", "B - A"], rows))
    else:
        parts.append("metrics: no change")
    if d.parameters:
        parts.append(
            f"parameters ({len(d.parameters)} changed)\n"
            + table(["PARAMETER", "A", "B"], [[k, x, y] for k, x, y in d.parameters])
        )
    else:
        parts.append("parameters: no change")
    files = [["added", p] for p in d.added] + [["removed", p] for p in d.removed] + [["changed", p] for p in d.changed]
    if files:
        counts = f"{len(d.added)} added, {len(d.removed)} removed, {len(d.changed)} changed"
        parts.append(f"files ({counts})\n" + table(["CHANGE", "FILE"], files))
    else:
        parts.append("files: no change")
    return "\n\n".join(parts)
