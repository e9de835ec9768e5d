-- One row per patient-day: min/avg/max/p05/p50/p95 of SpO2, heart rate, temperature and respiratory
-- rate over the valid readings; minutes with SpO2 < 90 % and with temperature >= 38 °C (valid
-- readings x 5 minutes); completeness = readings received / 288 expected; out_of_range_share =
-- readings with a value outside its physical range / readings received.
-- A run over a period (--date/--week/--month/--from --to) replaces the rows of its days only.
-- medallion: primary_key = patient_id, day
-- medallion: partition_by_month = day
-- medallion: replace_range = day
-- medallion: index idx_day = day
SELECT
    *,
    now() AS last_updated
FROM patient_day_stats
