"""The nightly policy job on bandit rows whose true values are known (``SyntheticBandit``).

The synthetic world's context columns are mapped onto the nightly context spec
(``n_words`` -> ``query_tokens``, ``device`` -> ``device``, ``history`` -> ``user_searches``,
``head`` -> ``query_searches``; every other feature at its default), and its rows are written
where ``jobs/build_bandit_dataset.py`` writes them. No Spark: the policy job reads Parquet.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ltrr.bandit.context import ContextLookups
from ltrr.bandit.policy import load_policy
from ltrr.bandit.policy_day import PolicySkipped, rejection_path, skip_path, train_policy_day
from ltrr.bundle.sources import read_policy
from ltrr.report.summary import day_summary, format_day_summary, policy_outcome
from ltrr.retrieval.plans import PLAN_MENU
from ltrr.serving.plan_choice import LearnedPlanChooser
from ltrr.zones import artifact_dir

from .synthetic_days import write_synthetic_days

DAYS = ("2026-02-01", "2026-02-02", "2026-02-03")
# The day-0 plans (the logging rule's greedy choices) and two that a learned policy can prefer.
MENU = tuple(
    p
    for p in PLAN_MENU
    if p.plan_id in {"lex100", "lex75_pop25", "lex50_pop50", "lex25_pop75", "mem50_lex50", "pers50_lex50"}
)


def _write_days(root: Path, rows_per_day: int = 8000) -> None:
    write_synthetic_days(root, MENU, DAYS[0], len(DAYS), rows_per_day)


@pytest.fixture()
def world(settings):
    _write_days(settings.data_root)
    # Small models and few bootstrap replicates keep the test fast; the defaults are for nightly runs.
    return settings.model_copy(update={"bandit_min_ess": 100.0, "bandit_bootstrap": 200, "bandit_num_boost_round": 60})


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_publishes_a_better_policy_then_keeps_it_when_the_next_one_is_refused(world) -> None:
    root = world.data_root
    report = train_policy_day(world, DAYS[1])
    assert report["outcome"] == "published", report["reasons"]
    assert report["window"]["split"] == "last_day"
    assert report["rows"] == {"train": 8000, "holdout": 8000}
    # Safe improvement: the DR lower bound clears the logged (day-0 rule) value on the holdout day.
    gate = report["gate"]
    assert gate["passed"] and gate["new"]["ci_low"] >= gate["champion"]["value"]
    assert set(report["estimates"]) == {"ips", "snips", "dm", "dr", "switch_dr"}
    folder = artifact_dir(root, DAYS[1], "policy")
    policy = load_policy(folder)  # checksum and golden parity, as serving loads it
    assert [p.plan_id for p in policy.menu] == [p.plan_id for p in MENU]
    # Serving draws plans with exactly the probability it logs as the propensity.
    chooser = LearnedPlanChooser(policy, ContextLookups())
    rng = np.random.default_rng(0)
    context = {"local_hour": "21", "weekday": "sat", "device": "tv", "locale": "en-US"}
    for query in ("", "love songs", "a b c d e"):
        plan, propensity = chooser.choose(query, context, rng, user_id="u1")
        probs = policy.probabilities_frame(pd.DataFrame([chooser.features(query, context, "u1")]))[0]
        assert propensity == probs[policy.plan_ids.index(plan.plan_id)] >= policy.floor
    on_disk = json.loads((folder / "report.json").read_text())
    assert "timings_s" not in on_disk and on_disk["outcome"] == "published"
    assert read_policy(folder).passed

    # A re-run of the same day writes the same bytes (the bundle's content hash depends on it).
    before = {name: _sha(folder / name) for name in ("model.txt", "policy.json", "golden.json", "report.json")}
    train_policy_day(world, DAYS[1])
    assert {name: _sha(folder / name) for name in before} == before

    # An impossible margin refuses day 3's policy: the champion of day 2 is carried forward.
    strict = world.model_copy(update={"bandit_min_improvement": 1.0})
    kept = train_policy_day(strict, DAYS[2])
    assert kept["outcome"] == "kept" and kept["kept_from"] == DAYS[1]
    assert any("margin" in r for r in kept["reasons"])
    kept_dir = artifact_dir(root, DAYS[2], "policy")
    assert _sha(kept_dir / "model.txt") == before["model.txt"]
    assert _sha(kept_dir / "policy.json") == before["policy.json"]
    assert json.loads((kept_dir / "champion_report.json").read_text())["outcome"] == "published"
    assert rejection_path(root, DAYS[2]).is_file()
    facts = read_policy(kept_dir)
    assert facts.passed and facts.metrics["outcome"] == "kept" and facts.metrics["kept_from"] == DAYS[1]
    # ``ltrr summary`` reports both days as they happened.
    assert policy_outcome(world, DAYS[1])["status"] == "published"
    summary = policy_outcome(world, DAYS[2])
    assert summary["status"] == "kept" and summary["reasons"] == kept["reasons"]
    assert summary["dr"]["value"] == kept["gate"]["new"]["value"]
    line = format_day_summary(day_summary(world, DAYS[2]))
    assert "plan policy: kept; DR value" in line
    # The refusal record keeps the evidence the training logs held, and the summary quotes it.
    evidence = kept["evidence"]
    assert evidence["rows"] == kept["rows"]["train"] and set(evidence["plans"]) == {p.plan_id for p in MENU}
    assert summary["detectable_gap"] == evidence["median_detectable_gap"] > 0
    assert f"separate plans {evidence['median_detectable_gap']:.3f} apart" in line


def test_a_single_day_refused_without_a_champion_publishes_nothing_and_a_thin_window_is_skipped(world) -> None:
    # One day only: the holdout is a hash share of it. An impossible margin refuses the policy,
    # and with no earlier policy there is nothing to keep: nothing is published.
    strict = world.model_copy(update={"bandit_min_improvement": 1.0, "bandit_train_days": 1})
    report = train_policy_day(strict, DAYS[0])
    assert report["window"]["split"].startswith("hash")
    assert report["rows"]["train"] + report["rows"]["holdout"] == 8000
    assert 0.15 < report["rows"]["holdout"] / 8000 < 0.25
    assert report["outcome"] == "refused"
    assert not artifact_dir(world.data_root, DAYS[0], "policy").exists()
    refusal = json.loads(rejection_path(world.data_root, DAYS[0]).read_text())
    assert refusal["reasons"] == report["reasons"] and refusal["reasons"]
    assert policy_outcome(world, DAYS[0])["status"] == "refused"

    with pytest.raises(PolicySkipped, match="fewer than bandit_min_train_searches"):
        train_policy_day(world.model_copy(update={"bandit_min_train_searches": 100_000}), DAYS[1])
    assert json.loads(skip_path(world.data_root, DAYS[1]).read_text())["outcome"] == "skipped"
    assert not artifact_dir(world.data_root, DAYS[1], "policy").exists()


def test_missing_day_rows_is_a_clear_error(world) -> None:
    with pytest.raises(FileNotFoundError, match="no bandit rows for 2026-02-09"):
        train_policy_day(world, "2026-02-09")


def test_dataset_gate_fails_a_rejected_day_and_names_a_missing_one(settings) -> None:
    from ltrr.orchestration.checks import DayRejected, require_bandit_dataset
    from ltrr.zones import validation_dir

    ds = DAYS[0]
    with pytest.raises(FileNotFoundError, match="did build_bandit_dataset run"):
        require_bandit_dataset(settings, ds)
    published = artifact_dir(settings.data_root, ds, "bandit_dataset")
    published.mkdir(parents=True)
    (published / "report.json").write_text(json.dumps({"counts": {"rows": 3, "searches": 3}}))
    assert require_bandit_dataset(settings, ds) == {"rows": 3, "searches": 3}
    rejected = validation_dir(settings.data_root, ds) / "bandit_dataset_rejected.json"
    rejected.parent.mkdir(parents=True)
    rejected.write_text("{}")
    with pytest.raises(DayRejected, match="bandit rows of 2026-02-01 failed validation"):
        require_bandit_dataset(settings, ds)
