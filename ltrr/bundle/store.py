"""The bundle store: a local folder by default, any fsspec URL (``s3://...``) the same way.

Layout::

    <store>/<version>/manifest.json ...   committed bundles (``YYYY-MM-DD-<12 hex>``)
    <store>/_state.json                   publish order, champion history, candidate, events
    <store>/.staging-<uuid>/              a bundle being written (local stores; never listed)
    <store>/.lock                         serializes publishers on a local store

Atomic commit. On a local store the bundle is assembled in ``.staging-<uuid>/`` beside its
final place and renamed into place (one ``rename``: readers see all of it or nothing). On an
object store there is no directory rename, so the files are uploaded to ``<version>/`` and
``manifest.json`` is uploaded last: it is the commit marker, and a folder without it is a
partial bundle that listing skips, loading refuses and the next publish replaces. Deletion
runs the other way (manifest first on object stores, rename-aside on local ones), so a
crash at any point leaves only complete bundles visible.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ltrr.bundle.errors import BundleNotFoundError
from ltrr.bundle.manifest import MANIFEST, Manifest, is_version_name, parse_manifest

STATE_FILE = "_state.json"
LOCK_FILE = ".lock"
STAGING_PREFIX = ".staging-"
DELETING_PREFIX = ".deleting-"
ALIASES = ("champion", "candidate")
MAX_EVENTS = 500
"""Events kept in ``_state.json`` (the oldest are dropped)."""


def now() -> str:
    """The current UTC time, ISO 8601 to the second (for events; never part of a content hash)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class StoreState:
    """The store's bookkeeping (``_state.json``).

    Attributes:
        published: one entry per publish, oldest first: ``version``, ``ds``, ``model_version``, ``run_id``.
        champions: the champion history as a stack; the last entry is the champion. A
            promotion pushes, a rollback pops.
        candidate: the most recently published version.
        events: what happened, oldest first: ``at``, ``action``, ``version``, ``detail``.
    """

    published: list[dict[str, Any]] = field(default_factory=list)
    champions: list[str] = field(default_factory=list)
    candidate: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def champion(self) -> str | None:
        """The current champion version, if any."""
        return self.champions[-1] if self.champions else None

    def aliases_of(self, version: str) -> list[str]:
        """The aliases pointing at ``version`` (``champion``, ``candidate``)."""
        return [a for a, v in (("champion", self.champion), ("candidate", self.candidate)) if v == version]

    def entry(self, version: str) -> dict[str, Any] | None:
        """The publish record of ``version``, if any."""
        return next((e for e in self.published if e["version"] == version), None)

    def record_publish(self, version: str, ds: str, model_version: str | None, run_id: str | None) -> None:
        """Record a publish (a re-publish of the same version moves it to the end)."""
        self.published = [e for e in self.published if e["version"] != version]
        self.published.append({"version": version, "ds": ds, "model_version": model_version, "run_id": run_id})
        self.candidate = version
        self.event("publish", version)

    def event(self, action: str, version: str | None, detail: str = "") -> None:
        """Append an event (and drop the oldest beyond ``MAX_EVENTS``)."""
        self.events.append({"at": now(), "action": action, "version": version, "detail": detail})
        del self.events[:-MAX_EVENTS]

    def to_json(self) -> str:
        """The text of ``_state.json``."""
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> StoreState:
        """Parse ``_state.json`` (unknown keys ignored)."""
        data = json.loads(text)
        return cls(
            published=list(data.get("published", [])),
            champions=list(data.get("champions", [])),
            candidate=data.get("candidate"),
            events=list(data.get("events", [])),
        )


class BundleStore:
    """A bundle store at a local path or fsspec URL.

    Args:
        url: a local path or any fsspec URL (``s3://bucket/ltrr``, ``memory://store``).
    """

    def __init__(self, url: str | os.PathLike[str]) -> None:
        import fsspec

        self.url = str(url).rstrip("/")
        self.fs, self.root = fsspec.core.url_to_fs(self.url)
        self.root = self.root.rstrip("/")
        protocols = (self.fs.protocol,) if isinstance(self.fs.protocol, str) else tuple(self.fs.protocol)
        self.local = "file" in protocols

    def __repr__(self) -> str:
        return f"BundleStore({self.url!r})"

    def _path(self, *parts: str) -> str:
        return "/".join([self.root, *parts])

    def url_of(self, version: str) -> str:
        """The URL (or local path) of a version's folder."""
        return f"{self.url}/{version}"

    # --- reading ---------------------------------------------------------------------------
    def _version_dirs(self) -> list[str]:
        if not self.fs.isdir(self.root):
            return []
        names = [p.rstrip("/").rsplit("/", 1)[-1] for p in self.fs.ls(self.root, detail=False)]
        return sorted(n for n in names if is_version_name(n))

    def versions(self) -> list[str]:
        """Committed versions (folders with a ``manifest.json``), sorted by name (day first)."""
        return [v for v in self._version_dirs() if self.fs.isfile(self._path(v, MANIFEST))]

    def partial(self) -> list[str]:
        """Version folders without a manifest: interrupted uploads (object stores only)."""
        return [v for v in self._version_dirs() if not self.fs.isfile(self._path(v, MANIFEST))]

    def exists(self, version: str) -> bool:
        """Whether ``version`` is committed."""
        return is_version_name(version) and self.fs.isfile(self._path(version, MANIFEST))

    def read_manifest(self, version: str) -> Manifest:
        """Parse a committed version's manifest (files are not checked: see ``verify_bundle``).

        Raises:
            BundleNotFoundError: no such committed version.
        """
        if not self.exists(version):
            raise BundleNotFoundError(f"no bundle {version!r} in {self.url} (see `ltrr bundle list`)")
        return parse_manifest(self.fs.cat_file(self._path(version, MANIFEST)), where=self.url_of(version))

    def read_state(self) -> StoreState:
        """The store's ``_state.json`` (empty state for a new store)."""
        path = self._path(STATE_FILE)
        if not self.fs.isfile(path):
            return StoreState()
        return StoreState.from_json(self.fs.cat_file(path).decode())

    def resolve(self, name: str) -> str:
        """A version name, or an alias (``champion``, ``candidate``) resolved through the state.

        Raises:
            BundleNotFoundError: unknown version, or an alias that points at nothing.
        """
        if name in ALIASES:
            state = self.read_state()
            version = state.champion if name == "champion" else state.candidate
            if version is None:
                raise BundleNotFoundError(f"no {name} in {self.url} yet (publish a bundle first)")
            if not self.exists(version):
                raise BundleNotFoundError(f"{name} {version} of {self.url} is no longer in the store")
            return version
        if not self.exists(name):
            raise BundleNotFoundError(f"no bundle {name!r} in {self.url} (see `ltrr bundle list`)")
        return name

    # --- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's publish lock (an ``flock`` on local stores).

        Object stores have no lock: run one publisher at a time there (e.g. an Airflow pool
        of one slot for the publish task).
        """
        if not self.local:
            yield
            return
        import fcntl

        Path(self.root).mkdir(parents=True, exist_ok=True)
        with open(Path(self.root) / LOCK_FILE, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def new_staging(self) -> Path:
        """A fresh local folder to assemble a bundle in (beside the final place on local stores)."""
        if self.local:
            path = Path(self.root) / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
            path.mkdir(parents=True)
            return path
        return Path(tempfile.mkdtemp(prefix="ltrr-bundle-"))

    def commit(self, staging: Path, manifest: Manifest) -> bool:
        """Write ``manifest.json`` into ``staging`` and make the bundle visible atomically.

        Args:
            staging: the assembled folder (from :meth:`new_staging`); consumed.
            manifest: its manifest.

        Returns:
            True when the bundle was committed, False when the same version (same content)
            was already in the store (the staging folder is then discarded).
        """
        version = manifest.bundle_version
        (staging / MANIFEST).write_text(manifest.to_json())
        if self.exists(version):
            shutil.rmtree(staging, ignore_errors=True)
            return False
        final = self._path(version)
        if self.local:
            if Path(final).exists():  # a folder without manifest: not ours to keep
                self._remove_local(Path(final))
            _rename(staging, Path(final))
            return True
        if self.fs.exists(final):
            self.fs.rm(final, recursive=True)
        for entry in manifest.files:
            self.fs.put_file(str(staging / entry.path), self._path(version, entry.path))
        self.fs.put_file(str(staging / MANIFEST), self._path(version, MANIFEST))  # the commit marker, last
        shutil.rmtree(staging, ignore_errors=True)
        return True

    def write_state(self, state: StoreState) -> None:
        """Replace ``_state.json`` atomically (temp file + rename locally, one PUT on object stores)."""
        text = state.to_json().encode()
        if self.local:
            Path(self.root).mkdir(parents=True, exist_ok=True)
            tmp = Path(self.root) / f".{STATE_FILE}.{uuid.uuid4().hex}.tmp"
            tmp.write_bytes(text)
            os.replace(tmp, Path(self.root) / STATE_FILE)
        else:
            self.fs.pipe_file(self._path(STATE_FILE), text)

    def delete(self, version: str) -> None:
        """Remove a version without ever exposing a partial bundle."""
        final = self._path(version)
        if self.local:
            if Path(final).exists():
                self._remove_local(Path(final))
            return
        if self.fs.isfile(self._path(version, MANIFEST)):
            self.fs.rm_file(self._path(version, MANIFEST))  # un-commit first
        if self.fs.exists(final):
            self.fs.rm(final, recursive=True)

    def _remove_local(self, path: Path) -> None:
        aside = Path(self.root) / f"{DELETING_PREFIX}{uuid.uuid4().hex}"
        _rename(path, aside)
        shutil.rmtree(aside, ignore_errors=True)

    def cleanup(self) -> list[str]:
        """Remove what interrupted publishes left (call with the lock held).

        Returns:
            The names removed: hidden staging/deleting folders (local) and partial version
            folders (object stores).
        """
        removed = []
        if self.local:
            root = Path(self.root)
            if root.is_dir():
                for path in root.iterdir():
                    if path.name.startswith((STAGING_PREFIX, DELETING_PREFIX)) and path.is_dir():
                        shutil.rmtree(path, ignore_errors=True)
                        removed.append(path.name)
                    elif path.name.startswith(f".{STATE_FILE}.") and path.name.endswith(".tmp"):
                        path.unlink(missing_ok=True)
                        removed.append(path.name)
        for version in self.partial():
            self.fs.rm(self._path(version), recursive=True)
            removed.append(version)
        return removed


def _rename(src: Path, dst: Path) -> None:
    """``os.rename``: atomic on one filesystem (a separate function so tests can simulate a crash)."""
    os.rename(src, dst)


def retention_plan(state: StoreState, existing: list[str], keep: int) -> list[str]:
    """Which versions to delete: all but the ``keep`` most recently published ones.

    The champion and the previous champion (the rollback target) are never deleted.
    Versions the state does not know (published by a run that crashed before recording)
    count as the oldest.

    Args:
        state: the store's state.
        existing: committed versions.
        keep: how many of the most recent versions to keep (at least 1).

    Returns:
        The versions to delete, oldest first.
    """
    order = [e["version"] for e in state.published]
    known = set(order)
    ordered = [v for v in sorted(existing) if v not in known] + [v for v in order if v in set(existing)]
    protected = set(state.champions[-2:])
    recent = set(ordered[-max(keep, 1) :])
    return [v for v in ordered if v not in recent and v not in protected]
