-- Cohort cells (genotype x birth-year band x sex) with their patients, patient-days, mean daily
-- SpO2 and crises of the period; cells of fewer than min_cell_patients patients are left out.
-- medallion: primary_key = genotype, birth_year_band, sex
WITH days AS (
    SELECT
        p.true_genotype AS genotype,
        concat(CAST(p.band_start AS VARCHAR), '-',
               CAST(p.band_start + ${birth_year_band} - 1 AS VARCHAR)) AS birth_year_band,
        p.true_sex AS sex,
        d.patient_id,
        d.spo2_avg,
        d.minutes_spo2_below_90
    FROM patient_day_stats d
    JOIN research_people p ON p.patient_id = d.patient_id
),
cells AS (
    SELECT
        genotype,
        birth_year_band,
        sex,
        CAST(COUNT(DISTINCT patient_id) AS BIGINT) AS patients,
        CAST(COUNT(*) AS BIGINT) AS patient_days,
        AVG(spo2_avg) AS spo2_avg,
        AVG(CAST(minutes_spo2_below_90 AS DOUBLE)) AS minutes_spo2_below_90_per_day
    FROM days
    GROUP BY genotype, birth_year_band, sex
),
cell_crises AS (
    SELECT
        p.true_genotype AS genotype,
        concat(CAST(p.band_start AS VARCHAR), '-',
               CAST(p.band_start + ${birth_year_band} - 1 AS VARCHAR)) AS birth_year_band,
        p.true_sex AS sex,
        COUNT(*) AS crises
    FROM crises c
    JOIN research_people p ON p.patient_id = c.patient_id
    WHERE c.start_ts >= CAST(${period_start} AS TIMESTAMP)
      AND c.start_ts < CAST(${period_end} AS TIMESTAMP)
    GROUP BY 1, 2, 3
)
SELECT
    c.genotype,
    c.birth_year_band,
    c.sex,
    c.patients,
    c.patient_days,
    c.spo2_avg,
    c.minutes_spo2_below_90_per_day,
    CAST(COALESCE(k.crises, 0) AS BIGINT) AS crises
FROM cells c
LEFT JOIN cell_crises k
  ON k.genotype = c.genotype AND k.birth_year_band = c.birth_year_band AND k.sex = c.sex
WHERE c.patients >= ${min_cell_patients}
