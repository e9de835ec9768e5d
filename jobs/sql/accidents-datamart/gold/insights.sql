-- Automated recommendations (SPEC section 3b, insights): the most dangerous states, the peak hour
-- and the best infrastructure per state and nationwide (state NULL), a safety improvement score
-- per state, and the significant nationwide correlations. From the run's materialized views: the
-- hourly rows of period_counts (those of kpis_temporal), the state rows and per-flag counts of
-- state_profiles (kpis_security's and kpis_infrastructure's, computed the same way), and the view
-- severity_correlations (the rows of kpis_correlations).
-- medallion: auto_id = id
-- medallion: index idx_insight = insight_type, state
WITH counted AS (
    -- the hourly rows of period_counts, per state and nationwide (state NULL), then the rows of
    -- state_profiles, per state and nationwide, with their per-flag counts (NULL flags count as
    -- false); which columns are NULL tells what a row is
    SELECT
        state,
        hour_of_day,
        accident_count,
        severity_sum,
        CAST(NULL AS BIGINT) AS amenity_count,
        CAST(NULL AS DOUBLE) AS amenity_severity,
        CAST(NULL AS BIGINT) AS bump_count,
        CAST(NULL AS DOUBLE) AS bump_severity,
        CAST(NULL AS BIGINT) AS crossing_count,
        CAST(NULL AS DOUBLE) AS crossing_severity,
        CAST(NULL AS BIGINT) AS give_way_count,
        CAST(NULL AS DOUBLE) AS give_way_severity,
        CAST(NULL AS BIGINT) AS junction_count,
        CAST(NULL AS DOUBLE) AS junction_severity,
        CAST(NULL AS BIGINT) AS no_exit_count,
        CAST(NULL AS DOUBLE) AS no_exit_severity,
        CAST(NULL AS BIGINT) AS railway_count,
        CAST(NULL AS DOUBLE) AS railway_severity,
        CAST(NULL AS BIGINT) AS roundabout_count,
        CAST(NULL AS DOUBLE) AS roundabout_severity,
        CAST(NULL AS BIGINT) AS station_count,
        CAST(NULL AS DOUBLE) AS station_severity,
        CAST(NULL AS BIGINT) AS stop_count,
        CAST(NULL AS DOUBLE) AS stop_severity,
        CAST(NULL AS BIGINT) AS traffic_calming_count,
        CAST(NULL AS DOUBLE) AS traffic_calming_severity,
        CAST(NULL AS BIGINT) AS traffic_signal_count,
        CAST(NULL AS DOUBLE) AS traffic_signal_severity,
        CAST(NULL AS BIGINT) AS turning_loop_count,
        CAST(NULL AS DOUBLE) AS turning_loop_severity
    FROM period_counts
    WHERE hour_of_day IS NOT NULL
    UNION ALL
    SELECT
        state,
        CAST(NULL AS INT) AS hour_of_day,
        accident_count,
        severity_sum,
        amenity_count,
        amenity_severity,
        bump_count,
        bump_severity,
        crossing_count,
        crossing_severity,
        give_way_count,
        give_way_severity,
        junction_count,
        junction_severity,
        no_exit_count,
        no_exit_severity,
        railway_count,
        railway_severity,
        roundabout_count,
        roundabout_severity,
        station_count,
        station_severity,
        stop_count,
        stop_severity,
        traffic_calming_count,
        traffic_calming_severity,
        traffic_signal_count,
        traffic_signal_severity,
        turning_loop_count,
        turning_loop_severity
    FROM state_profiles
),
roles AS (
    -- each counted row once per thing it is a candidate for: an hourly row for peak_hour; a
    -- state row for dangerous_state and safety_improvement_score; a state or nationwide row for
    -- each of the 13 flags (best_infrastructure)
    SELECT c.*, r.role
    FROM counted c
    CROSS JOIN (
        SELECT unnest(make_array(
            'peak_hour', 'dangerous_state', 'safety_improvement_score',
            'amenity', 'bump', 'crossing', 'give_way', 'junction', 'no_exit', 'railway',
            'roundabout', 'station', 'stop', 'traffic_calming', 'traffic_signal', 'turning_loop'
        )) AS role
    ) r
    WHERE CASE r.role
        WHEN 'peak_hour' THEN c.hour_of_day IS NOT NULL
        WHEN 'dangerous_state' THEN c.hour_of_day IS NULL AND c.state IS NOT NULL
        WHEN 'safety_improvement_score' THEN c.hour_of_day IS NULL AND c.state IS NOT NULL
        ELSE c.hour_of_day IS NULL
    END
),
flagged AS (
    SELECT
        role,
        CASE WHEN role IN ('peak_hour', 'dangerous_state', 'safety_improvement_score')
             THEN role ELSE 'best_infrastructure' END AS insight_type,
        state,
        hour_of_day,
        accident_count,
        severity_sum,
        -- dangerous_state, safety_improvement_score: danger_index as in kpis_security
        danger_index(severity_sum / accident_count, accident_count) AS danger,
        CASE role
            WHEN 'amenity' THEN amenity_count WHEN 'bump' THEN bump_count
            WHEN 'crossing' THEN crossing_count WHEN 'give_way' THEN give_way_count
            WHEN 'junction' THEN junction_count WHEN 'no_exit' THEN no_exit_count
            WHEN 'railway' THEN railway_count WHEN 'roundabout' THEN roundabout_count
            WHEN 'station' THEN station_count WHEN 'stop' THEN stop_count
            WHEN 'traffic_calming' THEN traffic_calming_count
            WHEN 'traffic_signal' THEN traffic_signal_count
            WHEN 'turning_loop' THEN turning_loop_count
        END AS with_count,
        coalesce(CASE role
            WHEN 'amenity' THEN amenity_severity WHEN 'bump' THEN bump_severity
            WHEN 'crossing' THEN crossing_severity WHEN 'give_way' THEN give_way_severity
            WHEN 'junction' THEN junction_severity WHEN 'no_exit' THEN no_exit_severity
            WHEN 'railway' THEN railway_severity WHEN 'roundabout' THEN roundabout_severity
            WHEN 'station' THEN station_severity WHEN 'stop' THEN stop_severity
            WHEN 'traffic_calming' THEN traffic_calming_severity
            WHEN 'traffic_signal' THEN traffic_signal_severity
            WHEN 'turning_loop' THEN turning_loop_severity
        END, 0) AS with_severity
    FROM roles
),
measured AS (
    SELECT
        role,
        insight_type,
        state,
        hour_of_day,
        accident_count,
        danger,
        -- best_infrastructure: severity_reduction_pct as in kpis_infrastructure, for a flag with
        -- at least min_rows accidents with it and min_rows without it in the scope
        CASE
            WHEN insight_type = 'best_infrastructure'
                AND with_count >= ${min_rows} AND accident_count - with_count >= ${min_rows}
                THEN 100 * ((severity_sum - with_severity) / (accident_count - with_count)
                            - with_severity / with_count)
                     / ((severity_sum - with_severity) / (accident_count - with_count))
        END AS reduction_pct,
        -- peak_hour: the scope's accidents are the sum of its hourly rows
        SUM(accident_count) OVER (PARTITION BY insight_type, state) AS scope_accidents,
        -- dangerous_state: kpis_security's hotspot_rank among the state rows
        ROW_NUMBER() OVER (
            PARTITION BY insight_type
            ORDER BY danger DESC, accident_count DESC, state ASC
        ) AS danger_rank,
        -- safety_improvement_score: (r - 1) / (N - 1) with r the rank of danger ascending
        100 * PERCENT_RANK() OVER (PARTITION BY insight_type ORDER BY danger ASC) AS danger_pct
    FROM flagged
),
ranked AS (
    SELECT
        *,
        -- peak_hour: the most accidents, ties to the earliest hour
        ROW_NUMBER() OVER (
            PARTITION BY insight_type, state ORDER BY accident_count DESC, hour_of_day ASC
        ) AS hour_rank,
        -- best_infrastructure: the highest reduction, ties to the flag name
        ROW_NUMBER() OVER (
            PARTITION BY insight_type, state ORDER BY reduction_pct DESC NULLS LAST, role ASC
        ) AS flag_rank,
        ROW_NUMBER() OVER (
            PARTITION BY insight_type ORDER BY danger_pct DESC, state ASC
        ) AS score_rank
    FROM measured
),
from_counts AS (
    SELECT
        insight_type,
        state,
        CASE insight_type
            WHEN 'peak_hour' THEN lpad(CAST(hour_of_day AS VARCHAR), 2, '0')
            WHEN 'best_infrastructure' THEN role
            ELSE state
        END AS subject,
        CASE insight_type
            WHEN 'peak_hour' THEN 100.0 * accident_count / scope_accidents
            WHEN 'best_infrastructure' THEN reduction_pct
            WHEN 'dangerous_state' THEN danger
            ELSE danger_pct
        END AS value,
        CAST(CASE insight_type
            WHEN 'dangerous_state' THEN danger_rank
            WHEN 'safety_improvement_score' THEN score_rank
            ELSE 1
        END AS INT) AS rank,
        CASE insight_type
            WHEN 'dangerous_state' THEN 'Prioritise enforcement and prevention in ' || state
            WHEN 'peak_hour' THEN 'Reinforce patrols around '
                || lpad(CAST(hour_of_day AS VARCHAR), 2, '0') || ':00'
                || coalesce(' in ' || state, '')
            WHEN 'best_infrastructure' THEN 'Extend ' || role || ' equipment'
                || coalesce(' in ' || state, '')
            WHEN 'safety_improvement_score' THEN CASE
                WHEN danger_pct >= 75 THEN 'High improvement potential'
                WHEN danger_pct >= 25 THEN 'Moderate improvement potential'
                ELSE 'Low improvement potential'
            END
        END AS recommendation
    FROM ranked
    WHERE CASE insight_type
        WHEN 'dangerous_state' THEN danger_rank <= 10
        WHEN 'peak_hour' THEN hour_rank = 1
        WHEN 'best_infrastructure' THEN flag_rank = 1 AND reduction_pct > 0
        ELSE true
    END
),
from_correlations AS (
    SELECT
        'significant_correlation' AS insight_type,
        CAST(NULL AS VARCHAR) AS state,
        variable AS subject,
        pearson_r AS value,
        CAST(ROW_NUMBER() OVER (ORDER BY abs(pearson_r) DESC, variable ASC) AS INT) AS rank,
        CASE WHEN pearson_r > 0 THEN 'Severity rises with ' || variable
             ELSE 'Severity falls as ' || variable || ' rises' END AS recommendation
    FROM severity_correlations
    WHERE state IS NULL AND significant AND strength IN ('moderate', 'strong')
)
SELECT insight_type, state, subject, value, rank, recommendation, now() AS last_updated
FROM (
    SELECT * FROM from_counts
    UNION ALL
    SELECT * FROM from_correlations
)
ORDER BY insight_type, state NULLS FIRST, rank, subject
