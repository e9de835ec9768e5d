-- medallion: materialize
-- The one pass over the accepted accidents that SPEC section 3b adds to the run: per state and
-- severity, the sums every statistic of state_profiles is made of, and the per-flag counts
-- kpis_infrastructure totals (it reads this view rather than the lake again). Severity is an
-- integer in 1..4, so grouping by it turns every sum involving severity into a sum over these few
-- rows (Σ severity·x = Σ over severities of severity · Σx): per row of the lake, only a measure's
-- count, Σx, Σx² and its smallest and largest value are accumulated (x is constant exactly when
-- they are equal, which sums alone cannot tell in floating point), all five by one `moments(x)`
-- aggregate (udfs/src/moments.rs: one visit of the row instead of five aggregates). Sums combine
-- exactly across states and severities, so state_profiles adds the per-state and nationwide rows
-- from these rows instead of aggregating every accident again. Per road-infrastructure flag (NULL
-- counts as false): the accidents with it.
WITH grouped AS (
    SELECT
        state,
        severity,
        COUNT(*) AS accident_count,
        moments(temperature_f) AS temperature_f_m,
        moments(visibility_mi) AS visibility_mi_m,
        moments(humidity_pct) AS humidity_pct_m,
        moments(wind_speed_mph) AS wind_speed_mph_m,
        moments(precipitation_in) AS precipitation_in_m,
        moments(pressure_in) AS pressure_in_m,
        moments(distance_mi) AS distance_mi_m,
        moments(infrastructure_count) AS infrastructure_count_m,
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
    FROM accidents_classified
    GROUP BY state, severity
)
SELECT
    state,
    severity,
    accident_count,
    temperature_f_m['n'] AS temperature_f_n, temperature_f_m['sum'] AS temperature_f_sx, temperature_f_m['sum_sq'] AS temperature_f_sxx,
    temperature_f_m['min'] AS temperature_f_min, temperature_f_m['max'] AS temperature_f_max,
    visibility_mi_m['n'] AS visibility_mi_n, visibility_mi_m['sum'] AS visibility_mi_sx, visibility_mi_m['sum_sq'] AS visibility_mi_sxx,
    visibility_mi_m['min'] AS visibility_mi_min, visibility_mi_m['max'] AS visibility_mi_max,
    humidity_pct_m['n'] AS humidity_pct_n, humidity_pct_m['sum'] AS humidity_pct_sx, humidity_pct_m['sum_sq'] AS humidity_pct_sxx,
    humidity_pct_m['min'] AS humidity_pct_min, humidity_pct_m['max'] AS humidity_pct_max,
    wind_speed_mph_m['n'] AS wind_speed_mph_n, wind_speed_mph_m['sum'] AS wind_speed_mph_sx, wind_speed_mph_m['sum_sq'] AS wind_speed_mph_sxx,
    wind_speed_mph_m['min'] AS wind_speed_mph_min, wind_speed_mph_m['max'] AS wind_speed_mph_max,
    precipitation_in_m['n'] AS precipitation_in_n, precipitation_in_m['sum'] AS precipitation_in_sx, precipitation_in_m['sum_sq'] AS precipitation_in_sxx,
    precipitation_in_m['min'] AS precipitation_in_min, precipitation_in_m['max'] AS precipitation_in_max,
    pressure_in_m['n'] AS pressure_in_n, pressure_in_m['sum'] AS pressure_in_sx, pressure_in_m['sum_sq'] AS pressure_in_sxx,
    pressure_in_m['min'] AS pressure_in_min, pressure_in_m['max'] AS pressure_in_max,
    distance_mi_m['n'] AS distance_mi_n, distance_mi_m['sum'] AS distance_mi_sx, distance_mi_m['sum_sq'] AS distance_mi_sxx,
    distance_mi_m['min'] AS distance_mi_min, distance_mi_m['max'] AS distance_mi_max,
    infrastructure_count_m['n'] AS infrastructure_count_n, infrastructure_count_m['sum'] AS infrastructure_count_sx, infrastructure_count_m['sum_sq'] AS infrastructure_count_sxx,
    infrastructure_count_m['min'] AS infrastructure_count_min, infrastructure_count_m['max'] AS infrastructure_count_max,
    amenity_count,
    bump_count,
    crossing_count,
    give_way_count,
    junction_count,
    no_exit_count,
    railway_count,
    roundabout_count,
    station_count,
    stop_count,
    traffic_calming_count,
    traffic_signal_count,
    turning_loop_count
FROM grouped
