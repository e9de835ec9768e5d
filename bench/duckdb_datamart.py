#!/usr/bin/env python3
"""The accidents datamart (SPEC sections 3, 3b) in DuckDB: Silver Parquet lake -> nine Gold Parquet tables.

The peer of `medallion run accidents-datamart --sink file://OUT`: the same view
(accidents_classified) and the same nine Gold tables (bench/datamart_sql.py, shared with the Spark
peer), each read from the lake and written to OUT/<table>/part-0.parquet, timed one by one.

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
sys.path.insert(0, HERE)
from datamart_sql import AGGREGATES, ANALYTICS, DUCKDB, classified, gold  # noqa: E402


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
    con.execute(f"CREATE VIEW accidents_classified AS {classified(DUCKDB)}")
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    tables = {}
    for name, sql in gold(DUCKDB).items():
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
        "analytics_s": round(sum(tables[t] for t in ANALYTICS), 4),
        "summary_s": tables["accidents_summary"],
        "total_s": round(time.perf_counter() - t_start, 4),
    }
    with open(args.timings, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
