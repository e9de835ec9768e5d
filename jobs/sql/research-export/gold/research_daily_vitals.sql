-- One row per patient-day: daily statistics under the pseudonym, the day shifted by the patient's
-- keyed offset.
-- medallion: primary_key = research_id, day_shifted
SELECT
    p.research_id,
    CAST(CAST(d.day AS INT) + p.shift_days AS DATE) AS day_shifted,
    d.readings,
    d.completeness,
    d.out_of_range_share,
    d.spo2_min, d.spo2_avg, d.spo2_max, d.spo2_p05, d.spo2_p50, d.spo2_p95,
    d.hr_min, d.hr_avg, d.hr_max, d.hr_p50,
    d.temp_min, d.temp_avg, d.temp_max, d.temp_p50,
    d.resp_avg, d.resp_p50,
    d.minutes_spo2_below_90,
    d.minutes_fever,
    d.steps_total
FROM patient_day_stats d
JOIN research_ids p ON p.patient_id = d.patient_id
