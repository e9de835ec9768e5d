-- One row per accepted accident (SPEC section 3, accidents_summary).
-- medallion: primary_key = id, accident_date
-- medallion: partition_by_year = accident_date
-- An incremental run (--since) recomputes only the accidents that started at or after `since` and
-- upserts them by primary key; a full run leaves `since` at its default and rebuilds the table.
-- medallion: incremental = upsert
-- medallion: index idx_state_date = state, accident_date
-- medallion: index idx_severity_weather = severity, weather_category
-- medallion: index idx_location = state, city
-- medallion: index idx_temporal = accident_date, accident_hour
-- Data quality gate: a full run writes one row per accepted accident.
-- medallion: expect name=accidents_summary_one_row_per_accident kind=sql sql=SELECT s.rows_ AS summary_rows, a.rows_ AS accepted FROM run_rows s CROSS JOIN run_rows a WHERE s.table_name = 'accidents_summary' AND a.table_name = 'accidents_classified' AND s.run_mode = 'full' AND s.rows_ <> a.rows_
SELECT
    id,
    state,
    city,
    severity,
    CAST(start_time AS DATE) AS accident_date,
    CAST(date_part('hour', start_time) AS INT) AS accident_hour,
    weather_category,
    temperature_category,
    infrastructure_count,
    CAST(least(100, greatest(0,
        100
        - 20 * (severity - 1)
        - CASE weather_category
              WHEN 'storm' THEN 15
              WHEN 'snow' THEN 12
              WHEN 'fog' THEN 10
              WHEN 'rain' THEN 6
              ELSE 0
          END
        + 2 * infrastructure_count
        - CASE WHEN visibility_mi < 1 THEN 10 ELSE 0 END
    )) AS DOUBLE) AS safety_score,
    CAST(distance_mi AS DOUBLE) AS distance_miles
FROM accidents_classified
WHERE start_time >= ${since}
