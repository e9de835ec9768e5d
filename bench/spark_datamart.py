#!/usr/bin/env python3
"""The accidents datamart (SPEC section 3) in PySpark local[2]: Silver lake -> six Gold tables.

The peer of `medallion run accidents-datamart`: the same view and Gold tables in Spark SQL with
built-in functions only (no Python UDFs): danger_index, seasonal_factor and haversine_miles are
SQL expressions, trend_direction is a window least-squares slope (regr_slope) over the same rows
divided by the window mean. Each table is computed from the lake and written, timed one by one:

- default: Parquet, OUT/<table>/ (Spark part files);
- --jdbc-url: into MySQL through Spark's JDBC writer (MariaDB Connector/J). With --like-db, each
  table is first created `LIKE` the table medallion's sink created in that database (same
  partitions and indexes), then appended to; without it Spark creates its own tables.

Usage: spark_datamart.py --lake LAKE (--out DIR | --jdbc-url URL [--like-db DB]) --timings T.json
"""

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
POPULATION = os.path.join(HERE, "..", "data", "state_population.csv")
JDBC_JAR = "/usr/share/java/mariadb-java-client.jar"

HOTSPOT_MIN_ACCIDENTS = 50
HOTSPOT_TOP = 50
TREND_THRESHOLD = "0.05D"

FLAGS = ["amenity", "bump", "crossing", "give_way", "junction", "no_exit", "railway",
         "roundabout", "station", "stop", "traffic_calming", "traffic_signal", "turning_loop"]


def haversine(lat1, lng1, lat2, lng2):
    """haversine_miles as a Spark SQL expression over four column expressions."""
    a = (f"pow(sin((radians({lat2}) - radians({lat1})) / 2), 2) + cos(radians({lat1})) * "
         f"cos(radians({lat2})) * pow(sin(radians({lng2} - {lng1}) / 2), 2)")
    return f"2 * 3958.8D * asin(sqrt(least(1.0D, greatest(0.0D, {a}))))"


def danger(sev, cnt):
    """danger_index as a Spark SQL expression."""
    return (f"CASE WHEN {sev} BETWEEN 1 AND 4 AND {cnt} >= 0 "
            f"THEN {sev} * ln(1 + CAST({cnt} AS DOUBLE)) END")


def trend(n, mean, slope):
    """trend_direction of a window, from its row count, mean and least-squares slope."""
    return (f"CASE WHEN {n} < 3 OR {mean} = 0 THEN 'stable' "
            f"WHEN round({slope} / {mean}, 12) > {TREND_THRESHOLD} THEN 'up' "
            f"WHEN round({slope} / {mean}, 12) < -{TREND_THRESHOLD} THEN 'down' ELSE 'stable' END")


def flag_sum():
    return " + ".join(f"CAST(coalesce({f}, false) AS INT)" for f in FLAGS)


CLASSIFIED = f"""
SELECT id, severity, CAST(start_time AS TIMESTAMP) AS start_time, state, city, start_lat, start_lng,
    distance_mi, temperature_f, visibility_mi, {", ".join(FLAGS)},
    CASE
        WHEN weather_condition RLIKE '(?i)thunder|storm|hail|tornado|squall' THEN 'storm'
        WHEN weather_condition RLIKE '(?i)snow|sleet|ice|wintry|freezing' THEN 'snow'
        WHEN weather_condition RLIKE '(?i)rain|drizzle|shower' THEN 'rain'
        WHEN weather_condition RLIKE '(?i)fog|mist|haze|smoke|dust|sand' THEN 'fog'
        WHEN weather_condition RLIKE '(?i)cloud|overcast' THEN 'cloudy'
        WHEN weather_condition RLIKE '(?i)fair|clear' THEN 'clear'
        WHEN weather_condition IS NULL OR weather_condition = '' THEN 'unknown'
        ELSE 'other'
    END AS weather_category,
    CASE
        WHEN temperature_f IS NULL THEN 'unknown'
        WHEN temperature_f < 40 THEN 'cold'
        WHEN temperature_f > 85 THEN 'hot'
        ELSE 'mild'
    END AS temperature_category,
    {flag_sum()} AS infrastructure_count
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
    "kpis_security": f"""
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
    SELECT s.state, CAST(NULL AS STRING), s.accident_count, s.severity_sum, s.n1, s.n2, s.n3, s.n4,
           CAST(s.accident_count AS DOUBLE) * 100000.0D / p.population
    FROM (SELECT state, SUM(accident_count) AS accident_count, SUM(severity_sum) AS severity_sum,
                 SUM(n1) AS n1, SUM(n2) AS n2, SUM(n3) AS n3, SUM(n4) AS n4
          FROM by_city GROUP BY state) s
    LEFT JOIN state_population p ON p.state = s.state
),
scored AS (
    SELECT *, severity_sum / accident_count AS severity_avg,
           {danger("(severity_sum / accident_count)", "accident_count")} AS danger_index
    FROM rows_
)
SELECT state, city, CAST(accident_count AS BIGINT) AS accident_count, severity_avg,
    accident_rate_per_100k, danger_index,
    '{{"1":' || CAST(n1 AS STRING) || ',"2":' || CAST(n2 AS STRING)
        || ',"3":' || CAST(n3 AS STRING) || ',"4":' || CAST(n4 AS STRING) || '}}'
        AS severity_distribution,
    CAST(ROW_NUMBER() OVER (PARTITION BY city IS NULL
        ORDER BY danger_index DESC, accident_count DESC, state ASC, city ASC) AS INT) AS hotspot_rank,
    current_timestamp() AS last_updated
FROM scored
""",
    "kpis_temporal": f"""
WITH periods AS (
    SELECT 'hourly' AS period_type, date_format(start_time, 'HH') AS period_value, state, severity
    FROM accidents_classified
    UNION ALL SELECT 'daily', date_format(start_time, 'EEE'), state, severity FROM accidents_classified
    UNION ALL SELECT 'monthly', date_format(start_time, 'yyyy-MM'), state, severity FROM accidents_classified
    UNION ALL SELECT 'yearly', date_format(start_time, 'yyyy'), state, severity FROM accidents_classified
),
per_state AS (
    SELECT period_type, period_value, state, COUNT(*) AS accident_count,
           SUM(CAST(severity AS DOUBLE)) AS severity_sum
    FROM periods GROUP BY period_type, period_value, state
),
counted AS (
    SELECT period_type, period_value, state, accident_count, severity_sum FROM per_state
    UNION ALL
    SELECT period_type, period_value, CAST(NULL AS STRING), SUM(accident_count), SUM(severity_sum)
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
        WHEN 'monthly' THEN {trend("n6", "mean6", "slope6")}
        WHEN 'yearly' THEN {trend("n3", "mean3", "slope3")}
    END AS trend_direction,
    CASE WHEN period_type = 'monthly'
         THEN CASE WHEN base_count <> 0 THEN calendar_month_avg / base_count END
         ELSE CASE WHEN base_count <> 0 THEN CAST(accident_count AS DOUBLE) / base_count END
    END AS seasonal_factor,
    current_timestamp() AS last_updated
FROM windowed
""",
    "hotspots": f"""
WITH located AS (
    SELECT state, city, severity, start_lat, start_lng,
           (CAST(floor(start_lat * 10) AS DOUBLE) + 0.5D) / 10 AS latitude,
           (CAST(floor(start_lng * 10) AS DOUBLE) + 0.5D) / 10 AS longitude
    FROM accidents_classified
    WHERE city IS NOT NULL AND start_lat IS NOT NULL AND start_lng IS NOT NULL
),
cells AS (
    SELECT state, city, latitude, longitude, COUNT(*) AS accident_count,
           AVG(CAST(severity AS DOUBLE)) AS severity_avg,
           MAX({haversine("latitude", "longitude", "start_lat", "start_lng")}) AS radius_miles
    FROM located GROUP BY state, city, latitude, longitude
)
SELECT state, city, latitude, longitude, CAST(accident_count AS BIGINT) AS accident_count,
    severity_avg, {danger("severity_avg", "accident_count")} AS danger_score, radius_miles,
    current_timestamp() AS last_updated
FROM cells
WHERE accident_count >= {HOTSPOT_MIN_ACCIDENTS}
ORDER BY danger_score DESC, accident_count DESC, state, city, latitude, longitude
LIMIT {HOTSPOT_TOP}
""",
    "kpis_weather": """
SELECT weather_category, temperature_category, CAST(COUNT(*) AS BIGINT) AS accident_count,
    AVG(CAST(severity AS DOUBLE)) AS severity_avg,
    100.0D * CAST(COUNT(*) AS DOUBLE) / CAST(SUM(COUNT(*)) OVER () AS DOUBLE) AS share_pct
FROM accidents_classified GROUP BY weather_category, temperature_category
""",
    "kpis_infrastructure": f"""
WITH flags AS (
    SELECT CAST(severity AS DOUBLE) AS severity_value,
        stack(13, {", ".join(f"'{f}', coalesce({f}, false)" for f in FLAGS)}) AS (flag, present)
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

AGGREGATES = ["kpis_security", "kpis_temporal", "hotspots", "kpis_weather", "kpis_infrastructure"]


def like_tables(like_db, target_db):
    """Creates target_db and each Gold table LIKE the one in like_db (through the mysql client)."""
    import subprocess
    stmts = [f"DROP DATABASE IF EXISTS `{target_db}`", f"CREATE DATABASE `{target_db}`"]
    stmts += [f"CREATE TABLE `{target_db}`.`{t}` LIKE `{like_db}`.`{t}`" for t in GOLD]
    subprocess.run(["mysql", "-h127.0.0.1", "-uroot", "-e", ";".join(stmts)], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", required=True)
    parser.add_argument("--out", help="Gold folder for Parquet output")
    parser.add_argument("--jdbc-url", help="jdbc:mysql://HOST:PORT/DB?... to write through JDBC")
    parser.add_argument("--like-db", help="database whose Gold tables give the DDL (JDBC)")
    parser.add_argument("--timings", required=True)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--driver-memory", default="8g")
    args = parser.parse_args()
    if not args.out and not args.jdbc_url:
        parser.error("give --out or --jdbc-url")
    if not os.path.isdir(os.path.join(args.lake, "accidents")):
        print(f"error: no accidents table under lake {args.lake}", file=sys.stderr)
        return 2

    t_start = time.perf_counter()
    from pyspark.sql import SparkSession
    import pyspark
    spark = (SparkSession.builder.master(f"local[{args.cores}]")
             .appName("medallion-bench-datamart")
             .config("spark.driver.memory", args.driver_memory)
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
             .config("spark.sql.shuffle.partitions", str(4 * args.cores))
             .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.jars", JDBC_JAR)
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    started_s = time.perf_counter() - t_start
    spark.read.parquet(os.path.join(args.lake, "accidents")).createOrReplaceTempView("accidents")
    (spark.read.option("header", True).option("inferSchema", True).csv(POPULATION)
     .createOrReplaceTempView("state_population"))
    spark.sql(CLASSIFIED).createOrReplaceTempView("accidents_classified")

    jdbc_props = {"driver": "org.mariadb.jdbc.Driver", "user": "root", "password": "",
                  "batchsize": "10000"}
    if args.jdbc_url and args.like_db:
        db = args.jdbc_url.split("/")[3].split("?")[0]
        like_tables(args.like_db, db)
    tables = {}
    for name, sql in GOLD.items():
        t0 = time.perf_counter()
        df = spark.sql(sql)
        if args.jdbc_url:
            mode = "append" if args.like_db else "overwrite"
            df.write.jdbc(args.jdbc_url, name, mode=mode, properties=jdbc_props)
        else:
            df.write.mode("overwrite").parquet(os.path.join(args.out, name))
        tables[name] = round(time.perf_counter() - t0, 4)
    result = {
        "engine": "spark-jdbc" if args.jdbc_url else "spark",
        "spark_version": pyspark.__version__,
        "cores": args.cores,
        "startup_s": round(started_s, 4),
        "tables_s": tables,
        "aggregation_s": round(sum(tables[t] for t in AGGREGATES), 4),
        "summary_s": tables["accidents_summary"],
        "total_s": round(time.perf_counter() - t_start, 4),
    }
    spark.stop()
    with open(args.timings, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
