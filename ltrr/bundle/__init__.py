"""Versioned bundles: assemble a day's artifacts, publish atomically, register, promote, verify.

``publish_day(settings, ds)`` is what the nightly DAG calls; ``ltrr bundle ...`` is the
command line; ``ltrr.serving.load_bundle`` is what serving teams call. See docs/bundle.md.
Nothing heavy is imported here (MLflow is imported inside the registry functions).
"""

from ltrr.bundle.errors import (
    BundleError,
    BundleFormatError,
    BundleIntegrityError,
    BundleNotFoundError,
    NothingToPublishError,
    PartialBundleError,
    PromotionError,
)
from ltrr.bundle.manifest import FORMAT_VERSION, Manifest
from ltrr.bundle.publish import PublishResult, promote, publish_day, rollback
from ltrr.bundle.store import BundleStore
from ltrr.bundle.verify import verify_bundle

__all__ = [
    "FORMAT_VERSION",
    "BundleError",
    "BundleFormatError",
    "BundleIntegrityError",
    "BundleNotFoundError",
    "BundleStore",
    "Manifest",
    "NothingToPublishError",
    "PartialBundleError",
    "PromotionError",
    "PublishResult",
    "promote",
    "publish_day",
    "rollback",
    "verify_bundle",
]
