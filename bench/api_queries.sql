-- The API-style queries of seed 002 on the Gold tables medallion publishes into MySQL, as the
-- FastAPI endpoints would send them. bench/api.py runs each one (EXPLAIN saved, `key` checked,
-- median of repeated runs reported; target < 100 ms each). One query per `-- name:` block, with
-- `-- index:` naming the index meant to serve it (when the optimizer prefers a table scan, the
-- query is also explained and timed with that index forced); 'CA' is the state with the most
-- accidents in the generated lakes.

-- name: hotspots_top
-- /hotspots: the most dangerous zones, by danger_score.
-- index: idx_hotspots_api
SELECT state, city, latitude, longitude, accident_count, severity_avg, danger_score, radius_miles
FROM hotspots
ORDER BY danger_score DESC
LIMIT 10;

-- name: hotspots_state
-- /hotspots?state=: one state's dangerous zones.
-- index: idx_location
SELECT city, latitude, longitude, accident_count, danger_score
FROM hotspots
WHERE state = 'CA'
ORDER BY danger_score DESC
LIMIT 10;

-- name: temporal_state_monthly
-- /analytics/temporal: one state's monthly series.
-- index: idx_temporal_api
SELECT period_value, accident_count, severity_avg, seasonal_factor, trend_direction
FROM kpis_temporal
WHERE period_type = 'monthly' AND state = 'CA'
ORDER BY period_value;

-- name: temporal_all_hourly
-- /analytics/temporal: the national hourly profile.
-- index: idx_temporal_api
SELECT period_value, accident_count, severity_avg, seasonal_factor
FROM kpis_temporal
WHERE period_type = 'hourly' AND state IS NULL
ORDER BY period_value;

-- name: security_ranking
-- /security: the state ranking (state rows have city NULL).
-- index: idx_security_ranking
SELECT state, accident_count, severity_avg, accident_rate_per_100k, danger_index, hotspot_rank
FROM kpis_security
WHERE hotspot_rank <= 20 AND city IS NULL
ORDER BY hotspot_rank;

-- name: security_cities
-- /security?state=: one state's most dangerous cities.
-- index: idx_state
SELECT city, accident_count, severity_avg, danger_index, hotspot_rank, severity_distribution
FROM kpis_security
WHERE state = 'CA' AND city IS NOT NULL
ORDER BY danger_index DESC
LIMIT 20;

-- name: summary_state_month
-- /accidents?state=&from=&to=: a state's accidents over a month.
-- index: idx_state_date
SELECT accident_date, count(*) AS accidents, avg(safety_score) AS safety
FROM accidents_summary
WHERE state = 'CA' AND accident_date BETWEEN '2021-03-01' AND '2021-03-31'
GROUP BY accident_date
ORDER BY accident_date;

-- name: insights_state
-- /insights?state=: one state's recommendations (every per-state insight type).
-- index: idx_insight
SELECT insight_type, subject, value, `rank`, recommendation
FROM insights
WHERE insight_type IN ('dangerous_state', 'peak_hour', 'best_infrastructure',
                       'safety_improvement_score')
  AND state = 'CA'
ORDER BY insight_type, `rank`;

-- name: insights_nationwide
-- /insights: the nationwide recommendations of one type (state NULL).
-- index: idx_insight
SELECT subject, value, `rank`, recommendation
FROM insights
WHERE insight_type = 'significant_correlation' AND state IS NULL
ORDER BY `rank`;

-- name: anomalies_type
-- /anomalies?type=: the anomalies of one type, the strongest first.
-- index: idx_anomaly
SELECT state, subject, metric, value, baseline, z_score, direction
FROM kpis_anomalies
WHERE anomaly_type = 'temporal'
ORDER BY abs(z_score) DESC
LIMIT 50;

-- name: anomalies_state
-- /anomalies?type=&state=: one state's anomalies of one type.
-- index: idx_anomaly
SELECT subject, value, baseline, z_score, direction
FROM kpis_anomalies
WHERE anomaly_type = 'temporal' AND state = 'CA'
ORDER BY subject;
