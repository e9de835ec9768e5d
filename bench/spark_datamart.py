#!/usr/bin/env python3
"""The accidents datamart (SPEC sections 3, 3b) in PySpark local[2]: Silver lake -> nine Gold tables.

The peer of `medallion run accidents-datamart`: the same view and Gold tables in Spark SQL with
built-in functions only, no Python UDFs (bench/datamart_sql.py, shared with the DuckDB peer). Each
table is computed from the lake and written, timed one by one:

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

sys.path.insert(0, HERE)
from datamart_sql import AGGREGATES, ANALYTICS, SPARK, classified, gold  # noqa: E402

GOLD = gold(SPARK)


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
             # Spark 4's ANSI mode raised DIVIDE_BY_ZERO in these queries (pyspark 4.0.1, 100k-row
             # sample lake) although each of their divisions is guarded by a CASE; which one Spark
             # evaluated early was not traced. The SQL never relies on a division by zero, so
             # Spark 3's non-ANSI semantics give the SPEC's answers (all 9 tables agree)
             .config("spark.sql.ansi.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.jars", JDBC_JAR)
             .getOrCreate())
    spark.sparkContext.setLogLevel("WARN")
    started_s = time.perf_counter() - t_start
    spark.read.parquet(os.path.join(args.lake, "accidents")).createOrReplaceTempView("accidents")
    (spark.read.option("header", True).option("inferSchema", True).csv(POPULATION)
     .createOrReplaceTempView("state_population"))
    spark.sql(classified(SPARK)).createOrReplaceTempView("accidents_classified")

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
        "analytics_s": round(sum(tables[t] for t in ANALYTICS), 4),
        "summary_s": tables["accidents_summary"],
        "total_s": round(time.perf_counter() - t_start, 4),
    }
    spark.stop()
    with open(args.timings, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
