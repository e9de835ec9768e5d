-- The as-of day D of the run (SPEC 5b), one row: the day before period_end (--date D, or the last
-- day of --week/--month/--to), or today (UTC) when the run was given no period; with the Monday
-- of its ISO week and the first day of its month.
WITH d AS (
    SELECT
        CASE WHEN ${period_end} >= DATE '2200-01-01' THEN current_date()
             ELSE CAST(${period_end} - INTERVAL '1 day' AS DATE) END AS as_of_day
)
SELECT
    as_of_day,
    CAST(date_trunc('week', CAST(as_of_day AS TIMESTAMP)) AS DATE) AS as_of_week,
    CAST(date_trunc('month', CAST(as_of_day AS TIMESTAMP)) AS DATE) AS as_of_month
FROM d
