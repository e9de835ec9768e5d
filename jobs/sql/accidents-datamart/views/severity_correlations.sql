-- Pearson correlation of each SPEC 3b variable with severity, per state and for all states (state
-- NULL), in one pass over the accepted accidents: the rows of kpis_correlations (SPEC section 3b),
-- also read by insights (significant_correlation).
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
        CAST(infrastructure_count AS DOUBLE) AS infrastructure_count
    FROM accidents_classified
),
stats AS (
    -- per variable, over the rows where it is not NULL: n, r, and both sample variances (a
    -- variance of 0 means no correlation is defined)
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
        var_samp(severity_value) AS infrastructure_count_svar
    FROM valued
    -- accepted rows always have a state: the () set is the only one with state NULL
    GROUP BY GROUPING SETS ((state), ())
),
per_variable AS (
    -- one row per (scope, variable)
    SELECT
        s.state,
        v.variable,
        CASE v.variable
            WHEN 'temperature_f' THEN temperature_f_n
            WHEN 'visibility_mi' THEN visibility_mi_n
            WHEN 'humidity_pct' THEN humidity_pct_n
            WHEN 'wind_speed_mph' THEN wind_speed_mph_n
            WHEN 'precipitation_in' THEN precipitation_in_n
            WHEN 'pressure_in' THEN pressure_in_n
            WHEN 'distance_mi' THEN distance_mi_n
            ELSE infrastructure_count_n
        END AS n,
        CASE v.variable
            WHEN 'temperature_f' THEN temperature_f_r
            WHEN 'visibility_mi' THEN visibility_mi_r
            WHEN 'humidity_pct' THEN humidity_pct_r
            WHEN 'wind_speed_mph' THEN wind_speed_mph_r
            WHEN 'precipitation_in' THEN precipitation_in_r
            WHEN 'pressure_in' THEN pressure_in_r
            WHEN 'distance_mi' THEN distance_mi_r
            ELSE infrastructure_count_r
        END AS r,
        CASE v.variable
            WHEN 'temperature_f' THEN temperature_f_var
            WHEN 'visibility_mi' THEN visibility_mi_var
            WHEN 'humidity_pct' THEN humidity_pct_var
            WHEN 'wind_speed_mph' THEN wind_speed_mph_var
            WHEN 'precipitation_in' THEN precipitation_in_var
            WHEN 'pressure_in' THEN pressure_in_var
            WHEN 'distance_mi' THEN distance_mi_var
            ELSE infrastructure_count_var
        END AS variable_var,
        CASE v.variable
            WHEN 'temperature_f' THEN temperature_f_svar
            WHEN 'visibility_mi' THEN visibility_mi_svar
            WHEN 'humidity_pct' THEN humidity_pct_svar
            WHEN 'wind_speed_mph' THEN wind_speed_mph_svar
            WHEN 'precipitation_in' THEN precipitation_in_svar
            WHEN 'pressure_in' THEN pressure_in_svar
            WHEN 'distance_mi' THEN distance_mi_svar
            ELSE infrastructure_count_svar
        END AS severity_var
    FROM stats s
    CROSS JOIN (
        SELECT unnest(make_array(
            'temperature_f', 'visibility_mi', 'humidity_pct', 'wind_speed_mph',
            'precipitation_in', 'pressure_in', 'distance_mi', 'infrastructure_count'
        )) AS variable
    ) v
),
correlated AS (
    SELECT
        state,
        variable,
        n,
        CASE
            WHEN n >= ${min_rows} AND variable_var > 0 AND severity_var > 0 THEN
                -- a perfect correlation computed in floating point may land a rounding step
                -- away from ±1: it is ±1
                CASE WHEN abs(r) >= 1 - 1e-12 THEN signum(r) ELSE r END
        END AS pearson_r
    FROM per_variable
),
tested AS (
    SELECT
        state,
        variable,
        n,
        pearson_r,
        CASE
            WHEN abs(pearson_r) < 1
                THEN pearson_r * sqrt(CAST(n - 2 AS DOUBLE) / (1 - pearson_r * pearson_r))
        END AS t_stat
    FROM correlated
)
SELECT
    state,
    variable,
    CAST(n AS BIGINT) AS n,
    pearson_r,
    t_stat,
    coalesce(abs(t_stat) >= 1.96, false) AS significant,
    CASE
        WHEN abs(pearson_r) >= 0.5 THEN 'strong'
        WHEN abs(pearson_r) >= 0.3 THEN 'moderate'
        WHEN abs(pearson_r) >= 0.1 THEN 'weak'
        ELSE 'none'
    END AS strength
FROM tested
