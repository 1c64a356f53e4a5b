-- Observed query-entity statistics over the look-back window ending at ${ds}.
-- Views:
--   window_searches    clean searches of the window, with their partition column ds
--   window_engagements clean engagements of the window
--   query_keys         raw query -> normalized key (ltrr.text.normalize_query)
--   examination        position -> exam (estimated examination probability)
-- One row per (query_key, entity_id) that was shown at least once.
-- An impression is one shown result; its age is the number of days before ${ds}; its decay
-- weight is 0.5 ^ (age / half life). A shown result is
--   clicked  when it has any engagement in that search,
--   positive when it was played, liked or added, or clicked without a skip.
WITH shown AS (
  SELECT k.query_key,
         sh.entity_id,
         sh.position,
         s.search_id,
         s.ts,
         datediff(DATE '${ds}', to_date(s.ds)) AS age_days
  FROM window_searches s
  JOIN query_keys k ON s.query = k.query
  LATERAL VIEW explode(s.shown) t AS sh
  WHERE k.query_key <> ''
),
eng AS (
  SELECT search_id,
         entity_id,
         MAX(CASE WHEN action = 'play' THEN 1 ELSE 0 END)           AS played,
         MAX(CASE WHEN action IN ('like', 'add') THEN 1 ELSE 0 END) AS liked,
         MAX(CASE WHEN action = 'skip' THEN 1 ELSE 0 END)           AS skipped
  FROM window_engagements
  GROUP BY search_id, entity_id
),
impressions AS (
  SELECT shown.query_key,
         shown.entity_id,
         shown.ts,
         CASE WHEN e.search_id IS NULL THEN 0 ELSE 1 END             AS clicked,
         COALESCE(e.played, 0)                                        AS played,
         COALESCE(e.liked, 0)                                         AS liked,
         COALESCE(e.skipped, 0)                                       AS skipped,
         CASE WHEN e.played = 1 OR e.liked = 1
                OR (e.search_id IS NOT NULL AND e.skipped = 0) THEN 1 ELSE 0 END AS positive,
         x.exam,
         pow(0.5, shown.age_days / ${half_life_days})                 AS decay
  FROM shown
  LEFT JOIN eng e
    ON shown.search_id = e.search_id AND shown.entity_id = e.entity_id
  JOIN examination x
    ON x.position = LEAST(shown.position, ${max_position})
)
SELECT query_key,
       entity_id,
       COUNT(*)                     AS impressions,
       SUM(clicked)                 AS clicks,
       SUM(played)                  AS plays,
       SUM(liked)                   AS likes_adds,
       SUM(skipped)                 AS skips,
       SUM(positive)                AS positives,
       MAX(ts)                      AS last_seen,
       SUM(decay)                   AS impressions_decayed,
       SUM(clicked * decay)         AS clicks_decayed,
       SUM(played * decay)          AS plays_decayed,
       SUM(liked * decay)           AS likes_adds_decayed,
       SUM(skipped * decay)         AS skips_decayed,
       SUM(positive * decay)        AS positives_decayed,
       SUM(exam)                    AS debiased_impressions,
       SUM(exam * decay)            AS debiased_impressions_decayed
FROM impressions
GROUP BY query_key, entity_id
