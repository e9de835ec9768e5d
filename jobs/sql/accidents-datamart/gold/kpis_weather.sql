-- Accidents per weather and temperature category (SPEC section 3, kpis_weather).
-- medallion: primary_key = weather_category, temperature_category
-- Data quality gate (KPI coherence): every accepted accident is in one category, and the shares
-- add up to 100 %.
-- medallion: expect name=kpis_weather_counts_sum_to_accidents kind=sql sql=SELECT w.n, r.rows_ FROM (SELECT COALESCE(SUM(accident_count), 0) AS n FROM kpis_weather) w CROSS JOIN run_rows r WHERE r.table_name = 'accidents_classified' AND w.n <> r.rows_
-- medallion: expect name=kpis_weather_shares_sum_to_100 kind=sql sql=SELECT SUM(share_pct) AS total FROM kpis_weather HAVING COUNT(*) > 0 AND ABS(SUM(share_pct) - 100) > 1e-6
-- medallion: expect kind=range column=share_pct min=0 max=100
-- The rows of weather_groups.
SELECT
    weather_category,
    temperature_category,
    CAST(accident_count AS BIGINT) AS accident_count,
    severity_sum / accident_count AS severity_avg,
    100.0 * accident_count / SUM(accident_count) OVER () AS share_pct
FROM weather_groups
