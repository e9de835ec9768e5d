-- Per patient and ISO week of the last 26 (up to D): the crises that started in the week.
SELECT
    c.patient_id,
    (CAST(CAST(date_trunc('week', CAST(c.day AS TIMESTAMP)) AS DATE) AS INT)
        - CAST(a.as_of_week AS INT)) / 7 AS week_offset,
    COUNT(*) AS crises
FROM crisis_days c
CROSS JOIN as_of a
WHERE CAST(c.day AS INT) >= CAST(a.as_of_week AS INT) - 25 * 7
GROUP BY 1, 2
