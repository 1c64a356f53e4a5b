"""Export the ranker the way serving loads it, and prove the exported model scores like the trainer.

The export folder holds data only (no pickles):

- ``model.txt``: LightGBM's text model, saved at the best iteration (only the kept trees);
- ``feature_spec.json``: the ``FeatureSpec`` (column order, kinds, defaults, categories);
- ``golden.parquet``: a golden set of raw feature vectors (missing values as NaN, before any
  default is filled) with the trainer's score of each: up to ``n_golden`` (200) rows drawn
  from the evaluation frame (seeded), plus hand-made rows: one with every feature missing,
  one per feature with only that feature missing (the other values from a drawn row), and
  per categorical feature one row with a code that is known to the spec but absent from the
  drawn rows when one exists. Column ``golden_kind`` says which (``sample``, ``all_missing``,
  ``missing:<feature>``, ``category:<feature>``).

``load_ranker`` is the serving path: ``lightgbm.Booster(model_file=...)`` plus the spec read
from JSON; ``check_parity`` rescores the golden set through it (both from the matrix and
from per-candidate feature dicts, the serving entry point) and fails when any score differs
from the trainer's by more than ``PARITY_TOLERANCE`` (1e-9). Missing values take the same
path in both: NaN in the golden set, the spec's defaults filled by the same ``FeatureSpec``
code, NaN handed to LightGBM.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ltrr.rank.spec import FeatureSpec

MODEL_FILE = "model.txt"
SPEC_FILE = "feature_spec.json"
GOLDEN_FILE = "golden.parquet"
EXPORT_FILES = (MODEL_FILE, SPEC_FILE, GOLDEN_FILE)
PARITY_TOLERANCE = 1e-9
SCORE_COLUMN = "score"
KIND_COLUMN = "golden_kind"


class ParityError(RuntimeError):
    """The exported model does not score the golden set like the trainer did."""


class CorruptModelError(ValueError):
    """A LightGBM text model whose tree blocks do not line up with its ``tree_sizes`` header."""


def check_model_structure(path: Path) -> None:
    """Check that a LightGBM text model's tree blocks match its ``tree_sizes`` header.

    LightGBM 4.7 parses the trees of a text model in parallel at the byte offsets given by
    ``tree_sizes=``; when an edit changed a tree's length, its parser hits a fatal error inside
    an OpenMP thread and the whole process aborts (``terminate called without an active
    exception``) instead of raising. Checking the offsets first turns that into an exception.

    Args:
        path: the ``model.txt``.

    Raises:
        CorruptModelError: when the header is missing or a block does not start where it should.
    """
    data = Path(path).read_bytes()
    header = re.search(rb"^tree_sizes=(.*)$", data, flags=re.MULTILINE)
    if header is None:
        raise CorruptModelError(f"{path}: no tree_sizes header; not a LightGBM text model")
    try:
        sizes = [int(v) for v in header.group(1).split()]
    except ValueError:
        raise CorruptModelError(f"{path}: unreadable tree_sizes header") from None
    first = data.find(b"\nTree=0\n")
    pos = first + 1
    for i, size in enumerate(sizes):
        if first < 0 or not data.startswith(f"Tree={i}\n".encode(), pos):
            raise CorruptModelError(f"{path}: tree {i} is not where tree_sizes puts it; the file was altered")
        pos += size
    if not data.startswith(b"end of trees", pos):
        raise CorruptModelError(f"{path}: the trees do not end where tree_sizes says; the file was altered")


@dataclass
class LoadedRanker:
    """A ranker loaded from an export folder, as serving holds it.

    Attributes:
        booster: ``lightgbm.Booster`` read from ``model.txt``.
        spec: the feature spec read from ``feature_spec.json``.
    """

    booster: Any
    spec: FeatureSpec

    def score(self, matrix: np.ndarray) -> np.ndarray:
        """Scores of model input rows (``FeatureSpec.matrix`` / ``vector`` output)."""
        matrix = np.asarray(matrix, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != len(self.spec.features):
            raise ValueError(f"expected a (n, {len(self.spec.features)}) matrix, got shape {matrix.shape}")
        return self.booster.predict(matrix)

    def score_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """Scores of a frame with one column per feature."""
        return self.score(self.spec.matrix(frame))

    def score_vectors(self, vectors: list[dict]) -> np.ndarray:
        """Scores of candidates given as feature dicts (the serving entry point)."""
        return self.score(self.spec.matrix_from_vectors(vectors))


def load_ranker(folder: Path | str) -> LoadedRanker:
    """Load an exported ranker the way serving does.

    Args:
        folder: the export folder.

    Returns:
        The loaded ranker.

    Raises:
        FileNotFoundError: when ``model.txt`` or ``feature_spec.json`` is missing.
        CorruptModelError: when the model file's trees do not match its header.
        ValueError: when the model's feature names differ from the spec's.
    """
    import lightgbm as lgb

    folder = Path(folder)
    for name in (MODEL_FILE, SPEC_FILE):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"no {name} in {folder}")
    spec = FeatureSpec.from_json((folder / SPEC_FILE).read_text())
    check_model_structure(folder / MODEL_FILE)
    booster = lgb.Booster(model_file=str(folder / MODEL_FILE))
    if booster.feature_name() != spec.names:
        raise ValueError(
            f"{folder / MODEL_FILE} was trained on features {booster.feature_name()}, "
            f"but {SPEC_FILE} lists {spec.names}"
        )
    return LoadedRanker(booster, spec)


def golden_frame(spec: FeatureSpec, source: pd.DataFrame, n_golden: int = 200, seed: int = 0) -> pd.DataFrame:
    """The golden feature vectors (raw values, NaN = missing), without scores.

    Args:
        spec: the features.
        source: rows to draw from (the evaluation frame).
        n_golden: rows drawn (all when the source is smaller).
        seed: seed of the draw.

    Returns:
        One column per feature (float64) and ``golden_kind``; the drawn rows first, then the
        hand-made ones.
    """
    missing = [n for n in spec.names if n not in source.columns]
    if missing:
        raise KeyError(f"the golden source lacks feature columns {missing}")
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(source), size=min(n_golden, len(source)), replace=False))
    raw = pd.DataFrame(
        {
            n: pd.Series(source[n].to_numpy()[take]).astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
            for n in spec.names
        }
    )
    kinds = ["sample"] * len(raw)
    template = raw.iloc[0].to_dict() if len(raw) else dict.fromkeys(spec.names, 0.0)
    extra = [dict.fromkeys(spec.names, np.nan)]
    kinds.append("all_missing")
    for n in spec.names:
        extra.append({**template, n: np.nan})
        kinds.append(f"missing:{n}")
    for feature in spec.features:
        if feature.kind == "categorical" and feature.categories:
            seen = set(raw[feature.name].dropna().astype(int).tolist())
            unseen = [c for c in range(len(feature.categories)) if c not in seen]
            if unseen:
                extra.append({**template, feature.name: float(unseen[0])})
                kinds.append(f"category:{feature.name}")
    golden = pd.concat([raw, pd.DataFrame(extra, columns=spec.names)], ignore_index=True).astype(np.float64)
    golden[KIND_COLUMN] = kinds
    return golden


def check_parity(folder: Path | str, tolerance: float = PARITY_TOLERANCE) -> float:
    """Rescore the golden set with the exported model and compare with the trainer's scores.

    Scores every golden row twice through ``load_ranker``: as a matrix (``score_frame``) and as
    feature dicts with missing features left out (``score_vectors``).

    Args:
        folder: the export folder.
        tolerance: largest accepted absolute difference.

    Returns:
        The largest absolute difference.

    Raises:
        ParityError: when a difference exceeds ``tolerance`` (or a score is NaN on one side only).
    """
    folder = Path(folder)
    loaded = load_ranker(folder)
    golden = pd.read_parquet(folder / GOLDEN_FILE)
    expected = golden[SCORE_COLUMN].to_numpy(dtype=np.float64)
    from_matrix = loaded.score_frame(golden)
    vectors = [
        {k: v for k, v in row.items() if not (isinstance(v, float) and np.isnan(v))}
        for row in golden[loaded.spec.names].to_dict(orient="records")
    ]
    from_vectors = loaded.score_vectors(vectors)
    diffs = np.concatenate([np.abs(from_matrix - expected), np.abs(from_vectors - expected)])
    if np.isnan(diffs).any():
        raise ParityError(f"{folder}: a golden score is NaN on one side only")
    worst = float(diffs.max()) if len(diffs) else 0.0
    if worst > tolerance:
        bad = int((np.maximum(np.abs(from_matrix - expected), np.abs(from_vectors - expected)) > tolerance).sum())
        raise ParityError(
            f"{folder}: the exported model scores {bad} of {len(golden)} golden rows differently from the trainer "
            f"(max |diff| {worst:.3g} > {tolerance:g}); the model file or the spec does not match the trained model"
        )
    return worst


@dataclass(frozen=True)
class ExportResult:
    """What ``export_ranker`` wrote.

    Attributes:
        folder: the export folder.
        files: the file names written.
        golden_rows: rows in the golden set.
        parity_max_abs_diff: largest |trainer − loaded| score difference on the golden set.
    """

    folder: Path
    files: tuple[str, ...]
    golden_rows: int
    parity_max_abs_diff: float


def export_ranker(fitted: Any, golden_source: pd.DataFrame, folder: Path | str, n_golden: int = 200, seed: int = 0):
    """Write ``model.txt``, ``feature_spec.json`` and ``golden.parquet``, then check parity.

    Args:
        fitted: a ``ltrr.rank.train.FittedRanker``.
        golden_source: the rows the golden set is drawn from (the evaluation frame).
        folder: the export folder (created; existing export files are replaced).
        n_golden: rows drawn into the golden set.
        seed: seed of the draw.

    Returns:
        An ``ExportResult``.

    Raises:
        ParityError: when the exported model does not reproduce the trainer's scores.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec: FeatureSpec = fitted.spec
    fitted.booster.save_model(str(folder / MODEL_FILE), num_iteration=fitted.best_iteration)
    (folder / SPEC_FILE).write_text(spec.to_json())
    golden = golden_frame(spec, golden_source, n_golden=n_golden, seed=seed)
    golden[SCORE_COLUMN] = fitted.predict(golden)
    golden.to_parquet(folder / GOLDEN_FILE, index=False)
    worst = check_parity(folder)
    return ExportResult(folder, EXPORT_FILES, len(golden), worst)
