-- Accepted Silver accidents (SPEC section 2: an id, a state, a start_time and a severity in 1..4)
-- with the categories that every Gold table shares (SPEC section 3).
SELECT
    id,
    severity,
    CAST(start_time AS TIMESTAMP) AS start_time,
    state,
    city,
    start_lat,
    start_lng,
    distance_mi,
    temperature_f,
    visibility_mi,
    -- the other weather measures, for kpis_correlations (SPEC section 3b)
    humidity_pct,
    wind_speed_mph,
    precipitation_in,
    pressure_in,
    amenity, bump, crossing, give_way, junction, no_exit, railway,
    roundabout, station, stop, traffic_calming, traffic_signal, turning_loop,
    -- SPEC section 3's first matching rule, case-insensitive (storm, snow, rain, fog, cloudy,
    -- clear; NULL or empty: unknown; else other), decided once per distinct text of a batch
    weather_category(weather_condition) AS weather_category,
    CASE
        WHEN temperature_f IS NULL THEN 'unknown'
        WHEN temperature_f < 40 THEN 'cold'
        WHEN temperature_f > 85 THEN 'hot'
        ELSE 'mild'
    END AS temperature_category,
    -- NULL flags count as false
    count_true(
        amenity, bump, crossing, give_way, junction, no_exit, railway,
        roundabout, station, stop, traffic_calming, traffic_signal, turning_loop
    ) AS infrastructure_count
FROM accidents
WHERE id IS NOT NULL
  AND state IS NOT NULL
  AND start_time IS NOT NULL
  AND severity BETWEEN 1 AND 4
