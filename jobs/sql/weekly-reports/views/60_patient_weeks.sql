-- Per patient and ISO week (week_start = the Monday): weekly figures from the daily statistics,
-- the trend of each vital's 7 daily averages (day 0 = Monday; a day without data is a NULL,
-- skipped by trend_direction with the other days keeping their position), the crises overlapping
-- the week and the treatments active during it.
WITH days AS (
    SELECT
        *,
        CAST(date_trunc('week', CAST(day AS TIMESTAMP)) AS DATE) AS week_start
    FROM patient_day_stats
),
placed AS (
    SELECT *, CAST(day AS INT) - CAST(week_start AS INT) AS dow FROM days
),
weeks AS (
    SELECT
        patient_id,
        week_start,
        CAST(COUNT(*) AS BIGINT) AS days_with_data,
        CAST(SUM(readings) AS BIGINT) AS readings,
        CAST(SUM(readings) AS DOUBLE) / (7 * ${readings_per_day}) AS completeness,
        AVG(spo2_avg) AS spo2_avg,
        MIN(spo2_min) AS spo2_min,
        AVG(hr_avg) AS hr_avg,
        AVG(temp_avg) AS temp_avg,
        MAX(temp_max) AS temp_max,
        AVG(resp_avg) AS resp_avg,
        AVG(steps_total) AS steps_per_day,
        CAST(SUM(minutes_spo2_below_90) AS BIGINT) AS minutes_spo2_below_90,
        CAST(SUM(minutes_fever) AS BIGINT) AS minutes_fever,
        make_array(
            MAX(CASE WHEN dow = 0 THEN spo2_avg END), MAX(CASE WHEN dow = 1 THEN spo2_avg END),
            MAX(CASE WHEN dow = 2 THEN spo2_avg END), MAX(CASE WHEN dow = 3 THEN spo2_avg END),
            MAX(CASE WHEN dow = 4 THEN spo2_avg END), MAX(CASE WHEN dow = 5 THEN spo2_avg END),
            MAX(CASE WHEN dow = 6 THEN spo2_avg END)) AS spo2_daily,
        make_array(
            MAX(CASE WHEN dow = 0 THEN hr_avg END), MAX(CASE WHEN dow = 1 THEN hr_avg END),
            MAX(CASE WHEN dow = 2 THEN hr_avg END), MAX(CASE WHEN dow = 3 THEN hr_avg END),
            MAX(CASE WHEN dow = 4 THEN hr_avg END), MAX(CASE WHEN dow = 5 THEN hr_avg END),
            MAX(CASE WHEN dow = 6 THEN hr_avg END)) AS hr_daily,
        make_array(
            MAX(CASE WHEN dow = 0 THEN temp_avg END), MAX(CASE WHEN dow = 1 THEN temp_avg END),
            MAX(CASE WHEN dow = 2 THEN temp_avg END), MAX(CASE WHEN dow = 3 THEN temp_avg END),
            MAX(CASE WHEN dow = 4 THEN temp_avg END), MAX(CASE WHEN dow = 5 THEN temp_avg END),
            MAX(CASE WHEN dow = 6 THEN temp_avg END)) AS temp_daily,
        make_array(
            MAX(CASE WHEN dow = 0 THEN steps_total END), MAX(CASE WHEN dow = 1 THEN steps_total END),
            MAX(CASE WHEN dow = 2 THEN steps_total END), MAX(CASE WHEN dow = 3 THEN steps_total END),
            MAX(CASE WHEN dow = 4 THEN steps_total END), MAX(CASE WHEN dow = 5 THEN steps_total END),
            MAX(CASE WHEN dow = 6 THEN steps_total END)) AS steps_daily
    FROM placed
    GROUP BY patient_id, week_start
),
week_crises AS (
    SELECT
        w.patient_id,
        w.week_start,
        CAST(COUNT(*) AS BIGINT) AS crisis_count,
        CAST(MAX(c.severity) AS BIGINT) AS crisis_max_severity,
        AVG(CAST(c.pain_score AS DOUBLE)) AS crisis_pain_avg,
        SUM(
            date_part('epoch', LEAST(COALESCE(c.end_ts, CAST(w.week_start AS TIMESTAMP) + INTERVAL '7 days'),
                                     CAST(w.week_start AS TIMESTAMP) + INTERVAL '7 days'))
            - date_part('epoch', GREATEST(c.start_ts, CAST(w.week_start AS TIMESTAMP)))
        ) / 3600.0 AS crisis_hours
    FROM weeks w
    JOIN crises c
      ON c.patient_id = w.patient_id
     AND c.start_ts < CAST(w.week_start AS TIMESTAMP) + INTERVAL '7 days'
     AND COALESCE(c.end_ts, CAST(w.week_start AS TIMESTAMP) + INTERVAL '7 days')
         > CAST(w.week_start AS TIMESTAMP)
    GROUP BY w.patient_id, w.week_start
),
week_drugs AS (
    SELECT DISTINCT w.patient_id, w.week_start, t.drug
    FROM weeks w
    JOIN treatments t
      ON t.patient_id = w.patient_id
     AND t.start_date < w.week_start + INTERVAL '7 days'
     AND (t.end_date IS NULL OR t.end_date >= w.week_start)
),
week_treatments AS (
    SELECT
        patient_id,
        week_start,
        string_agg(drug, ', ' ORDER BY drug) AS active_treatments,
        bool_or(drug = 'hydroxyurea') AS on_hydroxyurea
    FROM week_drugs
    GROUP BY patient_id, week_start
)
SELECT
    w.patient_id,
    w.week_start,
    to_char(w.week_start, '%G-W%V') AS iso_week,
    w.days_with_data,
    w.readings,
    w.completeness,
    w.spo2_avg,
    w.spo2_min,
    w.minutes_spo2_below_90,
    w.hr_avg,
    w.temp_avg,
    w.temp_max,
    w.minutes_fever,
    w.resp_avg,
    w.steps_per_day,
    trend_direction(w.spo2_daily, ${spo2_trend_threshold}) AS spo2_trend,
    trend_direction(w.hr_daily, ${hr_trend_threshold}) AS hr_trend,
    trend_direction(w.temp_daily, ${temp_trend_threshold}) AS temp_trend,
    trend_direction(w.steps_daily, ${steps_trend_threshold}) AS activity_trend,
    COALESCE(c.crisis_count, 0) AS crisis_count,
    c.crisis_max_severity,
    c.crisis_pain_avg,
    COALESCE(c.crisis_hours, 0.0) AS crisis_hours,
    t.active_treatments,
    COALESCE(t.on_hydroxyurea, false) AS on_hydroxyurea
FROM weeks w
LEFT JOIN week_crises c ON c.patient_id = w.patient_id AND c.week_start = w.week_start
LEFT JOIN week_treatments t ON t.patient_id = w.patient_id AND t.week_start = w.week_start
