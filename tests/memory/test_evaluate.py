"""Next-day evaluation of a memory table on a hand-built day."""

from __future__ import annotations

from ltrr.memory.evaluate import evaluate_next_day


def test_recall_and_hindsight_bound_by_hand(spark) -> None:
    # Table: "chill" -> e1 only; "abba" -> e9.
    table = spark.createDataFrame([("chill", "e1"), ("abba", "e9")], "query_key STRING, entity_id STRING")
    # Six searches: four "Chill" (intended e1, e1, e2, e3), one "ABBA!" (e9), one "new" (not in table).
    searches = spark.createDataFrame(
        [("s1", "Chill"), ("s2", "chill"), ("s3", "CHILL"), ("s4", "chill"), ("s5", "ABBA!"), ("s6", "new")],
        "search_id STRING, query STRING",
    )
    truth = spark.createDataFrame(
        [
            ("s1", "e1", "head", "broad"),
            ("s2", "e1", "head", "broad"),
            ("s3", "e2", "head", "broad"),
            ("s4", "e3", "head", "broad"),
            ("s5", "e9", "tail", "direct"),
            ("s6", "e5", "tail", "direct"),
        ],
        "search_id STRING, intended_entity_id STRING, query_class STRING, intent_type STRING",
    )
    result = evaluate_next_day(table, searches, truth, top_n=2)
    assert result["coverage"] == {"n": 6, "rate": 5 / 6}
    # Hits: s1, s2 (e1 under "chill") and s5 (e9 under "abba").
    assert result["recall"]["overall"] == {"n": 6, "rate": 3 / 6}
    assert result["recall"]["by_query_class"]["head"] == {"n": 4, "rate": 2 / 4}
    # Best 2 per query in hindsight: chill -> e1 (2 searches) + e2 (ties with e3, e2 sorts first);
    # abba -> e9; new -> e5. So 3 of 4 head searches, 2 of 2 tail searches.
    assert result["recall_bound"]["by_query_class"]["head"] == {"n": 4, "rate": 3 / 4}
    assert result["recall_bound"]["by_query_class"]["tail"] == {"n": 2, "rate": 1.0}
    assert result["recall_bound"]["overall"]["rate"] == 5 / 6
