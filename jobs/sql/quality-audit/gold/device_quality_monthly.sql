-- Per device and month with readings up to D (SPEC 5b, quality-audit): readings; expected = 288 x
-- the days of the month on which the device sent a reading; completeness = readings / expected;
-- out_of_range_share = readings with a value outside its physical range (daily-aggregations'
-- ranges) / readings; signal_quality_avg = the mean signal_quality of the readings; gap_days =
-- days of the month without a reading between the device's first and last reading day of the
-- month. Replaced by every run.
-- medallion: primary_key = device_id, month
-- medallion: index idx_month = month
SELECT
    device_id,
    month,
    readings,
    expected,
    CAST(readings AS DOUBLE) / expected AS completeness,
    CAST(out_of_range AS DOUBLE) / readings AS out_of_range_share,
    signal_quality_sum / signal_quality_count AS signal_quality_avg,
    gap_days
FROM device_months
