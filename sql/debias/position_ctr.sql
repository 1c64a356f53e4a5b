-- Click-through rate by shown position on searches whose order was randomized.
-- On those searches an entity's position is independent of its relevance, so the CTR at
-- position p is proportional to the examination probability of p (position-based model).
-- Views: searches (clean searches of the window), engagements (clean engagements of the window).
-- A shown result counts as clicked when it has any engagement in its search.
WITH shown AS (
  SELECT s.search_id, sh.entity_id, sh.position
  FROM searches s
  LATERAL VIEW explode(s.shown) t AS sh
  WHERE s.shown_randomized
    AND sh.position <= ${max_position}
),
clicked AS (
  SELECT DISTINCT search_id, entity_id
  FROM engagements
)
SELECT shown.position                          AS position,
       COUNT(*)                                AS impressions,
       COUNT(clicked.search_id)                AS clicks,
       COUNT(DISTINCT shown.search_id)         AS searches
FROM shown
LEFT JOIN clicked
  ON shown.search_id = clicked.search_id AND shown.entity_id = clicked.entity_id
GROUP BY shown.position
ORDER BY shown.position
