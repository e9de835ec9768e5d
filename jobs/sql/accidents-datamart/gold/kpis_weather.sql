-- Accidents per weather and temperature category (SPEC section 3, kpis_weather).
-- medallion: primary_key = weather_category, temperature_category
SELECT
    weather_category,
    temperature_category,
    CAST(COUNT(*) AS BIGINT) AS accident_count,
    AVG(CAST(severity AS DOUBLE)) AS severity_avg,
    100.0 * COUNT(*) / SUM(COUNT(*)) OVER () AS share_pct
FROM accidents_classified
GROUP BY weather_category, temperature_category
