"""One day of the ranker job: read the training rows, fit, evaluate, gate and publish ``artifacts/ranker/ds=D/``.

Which rows play which part (never pick anything on the evaluation day itself):

- **train**: the shown rows of the ``rank_train_days`` days before D except the last one,
  from searches with at least one positive label (rows without a positive label give
  LambdaMART no pair to learn from);
- **valid**: the same from the last day before D (early stopping). With only one day of
  history, that day is split by a hash of the search id (80 % train, 20 % valid);
- **evaluation**: day D. The observable metrics rerank D's shown rows (IPS-weighted NDCG of
  the graded labels); on the simulated world the truth metrics rank the whole candidate union
  of a deterministic sample of D's searches (among those whose union the training set kept)
  against the true relevance (``sim/truth``), read
  only here and never for features or training.

The examination curve is the memory job's estimate of D - 1 (estimated from randomized
shown orders before D). Layout of the artifact: ``model.txt``, ``feature_spec.json``,
``golden.parquet``, ``metrics.json`` (written by ``ltrr.rank.day``), ``validation.json`` (GX
suite of the metrics), ``report.json``.

When the gate (or the metrics suite) refuses the model, ``validation/ds=D/ranker_rejected.json``
records why, and the refused model is never published. The champion ranker (the newest
published or kept ranker before D) is carried forward: its files are copied unchanged into
``artifacts/ranker/ds=D/`` with ``report.json`` saying ``outcome: kept`` (and today's refusal)
and the champion's own report as ``champion_report.json``. The day's bundle then ships fresh
memory, embeddings, retrieval and policy with the ranker that already passed its gate, instead
of the refusal holding every other artifact back. Without a champion nothing is written, and
the bundle ships without a ranker, as every earlier bundle did.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from ltrr.config import Settings
from ltrr.debias.examination import ExaminationCurve
from ltrr.memory.artifact import publish, staging_dir, write_json
from ltrr.rank.checks import metrics_expectations, metrics_frame
from ltrr.rank.day import train_ranker_day
from ltrr.rank.features import ranker_feature_spec
from ltrr.rank.train import RankerParams
from ltrr.rank.training_day import ARTIFACT as TRAINING_SET
from ltrr.schemas import TRUTH
from ltrr.validate.gx_runner import run_suite
from ltrr.zones import artifact_dir, partition_path, validation_dir

ARTIFACT = "ranker"
VALID_SHARE = 0.2
"""Share of searches held out for early stopping when only one day of history exists."""


class RankerRejected(RuntimeError):
    """The gate (or the metrics suite) refused the day's model; the message says why."""


class RankerSkipped(RuntimeError):
    """Too little history to fit a ranker at all; the message says what is missing."""


def rejection_path(data_root: Path, ds: str) -> Path:
    """Where a refused model leaves its reasons (read by the DAG's gate and the bundle)."""
    return validation_dir(data_root, ds) / "ranker_rejected.json"


def skip_path(data_root: Path, ds: str) -> Path:
    """Where a day without enough history records why no ranker was fitted."""
    return validation_dir(data_root, ds) / "ranker_skipped.json"


CHAMPION_FILES = ("model.txt", "feature_spec.json", "golden.parquet", "metrics.json", "validation.json")
"""The files of a ranker artifact that a kept artifact copies from the champion."""


def latest_ranker(root: Path, ds: str) -> Path | None:
    """The newest ranker artifact before ``ds`` that serves a model (published or kept)."""
    base = root / "artifacts" / ARTIFACT
    if not base.is_dir():
        return None
    for folder in sorted(base.glob("ds=*"), reverse=True):
        if folder.name.removeprefix("ds=") >= ds or not (folder / "report.json").is_file():
            continue
        report = json.loads((folder / "report.json").read_text())
        if report.get("passed") is True and report.get("outcome", "published") in ("published", "kept"):
            return folder
    return None


def keep_champion(root: Path, ds: str, refusal: dict) -> dict | None:
    """Carry the champion ranker forward into ``artifacts/ranker/ds=D/`` after D's model was refused.

    Args:
        root: the data root.
        ds: the day whose model was refused.
        refusal: the refusal record (``ranker_rejected.json``: reasons, gate, ndcg@10).

    Returns:
        The kept artifact's report, or None when no earlier ranker exists (nothing is written).
    """
    champion = latest_ranker(root, ds)
    if champion is None:
        return None
    champion_report = json.loads((champion / "report.json").read_text())
    final = artifact_dir(root, ds, ARTIFACT)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    try:
        for name in CHAMPION_FILES:
            if (champion / name).is_file():
                shutil.copy2(champion / name, staging / name)
        shutil.copy2(champion / "report.json", staging / "champion_report.json")
        report = {
            **champion_report,
            "ds": ds,
            "outcome": "kept",
            # The model in this folder passed its own gate on the day it was trained.
            "kept_from": champion_report.get("kept_from") or champion.name.removeprefix("ds="),
            "refused": {k: refusal.get(k) for k in ("reasons", "gate", "ndcg@10", "split", "rows")},
        }
        write_json(staging / "report.json", report)
        publish(staging, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return json.loads((final / "report.json").read_text())


def _skip(root: Path, ds: str, reason: str) -> RankerSkipped:
    path = skip_path(root, ds)
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(artifact_dir(root, ds, ARTIFACT), ignore_errors=True)  # a re-run must not keep an older model
    write_json(path, {"ds": ds, "reason": reason})
    return RankerSkipped(reason)


def params_from_settings(settings: Settings) -> RankerParams:
    """The LightGBM ranker parameters of the run settings."""
    return RankerParams(
        num_leaves=settings.rank_num_leaves,
        learning_rate=settings.rank_learning_rate,
        min_data_in_leaf=settings.rank_min_data_in_leaf,
        num_boost_round=settings.rank_num_boost_round,
        early_stopping_rounds=settings.rank_early_stopping_rounds,
        debias=settings.rank_debias,
        max_weight=settings.rank_max_weight,
        seed=settings.seed,
    )


def _days_before(ds: str, n: int) -> list[str]:
    day = dt.date.fromisoformat(ds)
    return [(day - dt.timedelta(days=k)).isoformat() for k in range(n, 0, -1)]


def _rows(spark: SparkSession, root: Path, ds: str) -> DataFrame | None:
    folder = artifact_dir(root, ds, TRAINING_SET) / "rows"
    return spark.read.parquet(str(folder)) if folder.is_dir() else None


def sample_day_searches(rows: DataFrame, limit: int) -> tuple[DataFrame, dict]:
    """At most ``limit`` searches of one day's training rows: those with the lowest hash of their id.

    The ranker learns little more from a million searches a day than from a hundred thousand,
    but collecting them into pandas would take the ten million shown rows of a large-world day
    into the driver. The sample is deterministic (a re-run reads the same searches) and keeps
    whole searches, so every query's list stays complete. It is the rule of the evaluation's
    union sample, which therefore stays inside the evaluation's sample.

    Args:
        rows: one day's training rows.
        limit: most searches to keep (``LTRR_RANK_MAX_DAY_SEARCHES``).

    Returns:
        The rows of the kept searches (``rows`` itself when the day has no more than
        ``limit``), and ``{"searches": day's searches, "read": searches kept}`` for the report.
    """
    ids = rows.select("search_id").distinct()
    n = ids.count()
    if n <= limit:
        return rows, {"searches": n, "read": n}
    keep = ids.orderBy(F.xxhash64("search_id"), "search_id").limit(limit)
    return rows.join(F.broadcast(keep), "search_id", "left_semi"), {"searches": n, "read": limit}


def _learning_rows(rows: DataFrame) -> DataFrame:
    """Shown rows of searches with at least one positive label."""
    positive = rows.where(F.col("label") > 0).select("search_id").distinct()
    return rows.where(F.col("shown_position").isNotNull()).join(positive, "search_id", "left_semi")


ROW_ORDER = ("search_id", "shown_position", "entity_id")


def _to_pandas(frame: DataFrame, scratch: Path) -> pd.DataFrame:
    """Collect ``frame`` to pandas through Parquet: Spark writes it under ``scratch``, pyarrow reads it.

    ``toPandas`` keeps every collected Arrow batch in the driver's block manager: on a medium
    day it ran the default 2 GB driver out of heap (``TaskResultLost``, ``OutOfMemoryError``)
    in one of three runs. Through files the driver holds nothing, and the frame is the same.
    It is not slower: 10.3 s instead of 18.5 s for the 727,541 training rows of a medium day on
    a busy machine, 30 s against 32 s for the job's four frames on a quiet one. Rows are in
    ``ROW_ORDER`` with nulls first, as Spark's ``orderBy`` sorts them.
    """
    path = scratch / f"frame-{uuid.uuid4().hex[:8]}"
    frame.write.parquet(str(path))
    if not any(path.glob("*.parquet")):  # nothing written for an empty frame: take its schema
        out = frame.limit(0).toPandas()
    else:
        out = pq.read_table(path).to_pandas()
        out = out.sort_values(list(ROW_ORDER), na_position="first", kind="stable").reset_index(drop=True)
    shutil.rmtree(path, ignore_errors=True)
    for column in ("shown_position", "label"):
        out[column] = out[column].astype("Int64")
    return out


def _curve(root: Path, ds: str) -> tuple[ExaminationCurve, str]:
    """The latest memory examination curve before ``ds`` (flat when none exists, recorded)."""
    for day in reversed(_days_before(ds, 30)):
        path = artifact_dir(root, day, "q2e") / "examination.json"
        if path.is_file():
            return ExaminationCurve.load(path), str(path)
    flat = ExaminationCurve(probabilities=(1.0,) * 10, method="flat", reason="no examination curve before the day")
    return flat, "flat: no memory artifact before the day"


def _truth(spark: SparkSession, root: Path, ds: str) -> DataFrame | None:
    path = partition_path(root, "sim", "truth", ds)
    if not path.is_dir():
        return None
    truth = spark.read.schema(TRUTH).parquet(str(path))
    return truth.select("search_id", F.explode("relevance").alias("r")).select(
        "search_id", F.col("r.entity_id").alias("entity_id"), F.col("r.relevance").alias("true_relevance")
    )


def _ndcg10(metrics: dict) -> dict:
    """NDCG@10 (mean and interval) of every scorer, per metric block: the figures people compare."""
    out = {}
    for scope in ("observable", "truth"):
        block = metrics.get(scope)
        if block:
            out[scope] = {name: by_k.get("ndcg@10") for name, by_k in block["scorers"].items()}
    return out


def build_ranker_day(spark: SparkSession, settings: Settings, ds: str) -> dict:
    """Fit, evaluate, gate and publish the ranker of ``ds``.

    Args:
        spark: the job's session.
        settings: run settings.
        ds: the evaluation day (its training rows must exist; the model learns from the days before).

    Returns:
        The report (also written as ``report.json``).

    Raises:
        FileNotFoundError: when the training rows of ``ds`` do not exist.
        RankerSkipped: when the days before hold fewer than ``rank_min_train_searches``
            searches with a positive label (recorded in ``validation/ds=D/ranker_skipped.json``;
            the day's bundle then has no ranker and serving keeps its day-0 order).
        RankerRejected: when the gate or the metrics suite refuses the model and no earlier
            ranker exists to keep (recorded in ``validation/ds=D/ranker_rejected.json``).
            With an earlier ranker, the refusal is recorded the same way, the champion is
            kept (see the module docstring) and its report is returned.
    """
    root = settings.data_root
    # The large frames are collected through Parquet files (_to_pandas); what still goes through
    # toPandas (the checks' small aggregates) uses Arrow batches rather than one Python Row per row.
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    rejected = rejection_path(root, ds)
    rejected.unlink(missing_ok=True)
    skip_path(root, ds).unlink(missing_ok=True)
    scratch = staging_dir(artifact_dir(root, ds, ARTIFACT))  # collected frames pass through here
    try:
        return _build(spark, settings, ds, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _build(spark: SparkSession, settings: Settings, ds: str, scratch: Path) -> dict:
    """``build_ranker_day`` once its records are reset; ``scratch`` holds the frames being collected."""
    root = settings.data_root
    rejected = rejection_path(root, ds)
    evaluation = _rows(spark, root, ds)
    if evaluation is None:
        raise FileNotFoundError(f"no training rows for {ds}; run build_training_set for {ds} first")
    history = [(day, _rows(spark, root, day)) for day in _days_before(ds, settings.rank_train_days)]
    history = [(day, rows) for day, rows in history if rows is not None]
    if not history:
        raise _skip(root, ds, f"no training rows in the {settings.rank_train_days} days before {ds}")
    read: dict[str, dict] = {}
    for i, (day, rows) in enumerate(history):
        rows, read[day] = sample_day_searches(rows, settings.rank_max_day_searches)
        history[i] = (day, rows)
    evaluation, read[ds] = sample_day_searches(evaluation, settings.rank_max_day_searches)
    days = [day for day, _ in history]
    learning = [_learning_rows(rows) for _, rows in history]
    if len(learning) == 1:
        bucket = F.pmod(F.xxhash64("search_id"), F.lit(100))
        train_df = learning[0].where(bucket >= int(VALID_SHARE * 100))
        valid_df = learning[0].where(bucket < int(VALID_SHARE * 100))
        split = {"train": days, "valid": f"{days[0]} (hash split, {VALID_SHARE:.0%} of searches)"}
    else:
        train_df = learning[0]
        for frame in learning[1:-1]:
            # Days built by an older release may lack newer id columns (e.g. full_union): null there.
            train_df = train_df.unionByName(frame, allowMissingColumns=True)
        valid_df = learning[-1]
        split = {"train": days[:-1], "valid": days[-1]}
    train = _to_pandas(train_df, scratch)
    n_train = int(train["search_id"].nunique()) if len(train) else 0
    if n_train < settings.rank_min_train_searches:
        raise _skip(
            root,
            ds,
            f"only {n_train} training searches with a positive label before {ds} "
            f"(< LTRR_RANK_MIN_TRAIN_SEARCHES={settings.rank_min_train_searches})",
        )
    valid = _to_pandas(valid_df, scratch)
    eval_shown = _to_pandas(evaluation.where(F.col("shown_position").isNotNull()), scratch)
    sample = (
        evaluation.where(F.col("full_union"))
        .select("search_id")
        .distinct()
        .orderBy(F.xxhash64("search_id"), "search_id")
        .limit(settings.rank_eval_union_searches)
    )
    union_df = evaluation.join(sample, "search_id", "left_semi")
    truth = _truth(spark, root, ds)
    if truth is not None:
        union_df = union_df.join(truth, ["search_id", "entity_id"], "left")
    eval_union = _to_pandas(union_df, scratch)
    curve, curve_source = _curve(root, ds)

    final = artifact_dir(root, ds, ARTIFACT)
    staging = staging_dir(final)
    staging.mkdir(parents=True)
    try:
        report = train_ranker_day(
            train,
            valid,
            eval_shown,
            eval_union,
            ranker_feature_spec(),
            curve,
            params_from_settings(settings),
            staging,
            fit_naive=settings.rank_compare_naive,
            n_boot=settings.rank_bootstrap,
            seed=settings.seed,
            include_timings=False,
        )
        gx = run_suite(
            metrics_frame(report.metrics),
            suite_name="ltrr-ranker-metrics",
            expectations=metrics_expectations,
            result_path=staging / "validation.json",
        )
        reasons = list(report.reasons) if not report.passed else []
        reasons += [f"metrics suite: {line}" for line in gx.failed]
        summary = {
            "ds": ds,
            "outcome": "published" if report.passed and gx.success else "refused",
            "passed": report.passed and gx.success,
            "reasons": reasons,
            "gate": report.metrics.get("gate"),
            "split": split,
            "rows": {
                "train": len(train),
                "train_searches": n_train,
                "valid": len(valid),
                "eval_shown": len(eval_shown),
                "eval_union": len(eval_union),
            },
            "day_searches": read,
            "truth_metrics": truth is not None,
            "ndcg@10": _ndcg10(report.metrics),
            "examination_curve": curve_source,
            "validation": gx.to_dict(),
        }
        if not summary["passed"]:
            rejected.parent.mkdir(parents=True, exist_ok=True)
            write_json(rejected, summary)
            # A re-run that refuses the model must not leave an earlier model of the day published.
            shutil.rmtree(final, ignore_errors=True)
            refused = True
        else:
            write_json(staging / "report.json", summary)
            publish(staging, final)
            refused = False
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    if refused:
        kept = keep_champion(root, ds, summary)
        if kept is None:
            raise RankerRejected(f"ranker of {ds} refused: {'; '.join(reasons)} (record: {rejected})")
        return kept
    return json.loads((final / "report.json").read_text())
