-- Cold start: predicted query-entity pairs generated from catalog metadata for entities
-- with little evidence (fewer than ${cold_max_impressions} impressions in the window).
-- Views:
--   entity_keys  (entity_id, added_ds, kind, query_key): normalized metadata keys of every entity
--                (kinds: title, title_artist, artist_title, artist), from ltrr.memory
--   entity_evidence (entity_id, impressions): impressions of each entity in the window
--   kind_priors  (kind, prior): prior engagement score of a predicted pair by kind
-- Adds two generated kinds from the title key of entities added in the last ${new_days} days
-- (new entities are the ones customers cannot find by memory yet; older long-tail entities
-- keep their exact keys only, and typos of their titles are left to lexical fuzzy matching):
--   prefix  every prefix of the title of length >= max(${min_prefix}, half the title)
--   typo    every single-character deletion and adjacent transposition of the title
--           (titles of ${min_typo_length}..${max_typo_length} characters)
-- When one (query_key, entity_id) arises from several kinds, the highest prior wins.
WITH cold AS (
  SELECT k.entity_id, k.kind, k.query_key, k.added_ds
  FROM entity_keys k
  LEFT JOIN entity_evidence ev ON k.entity_id = ev.entity_id
  WHERE COALESCE(ev.impressions, 0) < ${cold_max_impressions}
    AND k.query_key <> ''
),
titles AS (
  SELECT entity_id, query_key AS title, length(query_key) AS n
  FROM cold
  WHERE kind = 'title'
    AND added_ds > date_sub(DATE '${ds}', ${new_days})
),
prefixes AS (
  SELECT entity_id, 'prefix' AS kind, substr(title, 1, i) AS query_key
  FROM titles
  LATERAL VIEW explode(sequence(1, n)) t AS i
  WHERE i >= GREATEST(${min_prefix}, CAST(ceil(n / 2.0) AS INT)) AND i < n
),
deletions AS (
  SELECT entity_id, 'typo' AS kind, concat(substr(title, 1, i - 1), substr(title, i + 1)) AS query_key
  FROM titles
  LATERAL VIEW explode(sequence(1, n)) t AS i
  WHERE n BETWEEN ${min_typo_length} AND ${max_typo_length}
),
transpositions AS (
  SELECT entity_id, 'typo' AS kind,
         concat(substr(title, 1, i - 1), substr(title, i + 1, 1), substr(title, i, 1), substr(title, i + 2)) AS query_key
  FROM titles
  LATERAL VIEW explode(sequence(1, n - 1)) t AS i
  WHERE n BETWEEN ${min_typo_length} AND ${max_typo_length}
    AND substr(title, i, 1) <> substr(title, i + 1, 1)
),
candidates AS (
  SELECT entity_id, kind, query_key FROM cold
  UNION ALL SELECT entity_id, kind, query_key FROM prefixes
  UNION ALL SELECT entity_id, kind, query_key FROM deletions
  UNION ALL SELECT entity_id, kind, query_key FROM transpositions
),
scored AS (
  SELECT c.query_key, c.entity_id, c.kind, p.prior,
         row_number() OVER (PARTITION BY c.query_key, c.entity_id ORDER BY p.prior DESC, c.kind) AS rn
  FROM candidates c
  JOIN kind_priors p ON c.kind = p.kind
  WHERE trim(c.query_key) <> '' AND c.query_key = trim(c.query_key) AND c.query_key NOT LIKE '%  %'
)
SELECT query_key, entity_id, kind AS predicted_kind, prior AS predicted_score
FROM scored
WHERE rn = 1
