-- medallion: materialize
-- Accident counts and severity totals per hour of day, day of week, month and year, per state and
-- for all states (state NULL), in one pass over the accepted accidents. Computed once per run and
-- kept in memory (a few thousand rows): kpis_temporal's rows, and the monthly and hourly rows that
-- kpis_anomalies and insights read (SPEC sections 3 and 3b).
WITH keyed AS (
    -- each accident's periods as numbers
    SELECT
        state,
        CAST(severity AS DOUBLE) AS severity_value,
        CAST(date_part('hour', start_time) AS INT) AS hour_of_day,
        CAST(date_part('dow', start_time) AS INT) AS day_of_week,
        CAST(date_part('year', start_time) AS INT) AS calendar_year,
        CAST(date_part('month', start_time) AS INT) AS month_of_year
    FROM accidents_classified
)
-- accepted rows always have a state, so which columns are NULL tells the grouping set of a row
SELECT
    hour_of_day, day_of_week, calendar_year, month_of_year, state,
    COUNT(*) AS accident_count,
    SUM(severity_value) AS severity_sum
FROM keyed
GROUP BY GROUPING SETS (
    (hour_of_day, state), (hour_of_day),
    (day_of_week, state), (day_of_week),
    (calendar_year, month_of_year, state), (calendar_year, month_of_year),
    (calendar_year, state), (calendar_year)
)
