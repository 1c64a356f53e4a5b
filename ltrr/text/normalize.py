"""Query normalization: the one function the memory job and serving both key queries with.

A query and the memory table must agree byte for byte on the key, so there is exactly one
implementation, here, applied by the Spark jobs (on the distinct raw queries of a window) and
by serving (per request).

Steps, in order:
1. Unicode compatibility decomposition (NFKD): full-width letters, ligatures and other
   compatibility forms become their plain equivalents (``ｆｏｏ`` → ``foo``, ``ﬁ`` → ``fi``).
2. Combining marks are dropped, so accents fold away (``Beyoncé`` → ``beyonce``); scripts
   without a Latin equivalent keep their base letters (``東京`` stays ``東京``, Cyrillic stays
   Cyrillic, Hangul is recomposed with NFC at the end).
3. Case folding (``ß`` → ``ss``, ``İ`` → ``i̇`` → ``i``).
4. Every character that is not a letter or a digit (punctuation, symbols, emoji, control
   characters) becomes a space, except that apostrophes inside a word are removed
   (``don't`` → ``dont``) so contractions do not split into two tokens.
5. Runs of whitespace collapse to one space; leading and trailing spaces go.

The result may be the empty string (an emoji-only or punctuation-only query); callers treat
an empty key as "no query".
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = "'’`´ʼ"
_INNER_APOSTROPHE = re.compile(rf"(?<=\w)[{_APOSTROPHES}](?=\w)")
_SPACES = re.compile(r"\s+")


def _keep(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category[0] in ("L", "N")


def normalize_query(raw: str | None) -> str:
    """Normalize a raw query to its memory key.

    Args:
        raw: the query as typed; ``None`` is treated as empty.

    Returns:
        The normalized key: lower-case, accent-free, letters and digits separated by single
        spaces; possibly empty.
    """
    if not raw:
        return ""
    text = unicodedata.normalize("NFKD", raw)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold()
    text = _INNER_APOSTROPHE.sub("", text)
    text = "".join(ch if _keep(ch) else " " for ch in text)
    text = _SPACES.sub(" ", text).strip()
    return unicodedata.normalize("NFC", text)
