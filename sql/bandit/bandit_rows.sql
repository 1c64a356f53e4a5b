-- One row per clean search of the day: the bandit's context as of the search, the logged plan
-- and its features, the propensity, the reward, and which strategies retrieved the engaged
-- entity (docs/bandit.md, "The bandit dataset").
-- Views:
--   day_searches    clean searches of the day, with query_key
--   day_labels      sql/rank/labels.sql over the day's clean engagements (label, best position)
--   entity_names    distinct normalized entity titles and artist names of the catalog serving
--                   knew (the day before's), for looks-like-entity
-- A context value that is not a number (local_hour, session_seq) is a missing feature, as at
-- serving (TRY_CAST), not a failed day.
--   memory_queries  per query_key of the previous day's memory table: entities, top score
--   hist_user, hist_query, hist_genre  counters over the window ending the previous day
-- Reward = engagement grade of the search's best engaged entity (label / 3: like/add 1,
-- play >= 30 s 2/3, click 1/3, skip or nothing 0) minus ${cost_per_candidate} per candidate
-- drawn (every candidate row with provenance, so an entity found by two strategies costs
-- twice: both strategy calls paid for it). The best engaged entity is the one of highest
-- label, then best position, then smallest id.
WITH best AS (
  SELECT search_id, entity_id, label
  FROM (
    SELECT search_id, entity_id, label,
           ROW_NUMBER() OVER (PARTITION BY search_id ORDER BY label DESC, position ASC, entity_id ASC) AS rn
    FROM day_labels
  ) ranked
  WHERE rn = 1 AND label > 0
),
engaged AS (
  SELECT search_id, COUNT(*) AS n_engaged FROM day_labels GROUP BY search_id
),
top_genre AS (
  SELECT key1 AS user_id, key2 AS genre
  FROM (
    SELECT key1, key2, ROW_NUMBER() OVER (PARTITION BY key1 ORDER BY n2 DESC, key2 ASC) AS rn
    FROM hist_genre
  ) g
  WHERE rn = 1
),
-- The lookups by query and by user run on (search_id, query_key, user_id) alone; the wide
-- search rows (candidate and shown arrays) are then joined once, by search_id, with the
-- lookups, best and engaged, all partitioned alike: one shuffle of the wide rows, not one per
-- lookup key.
lookups AS (
  SELECT s.search_id,
         CASE WHEN en.query_key IS NULL THEN 0 ELSE 1 END AS is_entity_name,
         mq.entities AS memory_entities_raw, mq.top_score AS memory_top_score_raw,
         hq.n1 AS query_searches_raw,
         hu.n1 AS user_searches_raw, hu.n2 AS user_positives_raw,
         tg.genre AS top_genre
  FROM (SELECT search_id, query_key, user_id FROM day_searches) s
  LEFT JOIN entity_names en ON s.query_key = en.query_key
  LEFT JOIN memory_queries mq ON s.query_key = mq.query_key
  LEFT JOIN hist_query hq ON s.query_key = hq.key1
  LEFT JOIN hist_user hu ON s.user_id = hu.key1
  LEFT JOIN top_genre tg ON s.user_id = tg.user_id
),
joined AS (
  SELECT s.*,
         CASE WHEN s.query_key = '' THEN 0 ELSE size(split(s.query_key, ' ')) END AS n_tokens,
         b.entity_id AS engaged_entity_id,
         COALESCE(b.label, 0) AS best_label,
         COALESCE(e.n_engaged, 0) AS n_engaged,
         l.is_entity_name,
         l.memory_entities_raw, l.memory_top_score_raw,
         l.query_searches_raw,
         l.user_searches_raw, l.user_positives_raw,
         l.top_genre
  FROM day_searches s
  LEFT JOIN best b ON s.search_id = b.search_id
  LEFT JOIN engaged e ON s.search_id = e.search_id
  LEFT JOIN lookups l ON s.search_id = l.search_id
)
SELECT search_id,
       ds,
       user_id,
       plan_id,
       plan,
       propensity,
       policy_version,
       -- reward
       CAST(best_label AS DOUBLE) / 3D - ${cost_per_candidate}D * size(candidates) AS reward,
       CAST(best_label AS DOUBLE) / 3D AS engagement_grade,
       ${cost_per_candidate}D * size(candidates) AS cost,
       CAST(best_label AS INT) AS best_label,
       engaged_entity_id,
       CAST(n_engaged AS INT) AS n_engaged,
       CAST(size(candidates) AS INT) AS n_candidates,
       CAST(size(array_distinct(transform(candidates, c -> c.entity_id))) AS INT) AS n_union,
       -- which strategies retrieved the engaged entity (0 without an engaged entity); read from
       -- the search's own candidate array, so no second pass over the exploded candidates
       CAST(COALESCE(exists(candidates, c -> c.entity_id = engaged_entity_id AND c.strategy = 'lexical'), false) AS INT) AS hit_lexical,
       CAST(COALESCE(exists(candidates, c -> c.entity_id = engaged_entity_id AND c.strategy = 'memory'), false) AS INT) AS hit_memory,
       CAST(COALESCE(exists(candidates, c -> c.entity_id = engaged_entity_id AND c.strategy = 'personalized'), false) AS INT) AS hit_personalized,
       CAST(COALESCE(exists(candidates, c -> c.entity_id = engaged_entity_id AND c.strategy = 'related'), false) AS INT) AS hit_related,
       CAST(COALESCE(exists(candidates, c -> c.entity_id = engaged_entity_id AND c.strategy = 'popular'), false) AS INT) AS hit_popular,
       CAST(COALESCE(exists(candidates, c -> c.entity_id = engaged_entity_id AND c.strategy = 'semantic'), false) AS INT) AS hit_semantic,
       -- the logged plan's features (the same as ltrr.bandit.plan_features.plan_features)
       CAST(aggregate(filter(plan, p -> p.strategy = 'lexical'), 0, (acc, p) -> acc + p.budget) AS DOUBLE) AS budget_lexical,
       CAST(aggregate(filter(plan, p -> p.strategy = 'memory'), 0, (acc, p) -> acc + p.budget) AS DOUBLE) AS budget_memory,
       CAST(aggregate(filter(plan, p -> p.strategy = 'personalized'), 0, (acc, p) -> acc + p.budget) AS DOUBLE) AS budget_personalized,
       CAST(aggregate(filter(plan, p -> p.strategy = 'related'), 0, (acc, p) -> acc + p.budget) AS DOUBLE) AS budget_related,
       CAST(aggregate(filter(plan, p -> p.strategy = 'popular'), 0, (acc, p) -> acc + p.budget) AS DOUBLE) AS budget_popular,
       CAST(aggregate(filter(plan, p -> p.strategy = 'semantic'), 0, (acc, p) -> acc + p.budget) AS DOUBLE) AS budget_semantic,
       CAST(size(array_distinct(transform(plan, p -> p.strategy))) AS DOUBLE) AS n_strategies,
       CAST(aggregate(plan, 0, (acc, p) -> acc + p.budget) AS DOUBLE) AS total_budget,
       -- context: query
       CAST(length(query_key) AS DOUBLE) AS query_chars,
       CAST(n_tokens AS DOUBLE) AS query_tokens,
       CAST(is_entity_name AS DOUBLE) AS query_is_entity_name,
       log1p(COALESCE(query_searches_raw, 0)) AS query_searches,
       log1p(COALESCE(memory_entities_raw, 0)) AS memory_entities,
       COALESCE(memory_top_score_raw, 0D) AS memory_top_score,
       -- context: user
       log1p(COALESCE(user_searches_raw, 0)) AS user_searches,
       log1p(COALESCE(user_positives_raw, 0)) AS user_positives,
       COALESCE(top_genre, 'none') AS user_top_genre,
       -- context: time and client
       TRY_CAST(context['local_hour'] AS DOUBLE) AS hour,
       COALESCE(context['weekday'], 'unknown') AS weekday,
       CASE WHEN context['weekday'] IN ('sat', 'sun') THEN 1D ELSE 0D END AS weekend,
       TRY_CAST(context['session_seq'] AS DOUBLE) AS session_seq,
       device,
       locale,
       split(locale, '-')[0] AS language
FROM joined
