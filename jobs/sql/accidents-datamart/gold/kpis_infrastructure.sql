-- Severity with and without each road-infrastructure flag (SPEC section 3, kpis_infrastructure).
-- medallion: primary_key = flag
-- Data quality gate (KPI coherence): with + without = every accepted accident, for each flag.
-- medallion: expect name=kpis_infrastructure_with_plus_without kind=sql sql=SELECT flag, accidents_with + accidents_without AS total, r.rows_ FROM kpis_infrastructure CROSS JOIN run_rows r WHERE r.table_name = 'accidents_classified' AND accidents_with + accidents_without <> r.rows_
WITH totals AS (
    -- state_sums: per state and severity, the accidents and the accidents with each flag
    SELECT
        coalesce(SUM(accident_count), 0) AS accidents,
        coalesce(CAST(SUM(severity * accident_count) AS DOUBLE), 0) AS severity_total,
        coalesce(SUM(amenity_count), 0) AS amenity_count,
        coalesce(CAST(SUM(severity * amenity_count) AS DOUBLE), 0) AS amenity_severity,
        coalesce(SUM(bump_count), 0) AS bump_count,
        coalesce(CAST(SUM(severity * bump_count) AS DOUBLE), 0) AS bump_severity,
        coalesce(SUM(crossing_count), 0) AS crossing_count,
        coalesce(CAST(SUM(severity * crossing_count) AS DOUBLE), 0) AS crossing_severity,
        coalesce(SUM(give_way_count), 0) AS give_way_count,
        coalesce(CAST(SUM(severity * give_way_count) AS DOUBLE), 0) AS give_way_severity,
        coalesce(SUM(junction_count), 0) AS junction_count,
        coalesce(CAST(SUM(severity * junction_count) AS DOUBLE), 0) AS junction_severity,
        coalesce(SUM(no_exit_count), 0) AS no_exit_count,
        coalesce(CAST(SUM(severity * no_exit_count) AS DOUBLE), 0) AS no_exit_severity,
        coalesce(SUM(railway_count), 0) AS railway_count,
        coalesce(CAST(SUM(severity * railway_count) AS DOUBLE), 0) AS railway_severity,
        coalesce(SUM(roundabout_count), 0) AS roundabout_count,
        coalesce(CAST(SUM(severity * roundabout_count) AS DOUBLE), 0) AS roundabout_severity,
        coalesce(SUM(station_count), 0) AS station_count,
        coalesce(CAST(SUM(severity * station_count) AS DOUBLE), 0) AS station_severity,
        coalesce(SUM(stop_count), 0) AS stop_count,
        coalesce(CAST(SUM(severity * stop_count) AS DOUBLE), 0) AS stop_severity,
        coalesce(SUM(traffic_calming_count), 0) AS traffic_calming_count,
        coalesce(CAST(SUM(severity * traffic_calming_count) AS DOUBLE), 0) AS traffic_calming_severity,
        coalesce(SUM(traffic_signal_count), 0) AS traffic_signal_count,
        coalesce(CAST(SUM(severity * traffic_signal_count) AS DOUBLE), 0) AS traffic_signal_severity,
        coalesce(SUM(turning_loop_count), 0) AS turning_loop_count,
        coalesce(CAST(SUM(severity * turning_loop_count) AS DOUBLE), 0) AS turning_loop_severity
    FROM state_sums
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
