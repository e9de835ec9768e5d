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
    CAST(
        CAST(coalesce(amenity, false) AS INT) + CAST(coalesce(bump, false) AS INT)
        + CAST(coalesce(crossing, false) AS INT) + CAST(coalesce(give_way, false) AS INT)
        + CAST(coalesce(junction, false) AS INT) + CAST(coalesce(no_exit, false) AS INT)
        + CAST(coalesce(railway, false) AS INT) + CAST(coalesce(roundabout, false) AS INT)
        + CAST(coalesce(station, false) AS INT) + CAST(coalesce(stop, false) AS INT)
        + CAST(coalesce(traffic_calming, false) AS INT)
        + CAST(coalesce(traffic_signal, false) AS INT)
        + CAST(coalesce(turning_loop, false) AS INT)
    AS INT) AS infrastructure_count
FROM accidents
WHERE id IS NOT NULL
  AND state IS NOT NULL
  AND start_time IS NOT NULL
  AND severity BETWEEN 1 AND 4
