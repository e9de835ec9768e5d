-- Pearson correlation of weather, distance and infrastructure with severity, per state and for all
-- states (state NULL) (SPEC section 3b, kpis_correlations); the statistics are computed in the
-- view severity_correlations, which insights reads too.
-- medallion: auto_id = id
-- medallion: index idx_corr = state, variable
SELECT
    state,
    variable,
    n,
    pearson_r,
    t_stat,
    significant,
    strength,
    now() AS last_updated
FROM severity_correlations
ORDER BY state NULLS FIRST, variable
