-- Per patient: the pseudonym, the keyed date offset and the generalised birth year.
-- The offset comes from a second HMAC (key + ':date-shift') so it cannot be derived from the
-- published pseudonym: its first 4 hex digits (0..65535) modulo (2 * max_shift_days + 1), minus
-- max_shift_days.
WITH keyed AS (
    SELECT
        patient_id,
        birth_year,
        sex,
        genotype,
        region,
        pseudonym(patient_id, ${pseudonym_key}) AS research_id,
        pseudonym(patient_id, concat(${pseudonym_key}, ':date-shift')) AS shift_hash
    FROM patients
),
hex AS (
    SELECT
        *,
        (strpos('0123456789abcdef', substr(shift_hash, 1, 1)) - 1) * 4096
            + (strpos('0123456789abcdef', substr(shift_hash, 2, 1)) - 1) * 256
            + (strpos('0123456789abcdef', substr(shift_hash, 3, 1)) - 1) * 16
            + (strpos('0123456789abcdef', substr(shift_hash, 4, 1)) - 1) AS shift_value
    FROM keyed
)
SELECT
    patient_id,
    research_id,
    CAST(shift_value % (2 * ${max_shift_days} + 1) - ${max_shift_days} AS INT) AS shift_days,
    CAST(floor(birth_year / ${birth_year_band}) * ${birth_year_band} AS INT) AS band_start,
    sex,
    genotype,
    region
FROM hex
