-- Per patient, trend window and metric (SPEC 5b, historical-trends): `window` '3m' = the 13 ISO
-- weeks, '6m' = the 26 ISO weeks ending with D's week; `metric` 'spo2', 'heart_rate',
-- 'temperature' (the mean of the week's daily spo2_avg / hr_avg / temp_avg, NULL for a week
-- without readings) or 'crises' (the crises that started in the week, 0 for a week without).
-- `values` = the weekly values in week order as a JSON array (null for a NULL week); `slope` =
-- least-squares slope of the non-NULL values against their week positions 0..n-1 (NULL with fewer
-- than 2); `n_weeks` = the non-NULL values; `trend_direction` = trend_direction(values, 0.05).
-- Only the patients with a reading in the window. Replaced by every run.
-- medallion: primary_key = patient_id, window, metric
-- medallion: enum window = 3m, 6m
-- medallion: enum metric = spo2, heart_rate, temperature, crises
-- medallion: enum trend_direction = up, down, stable
-- medallion: json = values
WITH in_window AS (
    SELECT DISTINCT v.patient_id, w.window_name, w.weeks
    FROM patient_weeks_26 v
    JOIN trend_windows w ON v.week_offset > -w.weeks
),
grid AS (
    SELECT p.patient_id, p.window_name, o.week_offset, o.week_offset + p.weeks - 1 AS position
    FROM in_window p
    JOIN week_offsets o ON o.week_offset > -p.weeks
),
metrics AS (
    SELECT * FROM (VALUES ('spo2'), ('heart_rate'), ('temperature'), ('crises')) AS m(metric)
),
points AS (
    SELECT
        g.patient_id,
        g.window_name,
        m.metric,
        g.position,
        CASE m.metric
            WHEN 'spo2' THEN v.spo2
            WHEN 'heart_rate' THEN v.heart_rate
            WHEN 'temperature' THEN v.temperature
            ELSE CAST(COALESCE(c.crises, 0) AS DOUBLE)
        END AS value
    FROM grid g
    CROSS JOIN metrics m
    LEFT JOIN patient_weeks_26 v
      ON v.patient_id = g.patient_id AND v.week_offset = g.week_offset
    LEFT JOIN crisis_weeks_26 c
      ON c.patient_id = g.patient_id AND c.week_offset = g.week_offset
),
series AS (
    SELECT
        patient_id,
        window_name,
        metric,
        array_agg(value ORDER BY position) AS weekly,
        array_agg(COALESCE(CAST(value AS VARCHAR), 'null') ORDER BY position) AS weekly_text,
        regr_slope(value, CAST(position AS DOUBLE)) AS slope,
        CAST(COUNT(value) AS BIGINT) AS n_weeks
    FROM points
    GROUP BY patient_id, window_name, metric
)
SELECT
    patient_id,
    window_name AS "window",
    metric,
    concat('[', array_to_string(weekly_text, ','), ']') AS "values",
    CASE WHEN n_weeks >= 2 THEN slope END AS slope,
    n_weeks,
    trend_direction(weekly, ${trend_threshold}) AS trend_direction
FROM series
