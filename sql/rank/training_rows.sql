-- One row per (search, candidate) of day ${ds} with its features as of the search.
-- Every log-derived input is from before ${ds}: memory (q2e) and embeddings of the previous
-- day's artifacts, counters from history_stats built over the window ending the previous day.
-- The catalog snapshot of ${ds} gives static metadata (what serving knows that morning).
-- Views:
--   day_searches     clean searches of ${ds}, with query_key
--   day_labels       labels.sql over the day's clean engagements
--   catalog_features catalog of ${ds}: type, primary genre, popularity, added date, token arrays
--   entity_names     distinct normalized entity titles and artist names (looks-like-entity)
--   memory           the q2e table of the previous day (may be empty)
--   user_vectors, item_vectors  embeddings of the previous day (may be empty)
--   hist_entity, hist_user, hist_artist, hist_genre, hist_query  counters as of the previous day
-- Shown candidates are always kept; candidates that were not shown (they carry no label) are
-- kept for a deterministic share of searches (full_union = true: the whole candidate union),
-- which the ranker's truth evaluation ranks. The share is ${union_per_10000} / 10000.
-- A candidate found by several strategies is one row, with one rank/score column pair per
-- strategy (null when that strategy did not retrieve it). A shown entity is always a
-- candidate in valid logs; a shown entity missing from the candidates still gets a row.
WITH cand AS (
  SELECT s.search_id,
         c.entity_id,
    MIN(CASE WHEN c.strategy = 'lexical' THEN c.rank END) AS lexical_rank,
    MAX(CASE WHEN c.strategy = 'lexical' THEN c.score END) AS lexical_score,
    MIN(CASE WHEN c.strategy = 'memory' THEN c.rank END) AS memory_rank,
    MAX(CASE WHEN c.strategy = 'memory' THEN c.score END) AS memory_score,
    MIN(CASE WHEN c.strategy = 'personalized' THEN c.rank END) AS personalized_rank,
    MAX(CASE WHEN c.strategy = 'personalized' THEN c.score END) AS personalized_score,
    MIN(CASE WHEN c.strategy = 'related' THEN c.rank END) AS related_rank,
    MAX(CASE WHEN c.strategy = 'related' THEN c.score END) AS related_score,
    MIN(CASE WHEN c.strategy = 'popular' THEN c.rank END) AS popular_rank,
    MAX(CASE WHEN c.strategy = 'popular' THEN c.score END) AS popular_score,
    MIN(CASE WHEN c.strategy = 'semantic' THEN c.rank END) AS semantic_rank,
    MAX(CASE WHEN c.strategy = 'semantic' THEN c.score END) AS semantic_score,
         COUNT(DISTINCT c.strategy) AS n_strategies,
         MIN(c.rank) AS best_rank
  FROM day_searches s
  LATERAL VIEW explode(s.candidates) t AS c
  -- Only the candidates a row will be kept for (the filter of `rows` below, applied before
  -- the group-by): a large day retrieves about nine unshown candidates per shown one.
  WHERE pmod(xxhash64(s.search_id), 10000) < ${union_per_10000}
     OR array_contains(s.shown.entity_id, c.entity_id)
  GROUP BY s.search_id, c.entity_id
),
shown AS (
  SELECT s.search_id, sh.entity_id, sh.position AS shown_position, sh.score AS logged_score
  FROM day_searches s
  LATERAL VIEW explode(s.shown) t AS sh
),
rows AS (
  SELECT COALESCE(c.search_id, sh.search_id) AS search_id,
         COALESCE(c.entity_id, sh.entity_id) AS entity_id,
         c.lexical_rank, c.lexical_score, c.memory_rank, c.memory_score, c.personalized_rank, c.personalized_score, c.related_rank, c.related_score, c.popular_rank, c.popular_score, c.semantic_rank, c.semantic_score,
         c.n_strategies, c.best_rank,
         sh.shown_position,
         sh.logged_score
  FROM cand c
  FULL OUTER JOIN shown sh ON c.search_id = sh.search_id AND c.entity_id = sh.entity_id
  WHERE sh.shown_position IS NOT NULL
     OR pmod(xxhash64(COALESCE(c.search_id, sh.search_id)), 10000) < ${union_per_10000}
),
joined AS (
  SELECT r.*,
         s.ds, s.user_id, s.query_key, s.device, s.locale, s.shown_randomized, s.plan_id,
         s.context['local_hour'] AS local_hour,
         s.context['weekday'] AS weekday_name,
         CASE WHEN s.query_key = '' THEN array() ELSE split(s.query_key, ' ') END AS q_tokens,
         e.entity_type, e.artist_id, e.primary_genre, e.popularity, e.added_ds,
         e.title_key, e.title_tokens, e.artist_tokens, e.other_tokens,
         l.label AS engaged_label,
         m.score AS q2e_score_raw, m.rank AS q2e_rank_raw, m.trials AS q2e_trials_raw,
         m.predicted_kind, m.query_key AS memory_key,
         es.n1 AS entity_impressions_raw, es.n2 AS entity_positives_raw,
         us.n1 AS user_searches_raw, us.n2 AS user_positives_raw,
         ua.n2 AS user_artist_raw, ug.n2 AS user_genre_raw,
         hq.n1 AS query_searches_raw,
         CASE WHEN en.query_key IS NULL THEN 0 ELSE 1 END AS query_is_entity_name,
         uv.factors AS user_factors, iv.factors AS item_factors
  FROM rows r
  JOIN day_searches s ON r.search_id = s.search_id
  LEFT JOIN day_labels l ON r.search_id = l.search_id AND r.entity_id = l.entity_id
  LEFT JOIN catalog_features e ON r.entity_id = e.entity_id
  LEFT JOIN memory m ON s.query_key = m.query_key AND r.entity_id = m.entity_id
  LEFT JOIN hist_entity es ON r.entity_id = es.key1
  LEFT JOIN hist_user us ON s.user_id = us.key1
  LEFT JOIN hist_artist ua ON s.user_id = ua.key1 AND e.artist_id = ua.key2
  LEFT JOIN hist_genre ug ON s.user_id = ug.key1 AND e.primary_genre = ug.key2
  LEFT JOIN hist_query hq ON s.query_key = hq.key1
  LEFT JOIN entity_names en ON s.query_key = en.query_key
  LEFT JOIN user_vectors uv ON s.user_id = uv.user_id
  LEFT JOIN item_vectors iv ON r.entity_id = iv.entity_id
)
SELECT search_id,
       ds,
       user_id,
       entity_id,
       shown_position,
       shown_randomized,
       plan_id,
       pmod(xxhash64(search_id), 10000) < ${union_per_10000} AS full_union,
       CASE WHEN shown_position IS NULL THEN NULL ELSE COALESCE(engaged_label, 0) END AS label,
       logged_score,
       -- retrieval provenance

       CAST(lexical_rank AS DOUBLE) AS lexical_rank,
       CAST(lexical_score AS DOUBLE) AS lexical_score,
       CAST(memory_rank AS DOUBLE) AS memory_rank,
       CAST(memory_score AS DOUBLE) AS memory_score,
       CAST(personalized_rank AS DOUBLE) AS personalized_rank,
       CAST(personalized_score AS DOUBLE) AS personalized_score,
       CAST(related_rank AS DOUBLE) AS related_rank,
       CAST(related_score AS DOUBLE) AS related_score,
       CAST(popular_rank AS DOUBLE) AS popular_rank,
       CAST(popular_score AS DOUBLE) AS popular_score,
       CAST(semantic_rank AS DOUBLE) AS semantic_rank,
       CAST(semantic_score AS DOUBLE) AS semantic_score,
       CAST(n_strategies AS DOUBLE) AS n_strategies,
       CAST(best_rank AS DOUBLE) AS best_rank,
       -- memory
       q2e_score_raw AS q2e_score,
       CAST(q2e_rank_raw AS DOUBLE) AS q2e_rank,
       log1p(q2e_trials_raw) AS q2e_evidence,
       CASE WHEN memory_key IS NULL THEN NULL WHEN predicted_kind IS NULL THEN 0D ELSE 1D END AS q2e_predicted,
       -- entity
       popularity,
       CAST(NULLIF(array_position(array('track', 'artist', 'album', 'playlist', 'podcast', 'episode'), entity_type), 0) - 1 AS DOUBLE) AS entity_type,
       CASE WHEN primary_genre IS NULL THEN NULL ELSE CAST(pmod(crc32(CAST(primary_genre AS BINARY)), ${hash_buckets}) AS DOUBLE) END AS genre,
       CAST(datediff(DATE '${ds}', added_ds) AS DOUBLE) AS age_days,
       log1p(COALESCE(entity_impressions_raw, 0)) AS entity_impressions,
       log1p(COALESCE(entity_positives_raw, 0)) AS entity_positives,
       (COALESCE(entity_positives_raw, 0) + 1D) / (COALESCE(entity_impressions_raw, 0) + 20D) AS entity_positive_rate,
       -- query-entity match (null for an empty query)
       CASE WHEN size(q_tokens) = 0 THEN NULL WHEN query_key = title_key THEN 1D ELSE 0D END AS title_exact,
       CASE WHEN size(q_tokens) = 0 THEN NULL
            ELSE size(array_intersect(q_tokens, title_tokens)) / CAST(size(array_union(q_tokens, title_tokens)) AS DOUBLE)
       END AS title_jaccard,
       CASE WHEN size(q_tokens) = 0 THEN NULL
            ELSE size(array_intersect(q_tokens, array_union(title_tokens, array_union(artist_tokens, other_tokens))))
                 / CAST(size(array_distinct(q_tokens)) AS DOUBLE)
       END AS query_coverage,
       CASE WHEN size(q_tokens) = 0 OR size(artist_tokens) = 0 THEN NULL
            ELSE size(array_intersect(q_tokens, artist_tokens)) / CAST(size(artist_tokens) AS DOUBLE)
       END AS artist_in_query,
       -- personalization
       CASE WHEN user_factors IS NULL OR item_factors IS NULL THEN NULL
            ELSE aggregate(zip_with(user_factors, item_factors, (a, b) -> CAST(a AS DOUBLE) * CAST(b AS DOUBLE)), 0D, (acc, x) -> acc + x)
       END AS affinity,
       log1p(COALESCE(user_positives_raw, 0)) AS user_positives,
       log1p(COALESCE(user_artist_raw, 0)) AS user_artist_positives,
       CASE WHEN COALESCE(user_positives_raw, 0) = 0 THEN NULL
            ELSE COALESCE(user_genre_raw, 0) / CAST(user_positives_raw AS DOUBLE)
       END AS user_genre_share,
       -- query
       CAST(length(query_key) AS DOUBLE) AS query_chars,
       CAST(size(q_tokens) AS DOUBLE) AS query_tokens,
       CAST(query_is_entity_name AS DOUBLE) AS query_is_entity_name,
       log1p(COALESCE(query_searches_raw, 0)) AS query_searches,
       -- context
       TRY_CAST(local_hour AS DOUBLE) AS hour,
       CAST(NULLIF(array_position(array('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'), weekday_name), 0) - 1 AS DOUBLE) AS weekday,
       CAST(NULLIF(array_position(array('mobile', 'desktop', 'web', 'tv', 'car'), device), 0) - 1 AS DOUBLE) AS device,
       CAST(pmod(crc32(CAST(locale AS BINARY)), ${hash_buckets}) AS DOUBLE) AS locale
FROM joined
