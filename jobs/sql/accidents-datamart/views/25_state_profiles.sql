-- medallion: materialize
-- One row per state and one for all states (state NULL), from the per-state-and-severity sums of
-- state_sums (SPEC section 3b): the accidents and their severity (count, total, mean, sample
-- standard deviation); per road-infrastructure flag the accidents with it and their severity total
-- (NULL in a scope without it, as a SUM over no rows is). Each row adds up state_sums' few hundred
-- rows (GROUPING SETS: per state and nationwide), so the lake is read once. kpis_anomalies and
-- insights read it; the measures' correlations are severity_correlations'.
WITH scoped AS (
    SELECT
        state,
        SUM(accident_count) AS accident_count,
        SUM(severity * accident_count) AS severity_sum,
        SUM(severity * severity * accident_count) AS severity_sq_sum,
        SUM(amenity_count) AS amenity_count, SUM(CASE WHEN amenity_count > 0 THEN severity * amenity_count END) AS amenity_severity,
        SUM(bump_count) AS bump_count, SUM(CASE WHEN bump_count > 0 THEN severity * bump_count END) AS bump_severity,
        SUM(crossing_count) AS crossing_count, SUM(CASE WHEN crossing_count > 0 THEN severity * crossing_count END) AS crossing_severity,
        SUM(give_way_count) AS give_way_count, SUM(CASE WHEN give_way_count > 0 THEN severity * give_way_count END) AS give_way_severity,
        SUM(junction_count) AS junction_count, SUM(CASE WHEN junction_count > 0 THEN severity * junction_count END) AS junction_severity,
        SUM(no_exit_count) AS no_exit_count, SUM(CASE WHEN no_exit_count > 0 THEN severity * no_exit_count END) AS no_exit_severity,
        SUM(railway_count) AS railway_count, SUM(CASE WHEN railway_count > 0 THEN severity * railway_count END) AS railway_severity,
        SUM(roundabout_count) AS roundabout_count, SUM(CASE WHEN roundabout_count > 0 THEN severity * roundabout_count END) AS roundabout_severity,
        SUM(station_count) AS station_count, SUM(CASE WHEN station_count > 0 THEN severity * station_count END) AS station_severity,
        SUM(stop_count) AS stop_count, SUM(CASE WHEN stop_count > 0 THEN severity * stop_count END) AS stop_severity,
        SUM(traffic_calming_count) AS traffic_calming_count, SUM(CASE WHEN traffic_calming_count > 0 THEN severity * traffic_calming_count END) AS traffic_calming_severity,
        SUM(traffic_signal_count) AS traffic_signal_count, SUM(CASE WHEN traffic_signal_count > 0 THEN severity * traffic_signal_count END) AS traffic_signal_severity,
        SUM(turning_loop_count) AS turning_loop_count, SUM(CASE WHEN turning_loop_count > 0 THEN severity * turning_loop_count END) AS turning_loop_severity
    FROM state_sums
    GROUP BY GROUPING SETS ((state), ())
    HAVING COUNT(*) > 0
)
SELECT
    state,
    accident_count,
    CAST(severity_sum AS DOUBLE) AS severity_sum,
    CAST(severity_sum AS DOUBLE) / accident_count AS severity_avg,
    CASE WHEN accident_count > 1
        THEN sqrt(CAST(accident_count * severity_sq_sum - severity_sum * severity_sum AS DOUBLE)
                  / (accident_count * (accident_count - 1)))
    END AS severity_stddev,
    amenity_count,
    CAST(amenity_severity AS DOUBLE) AS amenity_severity,
    bump_count,
    CAST(bump_severity AS DOUBLE) AS bump_severity,
    crossing_count,
    CAST(crossing_severity AS DOUBLE) AS crossing_severity,
    give_way_count,
    CAST(give_way_severity AS DOUBLE) AS give_way_severity,
    junction_count,
    CAST(junction_severity AS DOUBLE) AS junction_severity,
    no_exit_count,
    CAST(no_exit_severity AS DOUBLE) AS no_exit_severity,
    railway_count,
    CAST(railway_severity AS DOUBLE) AS railway_severity,
    roundabout_count,
    CAST(roundabout_severity AS DOUBLE) AS roundabout_severity,
    station_count,
    CAST(station_severity AS DOUBLE) AS station_severity,
    stop_count,
    CAST(stop_severity AS DOUBLE) AS stop_severity,
    traffic_calming_count,
    CAST(traffic_calming_severity AS DOUBLE) AS traffic_calming_severity,
    traffic_signal_count,
    CAST(traffic_signal_severity AS DOUBLE) AS traffic_signal_severity,
    turning_loop_count,
    CAST(turning_loop_severity AS DOUBLE) AS turning_loop_severity
FROM scoped
