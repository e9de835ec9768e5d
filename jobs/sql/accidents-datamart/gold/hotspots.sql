-- The most dangerous 0.1-degree cells per (state, city) (SPEC section 3, hotspots).
-- medallion: auto_id = id
-- medallion: index idx_location = state, city
-- medallion: index idx_coordinates = latitude, longitude
-- medallion: index idx_danger_score = danger_score DESC
-- API index of seed 002 (/hotspots, the most dangerous first), extended to cover the columns the
-- endpoint returns, so its top-N reads only the index:
-- medallion: index idx_hotspots_api = danger_score DESC, state, city, latitude, longitude, accident_count, severity_avg, radius_miles
WITH located AS (
    SELECT state, city, severity, start_lat, start_lng,
           (floor(start_lat * 10) + 0.5) / 10 AS latitude,
           (floor(start_lng * 10) + 0.5) / 10 AS longitude
    FROM accidents_classified
    WHERE city IS NOT NULL AND start_lat IS NOT NULL AND start_lng IS NOT NULL
),
cells AS (
    SELECT
        state,
        city,
        latitude,
        longitude,
        COUNT(*) AS accident_count,
        AVG(CAST(severity AS DOUBLE)) AS severity_avg,
        MAX(haversine_miles(latitude, longitude, start_lat, start_lng)) AS radius_miles
    FROM located
    GROUP BY state, city, latitude, longitude
)
SELECT
    state,
    city,
    latitude,
    longitude,
    CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg,
    danger_index(severity_avg, accident_count) AS danger_score,
    radius_miles,
    now() AS last_updated
FROM cells
WHERE accident_count >= ${hotspot_min_accidents}
ORDER BY danger_score DESC, accident_count DESC, state, city, latitude, longitude
LIMIT ${hotspot_top}
