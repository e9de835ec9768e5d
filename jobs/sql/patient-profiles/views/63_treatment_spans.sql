-- One row per treatment (patient_id, drug, start_date) started up to D; end_date NULL = still
-- going on. Should the Silver table list the same treatment twice, the later end wins (NULL
-- being the latest).
SELECT
    t.patient_id,
    t.drug,
    CAST(t.start_date AS DATE) AS start_date,
    CASE WHEN bool_or(t.end_date IS NULL) THEN CAST(NULL AS DATE)
         ELSE MAX(CAST(t.end_date AS DATE)) END AS end_date
FROM treatments t
CROSS JOIN as_of a
WHERE CAST(t.start_date AS DATE) <= a.as_of_day
GROUP BY t.patient_id, t.drug, CAST(t.start_date AS DATE)
