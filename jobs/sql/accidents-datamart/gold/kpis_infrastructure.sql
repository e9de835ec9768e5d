-- Severity with and without each road-infrastructure flag (SPEC section 3, kpis_infrastructure).
-- medallion: primary_key = flag
WITH flags AS (
    SELECT
        CAST(severity AS DOUBLE) AS severity,
        unnest(make_array(
            named_struct('flag', 'amenity', 'present', coalesce(amenity, false)),
            named_struct('flag', 'bump', 'present', coalesce(bump, false)),
            named_struct('flag', 'crossing', 'present', coalesce(crossing, false)),
            named_struct('flag', 'give_way', 'present', coalesce(give_way, false)),
            named_struct('flag', 'junction', 'present', coalesce(junction, false)),
            named_struct('flag', 'no_exit', 'present', coalesce(no_exit, false)),
            named_struct('flag', 'railway', 'present', coalesce(railway, false)),
            named_struct('flag', 'roundabout', 'present', coalesce(roundabout, false)),
            named_struct('flag', 'station', 'present', coalesce(station, false)),
            named_struct('flag', 'stop', 'present', coalesce(stop, false)),
            named_struct('flag', 'traffic_calming', 'present', coalesce(traffic_calming, false)),
            named_struct('flag', 'traffic_signal', 'present', coalesce(traffic_signal, false)),
            named_struct('flag', 'turning_loop', 'present', coalesce(turning_loop, false))
        )) AS f
    FROM accidents_classified
),
per_flag AS (
    SELECT
        f['flag'] AS flag,
        SUM(CASE WHEN f['present'] THEN 1 ELSE 0 END) AS accidents_with,
        SUM(CASE WHEN f['present'] THEN 0 ELSE 1 END) AS accidents_without,
        AVG(CASE WHEN f['present'] THEN severity END) AS severity_avg_with,
        AVG(CASE WHEN f['present'] THEN NULL ELSE severity END) AS severity_avg_without
    FROM flags
    GROUP BY f['flag']
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
