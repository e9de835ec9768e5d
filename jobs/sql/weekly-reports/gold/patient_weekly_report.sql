-- One row per patient and ISO week: weekly vitals, the trend ('up'/'down'/'stable') of the daily
-- averages of SpO2, heart rate, temperature and activity over the week (trend_direction), the
-- crises overlapping the week (count, worst severity, mean pain, hours in crisis within the week)
-- and the treatments active during it.
-- A run over a period replaces the rows of its weeks only.
-- medallion: primary_key = patient_id, week_start
-- medallion: replace_range = week_start
-- medallion: index idx_week = week_start
-- medallion: enum spo2_trend = up, down, stable
-- medallion: enum hr_trend = up, down, stable
-- medallion: enum temp_trend = up, down, stable
-- medallion: enum activity_trend = up, down, stable
SELECT
    *,
    now() AS last_updated
FROM patient_weeks
