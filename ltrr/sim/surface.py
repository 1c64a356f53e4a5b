"""Surface forms: how customers actually type a query (extra words, partial titles, typos).

Pure functions of the clean (canonical) query and a row of uniform random numbers, so that the
intent sampler can draw all randomness vectorised and stay deterministic.

- Partial: a title of three or more words is cut to its first two (``PARTIAL_P``).
- Extra words (``words.QUERY_EXTRAS``): "lyrics", the artist's name, "podcast", ...
- Accents dropped ("beyonce" for "beyoncé") half of the time: not counted as a typo, since
  every search engine folds accents.
- Typos (``TYPO_P`` per intent type): one edit in one Latin word of four or more letters:
  QWERTY-neighbour substitution, phonetic vowel swap ("taylor" -> "tayler"), deletion,
  transposition or doubled letter. Only a surface form that differs from the clean one is
  flagged ``has_typo``.
"""

from __future__ import annotations

import unicodedata

from ltrr.sim import words as W

PARTIAL_P = 0.12
EXTRA_P = {"track": 0.25, "artist": 0.15, "album": 0.4, "playlist": 0.3, "podcast": 0.4, "episode": 0.2}
TYPO_P = {"direct": 0.15, "broad": 0.05, "topic": 0.05, "ambiguous": 0.0}
ACCENT_DROP_P = 0.5
CAPITALISE_P = 0.1
N_UNIFORMS = 10
"""Uniform draws each surface form consumes (columns of the random matrix)."""


def strip_accents(text: str) -> str:
    """Drop diacritics from Latin letters ("beyoncé" -> "beyonce"); other scripts unchanged."""
    out = []
    for ch in text:
        if "\u00c0" <= ch <= "\u024f":
            base = unicodedata.normalize("NFKD", ch)
            out.append("".join(c for c in base if not unicodedata.combining(c)))
        else:
            out.append(ch)
    return "".join(out)


def _typo_word(word: str, u_op: float, u_pos: float, u_char: float) -> str:
    n = len(word)
    if u_op < 0.35:
        i = 1 + int(u_pos * (n - 1))
        neighbours = W.KEYBOARD_NEIGHBOURS.get(word[i], "")
        if neighbours:
            return word[:i] + neighbours[int(u_char * len(neighbours))] + word[i + 1 :]
    if u_op < 0.55:
        vowels = [i for i in range(1, n) if word[i] in W.VOWEL_SWAPS]
        if vowels:
            i = vowels[int(u_pos * len(vowels))]
            return word[:i] + W.VOWEL_SWAPS[word[i]] + word[i + 1 :]
    if u_op < 0.75:
        i = 1 + int(u_pos * (n - 1))
        return word[:i] + word[i + 1 :]
    if u_op < 0.9:
        i = 1 + int(u_pos * (n - 2))
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    i = int(u_pos * n)
    return word[: i + 1] + word[i:]


def add_typo(text: str, u_word: float, u_op: float, u_pos: float, u_char: float) -> str:
    """Apply one typo to one eligible word (Latin letters only, length >= 4).

    Args:
        text: the query.
        u_word, u_op, u_pos, u_char: uniforms in [0, 1) choosing the word, the edit, where, and
            the replacement letter.

    Returns:
        The query with a typo, or unchanged when no word is eligible.
    """
    tokens = text.split(" ")
    eligible = [i for i, t in enumerate(tokens) if len(t) >= 4 and t.isascii() and t.isalpha()]
    if not eligible:
        return text
    i = eligible[int(u_word * len(eligible))]
    tokens[i] = _typo_word(tokens[i].lower(), u_op, u_pos, u_char)
    return " ".join(tokens)


def direct_surface(canonical: str, entity_type: str, artist: str, podcast: str, u: list[float]) -> tuple[str, bool]:
    """The typed form of a direct (entity) query.

    Args:
        canonical: the entity's lower-cased title (or name, for an artist).
        entity_type: the intended entity's type (chooses the extra words).
        artist: lower-cased artist name (for "<title> <artist>" queries).
        podcast: lower-cased podcast title (for episode queries).
        u: ``N_UNIFORMS`` uniforms.

    Returns:
        (surface form, has_typo).
    """
    text = canonical
    tokens = text.split(" ")
    if len(tokens) >= 3 and u[0] < PARTIAL_P:
        text = " ".join(tokens[:2])
    if u[1] < EXTRA_P[entity_type]:
        extras = W.QUERY_EXTRAS[entity_type]
        extra = extras[int(u[2] * len(extras))].format(artist=artist, podcast=podcast).strip()
        if extra:
            text = f"{text} {extra}"
    return _finish(text, "direct", u)


def generic_surface(canonical: str, intent_type: str, u: list[float]) -> tuple[str, bool]:
    """The typed form of a broad, topic or ambiguous query (accents, typos, capitals)."""
    return _finish(canonical, intent_type, u)


def _finish(text: str, intent_type: str, u: list[float]) -> tuple[str, bool]:
    if u[3] < ACCENT_DROP_P:
        text = strip_accents(text)
    clean = text
    if u[4] < TYPO_P[intent_type]:
        text = add_typo(text, u[5], u[6], u[7], u[8])
    has_typo = text != clean
    if text and u[9] < CAPITALISE_P:
        text = text[0].upper() + text[1:]
    return text, has_typo
