-- One row per crisis of the period under the pseudonym, start and end shifted by the patient's
-- keyed offset (end NULL = still going on).
-- medallion: primary_key = research_id, start_shifted
SELECT
    p.research_id,
    to_timestamp_micros(CAST(c.start_ts AS BIGINT) + CAST(p.shift_days AS BIGINT) * 86400000000)
        AS start_shifted,
    to_timestamp_micros(CAST(c.end_ts AS BIGINT) + CAST(p.shift_days AS BIGINT) * 86400000000)
        AS end_shifted,
    (date_part('epoch', c.end_ts) - date_part('epoch', c.start_ts)) / 3600.0 AS duration_hours,
    CAST(c.severity AS INT) AS severity,
    CAST(c.pain_score AS INT) AS pain_score
FROM crises c
JOIN research_ids p ON p.patient_id = c.patient_id
WHERE c.start_ts >= CAST(${period_start} AS TIMESTAMP)
  AND c.start_ts < CAST(${period_end} AS TIMESTAMP)
