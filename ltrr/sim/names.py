"""Names and titles: artist names, track/album/playlist/podcast/episode titles, descriptions.

Small pure functions that turn a few random draws into text, so the catalog generator stays a
loop over entities. All randomness comes from the ``numpy`` generator passed in.
"""

from __future__ import annotations

import numpy as np

from ltrr.sim import words as W

_NOUN_WEIGHTS = np.array([6.0 if n in W.AMBIGUOUS_WORDS else 1.0 for n in W.NOUNS])
_NOUN_CUM = np.cumsum(_NOUN_WEIGHTS / _NOUN_WEIGHTS.sum())


def display(text: str) -> str:
    """Capitalise each word for display ("golden heart" -> "Golden Heart", "r&b" -> "R&B").

    Args:
        text: lower-case text.

    Returns:
        The display form; words in ``GENRE_DISPLAY`` get their own spelling, non-Latin
        words are unchanged.
    """
    for key, shown in W.GENRE_DISPLAY.items():
        if key in text and " " in key:
            text = text.replace(key, shown)
    out = []
    for word in text.split(" "):
        if word in W.GENRE_DISPLAY:
            out.append(W.GENRE_DISPLAY[word])
        elif word and word[0].isalpha():
            out.append(word[0].upper() + word[1:])
        else:
            out.append(word)
    return " ".join(out)


def _pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[min(int(rng.random() * len(items)), len(items) - 1)]


def noun(rng: np.random.Generator) -> str:
    """A title noun; the ambiguous words ("love", "night", ...) are six times as likely."""
    return W.NOUNS[min(int(np.searchsorted(_NOUN_CUM, rng.random(), side="right")), len(W.NOUNS) - 1)]


def _plural(word: str) -> str:
    return word if word.endswith("s") else word + "s"


def _fill(pattern: str, rng: np.random.Generator, **extra: str) -> str:
    values = {
        "adj": _pick(rng, W.ADJECTIVES),
        "adj2": _pick(rng, W.ADJECTIVES),
        "noun": noun(rng),
        "noun2": noun(rng),
        "verb": _pick(rng, W.VERBS),
        "first": _pick(rng, W.FIRST_NAMES),
        "last": _pick(rng, W.LAST_NAMES),
        "n": str(1 + int(rng.random() * 299)),
    }
    values["noun_pl"] = _plural(values["noun"])
    values.update(extra)
    return pattern.format(**values)


def artist_name(rng: np.random.Generator, language: str) -> str:
    """An artist name: a person ("Taylor Swift"), a mononym ("Rosalía") or a band.

    Args:
        rng: random generator.
        language: the artist's content language (ja/ko/hi artists get names of that language).

    Returns:
        The display name.
    """
    if language in W.NAMES_BY_LANGUAGE:
        firsts, lasts = W.NAMES_BY_LANGUAGE[language]
        return display(f"{_pick(rng, firsts)} {_pick(rng, lasts)}")
    u = rng.random()
    if u < 0.45:
        return display(f"{_pick(rng, W.FIRST_NAMES)} {_pick(rng, W.LAST_NAMES)}")
    if u < 0.55:
        return display(_pick(rng, W.MONONYMS))
    return display(_fill(_pick(rng, W.BAND_PATTERNS), rng))


def track_title(rng: np.random.Generator, language: str) -> str:
    """A track title in the given language (ja/ko/hi: 40% in their own script).

    Args:
        rng: random generator.
        language: ISO code of the track's language.

    Returns:
        The display title.
    """
    if language == "en" or (language not in W.FOREIGN_WORDS) or rng.random() < 0.25:
        return display(_fill(_pick(rng, W.TITLE_PATTERNS), rng))
    n_words = 1 + int(rng.random() * 3)
    if language in W.ROMANIZED_WORDS and rng.random() >= 0.4:
        vocab = W.ROMANIZED_WORDS[language]
        return display(" ".join(_pick(rng, vocab) for _ in range(n_words)))
    vocab = W.FOREIGN_WORDS[language]
    return display(" ".join(_pick(rng, vocab) for _ in range(n_words)))


def album_title(rng: np.random.Generator, language: str) -> str:
    """An album title (English patterns, or a foreign track-like title for other languages)."""
    if language != "en" and rng.random() < 0.5:
        return track_title(rng, language)
    return display(_fill(_pick(rng, W.ALBUM_PATTERNS), rng))


def playlist_title(rng: np.random.Generator, genre: str, mood: str) -> str:
    """An editorial playlist title built from its genre and mood ("Chill Vibes", "Pop Hits")."""
    return display(_fill(_pick(rng, W.PLAYLIST_PATTERNS), rng, genre=genre, mood=mood))


def person_name(rng: np.random.Generator) -> str:
    """A host or guest name."""
    return display(f"{_pick(rng, W.FIRST_NAMES)} {_pick(rng, W.LAST_NAMES)}")


def podcast_title(rng: np.random.Generator, topic: str) -> str:
    """A podcast title about its primary topic ("The History Podcast")."""
    return display(_fill(_pick(rng, W.PODCAST_PATTERNS), rng, topic=topic))


def episode_title(rng: np.random.Generator, topic: str) -> str:
    """An episode title about one of its podcast's topics."""
    return display(_fill(_pick(rng, W.EPISODE_PATTERNS), rng, topic=topic))


def music_description(kind: str, title: str, artist: str, genre: str, moods: list[str], album: str | None) -> str:
    """The description of a track, album or artist (mentions genre and moods, so lexical
    search over descriptions can serve broad queries)."""
    mood_text = ", ".join(moods) if moods else "timeless"
    if kind == "track":
        return f"{_article(mood_text).title()} {mood_text} {genre} song by {artist} from the album {album}."
    if kind == "album":
        return f"{title} is {_article(mood_text)} {mood_text} {genre} album by {artist}."
    return f"{artist} is {_article(genre)} {genre} artist known for {mood_text} songs."


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def playlist_description(genre: str, mood: str) -> str:
    """The description of an editorial playlist."""
    return f"The best {mood} {genre} tracks, hand-picked and updated every week."


def podcast_description(topics: list[str], host: str) -> str:
    """The description of a podcast: its topics and host."""
    listed = topics[0] if len(topics) == 1 else ", ".join(topics[:-1]) + " and " + topics[-1]
    return f"A podcast about {listed}, hosted by {host}."


def episode_description(topics: list[str], podcast: str) -> str:
    """The description of an episode: its topics and podcast."""
    return f"In this episode of {podcast}: {' and '.join(topics)}, with listener questions."
