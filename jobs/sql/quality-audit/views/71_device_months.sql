-- Per device and month with readings (SPEC 5b, quality-audit): readings; expected = 288 x the
-- days of the month on which the device sent a reading; out-of-range readings; signal quality sum
-- and count; gap_days = the days without a reading between the device's first and last reading
-- day of the month.
SELECT
    device_id,
    month,
    CAST(SUM(readings) AS BIGINT) AS readings,
    CAST(COUNT(*) * ${readings_per_day} AS BIGINT) AS expected,
    CAST(SUM(out_of_range) AS BIGINT) AS out_of_range,
    SUM(signal_quality_sum) AS signal_quality_sum,
    CAST(SUM(signal_quality_count) AS BIGINT) AS signal_quality_count,
    CAST(CAST(MAX(day) AS INT) - CAST(MIN(day) AS INT) + 1 - COUNT(*) AS BIGINT) AS gap_days
FROM device_days
GROUP BY device_id, month
