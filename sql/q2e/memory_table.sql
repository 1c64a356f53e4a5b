-- The Q2E memory table of ${ds}: observed and predicted pairs, one Beta-smoothed score each,
-- the top ${top_n} entities per query.
-- Views: observed (sql/q2e/observed_pairs.sql), predicted (sql/q2e/predicted_pairs.sql).
-- Score: posterior mean of a Beta prior with mean m and strength ${prior_strength}
-- (pseudo-trials) updated with the pair's decayed positive engagements over its decayed,
-- position-debiased impressions (trials; never fewer than the positives):
--   score = (positives_decayed + k * m) / (trials + k)
-- m is the pair's predicted score when cold start predicted it, otherwise the window's
-- global rate ${global_rate}. With no evidence the score is m; as evidence accrues the
-- observed rate takes over, at equal weight when trials = k.
WITH pairs AS (
  SELECT COALESCE(o.query_key, p.query_key)                  AS query_key,
         COALESCE(o.entity_id, p.entity_id)                  AS entity_id,
         COALESCE(o.impressions, 0)                          AS impressions,
         COALESCE(o.clicks, 0)                               AS clicks,
         COALESCE(o.plays, 0)                                AS plays,
         COALESCE(o.likes_adds, 0)                           AS likes_adds,
         COALESCE(o.skips, 0)                                AS skips,
         COALESCE(o.positives, 0)                            AS positives,
         o.last_seen                                         AS last_seen,
         COALESCE(o.impressions_decayed, 0D)                 AS impressions_decayed,
         COALESCE(o.clicks_decayed, 0D)                      AS clicks_decayed,
         COALESCE(o.plays_decayed, 0D)                       AS plays_decayed,
         COALESCE(o.likes_adds_decayed, 0D)                  AS likes_adds_decayed,
         COALESCE(o.skips_decayed, 0D)                       AS skips_decayed,
         COALESCE(o.positives_decayed, 0D)                   AS positives_decayed,
         COALESCE(o.debiased_impressions, 0D)                AS debiased_impressions,
         COALESCE(o.debiased_impressions_decayed, 0D)        AS debiased_impressions_decayed,
         p.predicted_kind                                    AS predicted_kind,
         p.predicted_score                                   AS predicted_score
  FROM observed o
  FULL OUTER JOIN predicted p
    ON o.query_key = p.query_key AND o.entity_id = p.entity_id
),
scored AS (
  SELECT *,
         COALESCE(predicted_score, ${global_rate})                          AS prior_mean,
         GREATEST(debiased_impressions_decayed, positives_decayed)          AS trials
  FROM pairs
),
final AS (
  SELECT *,
         (positives_decayed + ${prior_strength} * prior_mean) / (trials + ${prior_strength}) AS score
  FROM scored
),
ranked AS (
  SELECT *,
         row_number() OVER (
           PARTITION BY query_key
           ORDER BY score DESC, trials DESC, entity_id
         ) AS rank
  FROM final
)
SELECT query_key, entity_id, CAST(rank AS INT) AS rank, score, prior_mean, trials,
       impressions, clicks, plays, likes_adds, skips, positives, last_seen,
       impressions_decayed, clicks_decayed, plays_decayed, likes_adds_decayed, skips_decayed,
       positives_decayed, debiased_impressions, debiased_impressions_decayed,
       predicted_kind, predicted_score
FROM ranked
WHERE rank <= ${top_n}
