-- medallion: materialize
-- Pearson correlation of each SPEC 3b variable with severity, per state and for all states (state
-- NULL): the rows of kpis_correlations (SPEC section 3b), also read by insights
-- (significant_correlation). From the per-state-and-severity sums of state_sums, one row per
-- (state, severity, variable) (`per_severity`), so every statistic below is written once for all
-- eight variables. Severity is an integer in 1..4: Σy, Σy² and Σxy over a scope's rows are sums
-- over its severities of severity · n, severity² · n and severity · Σx (NULL in a scope without a
-- value of the variable, as a SUM over no rows is). r is computed from the deviations
-- Σ(x−x̄)² = Σx² − Σx·x̄, Σ(y−ȳ)², Σ(x−x̄)(y−ȳ); a variable varies exactly when its minimum and
-- maximum differ (sums alone cannot tell that in floating point).
WITH per_severity AS (
    SELECT state, severity, 'temperature_f' AS variable, temperature_f_n AS n, temperature_f_sx AS sx, temperature_f_sxx AS sxx,
           temperature_f_min AS min_x, temperature_f_max AS max_x
    FROM state_sums
    UNION ALL
    SELECT state, severity, 'visibility_mi' AS variable, visibility_mi_n AS n, visibility_mi_sx AS sx, visibility_mi_sxx AS sxx,
           visibility_mi_min AS min_x, visibility_mi_max AS max_x
    FROM state_sums
    UNION ALL
    SELECT state, severity, 'humidity_pct' AS variable, humidity_pct_n AS n, humidity_pct_sx AS sx, humidity_pct_sxx AS sxx,
           humidity_pct_min AS min_x, humidity_pct_max AS max_x
    FROM state_sums
    UNION ALL
    SELECT state, severity, 'wind_speed_mph' AS variable, wind_speed_mph_n AS n, wind_speed_mph_sx AS sx, wind_speed_mph_sxx AS sxx,
           wind_speed_mph_min AS min_x, wind_speed_mph_max AS max_x
    FROM state_sums
    UNION ALL
    SELECT state, severity, 'precipitation_in' AS variable, precipitation_in_n AS n, precipitation_in_sx AS sx, precipitation_in_sxx AS sxx,
           precipitation_in_min AS min_x, precipitation_in_max AS max_x
    FROM state_sums
    UNION ALL
    SELECT state, severity, 'pressure_in' AS variable, pressure_in_n AS n, pressure_in_sx AS sx, pressure_in_sxx AS sxx,
           pressure_in_min AS min_x, pressure_in_max AS max_x
    FROM state_sums
    UNION ALL
    SELECT state, severity, 'distance_mi' AS variable, distance_mi_n AS n, distance_mi_sx AS sx, distance_mi_sxx AS sxx,
           distance_mi_min AS min_x, distance_mi_max AS max_x
    FROM state_sums
    UNION ALL
    SELECT state, severity, 'infrastructure_count' AS variable, infrastructure_count_n AS n, infrastructure_count_sx AS sx, infrastructure_count_sxx AS sxx,
           infrastructure_count_min AS min_x, infrastructure_count_max AS max_x
    FROM state_sums
),
scoped AS (
    SELECT
        state,
        variable,
        SUM(n) AS n,
        SUM(sx) AS sx,
        SUM(sxx) AS sxx,
        SUM(CASE WHEN n > 0 THEN severity * n END) AS sy,
        SUM(CASE WHEN n > 0 THEN severity * severity * n END) AS syy,
        SUM(severity * sx) AS sxy,
        MIN(min_x) AS min_x,
        MAX(max_x) AS max_x
    FROM per_severity
    GROUP BY GROUPING SETS ((state, variable), (variable))
),
deviations AS (
    SELECT
        state,
        variable,
        n,
        sxx - sx * (sx / n) AS qx,
        CAST(n * syy - sy * sy AS DOUBLE) / n AS qy,
        sxy - sx * (CAST(sy AS DOUBLE) / n) AS qxy,
        coalesce(min_x < max_x, false) AS variable_varies,
        coalesce(n * syy > sy * sy, false) AS severity_varies
    FROM scoped
),
per_variable AS (
    SELECT
        state,
        variable,
        n,
        CASE WHEN n >= 2 AND qx > 0 AND qy > 0 THEN qxy / sqrt(qx * qy) END AS r,
        variable_varies,
        severity_varies
    FROM deviations
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
