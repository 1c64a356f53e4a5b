-- User x entity engagement weights over the weighted events whose age is at most ${max_age_days} days.
-- Views:
--   weighted_engagements  sql/embed/weighted_engagements.sql
-- One row per (user_id, entity_id) with at least one usable engagement:
--   engagements  usable engagement events of the pair
--   weight       sum of weight * decay over them (may be <= 0: e.g. a click followed by a skip)
--   confidence   1 + ${alpha} * weight, the value the factor model sees for a positive pair
-- The caller keeps the pairs with weight > ${min_weight} as positives and counts the others.
SELECT user_id,
       entity_id,
       COUNT(*)                                  AS engagements,
       SUM(weight * decay)                       AS weight,
       1.0D + ${alpha} * SUM(weight * decay)     AS confidence,
       SUM(weight * decay) > ${min_weight}       AS positive
FROM weighted_engagements
WHERE excluded IS NULL AND age_days <= ${max_age_days}
GROUP BY user_id, entity_id
