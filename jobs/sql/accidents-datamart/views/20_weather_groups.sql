-- medallion: materialize
-- Accidents and their severity total per weather and temperature category, in one pass over the
-- accepted accidents. Computed once per run and kept in memory (a few dozen rows): kpis_weather's
-- rows, and the weather categories kpis_anomalies scores (SPEC sections 3 and 3b).
SELECT
    weather_category,
    temperature_category,
    COUNT(*) AS accident_count,
    SUM(CAST(severity AS DOUBLE)) AS severity_sum
FROM accidents_classified
GROUP BY weather_category, temperature_category
