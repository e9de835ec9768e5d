-- Accidents per weather and temperature category (SPEC section 3, kpis_weather).
-- medallion: primary_key = weather_category, temperature_category
-- The rows of weather_groups.
SELECT
    weather_category,
    temperature_category,
    CAST(accident_count AS BIGINT) AS accident_count,
    severity_sum / accident_count AS severity_avg,
    100.0 * accident_count / SUM(accident_count) OVER () AS share_pct
FROM weather_groups
