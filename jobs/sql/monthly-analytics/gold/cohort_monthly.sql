-- Cohort statistics per month: for everyone (cohort_dimension = 'all') and per genotype, region and
-- age band. Vitals figures are means over the cohort's patient-days; crises are those that started
-- in the month; crises_per_patient = crisis_count / patients monitored in the month;
-- hydroxyurea_share = share of the cohort's patients taking hydroxyurea during the month.
-- A run over a period replaces the rows of its months only.
-- medallion: primary_key = month, cohort_dimension, cohort_value
-- medallion: replace_range = month
-- medallion: enum cohort_dimension = all, genotype, region, age_band
SELECT
    month,
    cohort_dimension,
    cohort_value,
    CAST(COUNT(DISTINCT patient_id) AS BIGINT) AS patients,
    CAST(SUM(patient_days) AS BIGINT) AS patient_days,
    SUM(completeness_avg * patient_days) / SUM(patient_days) AS completeness_avg,
    SUM(spo2_avg * patient_days) / SUM(patient_days) AS spo2_avg,
    SUM(hr_avg * patient_days) / SUM(patient_days) AS hr_avg,
    SUM(temp_avg * patient_days) / SUM(patient_days) AS temp_avg,
    SUM(minutes_spo2_below_90_per_day * patient_days) / SUM(patient_days)
        AS minutes_spo2_below_90_per_day,
    SUM(minutes_fever_per_day * patient_days) / SUM(patient_days) AS minutes_fever_per_day,
    CAST(SUM(crisis_count) AS BIGINT) AS crisis_count,
    CAST(SUM(crisis_count) AS DOUBLE) / COUNT(DISTINCT patient_id) AS crises_per_patient,
    CASE WHEN SUM(crisis_count) > 0 THEN SUM(severity_sum) / SUM(crisis_count) END
        AS crisis_severity_avg,
    CASE WHEN SUM(pain_count) > 0 THEN SUM(pain_sum) / SUM(pain_count) END AS crisis_pain_avg,
    AVG(CASE WHEN on_hydroxyurea THEN 1.0 ELSE 0.0 END) AS hydroxyurea_share,
    now() AS last_updated
FROM cohorts
GROUP BY month, cohort_dimension, cohort_value
