-- The crises that started up to D, each on the day of its start_ts (SPEC 5b).
SELECT
    c.patient_id,
    CAST(c.start_ts AS DATE) AS day,
    CAST(c.severity AS BIGINT) AS severity,
    CAST(c.pain_score AS DOUBLE) AS pain_score
FROM crises c
CROSS JOIN as_of a
WHERE CAST(c.start_ts AS DATE) <= a.as_of_day
