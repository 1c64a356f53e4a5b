"""A short closed-loop experiment (small world, 3 days) end to end, on the test run's Spark session.

Day 0 is served by the day-0 engine, days 1 and 2 by ``Searcher`` with the champion bundle the
in-process nightly pipeline published the night before. Checks: every arm is measured; the
oracle is never below any other arm (overall and per query kind and class); the LTR&R arm's hit
rate equals the one computed independently from the served day's own logs and truth; the
report has every section; the day's report travels in its bundle; a re-run resumes instead of
redoing days; other parameters on the same folder are refused.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ltrr.config import load_settings
from ltrr.experiment.arms import DAY0_RULE, LEARNED_UNGATED, LTRR, LTRR_GREEDY, ORACLE, UNIFORM
from ltrr.experiment.report import REPORT_SECTIONS
from ltrr.experiment.run import Experiment, ExperimentParams

START = dt.date(2026, 1, 5)
DAYS = [(START + dt.timedelta(days=i)).isoformat() for i in range(3)]


@pytest.fixture(scope="module")
def experiment(spark, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, object, ExperimentParams]:
    out = tmp_path_factory.mktemp("experiment")
    base = load_settings(spark_master="local[2]", spark_shuffle_partitions=2, semantic_dims=32, rank_bootstrap=200)
    params = ExperimentParams(days=3, scale="small", seed=11, start=START, max_ranked=200, run_gx=False)
    lines: list[str] = []
    results = Experiment(spark, base, params, out, log=lines.append).run()
    return results, out, base, params


def _logged_hit_rate(root: Path, ds: str) -> float:
    """Share of the day's searches whose logged candidates hold the intended entity (from the logs alone)."""
    searches = pq.read_table(root / "raw" / "searches" / f"ds={ds}", columns=["search_id", "candidates"]).to_pylist()
    truth = pq.read_table(root / "sim" / "truth" / f"ds={ds}", columns=["search_id", "intended_entity_id"])
    wanted = dict(
        zip(truth.column("search_id").to_pylist(), truth.column("intended_entity_id").to_pylist(), strict=True)
    )
    hits = [wanted[s["search_id"]] in {c["entity_id"] for c in s["candidates"]} for s in searches]
    return sum(hits) / len(hits)


def test_every_day_is_served_measured_and_published(experiment) -> None:
    results, out, _, _ = experiment
    assert [d["ds"] for d in results["days"]] == DAYS
    assert all(d["complete"] for d in results["days"])
    assert results["days"][0]["served_by"] == "day-0 engine" and results["days"][0]["arms"] == {}
    assert results["experiment"]["finished"] is True
    for day in results["days"][1:]:
        assert day["served_by"].startswith("bundle ")
        arms = day["arms"]
        assert {LTRR, LEARNED_UNGATED, DAY0_RULE, UNIFORM, ORACLE} <= set(arms)
        statics = [a for a in arms if a.startswith("static:")]
        assert "static:lex100" in statics and "static:mem100" in statics and len(statics) == len(day["plans"])
        n = arms[LTRR]["overall"]["searches"]
        assert n > 1000
        assert arms[LTRR]["overall"]["ranked_searches"] == 200
        for arm in arms.values():
            assert 0.0 <= arm["overall"]["hit_rate"] <= 1.0
            assert arm["overall"]["ndcg10"] is not None and 0.0 <= arm["overall"]["ndcg10"] <= 1.0
            # The bandit reward: a grade in [0, 1] minus at most 0.0002 x 200 candidate rows.
            assert arm["overall"]["value"] is not None and -0.04 <= arm["overall"]["value"] <= 1.0
        assert set(day["strategy_hit_rate"]["overall"]) == {
            "lexical",
            "memory",
            "personalized",
            "related",
            "popular",
            "semantic",
        }
        # A strategy alone at budget 100 is the single-strategy static plan.
        for strategy, plan in (("lexical", "lex100"), ("memory", "mem100"), ("semantic", "sem100")):
            assert day["strategy_hit_rate"]["overall"][strategy] == arms[f"static:{plan}"]["overall"]["hit_rate"]
    # The night before day 2 logged day 1 (bandit rows exist even when a gate blocked publication).
    ope = results["days"][2]["ope"]
    assert ope is not None and {"ips", "snips"} <= set(ope["estimates"])
    assert ope["realised"] is not None and ope["realised"]["n"] > 1000
    assert (out / "results.json").is_file()


def test_the_day0_rule_arm_is_what_served_day_1(experiment) -> None:
    # Day 1 is served by bundle 0, which has no policy: the day-0 rule plus 10 % uniform
    # exploration over the menu. The day0_rule arm replays the rule alone, so it must agree
    # with the logged plan on every search the exploration did not redraw (about 90 %).
    results = experiment[0]
    day = results["days"][1]
    assert "policy: none" in day["served_by"]
    # 90 % rule, plus the 10 % uniform redraws that land on the rule's plan by chance.
    menu = day["menu_size"]
    expected = 0.9 + 0.1 / menu
    assert abs(day["agreement_with_served"][DAY0_RULE] - expected) < 0.03, (day["agreement_with_served"], expected)
    # The paired difference is taken on the same ranked searches as the two arms' values.
    versus = day["value_vs_day0_rule"]["ltrr"]
    ltrr, rule = (day["arms"][a]["overall"] for a in ("ltrr", DAY0_RULE))
    assert versus["searches"] == ltrr["ranked_searches"] == rule["ranked_searches"]
    assert versus["difference"] == pytest.approx(ltrr["value"] - rule["value"], abs=1e-12)
    assert versus["ci"][0] <= versus["difference"] <= versus["ci"][1]


def test_policy_sweeps_agree_with_the_arms(experiment) -> None:
    # The sweep's greedy row is the learned_ungated arm computed another way (expectation over
    # the policy's scores instead of its recorded choice): the figures must be identical.
    results = experiment[0]
    for day in results["days"][1:]:
        sweep = day["policy_sweep"][LEARNED_UNGATED]
        arm = day["arms"][LEARNED_UNGATED]["overall"]
        assert sweep["greedy"]["value"] == pytest.approx(arm["value"], abs=1e-12)
        assert sweep["greedy"]["vs_day0_rule"]["difference"] == pytest.approx(
            day["value_vs_day0_rule"][LEARNED_UNGATED]["difference"], abs=1e-12
        )
        assert set(sweep) >= {"T=0", "T=0.02", "greedy", "policy_temperature", "policy_epsilon"}
        # ... and against the plans the day logged (the ltrr arm), paired on the same searches.
        assert sweep["greedy"]["vs_served"]["difference"] == pytest.approx(
            arm["value"] - day["arms"][LTRR]["overall"]["value"], abs=1e-12
        )
        assert sweep["greedy"]["vs_served"]["searches"] == arm["ranked_searches"]
        if LTRR_GREEDY in day["policy_sweep"]:
            # The served policy's exact expectation (its own temperature, floor and the serving
            # exploration) and the ltrr arm's sampled plans estimate the same value; the
            # sample's own interval bounds their gap.
            served = day["policy_sweep"][LTRR_GREEDY]
            as_served = served[f"T={served['policy_temperature']:g}"]["value"]
            ltrr = day["arms"][LTRR]["overall"]
            half = (ltrr["value_ci"][1] - ltrr["value_ci"][0]) / 2
            assert abs(as_served - ltrr["value"]) < 2 * half, (as_served, ltrr)
    last = results["days"][-1]["policy_sweep"][LEARNED_UNGATED]
    as_served = last[f"T={last['policy_temperature']:g}"]["vs_served"]
    assert results["summary"]["learned_policy_vs_served"] == as_served


def test_oracle_is_never_below_any_arm(experiment) -> None:
    results, _, _, _ = experiment
    for day in results["days"][1:]:
        arms = day["arms"]
        oracle = arms[ORACLE]
        for name, arm in arms.items():
            assert oracle["overall"]["hit_rate"] >= arm["overall"]["hit_rate"], name
            for group in ("by_query_kind", "by_query_class"):
                for key, metrics in arm[group].items():
                    if metrics["searches"]:
                        assert oracle[group][key]["hit_rate"] >= metrics["hit_rate"], (name, group, key)


def test_ltrr_arm_matches_the_served_logs(experiment) -> None:
    results, out, _, _ = experiment
    for day in results["days"][1:]:
        measured = day["arms"][LTRR]["overall"]["hit_rate"]
        assert measured == pytest.approx(_logged_hit_rate(out / "data", day["ds"]), abs=1e-12)


def test_report_has_every_section_and_rides_in_the_bundle(experiment) -> None:
    out = experiment[1]
    html = (out / "report.html").read_text()
    positions = [html.index(f'id="{section}"') for section in REPORT_SECTIONS]
    assert positions == sorted(positions)
    assert html.count("data:image/png;base64,") >= 4
    published = [
        json.loads(p.read_text()) for p in (out / "bundles").glob("*/manifest.json")
    ]  # every bundle the experiment published
    assert published
    for manifest in published:
        files = {f["path"] for f in manifest["files"]}
        assert "report.html" in files, manifest["bundle_version"]


def test_a_rerun_resumes_and_other_parameters_are_refused(experiment, spark) -> None:
    _, out, base, params = experiment
    before = (out / "results.json").read_text()
    lines: list[str] = []
    again = Experiment(spark, base, params, out, log=lines.append).run()
    assert not any("serving" in line for line in lines)  # no day was served again
    assert [d["ds"] for d in again["days"]] == DAYS
    assert json.loads(before)["days"] == again["days"]
    other = ExperimentParams(days=3, scale="small", seed=12, start=START, max_ranked=200, run_gx=False)
    with pytest.raises(ValueError, match="other parameters"):
        Experiment(spark, base, other, out)
