-- Severity with and without each road-infrastructure flag (SPEC section 3, kpis_infrastructure).
-- medallion: primary_key = flag
WITH flags AS (
    -- one row per (accident, flag): the two arrays are unnested side by side
    SELECT
        CAST(severity AS DOUBLE) AS severity_value,
        unnest(make_array(
            'amenity', 'bump', 'crossing', 'give_way', 'junction', 'no_exit', 'railway',
            'roundabout', 'station', 'stop', 'traffic_calming', 'traffic_signal', 'turning_loop'
        )) AS flag,
        -- NULL flags count as false
        unnest(make_array(
            coalesce(amenity, false), coalesce(bump, false), coalesce(crossing, false),
            coalesce(give_way, false), coalesce(junction, false), coalesce(no_exit, false),
            coalesce(railway, false), coalesce(roundabout, false), coalesce(station, false),
            coalesce(stop, false), coalesce(traffic_calming, false),
            coalesce(traffic_signal, false), coalesce(turning_loop, false)
        )) AS present
    FROM accidents_classified
),
per_flag AS (
    SELECT
        flag,
        SUM(CASE WHEN present THEN 1 ELSE 0 END) AS accidents_with,
        SUM(CASE WHEN present THEN 0 ELSE 1 END) AS accidents_without,
        AVG(CASE WHEN present THEN severity_value END) AS severity_avg_with,
        AVG(CASE WHEN present THEN NULL ELSE severity_value END) AS severity_avg_without
    FROM flags
    GROUP BY flag
)
SELECT
    flag,
    CAST(accidents_with AS BIGINT) AS accidents_with,
    CAST(accidents_without AS BIGINT) AS accidents_without,
    severity_avg_with,
    severity_avg_without,
    100 * (severity_avg_without - severity_avg_with) / severity_avg_without
        AS severity_reduction_pct
FROM per_flag
