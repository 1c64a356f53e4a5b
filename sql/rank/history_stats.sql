-- Per-entity, per-user and per-query counters over a look-back window of clean logs.
-- These are the "as of the end of day E" tables the ranker's features read: a search on
-- day D joins the tables of E = D - 1, so nothing of day D (or later) leaks into its row.
-- Views:
--   hist_searches     clean searches of the window ending at E, with query_key
--   hist_engagements  clean engagements of the same window
--   hist_catalog      the catalog snapshot of E (artist and primary genre of engaged entities)
-- A positive (search, entity) was played, liked or added, or clicked without a skip (the
-- definition of the memory job, sql/q2e/observed_pairs.sql).
-- Output: one row per (table, key) in a long form, split by the caller:
--   table = 'entity' : key1 = entity_id,  n1 = impressions, n2 = positive engagements
--   table = 'user'   : key1 = user_id,    n1 = searches,    n2 = positive engagements
--   table = 'artist' : key1 = user_id, key2 = artist_id,   n2 = positive engagements
--   table = 'genre'  : key1 = user_id, key2 = primary genre, n2 = positive engagements
--   table = 'query'  : key1 = query_key,  n1 = searches
WITH positive AS (
  SELECT search_id, user_id, entity_id
  FROM hist_engagements
  GROUP BY search_id, user_id, entity_id
  HAVING MAX(CASE WHEN action IN ('play', 'like', 'add') THEN 1 ELSE 0 END) = 1
      OR MAX(CASE WHEN action = 'skip' THEN 1 ELSE 0 END) = 0
),
positive_meta AS (
  SELECT p.user_id, p.entity_id, c.artist_id, try_element_at(c.genres, 1) AS genre
  FROM positive p
  LEFT JOIN hist_catalog c ON p.entity_id = c.entity_id
),
impressions AS (
  SELECT sh.entity_id, COUNT(*) AS n
  FROM hist_searches s
  LATERAL VIEW explode(s.shown) t AS sh
  GROUP BY sh.entity_id
),
entity_positive AS (
  SELECT entity_id, COUNT(*) AS n FROM positive GROUP BY entity_id
),
user_searches AS (
  SELECT user_id, COUNT(*) AS n FROM hist_searches GROUP BY user_id
),
user_positive AS (
  SELECT user_id, COUNT(*) AS n FROM positive GROUP BY user_id
)
SELECT 'entity' AS table, COALESCE(i.entity_id, p.entity_id) AS key1, CAST(NULL AS STRING) AS key2,
       COALESCE(i.n, 0) AS n1, COALESCE(p.n, 0) AS n2
FROM impressions i FULL OUTER JOIN entity_positive p ON i.entity_id = p.entity_id
UNION ALL
SELECT 'user', COALESCE(s.user_id, p.user_id), CAST(NULL AS STRING), COALESCE(s.n, 0), COALESCE(p.n, 0)
FROM user_searches s FULL OUTER JOIN user_positive p ON s.user_id = p.user_id
UNION ALL
SELECT 'artist', user_id, artist_id, 0, COUNT(*)
FROM positive_meta WHERE artist_id IS NOT NULL GROUP BY user_id, artist_id
UNION ALL
SELECT 'genre', user_id, genre, 0, COUNT(*)
FROM positive_meta WHERE genre IS NOT NULL GROUP BY user_id, genre
UNION ALL
SELECT 'query', query_key, CAST(NULL AS STRING), COUNT(*), 0
FROM hist_searches WHERE query_key <> '' GROUP BY query_key
