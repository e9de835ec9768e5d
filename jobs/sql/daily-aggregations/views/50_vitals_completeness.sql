-- The run's quality score: readings received / readings expected, in percent, where each patient is
-- expected to send one reading every 5 minutes from their first to their last day of data in the
-- period (a device left at home for two days counts as missing readings).
WITH per_patient AS (
    SELECT
        patient_id,
        CAST(COUNT(*) AS DOUBLE) AS readings,
        CAST(CAST(MAX(day) AS INT) - CAST(MIN(day) AS INT) + 1 AS DOUBLE) * ${readings_per_day}
            AS expected
    FROM vitals_in_period
    GROUP BY patient_id
)
SELECT 100.0 * LEAST(1.0, SUM(readings) / SUM(expected)) AS completeness_pct
FROM per_patient
