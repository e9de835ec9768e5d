-- Severity with and without each road-infrastructure flag (SPEC section 3, kpis_infrastructure).
-- medallion: primary_key = flag
-- Data quality gate (KPI coherence): with + without = every accepted accident, for each flag.
-- medallion: expect name=kpis_infrastructure_with_plus_without kind=sql sql=SELECT flag, accidents_with + accidents_without AS total, r.rows_ FROM kpis_infrastructure CROSS JOIN run_rows r WHERE r.table_name = 'accidents_classified' AND accidents_with + accidents_without <> r.rows_
WITH totals AS (
    -- one pass over the accidents: per flag, how many have it (NULL flags count as false) and
    -- their severity total; "without" is the rest of all accidents
    SELECT
        COUNT(*) AS accidents,
        coalesce(SUM(severity_value), 0) AS severity_total,
        COUNT(*) FILTER (WHERE amenity) AS amenity_count,
        coalesce(SUM(severity_value) FILTER (WHERE amenity), 0) AS amenity_severity,
        COUNT(*) FILTER (WHERE bump) AS bump_count,
        coalesce(SUM(severity_value) FILTER (WHERE bump), 0) AS bump_severity,
        COUNT(*) FILTER (WHERE crossing) AS crossing_count,
        coalesce(SUM(severity_value) FILTER (WHERE crossing), 0) AS crossing_severity,
        COUNT(*) FILTER (WHERE give_way) AS give_way_count,
        coalesce(SUM(severity_value) FILTER (WHERE give_way), 0) AS give_way_severity,
        COUNT(*) FILTER (WHERE junction) AS junction_count,
        coalesce(SUM(severity_value) FILTER (WHERE junction), 0) AS junction_severity,
        COUNT(*) FILTER (WHERE no_exit) AS no_exit_count,
        coalesce(SUM(severity_value) FILTER (WHERE no_exit), 0) AS no_exit_severity,
        COUNT(*) FILTER (WHERE railway) AS railway_count,
        coalesce(SUM(severity_value) FILTER (WHERE railway), 0) AS railway_severity,
        COUNT(*) FILTER (WHERE roundabout) AS roundabout_count,
        coalesce(SUM(severity_value) FILTER (WHERE roundabout), 0) AS roundabout_severity,
        COUNT(*) FILTER (WHERE station) AS station_count,
        coalesce(SUM(severity_value) FILTER (WHERE station), 0) AS station_severity,
        COUNT(*) FILTER (WHERE stop) AS stop_count,
        coalesce(SUM(severity_value) FILTER (WHERE stop), 0) AS stop_severity,
        COUNT(*) FILTER (WHERE traffic_calming) AS traffic_calming_count,
        coalesce(SUM(severity_value) FILTER (WHERE traffic_calming), 0) AS traffic_calming_severity,
        COUNT(*) FILTER (WHERE traffic_signal) AS traffic_signal_count,
        coalesce(SUM(severity_value) FILTER (WHERE traffic_signal), 0) AS traffic_signal_severity,
        COUNT(*) FILTER (WHERE turning_loop) AS turning_loop_count,
        coalesce(SUM(severity_value) FILTER (WHERE turning_loop), 0) AS turning_loop_severity
    FROM (SELECT *, CAST(severity AS DOUBLE) AS severity_value FROM accidents_classified)
),
per_flag AS (
    -- the one totals row turned into one row per flag: the three arrays unnested side by side
    SELECT
        unnest(make_array(
            'amenity', 'bump', 'crossing', 'give_way', 'junction', 'no_exit', 'railway',
            'roundabout', 'station', 'stop', 'traffic_calming', 'traffic_signal', 'turning_loop'
        )) AS flag,
        unnest(make_array(
            amenity_count, bump_count, crossing_count, give_way_count, junction_count,
            no_exit_count, railway_count, roundabout_count, station_count, stop_count,
            traffic_calming_count, traffic_signal_count, turning_loop_count
        )) AS with_count,
        unnest(make_array(
            amenity_severity, bump_severity, crossing_severity, give_way_severity,
            junction_severity, no_exit_severity, railway_severity, roundabout_severity,
            station_severity, stop_severity, traffic_calming_severity, traffic_signal_severity,
            turning_loop_severity
        )) AS with_severity,
        accidents,
        severity_total
    FROM totals
    -- no accidents, no rows
    WHERE accidents > 0
),
averaged AS (
    SELECT
        flag,
        with_count,
        accidents - with_count AS without_count,
        CASE WHEN with_count > 0 THEN with_severity / with_count END AS severity_avg_with,
        CASE WHEN accidents > with_count
             THEN (severity_total - with_severity) / (accidents - with_count) END
            AS severity_avg_without
    FROM per_flag
)
SELECT
    flag,
    CAST(with_count AS BIGINT) AS accidents_with,
    CAST(without_count AS BIGINT) AS accidents_without,
    severity_avg_with,
    severity_avg_without,
    100 * (severity_avg_without - severity_avg_with) / severity_avg_without
        AS severity_reduction_pct
FROM averaged
