"""Load a published bundle for serving: verified first, then opened lazily.

``load_bundle(uri)`` is the contract serving teams code against (docs/bundle.md):

- it verifies the manifest and the sha256 of every file and refuses a tampered, partial
  or unknown-format bundle (``ltrr.bundle.BundleError`` and subclasses, with a clear message);
- it returns a :class:`Bundle`: the manifest plus paths of each artifact; nothing large is
  read until asked for. Annoy indexes are memory-mapped on first use
  (``AnnoyIndex.load(path, prefault=False)``), Parquet is read memory-mapped, ``.npy`` with
  ``allow_pickle=False``: a bundle is data only, nothing in it is executed.

A bundle on a remote store (any fsspec URL) is first copied to a local cache folder and
verified there (Annoy needs a local file to memory-map).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ltrr.bundle.errors import BundleError
from ltrr.bundle.manifest import MANIFEST, Manifest, check_relative_path
from ltrr.bundle.store import BundleStore
from ltrr.bundle.verify import verify_bundle


@dataclass(frozen=True)
class Bundle:
    """A verified bundle on local disk.

    Attributes:
        root: the bundle folder.
        manifest: its manifest (version, day, lineage, metrics, gates, files).
    """

    root: Path
    manifest: Manifest
    _indexes: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def version(self) -> str:
        """The bundle version (``YYYY-MM-DD-<12 hex>``)."""
        return self.manifest.bundle_version

    @property
    def ds(self) -> str:
        """The day the bundle was built for."""
        return self.manifest.ds

    @property
    def artifacts(self) -> dict[str, Path]:
        """Folder of each artifact present in the bundle (``{"q2e": ..., "embeddings": ...}``)."""
        return {
            name: self.root / entry.path
            for name, entry in self.manifest.artifacts.items()
            if entry.status == "present" and entry.path
        }

    def has(self, artifact: str) -> bool:
        """Whether the artifact is present in the bundle."""
        return artifact in self.artifacts

    def artifact(self, name: str) -> Path:
        """The folder of artifact ``name``.

        Raises:
            KeyError: the artifact is not in this bundle (its manifest status says why).
        """
        entry = self.manifest.artifacts.get(name)
        if entry is None or entry.status != "present" or not entry.path:
            status = f"{entry.status}: {'; '.join(entry.reasons)}" if entry else "unknown artifact"
            raise KeyError(f"bundle {self.version} has no {name!r} artifact ({status})")
        return self.root / entry.path

    def path(self, relative: str) -> Path:
        """The local path of a file or folder of the bundle (checked: it cannot escape the bundle)."""
        check_relative_path(relative)
        return self.root / relative

    def read_json(self, relative: str) -> Any:
        """Parse a JSON file of the bundle."""
        import json

        return json.loads(self.path(relative).read_text())

    def read_parquet(self, relative: str, columns: list[str] | None = None) -> Any:
        """Read a Parquet file or folder of the bundle (memory-mapped) as a ``pyarrow.Table``."""
        import pyarrow.parquet as pq

        return pq.read_table(self.path(relative), columns=columns, memory_map=True)

    def load_npy(self, relative: str) -> Any:
        """Memory-map an ``.npy`` array (``allow_pickle=False``: object arrays are refused)."""
        import numpy as np

        return np.load(self.path(relative), mmap_mode="r", allow_pickle=False)

    def q2e_serving(self) -> Any:
        """The Q2E memory in serving form: ``query_key, entity_ids, scores`` (a ``pyarrow.Table``)."""
        return self.read_parquet(f"{self.artifact('q2e').relative_to(self.root).as_posix()}/serving")

    def plan_policy(self) -> Any:
        """The retrieval-plan policy (``ltrr.bandit.policy.PlanPolicy``), parity-checked on load.

        Raises:
            KeyError: the bundle has no policy (none passed its gate yet: serve the day-0 policy).
        """
        from ltrr.bandit.policy import load_policy

        return load_policy(self.artifact("policy"))

    def annoy(self, name: str = "items") -> Any:
        """An Annoy index of the bundle, memory-mapped on first use and cached.

        Args:
            name: the index name in the manifest (``items``: entity vectors of the embeddings).

        Raises:
            KeyError: no index of that name.
        """
        if name not in self._indexes:
            entries = {n: i for a in self.manifest.artifacts.values() for n, i in a.indexes.items()}
            if name not in entries:
                raise KeyError(f"bundle {self.version} has no Annoy index {name!r} (has: {sorted(entries) or 'none'})")
            from annoy import AnnoyIndex

            entry = entries[name]
            index = AnnoyIndex(entry.dims, entry.metric)
            index.load(str(self.path(entry.path)), prefault=False)
            self._indexes[name] = index
        return self._indexes[name]


def _is_local(uri: str) -> bool:
    return "://" not in uri or uri.startswith("file://")


def _download(uri: str, cache_dir: Path) -> Path:
    """Copy a remote bundle into ``cache_dir/<name>`` (reused when it is already there and verifies)."""
    import fsspec

    fs, root = fsspec.core.url_to_fs(uri)
    root = root.rstrip("/")
    name = root.rsplit("/", 1)[-1]
    target = cache_dir / name
    if (target / MANIFEST).is_file():
        try:
            verify_bundle(target)
            return target
        except BundleError:
            shutil.rmtree(target, ignore_errors=True)
    if not fs.isfile(f"{root}/{MANIFEST}"):
        verify_bundle(uri)  # raises the precise error (missing or partial)
    tmp = cache_dir / f".download-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    try:
        for path in fs.find(root):
            rel = path[len(root) + 1 :]
            if rel != MANIFEST:
                check_relative_path(rel)
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(path, str(tmp / rel))
        if target.exists():
            shutil.rmtree(target)
        os.rename(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_bundle(
    uri: str | os.PathLike[str], *, alias: str | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Bundle:
    """Verify and open a bundle.

    Args:
        uri: the bundle folder (local path or fsspec URL); with ``alias``, the store instead.
        alias: ``champion`` or ``candidate``: load the version the store's alias points at.
        cache_dir: where a remote bundle is copied before loading (default: a temp folder).

    Returns:
        The verified bundle.

    Raises:
        BundleNotFoundError: no bundle there (or the alias points at nothing).
        PartialBundleError: no manifest (an interrupted publish).
        BundleFormatError: unknown or newer format, unsafe paths, edited manifest.
        BundleIntegrityError: a tampered, missing or extra file (each one is named).
    """
    uri = str(uri)
    if alias is not None:
        store = BundleStore(uri)
        uri = store.url_of(store.resolve(alias))
    if _is_local(uri):
        root = Path(uri.removeprefix("file://")).resolve()
    else:
        cache = Path(cache_dir) if cache_dir else Path(tempfile.gettempdir()) / "ltrr-bundle-cache"
        cache.mkdir(parents=True, exist_ok=True)
        root = _download(uri, cache)
    manifest = verify_bundle(root)
    return Bundle(root=root, manifest=manifest)
