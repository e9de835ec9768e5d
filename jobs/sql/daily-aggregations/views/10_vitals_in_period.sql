-- The readings of the period [period_start, period_end), vitals as DOUBLE, with their day.
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
WHERE ts >= CAST(${period_start} AS TIMESTAMP)
  AND ts < CAST(${period_end} AS TIMESTAMP)
