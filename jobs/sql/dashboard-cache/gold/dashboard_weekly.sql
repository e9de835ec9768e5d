-- Per region and ISO week up to D's week in which a patient of the region has a reading (day <=
-- D), and once per such week for all regions (region NULL) (SPEC 5b, dashboard-cache):
-- week_start (the Monday); active_patients = patients with a reading in the week; crises = the
-- crises of the region's patients that started in the week (up to D), patients_with_crisis = the
-- patients among them; completeness_avg = the mean completeness of the week's patient-days
-- present; spo2_low_minutes_per_day = the sum of minutes_spo2_below_90 / those patient-days;
-- patients_spo2_low = active patients with a day of minutes_spo2_below_90 >= 60. A patient's
-- region is the one in `patients`; patients missing from it (or without a region) count in the
-- all-regions rows only. Replaced by every run.
-- medallion: auto_id = id
-- medallion: index idx_region_week = region, week_start
WITH days AS (
    SELECT
        s.patient_id,
        p.region,
        CAST(date_trunc('week', CAST(s.day AS TIMESTAMP)) AS DATE) AS week_start,
        s.completeness,
        s.minutes_spo2_below_90
    FROM patient_day_stats s
    LEFT JOIN patients p ON p.patient_id = s.patient_id
),
crisis_weeks AS (
    SELECT
        c.patient_id,
        p.region,
        CAST(date_trunc('week', CAST(c.day AS TIMESTAMP)) AS DATE) AS week_start
    FROM crisis_days c
    LEFT JOIN patients p ON p.patient_id = c.patient_id
),
day_figures AS (
    SELECT
        region,
        week_start,
        CAST(COUNT(DISTINCT patient_id) AS BIGINT) AS active_patients,
        AVG(completeness) AS completeness_avg,
        CAST(SUM(minutes_spo2_below_90) AS DOUBLE) / COUNT(*) AS spo2_low_minutes_per_day,
        CAST(COUNT(DISTINCT CASE WHEN minutes_spo2_below_90 >= ${spo2_low_day_minutes}
                                 THEN patient_id END) AS BIGINT) AS patients_spo2_low,
        GROUPING(region) AS all_regions
    FROM days
    GROUP BY GROUPING SETS ((region, week_start), (week_start))
),
crisis_figures AS (
    SELECT
        region,
        week_start,
        CAST(COUNT(*) AS BIGINT) AS crises,
        CAST(COUNT(DISTINCT patient_id) AS BIGINT) AS patients_with_crisis,
        GROUPING(region) AS all_regions
    FROM crisis_weeks
    GROUP BY GROUPING SETS ((region, week_start), (week_start))
)
SELECT
    d.region,
    d.week_start,
    d.active_patients,
    COALESCE(c.crises, 0) AS crises,
    COALESCE(c.patients_with_crisis, 0) AS patients_with_crisis,
    d.completeness_avg,
    d.spo2_low_minutes_per_day,
    d.patients_spo2_low
FROM day_figures d
LEFT JOIN crisis_figures c
  ON c.week_start = d.week_start
 AND c.all_regions = d.all_regions
 AND (c.region = d.region OR d.all_regions = 1)
WHERE d.all_regions = 1 OR d.region IS NOT NULL
