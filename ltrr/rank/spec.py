"""The ranker's feature spec: which features, in which order, and how missing values are filled.

The spec is saved beside the model (``feature_spec.json``) and is the one description both the
trainer and serving use to turn features into the model's input row, so a model is always
scored on the columns, order and missing-value handling it was trained with:

- the matrix has one float64 column per feature, in spec order;
- a missing value (NaN, ``None``, ``pd.NA``) stays NaN, which LightGBM routes down the branch it
  learned for missing values, unless the feature declares a ``default``, which is then
  filled in (for features where "absent" has a meaning, such as a count of 0);
- a categorical feature holds a non-negative integer code as a float (``categories[code]`` names
  it when ``categories`` is given); NaN is missing. LightGBM treats negative codes as missing
  too; we reject them instead, since they would mean an encoding bug upstream.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("numeric", "categorical")
SPEC_FORMAT = 1


@dataclass(frozen=True)
class FeatureDef:
    """One feature of the ranker.

    Attributes:
        name: the column name in training frames and the key in serving feature dicts.
        kind: ``numeric`` or ``categorical`` (integer codes, see the module docstring).
        default: value used where the feature is missing; ``None`` keeps it missing (NaN).
        description: what the feature is and where it comes from (for people).
        categories: for a categorical feature, the name of each code (``categories[code]``);
            empty when codes are not named. When given, codes must be below its length.
    """

    name: str
    kind: str
    default: float | None = None
    description: str = ""
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a feature needs a name")
        if self.kind not in KINDS:
            raise ValueError(f"feature {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.default is not None and not math.isfinite(float(self.default)):
            raise ValueError(f"feature {self.name!r}: default must be finite or None, got {self.default!r}")
        if self.categories and self.kind != "categorical":
            raise ValueError(f"feature {self.name!r}: only categorical features have categories")
        object.__setattr__(self, "categories", tuple(self.categories))
        if self.default is not None:
            object.__setattr__(self, "default", float(self.default))
            if self.kind == "categorical":
                _check_codes(self, np.array([self.default]))

    def to_dict(self) -> dict:
        """JSON-ready form (``categories`` as a list)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "default": self.default,
            "description": self.description,
            "categories": list(self.categories),
        }


def _check_codes(feature: FeatureDef, values: np.ndarray) -> None:
    """Raise when a categorical column holds something other than valid codes (or NaN)."""
    present = values[~np.isnan(values)]
    bad = present[(present < 0) | (present != np.floor(present)) | ~np.isfinite(present)]
    if feature.categories:
        bad = np.concatenate([bad, present[present >= len(feature.categories)]])
    if bad.size:
        limit = f" and below {len(feature.categories)}" if feature.categories else ""
        raise ValueError(
            f"categorical feature {feature.name!r} must hold integer codes >= 0{limit} (or NaN for missing); "
            f"found {np.unique(bad)[:5].tolist()}"
        )


def _as_float(values: Any, name: str) -> np.ndarray:
    """A column as float64 with NaN for every kind of missing value."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "fiub":
        return series.to_numpy(dtype=np.float64)  # plain numpy column: NaN already means missing
    try:
        return pd.to_numeric(series, errors="raise").astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"feature {name!r} must be numeric: {exc}") from None


@dataclass(frozen=True)
class FeatureSpec:
    """The ordered features of one ranker version.

    Attributes:
        features: the features, in model column order.
        version: the spec's version (bumped when a feature's meaning changes).
    """

    features: tuple[FeatureDef, ...]
    version: str
    _index: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        names = [f.name for f in self.features]
        if not names:
            raise ValueError("a feature spec needs at least one feature")
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicated feature names in the spec: {duplicated}")
        self._index.update({n: i for i, n in enumerate(names)})

    @property
    def names(self) -> list[str]:
        """Feature names in model column order."""
        return [f.name for f in self.features]

    @property
    def categorical_indices(self) -> list[int]:
        """Column indexes of the categorical features (LightGBM's ``categorical_feature``)."""
        return [i for i, f in enumerate(self.features) if f.kind == "categorical"]

    @property
    def categorical_names(self) -> list[str]:
        """Names of the categorical features."""
        return [f.name for f in self.features if f.kind == "categorical"]

    def to_json(self) -> str:
        """Serialize; the same spec always gives the same bytes (sorted keys, fixed indent)."""
        data = {"format": SPEC_FORMAT, "version": self.version, "features": [f.to_dict() for f in self.features]}
        return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> FeatureSpec:
        """Read a spec written by ``to_json``.

        Raises:
            ValueError: for an unknown format version.
        """
        data = json.loads(text)
        if data.get("format") != SPEC_FORMAT:
            raise ValueError(f"feature spec format {data.get('format')!r} is not supported (expected {SPEC_FORMAT})")
        features = tuple(
            FeatureDef(
                name=f["name"],
                kind=f["kind"],
                default=f.get("default"),
                description=f.get("description", ""),
                categories=tuple(f.get("categories", ())),
            )
            for f in data["features"]
        )
        return cls(features=features, version=data["version"])

    def _fill(self, feature: FeatureDef, values: np.ndarray) -> np.ndarray:
        if feature.kind == "categorical":
            _check_codes(feature, values)
        if feature.default is not None:
            values = np.where(np.isnan(values), feature.default, values)
        return values

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The model input of a frame: one float64 column per feature, in spec order.

        Args:
            frame: one row per (search, candidate), with a column per feature (other columns
                are ignored).

        Returns:
            ``(len(frame), len(features))`` float64, missing values NaN or the feature's default.

        Raises:
            KeyError: naming every feature column the frame lacks.
            ValueError: for a non-numeric column or an invalid categorical code.
        """
        missing = [n for n in self.names if n not in frame.columns]
        if missing:
            raise KeyError(f"the frame lacks feature columns {missing} of feature spec {self.version!r}")
        out = np.empty((len(frame), len(self.features)), dtype=np.float64)
        for j, feature in enumerate(self.features):
            out[:, j] = self._fill(feature, _as_float(frame[feature.name], feature.name))
        return out

    def vector(self, mapping: Mapping[str, Any]) -> np.ndarray:
        """The model input row of one candidate at serving time.

        Args:
            mapping: feature name → value. A feature that is absent, ``None`` or NaN is missing.
                A categorical feature may be given as its code or, when the spec names its
                categories, as the category name; an unknown name is missing (a category the
                model never saw has nothing learned for it).

        Returns:
            ``(len(features),)`` float64, with the same missing-value handling as ``matrix``.

        Raises:
            KeyError: for a key that is not a feature of the spec (a typo would otherwise
                silently score the candidate with that feature missing).
            ValueError: for a non-numeric value or an invalid categorical code.
        """
        unknown = sorted(set(mapping) - set(self._index))
        if unknown:
            raise KeyError(f"unknown features {unknown} for feature spec {self.version!r}")
        row = np.full(len(self.features), np.nan, dtype=np.float64)
        for j, feature in enumerate(self.features):
            value = mapping.get(feature.name)
            if isinstance(value, str) and feature.kind == "categorical":
                value = feature.categories.index(value) if value in feature.categories else None
            if value is None or value is pd.NA:
                continue
            try:
                row[j] = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"feature {feature.name!r} must be numeric, got {value!r}") from None
        for j, feature in enumerate(self.features):
            row[j] = self._fill(feature, row[j : j + 1])[0]
        return row

    def matrix_from_vectors(self, vectors: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``vector`` of each mapping, stacked: ``(len(vectors), len(features))``."""
        if not vectors:
            return np.empty((0, len(self.features)), dtype=np.float64)
        return np.vstack([self.vector(v) for v in vectors])
