-- Accident counts per period, per state and for all states (state NULL)
-- (SPEC section 3, kpis_temporal).
-- medallion: auto_id = id
-- medallion: enum period_type = hourly, daily, monthly, yearly
-- medallion: enum trend_direction = up, down, stable
-- medallion: index idx_period = period_type, period_value
-- medallion: index idx_state_period = state, period_type
-- API index of seed 002 (/analytics/temporal: one state's series in period order):
-- medallion: index idx_temporal_api = period_type, state, period_value
-- the counts of period_counts (per state, and for all states with state NULL)
WITH named AS (
    SELECT
        CASE
            WHEN hour_of_day IS NOT NULL THEN 'hourly'
            WHEN day_of_week IS NOT NULL THEN 'daily'
            WHEN month_of_year IS NOT NULL THEN 'monthly'
            ELSE 'yearly'
        END AS period_type,
        CASE
            -- '00'..'23'
            WHEN hour_of_day IS NOT NULL THEN lpad(CAST(hour_of_day AS VARCHAR), 2, '0')
            -- date_part's dow: 0 = Sunday
            WHEN day_of_week IS NOT NULL THEN CASE day_of_week
                WHEN 0 THEN 'Sun' WHEN 1 THEN 'Mon' WHEN 2 THEN 'Tue' WHEN 3 THEN 'Wed'
                WHEN 4 THEN 'Thu' WHEN 5 THEN 'Fri' ELSE 'Sat' END
            -- 'YYYY-MM'
            WHEN month_of_year IS NOT NULL THEN lpad(CAST(calendar_year AS VARCHAR), 4, '0')
                || '-' || lpad(CAST(month_of_year AS VARCHAR), 2, '0')
            -- 'YYYY'
            ELSE lpad(CAST(calendar_year AS VARCHAR), 4, '0')
        END AS period_value,
        state,
        accident_count,
        severity_sum
    FROM period_counts
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
    FROM named
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
