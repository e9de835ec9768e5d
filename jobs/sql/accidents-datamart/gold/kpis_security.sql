-- Safety KPIs per (state, city) and per state (city NULL) (SPEC section 3, kpis_security).
-- medallion: auto_id = id
-- medallion: json = severity_distribution
-- medallion: index idx_state = state
-- medallion: index idx_danger_index = danger_index DESC
-- medallion: index idx_hotspot_rank = hotspot_rank
-- /security ranking: the state rows (city NULL) and the city rows are ranked separately
-- medallion: index idx_security_ranking = city, hotspot_rank
-- API index of seed 002 (/security rankings):
-- medallion: index idx_security_api = danger_index DESC, state
-- Data quality gate (KPI coherence): the state rows count every accepted accident once.
-- medallion: expect name=kpis_security_states_sum_to_accidents kind=sql sql=SELECT k.n, r.rows_ FROM (SELECT COALESCE(SUM(accident_count), 0) AS n FROM kpis_security WHERE city IS NULL) k CROSS JOIN run_rows r WHERE r.table_name = 'accidents_classified' AND k.n <> r.rows_
WITH by_city AS (
    -- city may be NULL here: those accidents count in their state's row only
    SELECT
        state,
        city,
        COUNT(*) AS accident_count,
        SUM(CAST(severity AS DOUBLE)) AS severity_sum,
        SUM(CASE WHEN severity = 1 THEN 1 ELSE 0 END) AS n1,
        SUM(CASE WHEN severity = 2 THEN 1 ELSE 0 END) AS n2,
        SUM(CASE WHEN severity = 3 THEN 1 ELSE 0 END) AS n3,
        SUM(CASE WHEN severity = 4 THEN 1 ELSE 0 END) AS n4
    FROM accidents_classified
    GROUP BY state, city
),
rows_ AS (
    SELECT state, city, accident_count, severity_sum, n1, n2, n3, n4,
           CAST(NULL AS DOUBLE) AS accident_rate_per_100k
    FROM by_city
    WHERE city IS NOT NULL
    UNION ALL
    SELECT s.state, CAST(NULL AS VARCHAR) AS city, s.accident_count, s.severity_sum,
           s.n1, s.n2, s.n3, s.n4,
           s.accident_count * 100000.0 / p.population AS accident_rate_per_100k
    FROM (
        SELECT state, SUM(accident_count) AS accident_count, SUM(severity_sum) AS severity_sum,
               SUM(n1) AS n1, SUM(n2) AS n2, SUM(n3) AS n3, SUM(n4) AS n4
        FROM by_city
        GROUP BY state
    ) s
    LEFT JOIN state_population p ON p.state = s.state
),
scored AS (
    SELECT *,
           severity_sum / accident_count AS severity_avg,
           danger_index(severity_sum / accident_count, accident_count) AS danger_index
    FROM rows_
)
SELECT
    state,
    city,
    CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg,
    accident_rate_per_100k,
    danger_index,
    '{"1":' || CAST(n1 AS VARCHAR) || ',"2":' || CAST(n2 AS VARCHAR)
        || ',"3":' || CAST(n3 AS VARCHAR) || ',"4":' || CAST(n4 AS VARCHAR) || '}'
        AS severity_distribution,
    -- ranked separately among city rows and among state rows
    CAST(ROW_NUMBER() OVER (
        PARTITION BY city IS NULL
        ORDER BY danger_index DESC, accident_count DESC, state ASC, city ASC
    ) AS INT) AS hotspot_rank,
    now() AS last_updated
FROM scored
