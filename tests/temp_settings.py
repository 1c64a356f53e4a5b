"""Settings for tests: every path under one temporary folder, the small world, Spark local[2]."""

from __future__ import annotations

from pathlib import Path

from ltrr.config import Settings, load_settings


def temp_settings(root: Path, **overrides: object) -> Settings:
    """Settings whose data root, state and bundle store live under ``root``.

    Args:
        root: a temporary folder.
        **overrides: more field values (they win over these defaults and the environment).

    Returns:
        The settings.
    """
    fields: dict[str, object] = {
        "data_root": root / "data",
        "state_dir": root / "state",
        "bundle_store": str(root / "bundles"),
        "sim_scale": "small",
        "spark_master": "local[2]",
        "spark_shuffle_partitions": 2,
    }
    return load_settings(**{**fields, **overrides})
