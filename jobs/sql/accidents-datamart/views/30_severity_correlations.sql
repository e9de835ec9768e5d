-- Pearson correlation of each SPEC 3b variable with severity, per state and for all states (state
-- NULL), from the statistics of state_profiles: the rows of kpis_correlations (SPEC section 3b),
-- also read by insights (significant_correlation).
WITH per_variable AS (
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
            WHEN 'temperature_f' THEN temperature_f_varies
            WHEN 'visibility_mi' THEN visibility_mi_varies
            WHEN 'humidity_pct' THEN humidity_pct_varies
            WHEN 'wind_speed_mph' THEN wind_speed_mph_varies
            WHEN 'precipitation_in' THEN precipitation_in_varies
            WHEN 'pressure_in' THEN pressure_in_varies
            WHEN 'distance_mi' THEN distance_mi_varies
            ELSE infrastructure_count_varies
        END AS variable_varies,
        CASE v.variable
            WHEN 'temperature_f' THEN temperature_f_severity_varies
            WHEN 'visibility_mi' THEN visibility_mi_severity_varies
            WHEN 'humidity_pct' THEN humidity_pct_severity_varies
            WHEN 'wind_speed_mph' THEN wind_speed_mph_severity_varies
            WHEN 'precipitation_in' THEN precipitation_in_severity_varies
            WHEN 'pressure_in' THEN pressure_in_severity_varies
            WHEN 'distance_mi' THEN distance_mi_severity_varies
            ELSE infrastructure_count_severity_varies
        END AS severity_varies
    FROM state_profiles s
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
            WHEN n >= ${min_rows} AND variable_varies AND severity_varies THEN
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
