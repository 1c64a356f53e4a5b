"""The errors of bundle publishing and loading; each message says what is wrong and where."""

from __future__ import annotations


class BundleError(Exception):
    """Base class of every bundle error (``except BundleError`` catches them all)."""


class BundleFormatError(BundleError):
    """The manifest is malformed, from an unknown or newer format, or names an unsafe path."""


class PartialBundleError(BundleError):
    """The bundle directory has no manifest: an interrupted publish, or not a bundle at all."""


class BundleIntegrityError(BundleError):
    """Files do not match the manifest (tampered, missing or extra files).

    Attributes:
        problems: one line per problem, e.g. ``tampered: q2e/report.json (sha256 ...)``.
    """

    def __init__(self, where: str, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:10])
        more = f" (and {len(self.problems) - 10} more)" if len(self.problems) > 10 else ""
        super().__init__(f"bundle {where} failed verification: {shown}{more}")


class BundleNotFoundError(BundleError, FileNotFoundError):
    """No bundle (or alias) of that name in the store."""


class NothingToPublishError(BundleError):
    """Day ``ds`` has no artifact to publish (every artifact is missing or was rejected)."""


class PromotionError(BundleError):
    """A promotion or rollback was refused (failed gates without ``force``, no previous champion)."""
