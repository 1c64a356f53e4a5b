"""The one settings object of ltrr, read from ``LTRR_*`` environment variables.

Every entry point (CLI, Spark jobs, DAG tasks, tests) builds one ``Settings`` and passes it
down; nothing in ``ltrr`` reads the environment at import time. Every field is documented in
``docs/configuration.md`` (a test checks that the two agree).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "LTRR_"

SimScale = Literal["small", "medium", "large"]


class ConfigError(ValueError):
    """A setting has a value ltrr cannot use; the message names the environment variable."""


class Settings(BaseSettings):
    """Runtime configuration, one immutable object passed down explicitly.

    Relative paths are resolved against the working directory when the object is built,
    so a settings object handed to a subprocess (``to_env``) means the same files.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    # --- where things live ---------------------------------------------------------------
    data_root: Path = Field(Path("data"), description="Root of the log zones (raw, clean, quarantine, validation).")
    state_dir: Path = Field(Path(".ltrr"), description="Local state: Airflow home, MLflow sqlite DB, run summaries.")
    bundle_store: str = Field("bundles", description="Bundle store: a local path or any fsspec URL (s3://...).")
    mlflow_tracking_uri: str = Field(
        "", description="MLflow tracking/registry URI; empty means sqlite under state_dir."
    )
    alert_webhook_url: str = Field(
        "",
        description="URL the nightly DAG POSTs a JSON record to when a task fails for good (empty: none).",
    )

    # --- Spark ----------------------------------------------------------------------------
    spark_master: str = Field("local[*]", description="Spark master URL used by jobs and the spark_default connection.")
    spark_driver_memory: str = Field("2g", description="Driver memory of Spark jobs (spark.driver.memory).")
    spark_shuffle_partitions: int = Field(8, ge=1, description="spark.sql.shuffle.partitions for jobs.")
    spark_driver_java_options: str = Field(
        "",
        description=(
            "Extra JVM options of the Spark driver (spark.driver.extraJavaOptions; spark-submit gets them on its "
            "command line). Empty in production. Short jobs on small data (tests, `make run`) start faster with "
            "'-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=256m' (C1 JIT only; see docs/performance.md)."
        ),
    )

    spark_py_files: str = Field(
        "",
        description=(
            "Comma-separated files the DAG passes to spark-submit as --py-files, e.g. the zip of ltrr built by "
            "ltrr.orchestration.package.build_py_files, for clusters whose workers do not have ltrr installed. "
            "Empty: none (local mode and images that contain ltrr need none)."
        ),
    )

    # --- simulated world ------------------------------------------------------------------
    seed: int = Field(7, description="Master random seed: the same seed gives the same world and logs.")
    sim_scale: SimScale = Field(
        "medium", description="Simulation scale: small (tests), medium (make run), large (benchmarks)."
    )
    sim_start: dt.date = Field(dt.date(2026, 1, 5), description="First simulated day (YYYY-MM-DD).")
    sim_days: int = Field(3, ge=1, description="Number of simulated days `make run` generates.")
    sim_exploration: float = Field(
        0.2, gt=0, le=1, description="Share of searches whose retrieval plan is drawn uniformly (epsilon)."
    )
    sim_randomized_share: float = Field(
        0.05,
        ge=0,
        le=1,
        description="Share of searches shown in a uniformly random order (for position-bias estimation).",
    )

    # --- validation -----------------------------------------------------------------------
    max_rejected_share: float = Field(
        0.02, ge=0, le=1, description="A day fails validation when a table's quarantined share exceeds this."
    )

    # --- Q2E memory -------------------------------------------------------------------------
    q2e_window_days: int = Field(30, ge=1, description="Look-back window of the memory job, in days ending at ds.")
    q2e_half_life_days: float = Field(
        7.0, gt=0, description="Half-life of the exponential time decay of memory counts."
    )
    q2e_top_n: int = Field(50, ge=1, description="Entities kept per query in the memory table.")
    q2e_prior_strength: float = Field(
        5.0, gt=0, description="Pseudo-trials of the Beta prior that smooths memory scores."
    )
    q2e_cold_max_impressions: int = Field(
        20, ge=0, description="Entities with fewer window impressions get predicted (cold-start) pairs."
    )
    q2e_new_days: int = Field(
        7, ge=1, description="Entities added within this many days get typo and prefix keys predicted."
    )
    examination_min_top_clicks: int = Field(
        30, ge=1, description="Fewest position-1 clicks on randomized searches needed to estimate examination."
    )

    # --- embeddings and ANN (docs/embeddings.md) -------------------------------------------
    embed_window_days: int = Field(
        30, ge=1, description="Look-back window of the interactions job, in days ending at ds."
    )
    embed_half_life_days: float = Field(
        14.0, gt=0, description="Half-life of the exponential time decay of engagement weights, in days."
    )
    embed_alpha: float = Field(
        2.0, gt=0, description="Confidence slope: confidence = 1 + alpha * decayed engagement weight."
    )
    embed_model: Literal["als", "bpr"] = Field("als", description="Factorization model: als (default) or bpr.")
    embed_factors: int = Field(64, ge=2, description="Latent factors per user and entity.")
    embed_regularization: float = Field(1.0, ge=0, description="L2 regularization of the factor model.")
    embed_iterations: int = Field(15, ge=1, description="ALS sweeps (or BPR epochs) of the factor model.")
    embed_learning_rate: float = Field(0.05, gt=0, description="BPR learning rate (ignored by ALS).")
    embed_num_threads: int = Field(
        1, ge=1, description="Threads of the ALS solver (BPR always uses 1, to stay deterministic)."
    )
    embed_popularity_weight: float = Field(
        32.0, ge=0, description="Weight of the popularity prior added to personalized scores (0 turns it off)."
    )
    embed_n_trees: int = Field(50, ge=1, description="Trees of the Annoy index over entity vectors.")
    embed_search_k: int = Field(
        100_000, ge=1, description="First Annoy search_k (nodes inspected per query) the recall gate measures."
    )
    embed_max_search_k: int = Field(
        1_600_000,
        ge=1,
        description="Largest search_k the recall gate doubles up to; the passing value is recorded for serving.",
    )
    embed_recall_threshold: float = Field(
        0.95, ge=0, le=1, description="Recall gate: least recall@10 of Annoy against exact search."
    )
    embed_recall_sample: int = Field(
        500, ge=1, description="Users and entities sampled (each) as queries of the recall gate."
    )
    embed_max_norm: float = Field(
        1_000.0, gt=0, description="Validation bound: largest factor norm allowed (divergence guard)."
    )
    embed_eval_k: int = Field(50, ge=1, description="K of the next-day hit rate (personalized and popularity top-K).")
    embed_eval_max_users: int = Field(
        20_000, ge=1, description="Most users (a hash sample, whole users) the next-day hit rate judges."
    )

    # --- ranker (docs/ranker.md) -----------------------------------------------------------
    rank_history_days: int = Field(
        30, ge=1, description="Window of the ranker's counter features, in days ending the day before the search."
    )
    rank_union_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Share of searches whose unshown candidates the training set keeps (shown ones always).",
    )
    rank_train_days: int = Field(
        7,
        ge=1,
        description="Days of training rows before ds the ranker learns from; the last one is the validation slice.",
    )
    rank_debias: Literal["ipw", "lightgbm_position", "none"] = Field(
        "lightgbm_position",
        description="Position-bias correction: lightgbm_position (unbiased lambdarank), ipw (1/examination) or none.",
    )
    rank_max_weight: float = Field(10.0, ge=1, description="Largest inverse-propensity weight of a clicked row.")
    rank_num_boost_round: int = Field(300, ge=1, description="Most boosting rounds (early stopping picks fewer).")
    rank_learning_rate: float = Field(0.05, gt=0, description="LightGBM learning rate of the ranker.")
    rank_num_leaves: int = Field(31, ge=2, description="LightGBM leaves per tree of the ranker.")
    rank_min_data_in_leaf: int = Field(50, ge=1, description="LightGBM min_data_in_leaf of the ranker.")
    rank_early_stopping_rounds: int = Field(
        30, ge=1, description="Stop when validation NDCG@10 has not improved for this many rounds."
    )
    rank_compare_naive: bool = Field(
        True, description="Also fit a ranker without position-bias correction, for the naive-vs-debiased report."
    )
    rank_bootstrap: int = Field(
        1000, ge=50, description="Bootstrap resamples (of queries) of NDCG confidence intervals."
    )
    rank_eval_union_searches: int = Field(
        5_000,
        ge=1,
        description="Searches of the evaluation day whose whole candidate union is ranked for truth metrics.",
    )
    rank_min_train_searches: int = Field(
        200, ge=1, description="Fewest training searches with an engagement needed to fit a ranker at all."
    )
    rank_max_day_searches: int = Field(
        100_000,
        ge=1,
        description="Most searches of one day the ranker reads (train, valid, evaluation); a hash sample beyond.",
    )

    # --- bandit: retrieval-plan policy (docs/bandit.md) ----------------------------------------
    bandit_cost_per_candidate: float = Field(
        0.0002, ge=0, description="Reward units charged per candidate drawn (0.02 for a full 100-candidate plan)."
    )
    bandit_train_days: int = Field(
        7, ge=1, description="Days of bandit rows up to ds the policy job reads; the last one is the holdout."
    )
    bandit_min_plan_rows: int = Field(
        30, ge=1, description="Fewest logged rows a plan needs in the training days to stay in the policy's menu."
    )
    bandit_min_train_searches: int = Field(
        500, ge=1, description="Fewest training searches needed to learn a policy at all (else skipped, recorded)."
    )
    bandit_temperature: float = Field(
        0.0, ge=0, description="Softmax temperature of the policy, in reward units (0: epsilon-greedy)."
    )
    bandit_epsilon: float = Field(
        0.1, gt=0, le=1, description="Exploration floor: every plan keeps at least epsilon / |menu| probability."
    )
    bandit_max_weight: float = Field(
        10.0,
        ge=0,
        description="Cap on the importance weight 1/p in the policy scorer's pseudo-rewards (0: no cap; else >= 1).",
    )
    bandit_min_ess: float = Field(
        200.0, ge=1, description="Smallest effective sample size of the holdout estimate the gate accepts."
    )
    bandit_min_improvement: float = Field(
        0.0, ge=0, description="The new policy's DR lower bound must beat the logged value by this much."
    )
    bandit_bootstrap: int = Field(1000, ge=50, description="Bootstrap replicates of the policy value intervals.")
    bandit_num_boost_round: int = Field(
        200, ge=1, description="Boosting rounds of the reward model and of the policy's scorer (LightGBM)."
    )
    bandit_num_leaves: int = Field(31, ge=2, description="Leaves per tree of the bandit's reward model and scorer.")
    bandit_min_data_in_leaf: int = Field(
        50, ge=1, description="LightGBM min_data_in_leaf of the bandit's reward model and scorer."
    )

    # --- retrieval artifact and serving (docs/serving.md) -------------------------------------
    semantic_dims: int = Field(64, ge=1, description="Dimensions of the semantic (LSA) entity and query vectors.")
    retrieval_min_title_recall: float = Field(
        0.7, ge=0, le=1, description="Gate: share of sampled entities exact-title lexical search finds in its top 10."
    )
    serving_exploration: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Share of searches whose plan the Searcher draws uniformly from every plan its bundle can run.",
    )
    serving_randomized_share: float = Field(
        0.05, ge=0, le=1, description="Share of searches the Searcher shows in a uniformly random order."
    )

    # --- bundle publishing (docs/bundle.md) -------------------------------------------------
    bundle_keep: int = Field(
        10, ge=1, description="Bundles kept in the store; the champion and the rollback target are never deleted."
    )
    bundle_model_name: str = Field("ltrr-bundle", min_length=1, description="MLflow registered model of the bundles.")
    bundle_experiment: str = Field("ltrr-bundle", min_length=1, description="MLflow experiment of the publish runs.")

    @field_validator("data_root", "state_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("bundle_store", mode="after")
    @classmethod
    def _absolute_store(cls, value: str) -> str:
        if "://" in value:
            return value
        return str(Path(value).expanduser().resolve())

    @field_validator("bandit_max_weight", mode="after")
    @classmethod
    def _weight_cap(cls, value: float) -> float:
        if 0.0 < value < 1.0:
            raise ValueError("must be 0 (no cap) or at least 1 (a weight 1/p is never below 1)")
        return value

    @property
    def airflow_home(self) -> Path:
        """Airflow home of the embedded default (sqlite metadata DB)."""
        return self.state_dir / "airflow"

    @property
    def mlflow_uri(self) -> str:
        """The effective MLflow URI (sqlite under ``state_dir`` unless set)."""
        return self.mlflow_tracking_uri or f"sqlite:///{self.state_dir / 'mlflow.db'}"

    def to_env(self) -> dict[str, str]:
        """The ``LTRR_*`` variables that rebuild this object in a subprocess."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            env[ENV_PREFIX + name.upper()] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return env


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment (plus explicit overrides).

    Args:
        **overrides: field values that win over the environment.

    Returns:
        The frozen settings object.

    Raises:
        ConfigError: when a value is invalid; the message names the ``LTRR_*`` variable.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            problems.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']} (got {err.get('input')!r})")
        raise ConfigError("invalid ltrr settings: " + "; ".join(problems)) from None
