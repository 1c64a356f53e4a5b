"""The experiment's HTML report: sections, embedded plots, formatting, escaping, determinism."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ltrr.experiment.report import REPORT_SECTIONS, best_static_arm, render_report

ARMS = ["ltrr", "uniform", "oracle", "static:lex100", "static:mem50_lex50"]
KINDS = ("direct", "broad", "topic", "ambiguous")
CLASSES = ("head", "torso", "tail")
STRATEGIES = ("lexical", "memory", "personalized", "related", "popular", "semantic")


def _metrics(hit: float, candidates: float) -> dict:
    """One arm's metrics M with a hit rate and mean candidates (the rest derived from them)."""
    return {
        "searches": 1200,
        "hit_rate": hit,
        "hit_ci": [hit - 0.02, hit + 0.02],
        "mean_candidates": candidates,
        "engagement_rate": hit / 2,
        "ndcg10": hit / 3,
        "ranked_searches": 1100,
    }


def _arm(hit: float, candidates: float) -> dict:
    """An arm's metrics overall, by query kind and by query class."""
    return {
        "overall": _metrics(hit, candidates),
        "by_query_kind": {kind: _metrics(hit - 0.01 * i, candidates) for i, kind in enumerate(KINDS)},
        "by_query_class": {cls: _metrics(hit + 0.01 * i, candidates) for i, cls in enumerate(CLASSES)},
    }


def _served_day(ds: str, index: int, hits: dict[str, float]) -> dict:
    """A served day with every sub-structure filled."""
    estimate = {"value": 0.41, "ci_low": 0.39, "ci_high": 0.43, "ess": 812.5, "n": 1200}
    truth = {"mean": 0.55, "ci_low": 0.52, "ci_high": 0.58, "n_queries": 300}
    return {
        "ds": ds,
        "index": index,
        "served_by": f"bundle {ds}-abc123 (policy: published)",
        "policy_outcome": "published",
        "arms": {arm: _arm(hit, 80.0 + 10 * i) for i, (arm, hit) in enumerate(hits.items())},
        "value_vs_day0_rule": {"ltrr": {"difference": 0.0067, "ci": [0.0021, 0.0113], "searches": 1100}},
        "strategy_hit_rate": {
            "overall": {s: 0.1 * (i + 1) for i, s in enumerate(STRATEGIES)},
            "by_query_kind": {kind: {s: 0.05 * (i + 1) for i, s in enumerate(STRATEGIES)} for kind in KINDS},
        },
        "ope": {
            "realised": {"value": 0.42, "se": 0.01},
            "estimates": {"ips": estimate, "snips": estimate, "dr": estimate},
            "note": "logged by the day-0 engine",
        },
        "ranker": {
            "truth_ndcg10": {name: truth for name in ("model", "naive", "logged", "popularity", "q2e")},
            "gate_passed": True,
        },
        "memory": {
            "coverage": 0.71,
            "recall_overall": 0.52,
            "recall_by_query_class": {"head": 0.8, "torso": 0.5, "tail": 0.2},
        },
        "data_docs": [
            {"label": "searches (input validation)", "href": f"data/validation/ds={ds}/gx/searches.html"},
            {"label": "events (input validation)", "href": f"data/validation/ds={ds}/gx/events.html"},
        ],
    }


@pytest.fixture()
def results() -> dict:
    """Three days: day 0 only has logs, days 1 and 2 are served by bundles."""
    day0 = {
        "ds": "2026-01-05",
        "index": 0,
        "served_by": "day-0 engine",
        "policy_outcome": None,
        "arms": {},
        "strategy_hit_rate": None,
        "ope": None,
        "ranker": None,
        "memory": None,
        "data_docs": [
            {"label": "searches (input validation)", "href": "data/validation/ds=2026-01-05/gx/searches.html"}
        ],
    }
    hits1 = {"ltrr": 0.50, "uniform": 0.30, "oracle": 0.80, "static:lex100": 0.40, "static:mem50_lex50": 0.45}
    hits2 = {"ltrr": 0.6234, "uniform": 0.3111, "oracle": 0.8402, "static:lex100": 0.41, "static:mem50_lex50": 0.5012}
    return {
        "experiment": {
            "scale": "small",
            "seed": 5,
            "days": 3,
            "start": "2026-01-05",
            "command": "ltrr experiment --days 3 --scale small --seed 5 --out X",
            "finished": True,
        },
        "arms": ARMS,
        "days": [day0, _served_day("2026-01-06", 1, hits1), _served_day("2026-01-07", 2, hits2)],
        "summary": {
            "ds": "2026-01-07",
            "ltrr_hit_rate": 0.6234,
            "ltrr_mean_candidates": 80.0,
            "best_static_arm": "static:mem50_lex50",
            "best_static_hit_rate": 0.5012,
            "best_static_mean_candidates": 120.0,
            "uniform_hit_rate": 0.3111,
            "oracle_hit_rate": 0.8402,
            "oracle_mean_candidates": 100.0,
            "lift_points": 12.22,
            "gap_closed": 0.3621,
            "learned_policy_vs_served": {"difference": 0.0117, "ci": [0.0016, 0.0219], "searches": 1100},
            "goal": "+10 points over the best static plan and half the gap to the oracle closed",
            "goal_met": False,
        },
    }


def _section_ids(page: str) -> list[str]:
    return re.findall(r'<section id="([^"]+)"', page)


def test_full_report_has_sections_plots_and_formatted_numbers(results: dict, tmp_path: Path) -> None:
    out = render_report(results, tmp_path / "nested" / "report.html")
    assert out == tmp_path / "nested" / "report.html"
    page = out.read_text(encoding="utf-8")
    assert not (tmp_path / "nested" / "report.html.tmp").exists()

    assert _section_ids(page) == list(REPORT_SECTIONS)
    for section_id in REPORT_SECTIONS:
        assert page.count(f'id="{section_id}"') == 1
    assert "<h1>ltrr experiment: small world, seed 5, 3 days</h1>" in page

    assert page.count('<img src="data:image/png;base64,') >= 4
    for external in ('src="http', "src='http", 'href="http', "<script src", "<link ", "url("):
        assert external not in page

    # Summary: rates as percentages with one decimal, lift in signed points, gap closed as a percentage.
    summary = page[page.index('id="summary"') : page.index('id="learning-curves"')]
    for shown in ("62.3%", "50.1%", "31.1%", "84.0%", "+12.2 points", "36.2%", "static:mem50_lex50", "80.0", "120.0"):
        assert shown in summary, shown
    assert "<td>goal met</td><td>no</td>" in summary
    assert "<code>ltrr experiment --days 3 --scale small --seed 5 --out X</code>" in summary
    # Uniform's mean candidates come from the summary day's arm (the summary does not carry them).
    assert "<td>uniform random</td><td>31.1%</td><td>90.0</td>" in summary
    # The paired difference against the day-0 rule, signed, where it was measured.
    assert "<td>+0.0067 [+0.0021, +0.0113]</td>" in summary
    assert "the policy that logged the day (paired, 95% CI)</td><td>+0.0117 [+0.0016, +0.0219]</td>" in summary

    # Per-day arm table: the CI is formatted like the rate.
    assert "[60.3%, 64.3%]" in page
    # Off-policy values with four decimals, with the note.
    assert "0.4100" in page and "[0.3900, 0.4300]" in page and "logged by the day-0 engine" in page

    docs = page[page.index('id="data-docs"') :]
    for ds in ("2026-01-05", "2026-01-06", "2026-01-07"):
        assert f'href="data/validation/ds={ds}/gx/searches.html"' in docs
    assert 'href="data/validation/ds=2026-01-07/gx/events.html"' in docs


def test_rendering_twice_gives_identical_bytes(results: dict, tmp_path: Path) -> None:
    first = render_report(results, tmp_path / "a.html").read_bytes()
    second = render_report(copy.deepcopy(results), tmp_path / "b.html").read_bytes()
    assert first == second


def test_strings_from_results_are_escaped(results: dict, tmp_path: Path) -> None:
    hostile = "static:<b>bold</b>"
    results["arms"].append(hostile)
    for day in results["days"][1:]:
        day["arms"][hostile] = _arm(0.2, 50.0)
        day["data_docs"].append({"label": "<b>label</b>", "href": 'x.html"><script>'})
    results["experiment"]["command"] = "ltrr experiment --out '<b>'"
    page = render_report(results, tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<b>" not in page
    assert "<script>" not in page
    assert "static:&lt;b&gt;bold&lt;/b&gt;" in page
    assert "&lt;b&gt;label&lt;/b&gt;" in page
    assert 'href="x.html&quot;&gt;&lt;script&gt;"' in page


def test_everything_optional_missing_still_renders_all_sections(results: dict, tmp_path: Path) -> None:
    results["summary"] = None
    for day in results["days"]:
        day.update(strategy_hit_rate=None, ope=None, ranker=None, memory=None)
    # Unmeasured numbers inside the arms too.
    overall = results["days"][2]["arms"]["ltrr"]["overall"]
    overall.update(engagement_rate=None, ndcg10=None, hit_ci=None)
    page = render_report(results, tmp_path / "report.html").read_text(encoding="utf-8")
    assert _section_ids(page) == list(REPORT_SECTIONS)
    assert "no served day yet" in page
    assert "No day has an off-policy evaluation." in page
    assert "No day has a ranker evaluation." in page
    assert "No day has a memory evaluation." in page
    assert "No day has hit rates by retrieval strategy." in page
    assert "n/a" in page
    # Only the learning curves are left to plot.
    assert page.count('<img src="data:image/png;base64,') == 1


def test_no_day_served_yet(tmp_path: Path) -> None:
    results = {
        "experiment": {"scale": "small", "seed": 1, "days": 1, "start": "2026-01-05", "finished": False},
        "arms": ARMS,
        "days": [{"ds": "2026-01-05", "index": 0, "served_by": "day-0 engine", "arms": {}, "data_docs": []}],
        "summary": None,
    }
    page = render_report(results, tmp_path / "report.html").read_text(encoding="utf-8")
    assert _section_ids(page) == list(REPORT_SECTIONS)
    assert "seed 1, 1 day</h1>" in page
    assert "data:image/png" not in page
    assert "No day has data docs." in page


def test_best_static_arm_is_the_highest_mean_hit_rate_over_served_days(results: dict) -> None:
    # Means over the served days: lex100 (0.40 + 0.41) / 2, mem50_lex50 (0.45 + 0.5012) / 2.
    assert best_static_arm(results) == "static:mem50_lex50"
    # A day where an arm is unmeasured does not count towards its mean (it is not a zero):
    # mem50_lex50 now averages 0.45 over its one measured day, still above lex100's 0.405.
    results["days"][2]["arms"]["static:mem50_lex50"]["overall"]["hit_rate"] = None
    assert best_static_arm(results) == "static:mem50_lex50"
    results["days"][1]["arms"]["static:lex100"]["overall"]["hit_rate"] = 0.70
    assert best_static_arm(results) == "static:lex100"
    # Non-static arms never count, however good; day 0 (no arms) is no served day.
    only_dynamic = {
        "arms": ["ltrr", "oracle"],
        "days": [{"ds": "d", "arms": {"oracle": {"overall": {"hit_rate": 0.9}}}}],
    }
    assert best_static_arm(only_dynamic) is None
    assert best_static_arm({"arms": [], "days": []}) is None


def test_learning_curves_use_best_static_arm_without_summary(results: dict, tmp_path: Path) -> None:
    results["summary"] = None
    results["days"][1]["arms"]["static:lex100"]["overall"]["hit_rate"] = 0.70
    page = render_report(results, tmp_path / "report.html").read_text(encoding="utf-8")
    curves = page[page.index('id="learning-curves"') : page.index('id="hit-by-strategy"')]
    assert "static:lex100 (best static plan)" in curves
    assert page.count('<img src="data:image/png;base64,') >= 4


def test_importing_the_module_does_not_import_matplotlib() -> None:
    code = "import sys, ltrr.experiment.report; sys.exit('matplotlib' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
