-- medallion: materialize
-- One row per state and one for all states (state NULL), from the per-state-and-severity sums of
-- state_sums (SPEC section 3b): per measure, its count of rows, its Pearson correlation with
-- severity, and whether the measure and the severity vary over those rows; the accidents and their
-- severity (count, total, mean, sample standard deviation); per road-infrastructure flag the
-- accidents with it and their severity total. Each row adds up state_sums' few hundred rows
-- (GROUPING SETS: per state and nationwide), so the lake is read once. A measure's severity sums
-- (and a flag's severity total) are NULL in a scope without it, as a SUM over no rows is.
-- kpis_correlations (through severity_correlations), kpis_anomalies and insights read it.
WITH scoped AS (
    SELECT
        state,
        SUM(temperature_f_n) AS temperature_f_n, SUM(temperature_f_sx) AS temperature_f_sx, SUM(temperature_f_sxx) AS temperature_f_sxx,
        SUM(CASE WHEN temperature_f_n > 0 THEN severity * temperature_f_n END) AS temperature_f_sy,
        SUM(CASE WHEN temperature_f_n > 0 THEN severity * severity * temperature_f_n END) AS temperature_f_syy,
        SUM(severity * temperature_f_sx) AS temperature_f_sxy, MIN(temperature_f_min) AS temperature_f_min, MAX(temperature_f_max) AS temperature_f_max,
        SUM(visibility_mi_n) AS visibility_mi_n, SUM(visibility_mi_sx) AS visibility_mi_sx, SUM(visibility_mi_sxx) AS visibility_mi_sxx,
        SUM(CASE WHEN visibility_mi_n > 0 THEN severity * visibility_mi_n END) AS visibility_mi_sy,
        SUM(CASE WHEN visibility_mi_n > 0 THEN severity * severity * visibility_mi_n END) AS visibility_mi_syy,
        SUM(severity * visibility_mi_sx) AS visibility_mi_sxy, MIN(visibility_mi_min) AS visibility_mi_min, MAX(visibility_mi_max) AS visibility_mi_max,
        SUM(humidity_pct_n) AS humidity_pct_n, SUM(humidity_pct_sx) AS humidity_pct_sx, SUM(humidity_pct_sxx) AS humidity_pct_sxx,
        SUM(CASE WHEN humidity_pct_n > 0 THEN severity * humidity_pct_n END) AS humidity_pct_sy,
        SUM(CASE WHEN humidity_pct_n > 0 THEN severity * severity * humidity_pct_n END) AS humidity_pct_syy,
        SUM(severity * humidity_pct_sx) AS humidity_pct_sxy, MIN(humidity_pct_min) AS humidity_pct_min, MAX(humidity_pct_max) AS humidity_pct_max,
        SUM(wind_speed_mph_n) AS wind_speed_mph_n, SUM(wind_speed_mph_sx) AS wind_speed_mph_sx, SUM(wind_speed_mph_sxx) AS wind_speed_mph_sxx,
        SUM(CASE WHEN wind_speed_mph_n > 0 THEN severity * wind_speed_mph_n END) AS wind_speed_mph_sy,
        SUM(CASE WHEN wind_speed_mph_n > 0 THEN severity * severity * wind_speed_mph_n END) AS wind_speed_mph_syy,
        SUM(severity * wind_speed_mph_sx) AS wind_speed_mph_sxy, MIN(wind_speed_mph_min) AS wind_speed_mph_min, MAX(wind_speed_mph_max) AS wind_speed_mph_max,
        SUM(precipitation_in_n) AS precipitation_in_n, SUM(precipitation_in_sx) AS precipitation_in_sx, SUM(precipitation_in_sxx) AS precipitation_in_sxx,
        SUM(CASE WHEN precipitation_in_n > 0 THEN severity * precipitation_in_n END) AS precipitation_in_sy,
        SUM(CASE WHEN precipitation_in_n > 0 THEN severity * severity * precipitation_in_n END) AS precipitation_in_syy,
        SUM(severity * precipitation_in_sx) AS precipitation_in_sxy, MIN(precipitation_in_min) AS precipitation_in_min, MAX(precipitation_in_max) AS precipitation_in_max,
        SUM(pressure_in_n) AS pressure_in_n, SUM(pressure_in_sx) AS pressure_in_sx, SUM(pressure_in_sxx) AS pressure_in_sxx,
        SUM(CASE WHEN pressure_in_n > 0 THEN severity * pressure_in_n END) AS pressure_in_sy,
        SUM(CASE WHEN pressure_in_n > 0 THEN severity * severity * pressure_in_n END) AS pressure_in_syy,
        SUM(severity * pressure_in_sx) AS pressure_in_sxy, MIN(pressure_in_min) AS pressure_in_min, MAX(pressure_in_max) AS pressure_in_max,
        SUM(distance_mi_n) AS distance_mi_n, SUM(distance_mi_sx) AS distance_mi_sx, SUM(distance_mi_sxx) AS distance_mi_sxx,
        SUM(CASE WHEN distance_mi_n > 0 THEN severity * distance_mi_n END) AS distance_mi_sy,
        SUM(CASE WHEN distance_mi_n > 0 THEN severity * severity * distance_mi_n END) AS distance_mi_syy,
        SUM(severity * distance_mi_sx) AS distance_mi_sxy, MIN(distance_mi_min) AS distance_mi_min, MAX(distance_mi_max) AS distance_mi_max,
        SUM(infrastructure_count_n) AS infrastructure_count_n, SUM(infrastructure_count_sx) AS infrastructure_count_sx, SUM(infrastructure_count_sxx) AS infrastructure_count_sxx,
        SUM(CASE WHEN infrastructure_count_n > 0 THEN severity * infrastructure_count_n END) AS infrastructure_count_sy,
        SUM(CASE WHEN infrastructure_count_n > 0 THEN severity * severity * infrastructure_count_n END) AS infrastructure_count_syy,
        SUM(severity * infrastructure_count_sx) AS infrastructure_count_sxy, MIN(infrastructure_count_min) AS infrastructure_count_min, MAX(infrastructure_count_max) AS infrastructure_count_max,
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
),
deviations AS (
    -- per measure: n, and the sums of squared and crossed deviations from the means (what
    -- DataFusion's `corr` computes from the same sums); severity's in exact integer arithmetic
    SELECT
        *,
        temperature_f_sxx - temperature_f_sx * (temperature_f_sx / temperature_f_n) AS temperature_f_qx,
        CAST(temperature_f_n * temperature_f_syy - temperature_f_sy * temperature_f_sy AS DOUBLE) / temperature_f_n AS temperature_f_qy,
        temperature_f_sxy - temperature_f_sx * (CAST(temperature_f_sy AS DOUBLE) / temperature_f_n) AS temperature_f_qxy,
        visibility_mi_sxx - visibility_mi_sx * (visibility_mi_sx / visibility_mi_n) AS visibility_mi_qx,
        CAST(visibility_mi_n * visibility_mi_syy - visibility_mi_sy * visibility_mi_sy AS DOUBLE) / visibility_mi_n AS visibility_mi_qy,
        visibility_mi_sxy - visibility_mi_sx * (CAST(visibility_mi_sy AS DOUBLE) / visibility_mi_n) AS visibility_mi_qxy,
        humidity_pct_sxx - humidity_pct_sx * (humidity_pct_sx / humidity_pct_n) AS humidity_pct_qx,
        CAST(humidity_pct_n * humidity_pct_syy - humidity_pct_sy * humidity_pct_sy AS DOUBLE) / humidity_pct_n AS humidity_pct_qy,
        humidity_pct_sxy - humidity_pct_sx * (CAST(humidity_pct_sy AS DOUBLE) / humidity_pct_n) AS humidity_pct_qxy,
        wind_speed_mph_sxx - wind_speed_mph_sx * (wind_speed_mph_sx / wind_speed_mph_n) AS wind_speed_mph_qx,
        CAST(wind_speed_mph_n * wind_speed_mph_syy - wind_speed_mph_sy * wind_speed_mph_sy AS DOUBLE) / wind_speed_mph_n AS wind_speed_mph_qy,
        wind_speed_mph_sxy - wind_speed_mph_sx * (CAST(wind_speed_mph_sy AS DOUBLE) / wind_speed_mph_n) AS wind_speed_mph_qxy,
        precipitation_in_sxx - precipitation_in_sx * (precipitation_in_sx / precipitation_in_n) AS precipitation_in_qx,
        CAST(precipitation_in_n * precipitation_in_syy - precipitation_in_sy * precipitation_in_sy AS DOUBLE) / precipitation_in_n AS precipitation_in_qy,
        precipitation_in_sxy - precipitation_in_sx * (CAST(precipitation_in_sy AS DOUBLE) / precipitation_in_n) AS precipitation_in_qxy,
        pressure_in_sxx - pressure_in_sx * (pressure_in_sx / pressure_in_n) AS pressure_in_qx,
        CAST(pressure_in_n * pressure_in_syy - pressure_in_sy * pressure_in_sy AS DOUBLE) / pressure_in_n AS pressure_in_qy,
        pressure_in_sxy - pressure_in_sx * (CAST(pressure_in_sy AS DOUBLE) / pressure_in_n) AS pressure_in_qxy,
        distance_mi_sxx - distance_mi_sx * (distance_mi_sx / distance_mi_n) AS distance_mi_qx,
        CAST(distance_mi_n * distance_mi_syy - distance_mi_sy * distance_mi_sy AS DOUBLE) / distance_mi_n AS distance_mi_qy,
        distance_mi_sxy - distance_mi_sx * (CAST(distance_mi_sy AS DOUBLE) / distance_mi_n) AS distance_mi_qxy,
        infrastructure_count_sxx - infrastructure_count_sx * (infrastructure_count_sx / infrastructure_count_n) AS infrastructure_count_qx,
        CAST(infrastructure_count_n * infrastructure_count_syy - infrastructure_count_sy * infrastructure_count_sy AS DOUBLE) / infrastructure_count_n AS infrastructure_count_qy,
        infrastructure_count_sxy - infrastructure_count_sx * (CAST(infrastructure_count_sy AS DOUBLE) / infrastructure_count_n) AS infrastructure_count_qxy,
        accident_count * severity_sq_sum - severity_sum * severity_sum AS severity_n2_var
    FROM scoped
)
SELECT
    state,
    temperature_f_n,
    CASE WHEN temperature_f_n >= 2 AND temperature_f_qx > 0 AND temperature_f_qy > 0
        THEN temperature_f_qxy / sqrt(temperature_f_qx * temperature_f_qy)
    END AS temperature_f_r,
    coalesce(temperature_f_min < temperature_f_max, false) AS temperature_f_varies,
    coalesce(temperature_f_n * temperature_f_syy > temperature_f_sy * temperature_f_sy, false) AS temperature_f_severity_varies,
    visibility_mi_n,
    CASE WHEN visibility_mi_n >= 2 AND visibility_mi_qx > 0 AND visibility_mi_qy > 0
        THEN visibility_mi_qxy / sqrt(visibility_mi_qx * visibility_mi_qy)
    END AS visibility_mi_r,
    coalesce(visibility_mi_min < visibility_mi_max, false) AS visibility_mi_varies,
    coalesce(visibility_mi_n * visibility_mi_syy > visibility_mi_sy * visibility_mi_sy, false) AS visibility_mi_severity_varies,
    humidity_pct_n,
    CASE WHEN humidity_pct_n >= 2 AND humidity_pct_qx > 0 AND humidity_pct_qy > 0
        THEN humidity_pct_qxy / sqrt(humidity_pct_qx * humidity_pct_qy)
    END AS humidity_pct_r,
    coalesce(humidity_pct_min < humidity_pct_max, false) AS humidity_pct_varies,
    coalesce(humidity_pct_n * humidity_pct_syy > humidity_pct_sy * humidity_pct_sy, false) AS humidity_pct_severity_varies,
    wind_speed_mph_n,
    CASE WHEN wind_speed_mph_n >= 2 AND wind_speed_mph_qx > 0 AND wind_speed_mph_qy > 0
        THEN wind_speed_mph_qxy / sqrt(wind_speed_mph_qx * wind_speed_mph_qy)
    END AS wind_speed_mph_r,
    coalesce(wind_speed_mph_min < wind_speed_mph_max, false) AS wind_speed_mph_varies,
    coalesce(wind_speed_mph_n * wind_speed_mph_syy > wind_speed_mph_sy * wind_speed_mph_sy, false) AS wind_speed_mph_severity_varies,
    precipitation_in_n,
    CASE WHEN precipitation_in_n >= 2 AND precipitation_in_qx > 0 AND precipitation_in_qy > 0
        THEN precipitation_in_qxy / sqrt(precipitation_in_qx * precipitation_in_qy)
    END AS precipitation_in_r,
    coalesce(precipitation_in_min < precipitation_in_max, false) AS precipitation_in_varies,
    coalesce(precipitation_in_n * precipitation_in_syy > precipitation_in_sy * precipitation_in_sy, false) AS precipitation_in_severity_varies,
    pressure_in_n,
    CASE WHEN pressure_in_n >= 2 AND pressure_in_qx > 0 AND pressure_in_qy > 0
        THEN pressure_in_qxy / sqrt(pressure_in_qx * pressure_in_qy)
    END AS pressure_in_r,
    coalesce(pressure_in_min < pressure_in_max, false) AS pressure_in_varies,
    coalesce(pressure_in_n * pressure_in_syy > pressure_in_sy * pressure_in_sy, false) AS pressure_in_severity_varies,
    distance_mi_n,
    CASE WHEN distance_mi_n >= 2 AND distance_mi_qx > 0 AND distance_mi_qy > 0
        THEN distance_mi_qxy / sqrt(distance_mi_qx * distance_mi_qy)
    END AS distance_mi_r,
    coalesce(distance_mi_min < distance_mi_max, false) AS distance_mi_varies,
    coalesce(distance_mi_n * distance_mi_syy > distance_mi_sy * distance_mi_sy, false) AS distance_mi_severity_varies,
    infrastructure_count_n,
    CASE WHEN infrastructure_count_n >= 2 AND infrastructure_count_qx > 0 AND infrastructure_count_qy > 0
        THEN infrastructure_count_qxy / sqrt(infrastructure_count_qx * infrastructure_count_qy)
    END AS infrastructure_count_r,
    coalesce(infrastructure_count_min < infrastructure_count_max, false) AS infrastructure_count_varies,
    coalesce(infrastructure_count_n * infrastructure_count_syy > infrastructure_count_sy * infrastructure_count_sy, false) AS infrastructure_count_severity_varies,
    accident_count,
    CAST(severity_sum AS DOUBLE) AS severity_sum,
    CAST(severity_sum AS DOUBLE) / accident_count AS severity_avg,
    CASE WHEN accident_count > 1
        THEN sqrt(CAST(severity_n2_var AS DOUBLE) / (accident_count * (accident_count - 1)))
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
FROM deviations
