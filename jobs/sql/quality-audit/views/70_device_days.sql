-- Per device and day with readings up to D: readings, readings outside a physical range
-- (daily-aggregations' ranges), and the sum and count of signal_quality.
SELECT
    device_id,
    day,
    CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE) AS month,
    COUNT(*) AS readings,
    SUM(CASE WHEN in_range THEN 0 ELSE 1 END) AS out_of_range,
    SUM(signal_quality) AS signal_quality_sum,
    COUNT(signal_quality) AS signal_quality_count
FROM vitals_checked
GROUP BY device_id, day
