-- Per patient-day statistics. Counts are over every reading received; the statistics only over the
-- valid ones (vitals_valid). Percentiles are exact (percentile_cont, linear interpolation between
-- the closest ranks).
WITH counts AS (
    SELECT
        patient_id,
        day,
        COUNT(*) AS readings,
        SUM(CASE WHEN in_range THEN 1 ELSE 0 END) AS valid_readings
    FROM vitals_checked
    GROUP BY patient_id, day
),
stats AS (
    SELECT
        patient_id,
        day,
        MIN(spo2_pct) AS spo2_min,
        AVG(spo2_pct) AS spo2_avg,
        MAX(spo2_pct) AS spo2_max,
        percentile_cont(0.05) WITHIN GROUP (ORDER BY spo2_pct) AS spo2_p05,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY spo2_pct) AS spo2_p50,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY spo2_pct) AS spo2_p95,
        MIN(heart_rate_bpm) AS hr_min,
        AVG(heart_rate_bpm) AS hr_avg,
        MAX(heart_rate_bpm) AS hr_max,
        percentile_cont(0.05) WITHIN GROUP (ORDER BY heart_rate_bpm) AS hr_p05,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY heart_rate_bpm) AS hr_p50,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY heart_rate_bpm) AS hr_p95,
        MIN(temperature_c) AS temp_min,
        AVG(temperature_c) AS temp_avg,
        MAX(temperature_c) AS temp_max,
        percentile_cont(0.05) WITHIN GROUP (ORDER BY temperature_c) AS temp_p05,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY temperature_c) AS temp_p50,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY temperature_c) AS temp_p95,
        MIN(respiratory_rate) AS resp_min,
        AVG(respiratory_rate) AS resp_avg,
        MAX(respiratory_rate) AS resp_max,
        percentile_cont(0.05) WITHIN GROUP (ORDER BY respiratory_rate) AS resp_p05,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY respiratory_rate) AS resp_p50,
        percentile_cont(0.95) WITHIN GROUP (ORDER BY respiratory_rate) AS resp_p95,
        SUM(activity_steps) AS steps_total,
        AVG(signal_quality) AS signal_quality_avg,
        SUM(CASE WHEN spo2_pct < ${spo2_low_pct} THEN 1 ELSE 0 END) AS spo2_low_readings,
        SUM(CASE WHEN temperature_c >= ${fever_c} THEN 1 ELSE 0 END) AS fever_readings
    FROM vitals_valid
    GROUP BY patient_id, day
)
SELECT
    c.patient_id,
    c.day,
    CAST(c.readings AS BIGINT) AS readings,
    CAST(c.valid_readings AS BIGINT) AS valid_readings,
    LEAST(1.0, CAST(c.readings AS DOUBLE) / ${readings_per_day}) AS completeness,
    CAST(c.readings - c.valid_readings AS DOUBLE) / c.readings AS out_of_range_share,
    s.spo2_min, s.spo2_avg, s.spo2_max, s.spo2_p05, s.spo2_p50, s.spo2_p95,
    s.hr_min, s.hr_avg, s.hr_max, s.hr_p05, s.hr_p50, s.hr_p95,
    s.temp_min, s.temp_avg, s.temp_max, s.temp_p05, s.temp_p50, s.temp_p95,
    s.resp_min, s.resp_avg, s.resp_max, s.resp_p05, s.resp_p50, s.resp_p95,
    CAST(COALESCE(s.spo2_low_readings, 0) * ${reading_minutes} AS BIGINT) AS minutes_spo2_below_90,
    CAST(COALESCE(s.fever_readings, 0) * ${reading_minutes} AS BIGINT) AS minutes_fever,
    s.steps_total,
    s.signal_quality_avg
FROM counts c
LEFT JOIN stats s ON s.patient_id = c.patient_id AND s.day = c.day
