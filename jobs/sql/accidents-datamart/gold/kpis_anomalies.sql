-- Anomalies: months with an unusual accident count (per state and nationwide), states with an
-- outlying accident rate, weather categories with an unusual severity (SPEC section 3b,
-- kpis_anomalies), from the run's materialized views: the monthly counts of period_counts (those
-- of kpis_temporal), the state counts of state_profiles (kpis_security's rates, computed the same
-- way) and the weather categories of weather_groups (kpis_weather's).
-- medallion: auto_id = id
-- medallion: index idx_anomaly = anomaly_type, state
WITH counted AS (
    -- temporal: the monthly rows of period_counts, per state and nationwide (state NULL)
    SELECT
        'temporal' AS kind,
        state,
        calendar_year,
        month_of_year,
        CAST(NULL AS VARCHAR) AS weather_category,
        accident_count,
        CAST(NULL AS DOUBLE) AS severity_avg,
        CAST(NULL AS DOUBLE) AS severity_stddev
    FROM period_counts
    WHERE month_of_year IS NOT NULL
    UNION ALL
    -- geographic: the state rows of state_profiles; all: its row of every accepted accident
    SELECT
        CASE WHEN state IS NULL THEN 'all' ELSE 'geographic' END AS kind,
        state,
        CAST(NULL AS INT) AS calendar_year,
        CAST(NULL AS INT) AS month_of_year,
        CAST(NULL AS VARCHAR) AS weather_category,
        accident_count,
        severity_avg,
        severity_stddev
    FROM state_profiles
    UNION ALL
    -- weather: the weather categories of weather_groups, over every temperature category
    SELECT
        'weather' AS kind,
        CAST(NULL AS VARCHAR) AS state,
        CAST(NULL AS INT) AS calendar_year,
        CAST(NULL AS INT) AS month_of_year,
        weather_category,
        SUM(accident_count) AS accident_count,
        SUM(severity_sum) / SUM(accident_count) AS severity_avg,
        CAST(NULL AS DOUBLE) AS severity_stddev
    FROM weather_groups
    GROUP BY weather_category
),
kinds AS (
    SELECT
        c.kind,
        c.state,
        c.calendar_year,
        c.month_of_year,
        c.weather_category,
        c.accident_count,
        c.severity_avg,
        c.severity_stddev,
        -- as kpis_security's state rows: NULL for a state without a population
        c.accident_count * 100000.0 / p.population AS accident_rate
    FROM counted c
    LEFT JOIN state_population p ON p.state = c.state
),
scored AS (
    SELECT
        kind,
        state,
        calendar_year,
        month_of_year,
        weather_category,
        accident_count,
        severity_avg,
        CASE WHEN kind = 'geographic' THEN accident_rate END AS accident_rate,
        -- temporal: over the scope's (a state's, or the nationwide) monthly rows
        COUNT(*) OVER (PARTITION BY kind, state) AS scope_rows,
        AVG(CAST(accident_count AS DOUBLE)) OVER (PARTITION BY kind, state) AS scope_avg,
        STDDEV(CAST(accident_count AS DOUBLE)) OVER (PARTITION BY kind, state) AS scope_stddev,
        -- geographic: over the state rows with a rate
        COUNT(CASE WHEN kind = 'geographic' THEN accident_rate END) OVER (PARTITION BY kind)
            AS rate_rows,
        AVG(CASE WHEN kind = 'geographic' THEN accident_rate END) OVER (PARTITION BY kind)
            AS rate_avg,
        STDDEV(CASE WHEN kind = 'geographic' THEN accident_rate END) OVER (PARTITION BY kind)
            AS rate_stddev,
        -- weather: mean and stddev of severity over all accepted accidents
        MAX(CASE WHEN kind = 'all' THEN severity_avg END) OVER () AS severity_mu,
        MAX(CASE WHEN kind = 'all' THEN severity_stddev END) OVER () AS severity_sigma
    FROM kinds
),
anomalies AS (
    SELECT
        kind AS anomaly_type,
        state,
        CASE kind
            WHEN 'temporal' THEN lpad(CAST(calendar_year AS VARCHAR), 4, '0')
                || '-' || lpad(CAST(month_of_year AS VARCHAR), 2, '0')
            WHEN 'geographic' THEN state
            ELSE weather_category
        END AS subject,
        CASE kind
            WHEN 'temporal' THEN 'accident_count'
            WHEN 'geographic' THEN 'accident_rate_per_100k'
            ELSE 'severity_avg'
        END AS metric,
        CASE kind
            WHEN 'temporal' THEN CAST(accident_count AS DOUBLE)
            WHEN 'geographic' THEN accident_rate
            ELSE severity_avg
        END AS value,
        CASE kind
            WHEN 'temporal' THEN scope_avg
            WHEN 'geographic' THEN rate_avg
            ELSE severity_mu
        END AS baseline,
        CASE
            WHEN kind = 'temporal' AND scope_rows >= 12 AND scope_stddev > 0
                THEN (accident_count - scope_avg) / scope_stddev
            WHEN kind = 'geographic' AND rate_rows >= 5 AND rate_stddev > 0
                THEN (accident_rate - rate_avg) / rate_stddev
            WHEN kind = 'weather' AND weather_category <> 'unknown'
                AND accident_count >= ${min_rows} AND severity_sigma > 0
                THEN (severity_avg - severity_mu) / (severity_sigma / sqrt(CAST(accident_count AS DOUBLE)))
        END AS z_score
    FROM scored
    WHERE kind <> 'all'
)
SELECT
    anomaly_type,
    state,
    subject,
    metric,
    value,
    baseline,
    z_score,
    CASE WHEN z_score > 0 THEN 'high' ELSE 'low' END AS direction,
    now() AS last_updated
FROM anomalies
WHERE (anomaly_type = 'geographic' AND z_score >= ${geo_anomaly_z})
   OR (anomaly_type <> 'geographic' AND abs(z_score) >= ${anomaly_z})
ORDER BY anomaly_type, state NULLS FIRST, subject
