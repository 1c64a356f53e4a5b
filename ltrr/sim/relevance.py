"""True relevance of an entity for a search, in [0, 1] (the simulator's ground truth).

The intended entity has relevance 1. Other entities get partial credit that depends on the
intent (all values before the final clip to [0, 1]):

- direct: same name as the intended entity 0.4; the album of an intended track 0.6; the tracks of
  an intended album 0.5; the artist of an intended track/album 0.5; tracks/albums of an intended
  artist 0.3 + 0.4 x popularity-percentile; other music of the same artist 0.25; the podcast of an
  intended episode 0.6, episodes of an intended podcast 0.5, sibling episodes 0.25.
- broad: 0.8 x genre fit x mood fit x type factor x (0.6 + 0.4 x popularity percentile), where
  genre fit is 1 for the named genre (0.3 for a secondary genre) or the user's taste fit when the
  query names no genre, mood fit is 1 for the named mood (or no mood) and 0.25 otherwise, and the
  type factor is track 1, playlist 1, album 0.8, artist 0.6, podcasts/episodes 0.
- topic: podcasts/episodes with the topic 0.85 (primary topic) or 0.6, x (0.7 + 0.3 x popularity
  percentile); other podcasts/episodes 0.03; music 0.
- ambiguous: a music title containing the word 0.5 x (0.6 + 0.4 pop) x (0.5 + 0.5 taste fit), plus
  0.3 x (0.5 + 0.5 taste fit) when the word is a mood the entity is tagged with.
"""

from __future__ import annotations

import numpy as np

from ltrr.sim.catalog import ALBUM, ARTIST, EPISODE, PLAYLIST, PODCAST, TRACK, CatalogArrays
from ltrr.sim.queries import AMBIGUOUS, BROAD, DIRECT, TOPIC, Intents
from ltrr.sim.users import Users

BATCH = 100_000
"""Pairs scored at once."""
BROAD_TYPE_FACTOR = np.array([1.0, 0.6, 0.8, 1.0, 0.0, 0.0])
"""Broad-query type factor, in ``ENTITY_TYPES`` order (track, artist, album, playlist, podcast, episode)."""


def relevance(
    search: np.ndarray, entity: np.ndarray, intents: Intents, user: np.ndarray, cat: CatalogArrays, users: Users
) -> np.ndarray:
    """True relevance of (search, entity) pairs.

    Args:
        search: index of the search within the chunk, per pair.
        entity: catalog row of the entity, per pair (-1 for an id the world does not know).
        intents: the chunk's intents.
        user: user row per search of the chunk.
        cat: the day's catalog arrays.
        users: the customers.

    Returns:
        Relevance in [0, 1] per pair.
    """
    if len(search) > BATCH:  # bound the temporaries (a few dozen arrays per pair)
        parts = [
            relevance(search[i : i + BATCH], entity[i : i + BATCH], intents, user, cat, users)
            for i in range(0, len(search), BATCH)
        ]
        return np.concatenate(parts)
    known = entity >= 0
    e = np.where(known, entity, 0)
    it = intents.itype[search]
    tgt = intents.target[search]
    et = cat.etype[e].astype(np.int64)
    grp = cat.group[e]
    music = et <= PLAYLIST
    spoken = ~music
    pop = cat.pop_rank[e]
    tfit = users.taste_fit(user[search], et, grp)

    # direct
    t_type = cat.etype[tgt].astype(np.int64)
    t_artist, t_parent = cat.artist_idx[tgt], cat.parent_idx[tgt]
    e_artist, e_parent = cat.artist_idx[e], cat.parent_idx[e]
    t_music_item = (t_type == TRACK) | (t_type == ALBUM)
    e_music_item = (et == TRACK) | (et == ALBUM)
    r_dir = np.zeros(len(e))
    r_dir = np.maximum(r_dir, np.where(cat.name_code[e] == cat.name_code[tgt], 0.4, 0.0))
    r_dir = np.maximum(r_dir, np.where((t_type == TRACK) & (e == t_parent), 0.6, 0.0))
    r_dir = np.maximum(r_dir, np.where((t_type == ALBUM) & (et == TRACK) & (e_parent == tgt), 0.5, 0.0))
    r_dir = np.maximum(r_dir, np.where(t_music_item & (et == ARTIST) & (e == t_artist), 0.5, 0.0))
    r_dir = np.maximum(r_dir, np.where((t_type == ARTIST) & e_music_item & (e_artist == tgt), 0.3 + 0.4 * pop, 0.0))
    r_dir = np.maximum(r_dir, np.where(music & (t_artist >= 0) & (e_artist == t_artist), 0.25, 0.0))
    r_dir = np.maximum(r_dir, np.where((t_type == EPISODE) & (e == t_parent), 0.6, 0.0))
    r_dir = np.maximum(r_dir, np.where((t_type == PODCAST) & (et == EPISODE) & (e_parent == tgt), 0.5, 0.0))
    sibling = (t_type == EPISODE) & (et == EPISODE) & (e_parent == t_parent) & (t_parent >= 0)
    r_dir = np.maximum(r_dir, np.where(sibling, 0.25, 0.0))

    # broad
    q_genre = intents.genre[search]
    named = intents.genre_in_query[search]
    q_mood = intents.mood[search]
    genre_named_fit = np.where(grp == q_genre, 1.0, np.where(cat.genre2[e] == q_genre, 0.3, 0.0))
    gfit = np.where(named, genre_named_fit, tfit)
    has_mood = ((cat.mood_mask[e] >> np.clip(q_mood, 0, None)) & 1).astype(bool) & (q_mood >= 0)
    mfit = np.where(q_mood < 0, 1.0, np.where(has_mood, 1.0, 0.25))
    r_broad = 0.8 * gfit * mfit * BROAD_TYPE_FACTOR[et] * (0.6 + 0.4 * pop)

    # topic
    q_topic = np.clip(intents.topic[search], 0, None)
    has_topic = spoken & ((cat.topic_mask[e] >> q_topic) & 1).astype(bool)
    primary = has_topic & (grp == q_topic)
    r_topic = np.where(has_topic, np.where(primary, 0.85, 0.6) * (0.7 + 0.3 * pop), np.where(spoken, 0.03, 0.0))

    # ambiguous
    q_word = np.clip(intents.word[search], 0, None)
    word_hit = music & ((cat.word_mask[e] >> q_word) & 1).astype(bool)
    r_amb = np.where(word_hit, 0.5 * (0.6 + 0.4 * pop) * (0.5 + 0.5 * tfit), 0.0)
    r_amb += np.where(music & has_mood, 0.3 * (0.5 + 0.5 * tfit), 0.0)

    rel = np.select([it == DIRECT, it == BROAD, it == TOPIC, it == AMBIGUOUS], [r_dir, r_broad, r_topic, r_amb], 0.0)
    rel = np.where(e == tgt, 1.0, rel)
    rel = np.where(known, rel, 0.0)
    return np.clip(rel, 0.0, 1.0).round(6)
