-- Normalized query x entity engagement weights over the window (input of the query vectors).
-- Views:
--   weighted_engagements  sql/embed/weighted_engagements.sql
-- One row per (query_key, entity_id) whose decayed weight sum is above ${min_weight}; engagements
-- whose search has no key or an empty key (browse requests) are left out (the caller counts them).
SELECT query_key,
       entity_id,
       COUNT(*)             AS engagements,
       SUM(weight * decay)  AS weight
FROM weighted_engagements
WHERE excluded IS NULL AND query_key IS NOT NULL AND query_key <> ''
GROUP BY query_key, entity_id
HAVING SUM(weight * decay) > ${min_weight}
