-- Weighted engagement events of the embeddings look-back window ending at ${ds}.
-- Views:
--   window_engagements clean engagements of the window, with their partition column ds
--   search_keys        search_id -> query_key (normalized query of the search; may be '')
--   catalog_ids        entity_id of every entity of the clean catalog of ${ds}
-- One row per engagement of the window:
--   weight   by action: click ${w_click}, play ${w_play} + ${w_play_time} * min(amount_ms / ${play_full_ms}, 1),
--            like ${w_like}, add ${w_add}, skip ${w_skip} (a play without amount_ms gets the base weight)
--   age_days days before ${ds}; decay = 0.5 ^ (age_days / half life)
--   excluded why the engagement cannot enter the matrix (NULL when it is used):
--            no_user (empty user_id), unknown_action, not_in_catalog (entity absent from the catalog of ${ds})
SELECT e.engagement_id,
       e.user_id,
       e.entity_id,
       e.action,
       k.query_key,
       datediff(DATE '${ds}', to_date(e.ds))                                           AS age_days,
       CASE e.action
         WHEN 'click' THEN ${w_click}
         WHEN 'play'  THEN ${w_play} + ${w_play_time} * LEAST(COALESCE(e.amount_ms, 0) / ${play_full_ms}, 1.0D)
         WHEN 'like'  THEN ${w_like}
         WHEN 'add'   THEN ${w_add}
         WHEN 'skip'  THEN ${w_skip}
       END                                                                             AS weight,
       pow(0.5D, datediff(DATE '${ds}', to_date(e.ds)) / ${half_life_days})            AS decay,
       CASE
         WHEN e.user_id IS NULL OR trim(e.user_id) = '' THEN 'no_user'
         WHEN e.action IS NULL OR e.action NOT IN ('click', 'play', 'like', 'add', 'skip') THEN 'unknown_action'
         WHEN c.entity_id IS NULL THEN 'not_in_catalog'
       END                                                                             AS excluded
FROM window_engagements e
LEFT JOIN catalog_ids c ON e.entity_id = c.entity_id
LEFT JOIN search_keys k ON e.search_id = k.search_id
