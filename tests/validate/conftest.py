"""Fixtures of the validation tests (the day builders live in ``validate_helpers.py``)."""

from __future__ import annotations

import pytest

from ltrr.config import Settings


@pytest.fixture()
def lenient(settings: Settings) -> Settings:
    """The test settings with the threshold off (every bad row is fine for the day)."""
    return settings.model_copy(update={"max_rejected_share": 1.0})
