"""Publish a day's bundle, promote it, roll back: the store and MLflow kept in step.

Order of a publish (each step is safe to crash in; a re-run finishes the job):

1. take the store lock, remove what interrupted publishes left;
2. assemble the day's artifacts into a staging folder, build the manifest (content hash,
   gates, promotion decision and its reasons);
3. commit the bundle atomically (or find the same version already committed and verify it;
   a damaged copy is replaced);
4. register it in MLflow (one run, one model version; reused if it exists);
5. move ``candidate`` to it; move ``champion`` to it when every gate passed (and the current
   champion is not of a later day), else keep the champion and record why;
6. write the store's state, then apply retention.

MLflow aliases are set before the store's ``_state.json`` is written, so after a crash
between the two the re-run (or the next publish) brings them back in step.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from typing import Any

from ltrr.bundle import registry
from ltrr.bundle.assemble import assemble_day
from ltrr.bundle.errors import BundleError, PromotionError
from ltrr.bundle.sources import ARTIFACT_KINDS, ArtifactKind
from ltrr.bundle.store import BundleStore, StoreState, retention_plan
from ltrr.bundle.verify import verify_bundle
from ltrr.config import Settings


@dataclass(frozen=True)
class PublishResult:
    """What a publish did.

    Attributes:
        ds: the day.
        version: the bundle version.
        url: where it lives.
        content_hash: its content hash.
        created: False when the same version was already in the store.
        eligible: whether every gate of every artifact passed.
        reasons: why it is not eligible (empty when it is).
        promoted: whether ``champion`` moved to it.
        champion: the champion after the publish (None if there is none yet).
        decision: one line on what happened to ``champion`` and why.
        model_version: the MLflow model version.
        run_id: the MLflow run.
        deleted: versions retention removed.
    """

    ds: str
    version: str
    url: str
    content_hash: str
    created: bool
    eligible: bool
    reasons: list[str]
    promoted: bool
    champion: str | None
    decision: str
    model_version: str
    run_id: str
    deleted: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the job prints it; the DAG task returns it)."""
        return asdict(self)


def _champion_decision(state: StoreState, version: str, ds: str, eligible: bool, reasons: list[str]) -> str | None:
    """None when ``version`` should become champion, else the reason it does not."""
    current = state.champion
    if not eligible:
        return f"champion stays {current or '(none)'}: " + "; ".join(reasons)
    if current == version:
        return f"champion is already {version}"
    if current is not None and current[:10] > ds:
        return f"champion stays {current}: it is of a later day than {ds} (a backfill does not replace it)"
    return None


def _apply_retention(settings: Settings, store: BundleStore, state: StoreState) -> list[str]:
    doomed = retention_plan(state, store.versions(), settings.bundle_keep)
    for version in doomed:
        store.delete(version)
        entry = state.entry(version)
        if entry and entry.get("model_version"):
            registry.mark_deleted(settings, entry["model_version"])
        state.event("delete", version, f"retention keeps the last {settings.bundle_keep}")
    return doomed


def publish_day(
    settings: Settings, ds: str, *, kinds: tuple[ArtifactKind, ...] = ARTIFACT_KINDS, store: BundleStore | None = None
) -> PublishResult:
    """Publish the bundle of day ``ds`` (the last task of the nightly DAG).

    Args:
        settings: run settings (``data_root``, ``bundle_store``, ``bundle_keep``, MLflow names).
        ds: the day, ``YYYY-MM-DD``.
        kinds: artifact kinds to collect (default: all known).
        store: the store (default: ``BundleStore(settings.bundle_store)``).

    Returns:
        What was published and what happened to the aliases.

    Raises:
        NothingToPublishError: when the day has no artifact at all.
    """
    store = store or BundleStore(settings.bundle_store)
    with store.lock():
        store.cleanup()
        staging = store.new_staging()
        try:
            built = assemble_day(settings, ds, staging, kinds=kinds)
            if store.exists(built.bundle_version):
                try:
                    verify_bundle(store.url_of(built.bundle_version))
                except BundleError:  # a damaged copy of the same version: replace it
                    store.delete(built.bundle_version)
            created = store.commit(staging, built)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        version = built.bundle_version
        manifest = store.read_manifest(version)
        url = store.url_of(version)
        registration = registry.register_bundle(settings, manifest, url)

        state = store.read_state()
        registry.set_alias(settings, "candidate", registration.model_version)
        state.record_publish(version, ds, registration.model_version, registration.run_id)
        reasons = list(manifest.promotion.reasons)
        blocked = _champion_decision(state, version, ds, manifest.promotion.eligible, reasons)
        promoted = blocked is None
        if promoted:
            registry.set_alias(settings, "champion", registration.model_version)
            state.champions.append(version)
            decision = f"champion moved to {version}: every gate passed"
            state.event("promote", version, "publish: every gate passed")
        else:
            decision = blocked
            state.event("champion kept", version, blocked)
        registry.record_decision(settings, registration.run_id, decision)
        store.write_state(state)
        deleted = _apply_retention(settings, store, state)
        if deleted:
            store.write_state(state)
    return PublishResult(
        ds=ds,
        version=version,
        url=url,
        content_hash=manifest.content_hash,
        created=created,
        eligible=manifest.promotion.eligible,
        reasons=reasons,
        promoted=promoted,
        champion=state.champion,
        decision=decision,
        model_version=registration.model_version,
        run_id=registration.run_id,
        deleted=deleted,
    )


def _model_version(settings: Settings, store: BundleStore, state: StoreState, version: str) -> str:
    entry = state.entry(version)
    if entry and entry.get("model_version"):
        return str(entry["model_version"])
    registration = registry.register_bundle(settings, store.read_manifest(version), store.url_of(version))
    return registration.model_version


def promote(settings: Settings, version: str, *, force: bool = False, store: BundleStore | None = None) -> str:
    """Make ``version`` the champion (``ltrr bundle promote``).

    The bundle is verified first. A bundle whose gates did not all pass is refused unless
    ``force`` (then the reasons are recorded in the event).

    Args:
        settings: run settings.
        version: a version name (or ``candidate``).
        force: promote even though a gate failed.
        store: the store (default: ``settings.bundle_store``).

    Returns:
        A one-line description of what happened.

    Raises:
        PromotionError: failed gates without ``force``.
        BundleError: the bundle does not exist or fails verification.
    """
    store = store or BundleStore(settings.bundle_store)
    with store.lock():
        version = store.resolve(version)
        manifest = verify_bundle(store.url_of(version))
        if not manifest.promotion.eligible and not force:
            raise PromotionError(
                f"{version} did not pass every gate ({'; '.join(manifest.promotion.reasons)}); "
                "use --force to promote it anyway"
            )
        state = store.read_state()
        if state.champion == version:
            return f"{version} is already the champion"
        model_version = _model_version(settings, store, state, version)
        registry.set_alias(settings, "champion", model_version)
        previous = state.champion
        state.champions.append(version)
        detail = "manual promotion" + (" (forced: " + "; ".join(manifest.promotion.reasons) + ")" if force else "")
        state.event("promote", version, detail)
        store.write_state(state)
    return f"champion moved from {previous or '(none)'} to {version} (MLflow model version {model_version})"


def rollback(settings: Settings, *, store: BundleStore | None = None) -> str:
    """Move ``champion`` back to the previous champion (``ltrr bundle rollback``).

    Previous champions that retention removed or that no longer verify are skipped (and
    dropped from the history).

    Returns:
        A one-line description of what happened.

    Raises:
        PromotionError: there is no previous champion to go back to.
    """
    store = store or BundleStore(settings.bundle_store)
    with store.lock():
        state = store.read_state()
        if not state.champions:
            raise PromotionError(f"no champion in {store.url}: nothing to roll back")
        current = state.champions.pop()
        skipped = []
        while state.champions:
            target = state.champions[-1]
            try:
                verify_bundle(store.url_of(target))
                break
            except BundleError as exc:
                skipped.append(f"{target} ({exc})")
                state.champions.pop()
        if not state.champions:
            raise PromotionError(
                f"no previous champion to roll back to from {current}"
                + (f"; unusable: {', '.join(skipped)}" if skipped else "")
            )
        target = state.champions[-1]
        model_version = _model_version(settings, store, state, target)
        registry.set_alias(settings, "champion", model_version)
        state.event("rollback", target, f"from {current}" + (f"; skipped {', '.join(skipped)}" if skipped else ""))
        store.write_state(state)
    note = f" (skipped {', '.join(skipped)})" if skipped else ""
    return f"champion rolled back from {current} to {target} (MLflow model version {model_version}){note}"
