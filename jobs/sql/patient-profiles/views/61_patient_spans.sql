-- Per patient with a reading up to D: the first and last reading (timestamps) and first_day, the
-- day of the first reading.
SELECT
    patient_id,
    MIN(ts) AS first_reading,
    MAX(ts) AS last_reading,
    CAST(MIN(ts) AS DATE) AS first_day
FROM vitals_in_period
GROUP BY patient_id
