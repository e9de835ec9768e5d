-- Age bands used for cohorts (paediatric bands follow sickle-cell care: infants, children,
-- adolescents, young adults, adults).
SELECT * FROM (VALUES
    (0, 4, '00-04'),
    (5, 11, '05-11'),
    (12, 17, '12-17'),
    (18, 29, '18-29'),
    (30, 44, '30-44'),
    (45, 200, '45+')
) AS bands(age_from, age_to, age_band)
