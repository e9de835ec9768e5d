-- One row per month with readings up to D (SPEC 5b, quality-audit): device_quality_monthly's
-- figures over all devices, as sums then ratios: readings, expected, completeness = readings /
-- expected, out_of_range_share = out-of-range readings / readings, signal_quality_avg = the mean
-- signal_quality of all readings, gap_days = the devices' gap days summed; devices = devices with
-- readings in the month, devices_below_90 = those with a completeness < 0.9. Replaced by every
-- run.
-- medallion: primary_key = month
SELECT
    month,
    CAST(SUM(readings) AS BIGINT) AS readings,
    CAST(SUM(expected) AS BIGINT) AS expected,
    CAST(SUM(readings) AS DOUBLE) / SUM(expected) AS completeness,
    CAST(SUM(out_of_range) AS DOUBLE) / SUM(readings) AS out_of_range_share,
    SUM(signal_quality_sum) / SUM(signal_quality_count) AS signal_quality_avg,
    CAST(SUM(gap_days) AS BIGINT) AS gap_days,
    CAST(COUNT(*) AS BIGINT) AS devices,
    CAST(SUM(CASE WHEN CAST(readings AS DOUBLE) / expected < ${device_completeness_min}
                  THEN 1 ELSE 0 END) AS BIGINT) AS devices_below_90
FROM device_months
GROUP BY month
