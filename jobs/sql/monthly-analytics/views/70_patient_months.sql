-- Per patient and month of the period: monitoring statistics from the daily rows, crises that
-- started in the month, whether hydroxyurea was taken during the month, and the cohort attributes.
WITH months AS (
    SELECT
        patient_id,
        CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE) AS month,
        CAST(COUNT(*) AS BIGINT) AS patient_days,
        AVG(completeness) AS completeness_avg,
        AVG(spo2_avg) AS spo2_avg,
        AVG(hr_avg) AS hr_avg,
        AVG(temp_avg) AS temp_avg,
        AVG(CAST(minutes_spo2_below_90 AS DOUBLE)) AS minutes_spo2_below_90_per_day,
        AVG(CAST(minutes_fever AS DOUBLE)) AS minutes_fever_per_day
    FROM patient_day_stats
    GROUP BY patient_id, CAST(date_trunc('month', CAST(day AS TIMESTAMP)) AS DATE)
),
month_crises AS (
    SELECT
        patient_id,
        CAST(date_trunc('month', start_ts) AS DATE) AS month,
        COUNT(*) AS crisis_count,
        SUM(CAST(severity AS DOUBLE)) AS severity_sum,
        SUM(CAST(pain_score AS DOUBLE)) AS pain_sum,
        COUNT(pain_score) AS pain_count
    FROM crises
    GROUP BY patient_id, CAST(date_trunc('month', start_ts) AS DATE)
),
month_hydroxyurea AS (
    SELECT DISTINCT m.patient_id, m.month
    FROM months m
    JOIN treatments t
      ON t.patient_id = m.patient_id
     AND t.drug = 'hydroxyurea'
     AND t.start_date < m.month + INTERVAL '1 month'
     AND (t.end_date IS NULL OR t.end_date >= m.month)
)
SELECT
    m.*,
    p.genotype,
    p.region,
    p.sex,
    b.age_band,
    CAST(COALESCE(c.crisis_count, 0) AS BIGINT) AS crisis_count,
    COALESCE(c.severity_sum, 0.0) AS severity_sum,
    COALESCE(c.pain_sum, 0.0) AS pain_sum,
    CAST(COALESCE(c.pain_count, 0) AS BIGINT) AS pain_count,
    h.patient_id IS NOT NULL AS on_hydroxyurea
FROM months m
JOIN patients p ON p.patient_id = m.patient_id
JOIN age_band b
  ON date_part('year', m.month) - p.birth_year BETWEEN b.age_from AND b.age_to
LEFT JOIN month_crises c ON c.patient_id = m.patient_id AND c.month = m.month
LEFT JOIN month_hydroxyurea h ON h.patient_id = m.patient_id AND h.month = m.month
