#!/usr/bin/env python3
"""The accidents datamart (SPEC section 3) in DuckDB: Silver Parquet lake -> six Gold Parquet tables.

The peer of `medallion run accidents-datamart --sink file://OUT`: the same view
(accidents_classified) and the same six Gold tables, each read from the lake and written to
OUT/<table>/part-0.parquet, timed one by one. medallion's UDFs are SQL macros here (built-ins
only): danger_index, seasonal_factor, haversine_miles, and trend_direction as a window
least-squares slope (regr_slope over the same rows) divided by the window mean.

Usage: duckdb_datamart.py --lake LAKE --out DIR --timings T.json [--threads 2]
"""

import argparse
import json
import os
import shutil
import sys
import time

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
POPULATION = os.path.join(HERE, "..", "data", "state_population.csv")

# Parameters of jobs/sql/accidents-datamart/job.toml.
HOTSPOT_MIN_ACCIDENTS = 50
HOTSPOT_TOP = 50
TREND_THRESHOLD = 0.05

MACROS = """
CREATE MACRO danger_index(severity_avg, accident_count) AS
    CASE WHEN severity_avg BETWEEN 1 AND 4 AND accident_count >= 0
         THEN severity_avg * ln(1 + CAST(accident_count AS DOUBLE)) END;
CREATE MACRO seasonal_factor(x, base) AS CASE WHEN base <> 0 THEN x / base END;
CREATE MACRO haversine_miles(lat1, lng1, lat2, lng2) AS
    2 * 3958.8 * asin(sqrt(least(1.0, greatest(0.0,
        pow(sin((radians(lat2) - radians(lat1)) / 2), 2)
        + cos(radians(lat1)) * cos(radians(lat2)) * pow(sin(radians(lng2 - lng1) / 2), 2)))));
"""

CLASSIFIED = """
CREATE VIEW accidents_classified AS
SELECT
    id, severity, CAST(start_time AS TIMESTAMP) AS start_time, state, city, start_lat, start_lng,
    distance_mi, temperature_f, visibility_mi,
    amenity, bump, crossing, give_way, junction, no_exit, railway,
    roundabout, station, stop, traffic_calming, traffic_signal, turning_loop,
    CASE
        WHEN regexp_matches(weather_condition, 'thunder|storm|hail|tornado|squall', 'i') THEN 'storm'
        WHEN regexp_matches(weather_condition, 'snow|sleet|ice|wintry|freezing', 'i') THEN 'snow'
        WHEN regexp_matches(weather_condition, 'rain|drizzle|shower', 'i') THEN 'rain'
        WHEN regexp_matches(weather_condition, 'fog|mist|haze|smoke|dust|sand', 'i') THEN 'fog'
        WHEN regexp_matches(weather_condition, 'cloud|overcast', 'i') THEN 'cloudy'
        WHEN regexp_matches(weather_condition, 'fair|clear', 'i') THEN 'clear'
        WHEN weather_condition IS NULL OR weather_condition = '' THEN 'unknown'
        ELSE 'other'
    END AS weather_category,
    CASE
        WHEN temperature_f IS NULL THEN 'unknown'
        WHEN temperature_f < 40 THEN 'cold'
        WHEN temperature_f > 85 THEN 'hot'
        ELSE 'mild'
    END AS temperature_category,
    CAST(coalesce(amenity, false) AS INT) + CAST(coalesce(bump, false) AS INT)
        + CAST(coalesce(crossing, false) AS INT) + CAST(coalesce(give_way, false) AS INT)
        + CAST(coalesce(junction, false) AS INT) + CAST(coalesce(no_exit, false) AS INT)
        + CAST(coalesce(railway, false) AS INT) + CAST(coalesce(roundabout, false) AS INT)
        + CAST(coalesce(station, false) AS INT) + CAST(coalesce(stop, false) AS INT)
        + CAST(coalesce(traffic_calming, false) AS INT)
        + CAST(coalesce(traffic_signal, false) AS INT)
        + CAST(coalesce(turning_loop, false) AS INT) AS infrastructure_count
FROM accidents
WHERE id IS NOT NULL AND state IS NOT NULL AND start_time IS NOT NULL
  AND severity BETWEEN 1 AND 4
"""

GOLD = {
    "accidents_summary": """
SELECT id, state, city, severity,
    CAST(start_time AS DATE) AS accident_date,
    CAST(hour(start_time) AS INT) AS accident_hour,
    weather_category, temperature_category, infrastructure_count,
    CAST(least(100, greatest(0, 100 - 20 * (severity - 1)
        - CASE weather_category WHEN 'storm' THEN 15 WHEN 'snow' THEN 12 WHEN 'fog' THEN 10
                                WHEN 'rain' THEN 6 ELSE 0 END
        + 2 * infrastructure_count
        - CASE WHEN visibility_mi < 1 THEN 10 ELSE 0 END)) AS DOUBLE) AS safety_score,
    CAST(distance_mi AS DOUBLE) AS distance_miles
FROM accidents_classified
""",
    "kpis_security": """
WITH by_city AS (
    SELECT state, city, COUNT(*) AS accident_count,
           SUM(CAST(severity AS DOUBLE)) AS severity_sum,
           SUM(CASE WHEN severity = 1 THEN 1 ELSE 0 END) AS n1,
           SUM(CASE WHEN severity = 2 THEN 1 ELSE 0 END) AS n2,
           SUM(CASE WHEN severity = 3 THEN 1 ELSE 0 END) AS n3,
           SUM(CASE WHEN severity = 4 THEN 1 ELSE 0 END) AS n4
    FROM accidents_classified GROUP BY state, city
),
rows_ AS (
    SELECT state, city, accident_count, severity_sum, n1, n2, n3, n4,
           CAST(NULL AS DOUBLE) AS accident_rate_per_100k
    FROM by_city WHERE city IS NOT NULL
    UNION ALL
    SELECT s.state, CAST(NULL AS VARCHAR), s.accident_count, s.severity_sum, s.n1, s.n2, s.n3, s.n4,
           CAST(s.accident_count AS DOUBLE) * 100000.0 / p.population
    FROM (SELECT state, SUM(accident_count) AS accident_count, SUM(severity_sum) AS severity_sum,
                 SUM(n1) AS n1, SUM(n2) AS n2, SUM(n3) AS n3, SUM(n4) AS n4
          FROM by_city GROUP BY state) s
    LEFT JOIN state_population p ON p.state = s.state
),
scored AS (
    SELECT *, severity_sum / accident_count AS severity_avg,
           danger_index(severity_sum / accident_count, accident_count) AS danger_index
    FROM rows_
)
SELECT state, city, CAST(accident_count AS BIGINT) AS accident_count, severity_avg,
    accident_rate_per_100k, danger_index,
    '{"1":' || CAST(n1 AS VARCHAR) || ',"2":' || CAST(n2 AS VARCHAR)
        || ',"3":' || CAST(n3 AS VARCHAR) || ',"4":' || CAST(n4 AS VARCHAR) || '}'
        AS severity_distribution,
    CAST(ROW_NUMBER() OVER (PARTITION BY city IS NULL
        ORDER BY danger_index DESC, accident_count DESC, state ASC, city ASC) AS INT) AS hotspot_rank,
    now() AS last_updated
FROM scored
""",
    "kpis_temporal": """
WITH periods AS (
    SELECT 'hourly' AS period_type, strftime(start_time, '%H') AS period_value, state, severity
    FROM accidents_classified
    UNION ALL SELECT 'daily', strftime(start_time, '%a'), state, severity FROM accidents_classified
    UNION ALL SELECT 'monthly', strftime(start_time, '%Y-%m'), state, severity FROM accidents_classified
    UNION ALL SELECT 'yearly', strftime(start_time, '%Y'), state, severity FROM accidents_classified
),
per_state AS (
    SELECT period_type, period_value, state, COUNT(*) AS accident_count,
           SUM(CAST(severity AS DOUBLE)) AS severity_sum
    FROM periods GROUP BY period_type, period_value, state
),
counted AS (
    SELECT period_type, period_value, state, accident_count, severity_sum FROM per_state
    UNION ALL
    SELECT period_type, period_value, CAST(NULL AS VARCHAR), SUM(accident_count), SUM(severity_sum)
    FROM per_state GROUP BY period_type, period_value
),
numbered AS (
    SELECT *, CAST(accident_count AS DOUBLE) AS c,
           CAST(ROW_NUMBER() OVER (PARTITION BY period_type, state ORDER BY period_value) AS DOUBLE) AS pos
    FROM counted
),
windowed AS (
    SELECT period_type, period_value, state, accident_count,
        severity_sum / accident_count AS severity_avg,
        AVG(c) OVER (PARTITION BY period_type, state) AS base_count,
        AVG(c) OVER (PARTITION BY period_type, state, substr(period_value, 6, 2)) AS calendar_month_avg,
        COUNT(*) OVER w6 AS n6, AVG(c) OVER w6 AS mean6, regr_slope(c, pos) OVER w6 AS slope6,
        COUNT(*) OVER w3 AS n3, AVG(c) OVER w3 AS mean3, regr_slope(c, pos) OVER w3 AS slope3
    FROM numbered
    WINDOW w6 AS (PARTITION BY period_type, state ORDER BY period_value
                  ROWS BETWEEN 5 PRECEDING AND CURRENT ROW),
           w3 AS (PARTITION BY period_type, state ORDER BY period_value
                  ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)
)
SELECT period_type, period_value, state, CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg,
    CASE period_type
        WHEN 'monthly' THEN CASE WHEN n6 < 3 OR mean6 = 0 THEN 'stable'
                                 WHEN round(slope6 / mean6, 12) > {thr} THEN 'up'
                                 WHEN round(slope6 / mean6, 12) < -{thr} THEN 'down' ELSE 'stable' END
        WHEN 'yearly' THEN CASE WHEN n3 < 3 OR mean3 = 0 THEN 'stable'
                                WHEN round(slope3 / mean3, 12) > {thr} THEN 'up'
                                WHEN round(slope3 / mean3, 12) < -{thr} THEN 'down' ELSE 'stable' END
    END AS trend_direction,
    CASE period_type
        WHEN 'monthly' THEN seasonal_factor(calendar_month_avg, base_count)
        ELSE seasonal_factor(CAST(accident_count AS DOUBLE), base_count)
    END AS seasonal_factor,
    now() AS last_updated
FROM windowed
""".replace("{thr}", repr(TREND_THRESHOLD)),
    "hotspots": f"""
WITH located AS (
    SELECT state, city, severity, start_lat, start_lng,
           (floor(start_lat * 10) + 0.5) / 10 AS latitude,
           (floor(start_lng * 10) + 0.5) / 10 AS longitude
    FROM accidents_classified
    WHERE city IS NOT NULL AND start_lat IS NOT NULL AND start_lng IS NOT NULL
),
cells AS (
    SELECT state, city, latitude, longitude, COUNT(*) AS accident_count,
           AVG(CAST(severity AS DOUBLE)) AS severity_avg,
           MAX(haversine_miles(latitude, longitude, start_lat, start_lng)) AS radius_miles
    FROM located GROUP BY state, city, latitude, longitude
)
SELECT state, city, latitude, longitude, CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg, danger_index(severity_avg, accident_count) AS danger_score, radius_miles,
    now() AS last_updated
FROM cells
WHERE accident_count >= {HOTSPOT_MIN_ACCIDENTS}
ORDER BY danger_score DESC, accident_count DESC, state, city, latitude, longitude
LIMIT {HOTSPOT_TOP}
""",
    "kpis_weather": """
SELECT weather_category, temperature_category, CAST(COUNT(*) AS BIGINT) AS accident_count,
    AVG(CAST(severity AS DOUBLE)) AS severity_avg,
    100.0 * CAST(COUNT(*) AS DOUBLE) / CAST(SUM(COUNT(*)) OVER () AS DOUBLE) AS share_pct
FROM accidents_classified GROUP BY weather_category, temperature_category
""",
    "kpis_infrastructure": """
WITH flags AS (
    SELECT CAST(severity AS DOUBLE) AS severity_value,
        unnest(['amenity', 'bump', 'crossing', 'give_way', 'junction', 'no_exit', 'railway',
                'roundabout', 'station', 'stop', 'traffic_calming', 'traffic_signal',
                'turning_loop']) AS flag,
        unnest([coalesce(amenity, false), coalesce(bump, false), coalesce(crossing, false),
                coalesce(give_way, false), coalesce(junction, false), coalesce(no_exit, false),
                coalesce(railway, false), coalesce(roundabout, false), coalesce(station, false),
                coalesce(stop, false), coalesce(traffic_calming, false),
                coalesce(traffic_signal, false), coalesce(turning_loop, false)]) AS present
    FROM accidents_classified
),
per_flag AS (
    SELECT flag,
        SUM(CASE WHEN present THEN 1 ELSE 0 END) AS accidents_with,
        SUM(CASE WHEN present THEN 0 ELSE 1 END) AS accidents_without,
        AVG(CASE WHEN present THEN severity_value END) AS severity_avg_with,
        AVG(CASE WHEN present THEN NULL ELSE severity_value END) AS severity_avg_without
    FROM flags GROUP BY flag
)
SELECT flag, CAST(accidents_with AS BIGINT) AS accidents_with,
    CAST(accidents_without AS BIGINT) AS accidents_without,
    severity_avg_with, severity_avg_without,
    100 * (severity_avg_without - severity_avg_with) / severity_avg_without AS severity_reduction_pct
FROM per_flag
""",
}

# The five aggregate tables: the "aggregation phase" compared with medallion's.
AGGREGATES = ["kpis_security", "kpis_temporal", "hotspots", "kpis_weather", "kpis_infrastructure"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True, help="lake root holding accidents/")
    parser.add_argument("--out", required=True, help="Gold folder: OUT/<table>/part-0.parquet")
    parser.add_argument("--timings", required=True, help="JSON file for per-table seconds")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    files = os.path.join(args.lake, "accidents", "**", "*.parquet")
    if not os.path.isdir(os.path.join(args.lake, "accidents")):
        print(f"error: no accidents table under lake {args.lake}", file=sys.stderr)
        return 2
    t_start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE VIEW accidents AS SELECT * FROM read_parquet('{files}', hive_partitioning = false)")
    con.execute(f"CREATE TABLE state_population AS SELECT * FROM read_csv('{POPULATION}', header = true)")
    con.execute(MACROS)
    con.execute(CLASSIFIED)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    tables = {}
    for name, sql in GOLD.items():
        t0 = time.perf_counter()
        os.makedirs(os.path.join(args.out, name))
        target = os.path.join(args.out, name, "part-0.parquet")
        con.execute(f"COPY ({sql}) TO '{target}' (FORMAT parquet)")
        tables[name] = round(time.perf_counter() - t0, 4)
    result = {
        "engine": "duckdb",
        "duckdb_version": duckdb.__version__,
        "threads": args.threads,
        "tables_s": tables,
        "aggregation_s": round(sum(tables[t] for t in AGGREGATES), 4),
        "summary_s": tables["accidents_summary"],
        "total_s": round(time.perf_counter() - t_start, 4),
    }
    with open(args.timings, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
