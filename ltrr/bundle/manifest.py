"""``manifest.json``: what a bundle is, where it came from, and every file with its checksum.

The manifest is the bundle's table of contents and its commit marker (it is written last).
It is versioned by ``format_version`` (semver): readers accept any minor or patch of the
major they know and refuse a newer major with a message saying so. Paths are relative
POSIX paths inside the bundle; an absolute path or a ``..`` component is refused.

The manifest carries its own checksum (``manifest_sha256``, over its canonical JSON without
that field), so editing a value in it, not only in the files it lists, is detected.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ltrr.bundle.errors import BundleFormatError
from ltrr.bundle.hashing import canonical_json

FORMAT_VERSION = "1.0.0"
"""Format written by this code. Bump the minor for added fields, the major for breaking changes."""
MANIFEST = "manifest.json"
TANTIVY_SUFFIXES = frozenset({".fast", ".fieldnorm", ".idx", ".pos", ".store", ".term"})
"""Segment files of a tantivy index (``retrieval/lexical``)."""
ALLOWED_SUFFIXES = (
    frozenset({".json", ".parquet", ".ann", ".npy", ".txt", ".csv", ".md", ".html", ".css", ".js", ".png", ".svg"})
    | TANTIVY_SUFFIXES
)
"""Data-only file types a bundle may hold: no pickle, joblib, torch or other executable formats."""
_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}-[0-9a-f]{12}$")


def check_relative_path(path: str) -> str:
    """Refuse any path that could leave the bundle directory or is not a plain relative path.

    Args:
        path: a path from a manifest.

    Returns:
        The path, unchanged.

    Raises:
        ValueError: absolute, ``..`` or ``.`` components, backslashes, empty parts, or the
            manifest's own name.
    """
    if not isinstance(path, str) or not path:
        raise ValueError(f"unsafe path {path!r}: expected a non-empty relative path")
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path) or "\\" in path or "\x00" in path:
        raise ValueError(f"unsafe path {path!r}: absolute paths are not allowed in a bundle")
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"unsafe path {path!r}: '..', '.' and empty components could escape the bundle directory")
    if path == MANIFEST:
        raise ValueError(f"unsafe path {path!r}: the manifest cannot list itself")
    return path


def check_suffix(path: str) -> str:
    """Refuse file types that are not plain data (see ``ALLOWED_SUFFIXES``)."""
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValueError(
            f"file type {suffix or '(none)'!r} of {path!r} is not allowed in a bundle "
            f"(data only: {', '.join(sorted(ALLOWED_SUFFIXES))})"
        )
    return path


def bundle_version(ds: str, content: str) -> str:
    """The version name of a bundle: its day plus 12 hex digits of its content hash.

    Args:
        ds: the day, ``YYYY-MM-DD``.
        content: the content hash, ``sha256:<hex>``.

    Returns:
        E.g. ``2026-01-07-3f9a1c2b7d4e``: sorts by day, and the same content gives the same name.
    """
    return f"{ds}-{content.removeprefix('sha256:')[:12]}"


def is_version_name(name: str) -> bool:
    """Whether ``name`` looks like a bundle version (``YYYY-MM-DD-<12 hex>``)."""
    return bool(_VERSION.match(name))


class _Model(BaseModel):
    # Unknown fields are kept out (forward compatible within a major), values are frozen.
    model_config = ConfigDict(frozen=True, extra="ignore")


class FileEntry(_Model):
    """One file of the bundle."""

    path: str
    sha256: str
    size: int = Field(ge=0)
    content_sha256: str | None = None
    """Digest used by the content hash when it differs from ``sha256`` (GX results, Parquet files)."""

    @field_validator("path")
    @classmethod
    def _safe(cls, value: str) -> str:
        return check_suffix(check_relative_path(value))

    @field_validator("sha256", "content_sha256")
    @classmethod
    def _hex(cls, value: str | None) -> str | None:
        if value is not None and not _HEX64.match(value):
            raise ValueError(f"expected 64 lowercase hex digits, got {value!r}")
        return value

    @property
    def content_digest(self) -> str:
        """The digest that enters the content hash."""
        return self.content_sha256 or self.sha256


class IndexEntry(_Model):
    """An Annoy index of an artifact: where it is and how to open it."""

    path: str
    dims: int = Field(ge=1)
    metric: Literal["angular", "euclidean", "manhattan", "hamming", "dot"]

    @field_validator("path")
    @classmethod
    def _safe(cls, value: str) -> str:
        return check_relative_path(value)


class ArtifactEntry(_Model):
    """One artifact kind of the day and the outcome of its gates.

    ``status`` is ``present`` (in the bundle), ``missing`` (never built) or ``rejected``
    (built, refused by its own validation, not published). ``gate`` is ``passed`` only
    when the artifact is present and every check of it passed.
    """

    status: Literal["present", "missing", "rejected"]
    gate: Literal["passed", "failed", "missing"]
    reasons: list[str] = []
    path: str | None = None
    source: str | None = None
    window: dict[str, Any] | None = None
    indexes: dict[str, IndexEntry] = {}

    @field_validator("path")
    @classmethod
    def _safe(cls, value: str | None) -> str | None:
        return None if value is None else check_relative_path(value)


class InputEntry(_Model):
    """One clean input partition the bundle was built from."""

    table: str
    ds: str
    path: str
    rows: int | None
    files: int
    content_hash: str
    """sha256 over the sorted sha256 of the partition's Parquet files (names do not matter)."""


class Promotion(_Model):
    """Whether the bundle may become ``champion``, and why not."""

    eligible: bool
    reasons: list[str] = []


class Manifest(_Model):
    """The content of ``manifest.json`` (see docs/bundle.md for every field)."""

    format_version: str
    bundle_version: str
    content_hash: str
    ds: str
    data_interval: dict[str, str]
    created_at: str
    code_version: dict[str, str | None]
    inputs: list[InputEntry]
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    validation: dict[str, Any]
    artifacts: dict[str, ArtifactEntry]
    promotion: Promotion
    files: list[FileEntry]
    manifest_sha256: str | None = None

    @field_validator("files")
    @classmethod
    def _unique(cls, value: list[FileEntry]) -> list[FileEntry]:
        seen: set[str] = set()
        for entry in value:
            if entry.path in seen:
                raise ValueError(f"path {entry.path!r} is listed twice")
            seen.add(entry.path)
        return value

    @property
    def total_size(self) -> int:
        """Bytes of every listed file."""
        return sum(f.size for f in self.files)

    def body(self) -> dict[str, Any]:
        """The JSON-ready manifest without its own checksum."""
        return self.model_dump(mode="json", exclude={"manifest_sha256"})

    def self_digest(self) -> str:
        """sha256 of the canonical JSON of :meth:`body`."""
        return hashlib.sha256(canonical_json(self.body())).hexdigest()

    def to_json(self) -> str:
        """The text of ``manifest.json``: sorted keys, indented, with ``manifest_sha256`` set."""
        data = self.body()
        data["manifest_sha256"] = self.self_digest()
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def parse_format_version(value: Any) -> tuple[int, int, int]:
    """Parse ``MAJOR.MINOR.PATCH``.

    Raises:
        BundleFormatError: when the value is not a semver string.
    """
    match = _SEMVER.match(value) if isinstance(value, str) else None
    if not match:
        raise BundleFormatError(f"unknown bundle format version {value!r} (expected MAJOR.MINOR.PATCH)")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def check_format(value: Any) -> None:
    """Accept any format of the major this code reads; refuse a newer (or older) major.

    Raises:
        BundleFormatError: with a message naming both versions.
    """
    major, _, _ = parse_format_version(value)
    supported = parse_format_version(FORMAT_VERSION)[0]
    if major > supported:
        raise BundleFormatError(
            f"bundle format {value} is newer than this ltrr reads (format {supported}.x): upgrade ltrr to load it"
        )
    if major < supported:
        raise BundleFormatError(f"bundle format {value} is older than this ltrr reads (format {supported}.x)")


def parse_manifest(text: str | bytes, where: str = "manifest.json") -> Manifest:
    """Parse and check a manifest.

    Args:
        text: the content of ``manifest.json``.
        where: what to call it in error messages (the bundle's location).

    Returns:
        The manifest.

    Raises:
        BundleFormatError: not JSON, a newer or unknown format, a missing or mistyped field,
            an unsafe path, or a ``manifest_sha256`` that does not match its content.
    """
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleFormatError(f"{where}: manifest.json is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BundleFormatError(f"{where}: manifest.json must hold a JSON object")
    if "format_version" not in data:
        raise BundleFormatError(f"{where}: manifest.json has no format_version (not an ltrr bundle?)")
    try:
        check_format(data["format_version"])
    except BundleFormatError as exc:
        raise BundleFormatError(f"{where}: {exc}") from None
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise BundleFormatError(f"{where}: invalid manifest: {'; '.join(problems[:5])}") from None
    # Digest of the text as written (unknown fields of a newer minor format included).
    body = {k: v for k, v in data.items() if k != "manifest_sha256"}
    if manifest.manifest_sha256 != hashlib.sha256(canonical_json(body)).hexdigest():
        raise BundleFormatError(
            f"{where}: manifest.json was modified after publishing (manifest_sha256 does not match its content)"
        )
    return manifest
