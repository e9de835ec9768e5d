-- One row per treatment (patient_id, drug, start_date) with first_day + 30 <= start_date <= D
-- (SPEC 5b, historical-trends): before = [max(start_date - 90, first_day), start_date - 1],
-- during = [start_date, min(end_date, D)] (end_date NULL: D); rate_before and rate_during = the
-- crises (on the day of their start) in the range * 30 / its number of days; change_pct =
-- 100 * (rate_during - rate_before) / rate_before, NULL when rate_before = 0; response
-- 'improved' (change_pct <= -25), 'worse' (>= 25), 'unchanged' between, 'unknown' when NULL.
-- The ranges' first and last days and the crises counted are published with the rates.
-- Replaced by every run.
-- medallion: primary_key = patient_id, drug, start_date
-- medallion: enum response = improved, unchanged, worse, unknown
WITH eligible AS (
    SELECT
        t.patient_id,
        t.drug,
        t.start_date,
        t.end_date,
        GREATEST(CAST(t.start_date AS INT) - ${before_days}, CAST(p.first_day AS INT))
            AS before_from,
        CAST(t.start_date AS INT) - 1 AS before_to,
        CAST(t.start_date AS INT) AS during_from,
        LEAST(CAST(COALESCE(t.end_date, a.as_of_day) AS INT), CAST(a.as_of_day AS INT))
            AS during_to
    FROM treatment_spans t
    JOIN patient_spans p ON p.patient_id = t.patient_id
    CROSS JOIN as_of a
    WHERE CAST(t.start_date AS INT) >= CAST(p.first_day AS INT) + ${min_days_before}
      AND t.start_date <= a.as_of_day
),
crisis_day_numbers AS (
    SELECT patient_id, CAST(day AS INT) AS day_number FROM crisis_days
),
counted AS (
    SELECT
        e.patient_id,
        e.drug,
        e.start_date,
        e.end_date,
        e.before_from,
        e.before_to,
        e.during_from,
        e.during_to,
        SUM(CASE WHEN c.day_number BETWEEN e.before_from AND e.before_to THEN 1 ELSE 0 END)
            AS crises_before,
        SUM(CASE WHEN c.day_number BETWEEN e.during_from AND e.during_to THEN 1 ELSE 0 END)
            AS crises_during
    FROM eligible e
    LEFT JOIN crisis_day_numbers c ON c.patient_id = e.patient_id
    GROUP BY e.patient_id, e.drug, e.start_date, e.end_date, e.before_from, e.before_to,
             e.during_from, e.during_to
),
rates AS (
    SELECT
        *,
        CAST(crises_before AS DOUBLE) * ${rate_days} / (before_to - before_from + 1)
            AS rate_before,
        CASE WHEN during_to >= during_from
             THEN CAST(crises_during AS DOUBLE) * ${rate_days} / (during_to - during_from + 1)
        END AS rate_during
    FROM counted
),
changes AS (
    SELECT
        *,
        CASE WHEN rate_before <> 0
             THEN 100.0 * (rate_during - rate_before) / rate_before
        END AS change_pct
    FROM rates
)
SELECT
    patient_id,
    drug,
    start_date,
    end_date,
    CAST(CAST(before_from AS INT) AS DATE) AS before_start,
    CAST(CAST(before_to AS INT) AS DATE) AS before_end,
    CAST(CAST(during_from AS INT) AS DATE) AS during_start,
    CAST(CAST(during_to AS INT) AS DATE) AS during_end,
    CAST(crises_before AS BIGINT) AS crises_before,
    CAST(crises_during AS BIGINT) AS crises_during,
    rate_before,
    rate_during,
    change_pct,
    CASE
        WHEN change_pct IS NULL THEN 'unknown'
        WHEN change_pct <= -${response_change_pct} THEN 'improved'
        WHEN change_pct >= ${response_change_pct} THEN 'worse'
        ELSE 'unchanged'
    END AS response
FROM changes
