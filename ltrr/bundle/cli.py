"""The ``ltrr bundle`` subcommands (wired into ``ltrr.cli``); each prints text and returns an exit code."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ltrr.bundle.describe import diff_text, human_size, list_table, show_text
from ltrr.bundle.errors import BundleIntegrityError, BundleNotFoundError
from ltrr.bundle.store import BundleStore
from ltrr.bundle.verify import verify_bundle
from ltrr.config import Settings


def _bundle_url(store: BundleStore, name: str) -> str:
    """A version or alias of the store, else a bundle path/URL given directly."""
    try:
        return store.url_of(store.resolve(name))
    except BundleNotFoundError:
        if "://" in name or Path(name).is_dir():
            return name
        raise


def run_bundle_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run one ``ltrr bundle`` action.

    Args:
        settings: run settings (``bundle_store``, MLflow names).
        args: the parsed arguments (``bundle_command`` and its flags).

    Returns:
        The exit code (0 done, 1 verification failed).

    Raises:
        BundleError: refused actions (the caller prints the message and exits 1).
    """
    store = BundleStore(settings.bundle_store)
    action = args.bundle_command
    if action == "list":
        state = store.read_state()
        manifests = [store.read_manifest(v) for v in store.versions()]
        if args.json:
            rows = [
                {"version": m.bundle_version, "ds": m.ds, "eligible": m.promotion.eligible,
                 "aliases": state.aliases_of(m.bundle_version)}
                for m in manifests
            ]  # fmt: skip
            print(json.dumps(rows, indent=2))
            return 0
        if not manifests:
            print(f"no bundles in {store.url}")
            return 0
        print(f"store {store.url}: {len(manifests)} bundle(s)")
        print(list_table(manifests, state))
        return 0
    if action == "show":
        version = store.resolve(args.version)
        manifest = store.read_manifest(version)
        if args.json:
            print(manifest.to_json(), end="")
        else:
            print(show_text(manifest, store.read_state().aliases_of(version), store.url_of(version)))
        return 0
    if action == "verify":
        url = _bundle_url(store, args.version)
        try:
            manifest = verify_bundle(url)
        except BundleIntegrityError as exc:
            print(f"FAILED {url}: {len(exc.problems)} problem(s)")
            for problem in exc.problems:
                print(f"  {problem}")
            return 1
        print(
            f"OK {manifest.bundle_version} ({url}): manifest format {manifest.format_version}, "
            f"{len(manifest.files)} files, {human_size(manifest.total_size)} verified"
        )
        return 0
    if action == "promote":
        from ltrr.bundle.publish import promote

        print(promote(settings, args.version, force=args.force, store=store))
        return 0
    if action == "rollback":
        from ltrr.bundle.publish import rollback

        print(rollback(settings, store=store))
        return 0
    if action == "diff":
        a = store.read_manifest(store.resolve(args.a))
        b = store.read_manifest(store.resolve(args.b))
        print(diff_text(a, b))
        return 0
    if action == "publish":
        from ltrr.bundle.publish import publish_day

        result = publish_day(settings, args.ds.isoformat(), store=store)
        print(f"published {result.version} ({'new' if result.created else 'already in the store'}) at {result.url}")
        print(result.decision)
        if result.deleted:
            print(f"retention removed {', '.join(result.deleted)}")
        return 0
    raise ValueError(f"unknown bundle action {action!r}")
