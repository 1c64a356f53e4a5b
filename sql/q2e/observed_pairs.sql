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
-- Engagements are gathered per search (one small array per engaged search) and joined to
-- the searches before their shown lists are exploded, so the join shuffles one row per
-- search instead of one row per impression.
WITH acted AS (
  SELECT search_id,
         entity_id,
         MAX(CASE WHEN action = 'play' THEN 1 ELSE 0 END)           AS played,
         MAX(CASE WHEN action IN ('like', 'add') THEN 1 ELSE 0 END) AS liked,
         MAX(CASE WHEN action = 'skip' THEN 1 ELSE 0 END)           AS skipped
  FROM window_engagements
  GROUP BY search_id, entity_id
),
acted_by_search AS (
  SELECT search_id,
         collect_list(named_struct('entity_id', entity_id, 'played', played,
                                   'liked', liked, 'skipped', skipped)) AS acts
  FROM acted
  GROUP BY search_id
),
keyed AS (
  SELECT k.query_key,
         s.search_id,
         s.ts,
         s.shown,
         datediff(DATE '${ds}', to_date(s.ds)) AS age_days
  FROM window_searches s
  JOIN query_keys k ON s.query = k.query
  WHERE k.query_key <> ''
),
shown AS (
  SELECT keyed.query_key,
         sh.entity_id,
         sh.position,
         keyed.ts,
         keyed.age_days,
         try_element_at(filter(a.acts, x -> x.entity_id = sh.entity_id), 1) AS act
  FROM keyed
  LEFT JOIN acted_by_search a ON keyed.search_id = a.search_id
  LATERAL VIEW explode(keyed.shown) t AS sh
),
impressions AS (
  SELECT shown.query_key,
         shown.entity_id,
         shown.ts,
         CASE WHEN act IS NULL THEN 0 ELSE 1 END                      AS clicked,
         COALESCE(act.played, 0)                                      AS played,
         COALESCE(act.liked, 0)                                       AS liked,
         COALESCE(act.skipped, 0)                                     AS skipped,
         CASE WHEN act.played = 1 OR act.liked = 1
                OR (act IS NOT NULL AND act.skipped = 0) THEN 1 ELSE 0 END AS positive,
         x.exam,
         pow(0.5, shown.age_days / ${half_life_days})                 AS decay
  FROM shown
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
