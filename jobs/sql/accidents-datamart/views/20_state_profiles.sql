-- medallion: materialize
-- One row per state and one for all states (state NULL), in one pass over the accepted accidents
-- (SPEC section 3b): the statistics of each variable's Pearson correlation with severity, the
-- accidents and their severity (count, total, mean, standard deviation), and per road-infrastructure
-- flag the accidents with it and their severity total. Computed once per run and kept in memory;
-- kpis_correlations (through severity_correlations), kpis_anomalies and insights read it, so SPEC
-- 3b costs one more pass over the lake.
WITH valued AS (
    SELECT
        state,
        CAST(severity AS DOUBLE) AS severity_value,
        CAST(temperature_f AS DOUBLE) AS temperature_f,
        CAST(visibility_mi AS DOUBLE) AS visibility_mi,
        CAST(humidity_pct AS DOUBLE) AS humidity_pct,
        CAST(wind_speed_mph AS DOUBLE) AS wind_speed_mph,
        CAST(precipitation_in AS DOUBLE) AS precipitation_in,
        CAST(pressure_in AS DOUBLE) AS pressure_in,
        CAST(distance_mi AS DOUBLE) AS distance_mi,
        CAST(infrastructure_count AS DOUBLE) AS infrastructure_count,
        amenity, bump, crossing, give_way,
        junction, no_exit, railway, roundabout,
        station, stop, traffic_calming, traffic_signal,
        turning_loop
    FROM accidents_classified
)
SELECT
    state,
    COUNT(temperature_f) AS temperature_f_n,
    corr(temperature_f, severity_value) AS temperature_f_r,
    var_samp(temperature_f) AS temperature_f_var,
    var_samp(CASE WHEN temperature_f IS NOT NULL THEN severity_value END) AS temperature_f_svar,
    COUNT(visibility_mi) AS visibility_mi_n,
    corr(visibility_mi, severity_value) AS visibility_mi_r,
    var_samp(visibility_mi) AS visibility_mi_var,
    var_samp(CASE WHEN visibility_mi IS NOT NULL THEN severity_value END) AS visibility_mi_svar,
    COUNT(humidity_pct) AS humidity_pct_n,
    corr(humidity_pct, severity_value) AS humidity_pct_r,
    var_samp(humidity_pct) AS humidity_pct_var,
    var_samp(CASE WHEN humidity_pct IS NOT NULL THEN severity_value END) AS humidity_pct_svar,
    COUNT(wind_speed_mph) AS wind_speed_mph_n,
    corr(wind_speed_mph, severity_value) AS wind_speed_mph_r,
    var_samp(wind_speed_mph) AS wind_speed_mph_var,
    var_samp(CASE WHEN wind_speed_mph IS NOT NULL THEN severity_value END)
        AS wind_speed_mph_svar,
    COUNT(precipitation_in) AS precipitation_in_n,
    corr(precipitation_in, severity_value) AS precipitation_in_r,
    var_samp(precipitation_in) AS precipitation_in_var,
    var_samp(CASE WHEN precipitation_in IS NOT NULL THEN severity_value END)
        AS precipitation_in_svar,
    COUNT(pressure_in) AS pressure_in_n,
    corr(pressure_in, severity_value) AS pressure_in_r,
    var_samp(pressure_in) AS pressure_in_var,
    var_samp(CASE WHEN pressure_in IS NOT NULL THEN severity_value END) AS pressure_in_svar,
    COUNT(distance_mi) AS distance_mi_n,
    corr(distance_mi, severity_value) AS distance_mi_r,
    var_samp(distance_mi) AS distance_mi_var,
    var_samp(CASE WHEN distance_mi IS NOT NULL THEN severity_value END) AS distance_mi_svar,
    COUNT(infrastructure_count) AS infrastructure_count_n,
    corr(infrastructure_count, severity_value) AS infrastructure_count_r,
    var_samp(infrastructure_count) AS infrastructure_count_var,
    var_samp(severity_value) AS infrastructure_count_svar,
    -- accidents and severity per scope (dangerous_state, safety_improvement_score, the
    -- geographic and weather anomalies' baselines)
    COUNT(*) AS accident_count,
    SUM(severity_value) AS severity_sum,
    AVG(severity_value) AS severity_avg,
    STDDEV(severity_value) AS severity_stddev,
    -- per road-infrastructure flag (NULL counts as false): accidents with it and their
    -- severity total (best_infrastructure)
    COUNT(*) FILTER (WHERE amenity) AS amenity_count,
    SUM(severity_value) FILTER (WHERE amenity) AS amenity_severity,
    COUNT(*) FILTER (WHERE bump) AS bump_count,
    SUM(severity_value) FILTER (WHERE bump) AS bump_severity,
    COUNT(*) FILTER (WHERE crossing) AS crossing_count,
    SUM(severity_value) FILTER (WHERE crossing) AS crossing_severity,
    COUNT(*) FILTER (WHERE give_way) AS give_way_count,
    SUM(severity_value) FILTER (WHERE give_way) AS give_way_severity,
    COUNT(*) FILTER (WHERE junction) AS junction_count,
    SUM(severity_value) FILTER (WHERE junction) AS junction_severity,
    COUNT(*) FILTER (WHERE no_exit) AS no_exit_count,
    SUM(severity_value) FILTER (WHERE no_exit) AS no_exit_severity,
    COUNT(*) FILTER (WHERE railway) AS railway_count,
    SUM(severity_value) FILTER (WHERE railway) AS railway_severity,
    COUNT(*) FILTER (WHERE roundabout) AS roundabout_count,
    SUM(severity_value) FILTER (WHERE roundabout) AS roundabout_severity,
    COUNT(*) FILTER (WHERE station) AS station_count,
    SUM(severity_value) FILTER (WHERE station) AS station_severity,
    COUNT(*) FILTER (WHERE stop) AS stop_count,
    SUM(severity_value) FILTER (WHERE stop) AS stop_severity,
    COUNT(*) FILTER (WHERE traffic_calming) AS traffic_calming_count,
    SUM(severity_value) FILTER (WHERE traffic_calming) AS traffic_calming_severity,
    COUNT(*) FILTER (WHERE traffic_signal) AS traffic_signal_count,
    SUM(severity_value) FILTER (WHERE traffic_signal) AS traffic_signal_severity,
    COUNT(*) FILTER (WHERE turning_loop) AS turning_loop_count,
    SUM(severity_value) FILTER (WHERE turning_loop) AS turning_loop_severity
FROM valued
-- accepted rows always have a state: the () set is the only one with state NULL
GROUP BY GROUPING SETS ((state), ())
