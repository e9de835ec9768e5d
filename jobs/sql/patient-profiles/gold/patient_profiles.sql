-- One row per patient with a reading up to the as-of day D (SPEC 5b, patient-profiles):
-- sex, genotype, region; age_band 'a-(a+4)' with a = 5 * floor((year(D) - birth_year) / 5);
-- first_reading and last_reading up to D; over the last 90 days (D-89 .. D) the medians of the
-- daily spo2_avg, hr_avg and temp_avg (patient_daily_vitals' values) and completeness_90d = the
-- days' completeness summed / the days from max(D-89, first_day) to D (a day without readings
-- counts 0); crises_90d and crises_180d (crises on the day of their start); the mean pain and
-- worst severity of the last 90 days' crises (NULL when none); active_drugs = the distinct drugs
-- active on D, sorted, joined with ',' (NULL when none); crisis_trend = trend_direction of the
-- crisis counts of the 6 calendar months ending with D's month (zeros included, oldest first);
-- risk_level 'high' (crises_90d >= 3 or spo2_median < 92), 'medium' (crises_90d >= 1 or
-- spo2_median < 95) or 'low'. Replaced by every run.
-- medallion: primary_key = patient_id
-- medallion: index idx_risk_level = risk_level
-- medallion: enum crisis_trend = up, down, stable
-- medallion: enum risk_level = low, medium, high
WITH days_90 AS (
    SELECT s.patient_id, s.spo2_avg, s.hr_avg, s.temp_avg, s.completeness
    FROM patient_day_stats s
    CROSS JOIN as_of a
    WHERE CAST(s.day AS INT) >= CAST(a.as_of_day AS INT) - 89
),
vitals_90 AS (
    SELECT
        patient_id,
        median(spo2_avg) AS spo2_median,
        median(hr_avg) AS hr_median,
        median(temp_avg) AS temp_median,
        SUM(completeness) AS completeness_sum
    FROM days_90
    GROUP BY patient_id
),
placed_crises AS (
    SELECT
        c.patient_id,
        c.severity,
        c.pain_score,
        CAST(a.as_of_day AS INT) - CAST(c.day AS INT) AS days_ago,
        CAST(date_part('year', c.day) * 12 + date_part('month', c.day)
             - date_part('year', a.as_of_day) * 12 - date_part('month', a.as_of_day) AS INT)
            AS month_offset
    FROM crisis_days c
    CROSS JOIN as_of a
),
crisis_figures AS (
    SELECT
        patient_id,
        SUM(CASE WHEN days_ago < 90 THEN 1 ELSE 0 END) AS crises_90d,
        SUM(CASE WHEN days_ago < 180 THEN 1 ELSE 0 END) AS crises_180d,
        AVG(CASE WHEN days_ago < 90 THEN pain_score END) AS pain_avg_90d,
        MAX(CASE WHEN days_ago < 90 THEN severity END) AS worst_severity_90d,
        SUM(CASE WHEN month_offset = -5 THEN 1.0 ELSE 0.0 END) AS month_5,
        SUM(CASE WHEN month_offset = -4 THEN 1.0 ELSE 0.0 END) AS month_4,
        SUM(CASE WHEN month_offset = -3 THEN 1.0 ELSE 0.0 END) AS month_3,
        SUM(CASE WHEN month_offset = -2 THEN 1.0 ELSE 0.0 END) AS month_2,
        SUM(CASE WHEN month_offset = -1 THEN 1.0 ELSE 0.0 END) AS month_1,
        SUM(CASE WHEN month_offset = 0 THEN 1.0 ELSE 0.0 END) AS month_0
    FROM placed_crises
    GROUP BY patient_id
),
active_on_d AS (
    SELECT DISTINCT t.patient_id, t.drug
    FROM treatment_spans t
    CROSS JOIN as_of a
    WHERE t.start_date <= a.as_of_day
      AND (t.end_date IS NULL OR t.end_date >= a.as_of_day)
),
drugs AS (
    SELECT patient_id, string_agg(drug, ',' ORDER BY drug) AS active_drugs
    FROM active_on_d
    GROUP BY patient_id
),
profiles AS (
    SELECT
        p.patient_id,
        pt.sex,
        pt.genotype,
        pt.region,
        CAST(floor((date_part('year', a.as_of_day) - pt.birth_year) / 5.0) * 5 AS BIGINT)
            AS band_start,
        p.first_reading,
        p.last_reading,
        v.spo2_median,
        v.hr_median,
        v.temp_median,
        COALESCE(v.completeness_sum, 0.0)
            / (CAST(a.as_of_day AS INT)
               - GREATEST(CAST(a.as_of_day AS INT) - 89, CAST(p.first_day AS INT)) + 1)
            AS completeness_90d,
        CAST(COALESCE(c.crises_90d, 0) AS BIGINT) AS crises_90d,
        CAST(COALESCE(c.crises_180d, 0) AS BIGINT) AS crises_180d,
        c.pain_avg_90d,
        c.worst_severity_90d,
        d.active_drugs,
        trend_direction(
            make_array(
                COALESCE(c.month_5, 0.0), COALESCE(c.month_4, 0.0), COALESCE(c.month_3, 0.0),
                COALESCE(c.month_2, 0.0), COALESCE(c.month_1, 0.0), COALESCE(c.month_0, 0.0)),
            ${crisis_trend_threshold}) AS crisis_trend
    FROM patient_spans p
    CROSS JOIN as_of a
    LEFT JOIN patients pt ON pt.patient_id = p.patient_id
    LEFT JOIN vitals_90 v ON v.patient_id = p.patient_id
    LEFT JOIN crisis_figures c ON c.patient_id = p.patient_id
    LEFT JOIN drugs d ON d.patient_id = p.patient_id
)
SELECT
    patient_id,
    sex,
    genotype,
    region,
    CASE WHEN band_start IS NOT NULL
         THEN concat(CAST(band_start AS VARCHAR), '-', CAST(band_start + 4 AS VARCHAR))
    END AS age_band,
    first_reading,
    last_reading,
    spo2_median,
    hr_median,
    temp_median,
    completeness_90d,
    crises_90d,
    crises_180d,
    pain_avg_90d,
    worst_severity_90d,
    active_drugs,
    crisis_trend,
    CASE
        WHEN crises_90d >= ${risk_high_crises} OR spo2_median < ${risk_high_spo2} THEN 'high'
        WHEN crises_90d >= 1 OR spo2_median < ${risk_medium_spo2} THEN 'medium'
        ELSE 'low'
    END AS risk_level
FROM profiles
