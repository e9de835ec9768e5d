-- Replaces daily-aggregations' period window: every reading up to the as-of day D, inclusive
-- (D = the day before period_end, i.e. --date D or the last day of --week/--month/--to; without a
-- period, today in UTC), vitals as DOUBLE, with their day. patient_day_stats and the other
-- daily-aggregations views built on it then hold patient_daily_vitals' rows of every day up to D.
SELECT
    patient_id,
    device_id,
    ts,
    CAST(ts AS DATE) AS day,
    CAST(spo2_pct AS DOUBLE) AS spo2_pct,
    CAST(heart_rate_bpm AS DOUBLE) AS heart_rate_bpm,
    CAST(temperature_c AS DOUBLE) AS temperature_c,
    CAST(respiratory_rate AS DOUBLE) AS respiratory_rate,
    CAST(activity_steps AS DOUBLE) AS activity_steps,
    CAST(signal_quality AS DOUBLE) AS signal_quality
FROM vitals
WHERE ts < CAST(
    CASE WHEN ${period_end} >= DATE '2200-01-01' THEN current_date()
         ELSE CAST(${period_end} - INTERVAL '1 day' AS DATE) END AS TIMESTAMP)
    + INTERVAL '1 day'
