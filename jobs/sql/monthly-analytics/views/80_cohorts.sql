-- Each patient-month once per cohort it belongs to: everyone, its genotype, region and age band.
WITH months AS (
    SELECT
        month, patient_id, patient_days, completeness_avg, spo2_avg, hr_avg, temp_avg,
        minutes_spo2_below_90_per_day, minutes_fever_per_day, crisis_count, severity_sum,
        pain_sum, pain_count, on_hydroxyurea, genotype, region, age_band
    FROM patient_months
)
SELECT 'all' AS cohort_dimension, 'all' AS cohort_value, * FROM months
UNION ALL
SELECT 'genotype' AS cohort_dimension, genotype AS cohort_value, * FROM months
UNION ALL
SELECT 'region' AS cohort_dimension, region AS cohort_value, * FROM months
UNION ALL
SELECT 'age_band' AS cohort_dimension, age_band AS cohort_value, * FROM months
