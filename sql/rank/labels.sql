-- Graded relevance label of every engaged (search, entity) of the day (docs/ranker.md):
--   3  liked or added
--   2  played for at least ${min_play_ms} ms
--   0  skipped (clicked, then skipped: a negative judgement)
--   1  clicked (or a shorter play) without a skip
-- Shown results without any engagement get label 0 in training_rows.sql. ``position`` is the
-- best (smallest) shown position the entity was engaged at (the bandit job breaks ties by it).
SELECT search_id,
       entity_id,
       CASE
         WHEN MAX(CASE WHEN action IN ('like', 'add') THEN 1 ELSE 0 END) = 1 THEN 3
         WHEN MAX(CASE WHEN action = 'play' AND amount_ms >= ${min_play_ms} THEN 1 ELSE 0 END) = 1 THEN 2
         WHEN MAX(CASE WHEN action = 'skip' THEN 1 ELSE 0 END) = 1 THEN 0
         ELSE 1
       END AS label,
       COUNT(*) AS engagements,
       MIN(position) AS position
FROM day_engagements
GROUP BY search_id, entity_id
