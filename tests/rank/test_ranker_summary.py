"""`ltrr summary` reports what the ranker job did for a day (published, refused, skipped, missing)."""

from __future__ import annotations

import json

from ltrr.config import Settings
from ltrr.report.summary import day_summary, format_day_summary, ranker_outcome
from ltrr.zones import artifact_dir, validation_dir

NDCG = {
    "observable": {"model": {"mean": 0.629}, "q2e": {"mean": 0.567}},
    "truth": {"model": {"mean": 0.722}, "logged": {"mean": 0.572}},
}


def test_each_outcome_is_reported(settings: Settings) -> None:
    root = settings.data_root
    assert ranker_outcome(settings, "2026-01-05")["status"] == "missing"

    skipped = validation_dir(root, "2026-01-05") / "ranker_skipped.json"
    skipped.parent.mkdir(parents=True)
    skipped.write_text(json.dumps({"ds": "2026-01-05", "reason": "no training rows in the 7 days before"}))
    assert ranker_outcome(settings, "2026-01-05") == {
        "status": "skipped",
        "reasons": ["no training rows in the 7 days before"],
        "ndcg@10": {},
    }

    refused = validation_dir(root, "2026-01-06") / "ranker_rejected.json"
    refused.parent.mkdir(parents=True)
    refused.write_text(json.dumps({"passed": False, "reasons": ["blocked: CI low below q2e"], "ndcg@10": NDCG}))
    outcome = ranker_outcome(settings, "2026-01-06")
    assert outcome["status"] == "refused" and outcome["reasons"] == ["blocked: CI low below q2e"]

    published = artifact_dir(root, "2026-01-07", "ranker")
    published.mkdir(parents=True)
    (published / "report.json").write_text(json.dumps({"passed": True, "reasons": [], "ndcg@10": NDCG}))
    text = format_day_summary(day_summary(settings, "2026-01-07"))
    assert (
        "ranker: published; NDCG@10 observable: model 0.629 (q2e 0.567); NDCG@10 truth: model 0.722 (logged 0.572)"
        in text
    )

    kept = artifact_dir(root, "2026-01-08", "ranker")
    kept.mkdir(parents=True)
    refused_ndcg = {"observable": {"model": {"mean": 0.501}, "logged": {"mean": 0.612}}}
    (kept / "report.json").write_text(
        json.dumps(
            {
                "passed": True,
                "reasons": [],
                "ndcg@10": NDCG,
                "outcome": "kept",
                "kept_from": "2026-01-07",
                "refused": {"reasons": ["blocked: CI low below logged"], "ndcg@10": refused_ndcg},
            }
        )
    )
    outcome = ranker_outcome(settings, "2026-01-08")
    assert outcome == {
        "status": "kept",
        "reasons": ["blocked: CI low below logged"],
        "ndcg@10": refused_ndcg,
        "kept_from": "2026-01-07",
    }
    text = format_day_summary(day_summary(settings, "2026-01-08"))
    assert "ranker: kept (the ranker of 2026-01-07 serves; the day's model was refused)" in text
    assert "blocked: CI low below logged" in text
