-- Hourly SpO2 and temperature averages of each patient-week, for the charts of the HTML reports.
SELECT
    patient_id,
    CAST(date_trunc('week', ts) AS DATE) AS week_start,
    date_trunc('hour', ts) AS hour,
    AVG(spo2_pct) AS spo2_avg,
    MIN(spo2_pct) AS spo2_min,
    AVG(temperature_c) AS temp_avg
FROM vitals_valid
GROUP BY patient_id, CAST(date_trunc('week', ts) AS DATE), date_trunc('hour', ts)
