-- Accident counts per period, per state and for all states (state NULL)
-- (SPEC section 3, kpis_temporal).
-- medallion: auto_id = id
-- medallion: enum period_type = hourly, daily, monthly, yearly
-- medallion: enum trend_direction = up, down, stable
-- medallion: index idx_period = period_type, period_value
-- medallion: index idx_state_period = state, period_type
WITH periods AS (
    SELECT 'hourly' AS period_type, to_char(start_time, '%H') AS period_value, state, severity
    FROM accidents_classified
    UNION ALL
    SELECT 'daily', to_char(start_time, '%a'), state, severity FROM accidents_classified
    UNION ALL
    SELECT 'monthly', to_char(start_time, '%Y-%m'), state, severity FROM accidents_classified
    UNION ALL
    SELECT 'yearly', to_char(start_time, '%Y'), state, severity FROM accidents_classified
),
per_state AS (
    SELECT period_type, period_value, state,
           COUNT(*) AS accident_count, SUM(CAST(severity AS DOUBLE)) AS severity_sum
    FROM periods
    GROUP BY period_type, period_value, state
),
counted AS (
    SELECT period_type, period_value, state, accident_count, severity_sum FROM per_state
    UNION ALL
    SELECT period_type, period_value, CAST(NULL AS VARCHAR), SUM(accident_count), SUM(severity_sum)
    FROM per_state
    GROUP BY period_type, period_value
),
windowed AS (
    SELECT
        period_type,
        period_value,
        state,
        accident_count,
        severity_sum / accident_count AS severity_avg,
        AVG(CAST(accident_count AS DOUBLE))
            OVER (PARTITION BY period_type, state) AS base_count,
        -- monthly rows: average of the same calendar month over the years ('YYYY-MM' -> 'MM')
        AVG(CAST(accident_count AS DOUBLE))
            OVER (PARTITION BY period_type, state, substr(period_value, 6, 2)) AS calendar_month_avg,
        array_agg(CAST(accident_count AS DOUBLE)) OVER (
            PARTITION BY period_type, state ORDER BY period_value
            ROWS BETWEEN 5 PRECEDING AND CURRENT ROW
        ) AS last_6_counts,
        array_agg(CAST(accident_count AS DOUBLE)) OVER (
            PARTITION BY period_type, state ORDER BY period_value
            ROWS BETWEEN 2 PRECEDING AND CURRENT ROW
        ) AS last_3_counts
    FROM counted
)
SELECT
    period_type,
    period_value,
    state,
    CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg,
    CASE period_type
        WHEN 'monthly' THEN trend_direction(last_6_counts, ${trend_threshold})
        WHEN 'yearly' THEN trend_direction(last_3_counts, ${trend_threshold})
    END AS trend_direction,
    CASE period_type
        WHEN 'monthly' THEN seasonal_factor(calendar_month_avg, base_count)
        ELSE seasonal_factor(CAST(accident_count AS DOUBLE), base_count)
    END AS seasonal_factor,
    now() AS last_updated
FROM windowed
