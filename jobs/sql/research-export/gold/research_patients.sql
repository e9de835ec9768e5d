-- One row per patient: pseudonym and quasi-identifiers after small-group suppression (NULL =
-- suppressed). No patient id, no exact birth year.
-- medallion: primary_key = research_id
SELECT
    research_id,
    birth_year_band,
    sex,
    genotype,
    region
FROM research_people
