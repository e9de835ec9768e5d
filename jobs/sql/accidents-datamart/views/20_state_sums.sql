-- medallion: materialize
-- The one pass over the accepted accidents that SPEC section 3b adds to the run: per state and
-- severity, the sums every statistic of state_profiles is made of, and the per-flag counts
-- kpis_infrastructure totals (it reads this view rather than the lake again). Severity is an
-- integer in 1..4, so grouping by it turns every sum involving severity into a sum over these few
-- rows (Σ severity·x = Σ over severities of severity · Σx): per row of the lake, only a measure's
-- count, Σx, Σx² and its smallest and largest value are accumulated (x is constant exactly when
-- they are equal, which sums alone cannot tell in floating point). Sums combine exactly across
-- states and severities, so state_profiles adds the per-state and nationwide rows from these
-- rows instead of aggregating every accident again. Per road-infrastructure flag (NULL counts as
-- false): the accidents with it.
WITH valued AS (
    SELECT
        state,
        severity,
        CAST(temperature_f AS DOUBLE) AS temperature_f,
        CAST(visibility_mi AS DOUBLE) AS visibility_mi,
        CAST(humidity_pct AS DOUBLE) AS humidity_pct,
        CAST(wind_speed_mph AS DOUBLE) AS wind_speed_mph,
        CAST(precipitation_in AS DOUBLE) AS precipitation_in,
        CAST(pressure_in AS DOUBLE) AS pressure_in,
        CAST(distance_mi AS DOUBLE) AS distance_mi,
        CAST(infrastructure_count AS DOUBLE) AS infrastructure_count,
        amenity, bump, crossing, give_way, junction, no_exit, railway,
        roundabout, station, stop, traffic_calming, traffic_signal, turning_loop
    FROM accidents_classified
)
SELECT
    state,
    severity,
    COUNT(*) AS accident_count,
    COUNT(temperature_f) AS temperature_f_n,
    SUM(temperature_f) AS temperature_f_sx,
    SUM(temperature_f * temperature_f) AS temperature_f_sxx,
    MIN(temperature_f) AS temperature_f_min,
    MAX(temperature_f) AS temperature_f_max,
    COUNT(visibility_mi) AS visibility_mi_n,
    SUM(visibility_mi) AS visibility_mi_sx,
    SUM(visibility_mi * visibility_mi) AS visibility_mi_sxx,
    MIN(visibility_mi) AS visibility_mi_min,
    MAX(visibility_mi) AS visibility_mi_max,
    COUNT(humidity_pct) AS humidity_pct_n,
    SUM(humidity_pct) AS humidity_pct_sx,
    SUM(humidity_pct * humidity_pct) AS humidity_pct_sxx,
    MIN(humidity_pct) AS humidity_pct_min,
    MAX(humidity_pct) AS humidity_pct_max,
    COUNT(wind_speed_mph) AS wind_speed_mph_n,
    SUM(wind_speed_mph) AS wind_speed_mph_sx,
    SUM(wind_speed_mph * wind_speed_mph) AS wind_speed_mph_sxx,
    MIN(wind_speed_mph) AS wind_speed_mph_min,
    MAX(wind_speed_mph) AS wind_speed_mph_max,
    COUNT(precipitation_in) AS precipitation_in_n,
    SUM(precipitation_in) AS precipitation_in_sx,
    SUM(precipitation_in * precipitation_in) AS precipitation_in_sxx,
    MIN(precipitation_in) AS precipitation_in_min,
    MAX(precipitation_in) AS precipitation_in_max,
    COUNT(pressure_in) AS pressure_in_n,
    SUM(pressure_in) AS pressure_in_sx,
    SUM(pressure_in * pressure_in) AS pressure_in_sxx,
    MIN(pressure_in) AS pressure_in_min,
    MAX(pressure_in) AS pressure_in_max,
    COUNT(distance_mi) AS distance_mi_n,
    SUM(distance_mi) AS distance_mi_sx,
    SUM(distance_mi * distance_mi) AS distance_mi_sxx,
    MIN(distance_mi) AS distance_mi_min,
    MAX(distance_mi) AS distance_mi_max,
    COUNT(infrastructure_count) AS infrastructure_count_n,
    SUM(infrastructure_count) AS infrastructure_count_sx,
    SUM(infrastructure_count * infrastructure_count) AS infrastructure_count_sxx,
    MIN(infrastructure_count) AS infrastructure_count_min,
    MAX(infrastructure_count) AS infrastructure_count_max,
    COUNT(*) FILTER (WHERE amenity) AS amenity_count,
    COUNT(*) FILTER (WHERE bump) AS bump_count,
    COUNT(*) FILTER (WHERE crossing) AS crossing_count,
    COUNT(*) FILTER (WHERE give_way) AS give_way_count,
    COUNT(*) FILTER (WHERE junction) AS junction_count,
    COUNT(*) FILTER (WHERE no_exit) AS no_exit_count,
    COUNT(*) FILTER (WHERE railway) AS railway_count,
    COUNT(*) FILTER (WHERE roundabout) AS roundabout_count,
    COUNT(*) FILTER (WHERE station) AS station_count,
    COUNT(*) FILTER (WHERE stop) AS stop_count,
    COUNT(*) FILTER (WHERE traffic_calming) AS traffic_calming_count,
    COUNT(*) FILTER (WHERE traffic_signal) AS traffic_signal_count,
    COUNT(*) FILTER (WHERE turning_loop) AS turning_loop_count
FROM valued
GROUP BY state, severity
