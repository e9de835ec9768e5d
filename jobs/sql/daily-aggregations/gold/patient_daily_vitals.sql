-- One row per patient-day: min/avg/max/p05/p50/p95 of SpO2, heart rate, temperature and respiratory
-- rate over the valid readings; minutes with SpO2 < 90 % and with temperature >= 38 °C (valid
-- readings x 5 minutes); completeness = readings received / 288 expected; out_of_range_share =
-- readings with a value outside its physical range / readings received.
-- A run over a period (--date/--week/--month/--from --to) replaces the rows of its days only.
-- medallion: primary_key = patient_id, day
-- medallion: partition_by_month = day
-- medallion: replace_range = day
-- medallion: index idx_day = day
-- Data quality gate (seed 000): the statistics come from readings within the physical ranges
-- (job.toml), and a patient-day's completeness is a share.
-- medallion: expect kind=range column=spo2_min min=50 max=100
-- medallion: expect kind=range column=spo2_max min=50 max=100
-- medallion: expect kind=range column=hr_min min=20 max=250
-- medallion: expect kind=range column=hr_max min=20 max=250
-- medallion: expect kind=range column=temp_min min=30 max=45
-- medallion: expect kind=range column=temp_max min=30 max=45
-- medallion: expect kind=range column=completeness min=0 max=1 severity=warn
-- medallion: expect kind=not_null column=patient_id
SELECT
    *,
    now() AS last_updated
FROM patient_day_stats
