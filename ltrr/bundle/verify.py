"""Verify a bundle: its manifest, every file's size and sha256, and nothing else in the folder."""

from __future__ import annotations

import os

from ltrr.bundle.errors import BundleIntegrityError, BundleNotFoundError, PartialBundleError
from ltrr.bundle.hashing import content_hash, sha256_stream
from ltrr.bundle.manifest import MANIFEST, Manifest, bundle_version, parse_manifest


def verify_bundle(url: str | os.PathLike[str]) -> Manifest:
    """Check that a bundle folder is complete, unmodified and of a format this code reads.

    Checks, in order: the folder exists; ``manifest.json`` exists (else the bundle is
    partial); the manifest parses, is of a known format, names only safe relative paths and
    matches its own checksum; every listed file exists with the listed size and sha256; no
    unlisted file is present; the content hash and version name agree with the file list.

    Args:
        url: the bundle folder, a local path or any fsspec URL.

    Returns:
        The manifest.

    Raises:
        BundleNotFoundError: no such folder.
        PartialBundleError: no ``manifest.json`` (an interrupted publish, or not a bundle).
        BundleFormatError: unreadable, unknown or newer format, unsafe path.
        BundleIntegrityError: tampered, missing or extra files (every problem is listed).
    """
    import fsspec

    where = str(url)
    fs, root = fsspec.core.url_to_fs(where)
    root = root.rstrip("/")
    if not fs.isdir(root):
        raise BundleNotFoundError(f"no bundle at {where}")
    manifest_path = f"{root}/{MANIFEST}"
    if not fs.isfile(manifest_path):
        raise PartialBundleError(
            f"{where} has no manifest.json: a partial bundle (an interrupted publish) or not a bundle; refusing it"
        )
    manifest = parse_manifest(fs.cat_file(manifest_path), where=where)

    found = {path[len(root) + 1 :] for path in fs.find(root) if path.startswith(root + "/")} - {MANIFEST}
    listed = {entry.path: entry for entry in manifest.files}
    problems = [f"missing file: {path}" for path in sorted(set(listed) - found)]
    problems += [f"extra file not in the manifest: {path}" for path in sorted(found - set(listed))]
    for path in sorted(set(listed) & found):
        entry = listed[path]
        with fs.open(f"{root}/{path}", "rb") as stream:
            digest, size = sha256_stream(stream)
        if size != entry.size:
            problems.append(f"tampered file: {path} (size {size}, manifest says {entry.size})")
        elif digest != entry.sha256:
            problems.append(f"tampered file: {path} (sha256 {digest[:12]}..., manifest says {entry.sha256[:12]}...)")
    expected = content_hash(
        format_version=manifest.format_version,
        ds=manifest.ds,
        parameters=manifest.parameters,
        files=[(f.path, f.content_digest) for f in manifest.files],
    )
    if expected != manifest.content_hash:
        problems.append("manifest content_hash does not match its file list and parameters")
    elif manifest.bundle_version != bundle_version(manifest.ds, expected):
        problems.append(f"bundle_version {manifest.bundle_version} does not match its content hash")
    if problems:
        raise BundleIntegrityError(where, problems)
    return manifest
