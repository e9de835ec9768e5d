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
