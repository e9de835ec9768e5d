-- Per patient and ISO week of the last 26 (up to D): the mean of the week's daily spo2_avg,
-- hr_avg and temp_avg (NULL when none), for the weeks with a reading.
WITH days AS (
    SELECT
        s.patient_id,
        s.spo2_avg,
        s.hr_avg,
        s.temp_avg,
        (CAST(CAST(date_trunc('week', CAST(s.day AS TIMESTAMP)) AS DATE) AS INT)
            - CAST(a.as_of_week AS INT)) / 7 AS week_offset
    FROM patient_day_stats s
    CROSS JOIN as_of a
    WHERE CAST(s.day AS INT) >= CAST(a.as_of_week AS INT) - 25 * 7
)
SELECT
    patient_id,
    week_offset,
    AVG(spo2_avg) AS spo2,
    AVG(hr_avg) AS heart_rate,
    AVG(temp_avg) AS temperature
FROM days
GROUP BY patient_id, week_offset
