"""Query normalization on tricky inputs (expected keys written by hand)."""

from __future__ import annotations

import pytest

from ltrr.text import normalize_query


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Spearfishing", "spearfishing"),
        ("  Taylor   SWIFT  ", "taylor swift"),
        ("Beyoncé", "beyonce"),
        ("Sigur Rós — Hoppípolla", "sigur ros hoppipolla"),
        ("Motörhead", "motorhead"),
        ("Straße", "strasse"),
        ("ＦＵＬＬ　ｗｉｄｔｈ", "full width"),
        ("don't stop believin'", "dont stop believin"),
        ("AC/DC", "ac dc"),
        ("love 💔 songs", "love songs"),
        ("🎵🎶", ""),
        ("", ""),
        (None, ""),
        ("!!!", ""),
        ("tab\tand\nnewline", "tab and newline"),
        ("東京 Tokyo", "東京 tokyo"),
        ("Кино группа", "кино группа"),
        ("방탄소년단", "방탄소년단"),
        ("p!nk", "p nk"),
        ("2 Chainz", "2 chainz"),
        ("ﬁne", "fine"),
    ],
)
def test_normalize_query(raw: str | None, expected: str) -> None:
    assert normalize_query(raw) == expected


def test_normalization_is_idempotent() -> None:
    for raw in ("Beyoncé", "love 💔 songs", "東京 Tokyo", "don't", "ＦＵＬＬ"):
        once = normalize_query(raw)
        assert normalize_query(once) == once


def test_hangul_stays_composed() -> None:
    key = normalize_query("방탄")
    assert len(key) == 2
