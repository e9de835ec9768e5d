-- Quasi-identifiers after local suppression: a patient whose (birth-year band, sex, genotype,
-- region) group has fewer than min_cell_patients members loses the region; if the group without
-- region is still too small, the birth-year band; then the sex; then the genotype. Each step counts
-- the group on the values left by the previous steps, so every published combination describes at
-- least min_cell_patients patients (only the fully suppressed group may be smaller).
WITH step1 AS (
    SELECT
        *,
        CASE WHEN COUNT(*) OVER (PARTITION BY band_start, sex, genotype, region)
                  >= ${min_cell_patients} THEN region END AS region_out
    FROM research_ids
),
step2 AS (
    SELECT
        *,
        CASE WHEN COUNT(*) OVER (PARTITION BY band_start, sex, genotype, region_out)
                  >= ${min_cell_patients} THEN band_start END AS band_out
    FROM step1
),
step3 AS (
    SELECT
        *,
        CASE WHEN COUNT(*) OVER (PARTITION BY band_out, sex, genotype, region_out)
                  >= ${min_cell_patients} THEN sex END AS sex_out
    FROM step2
),
step4 AS (
    SELECT
        *,
        CASE WHEN COUNT(*) OVER (PARTITION BY band_out, sex_out, genotype, region_out)
                  >= ${min_cell_patients} THEN genotype END AS genotype_out
    FROM step3
)
SELECT
    patient_id,
    research_id,
    shift_days,
    band_start,
    CASE WHEN band_out IS NOT NULL
         THEN concat(CAST(band_out AS VARCHAR), '-', CAST(band_out + ${birth_year_band} - 1 AS VARCHAR))
    END AS birth_year_band,
    sex_out AS sex,
    genotype_out AS genotype,
    region_out AS region,
    genotype AS true_genotype,
    sex AS true_sex
FROM step4
