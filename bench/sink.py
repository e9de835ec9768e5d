#!/usr/bin/env python3
"""MariaDB's own bulk-load ceiling for accidents_summary, next to medallion's sink (issue 3 item 7).

Loads the very rows medallion wrote (its Parquet accidents_summary, exported once to tab-separated
CSV files sorted by the table's primary key, untimed) into the very DDL medallion's MySQL sink
created (`CREATE TABLE ... LIKE` the published table: primary key, year partitions, four secondary
indexes), two ways, each timed from the first statement to the table being complete:

- `single`: one `LOAD DATA LOCAL INFILE` of the whole CSV into the partitioned, indexed table
  (not with --skip-single; it is slow: ~90 s at 7.7M rows);
- `ceiling`: the fastest pure-MariaDB procedure known on this machine: one plain table per year
  (no partitioning, no secondary indexes), loaded with `LOAD DATA LOCAL INFILE` and then indexed
  by 2 workers in parallel, then `EXCHANGE PARTITION` of each into an empty partitioned table.

Because the CSV files are sorted by primary key, the ceiling does not depend on the order of the
lake medallion read (issue 23): the same rows give the same files, whatever order the Parquet Gold
holds them in. The files are kept in --work with a fingerprint of the rows (count and an
order-independent hash) and exported again only when the rows differ.

Writes a JSON object with both times, the rows, and, given medallion's staging time for the table
(--medallion-seconds, from its run log), the ratios medallion rows/s ÷ ceiling rows/s.

Usage: sink.py --gold GOLD_DIR --like-db DB --work DIR --out R.json [--medallion-seconds S] [--skip-single]
"""

import argparse
import json
import os
import queue
import re
import subprocess
import sys
import threading
import time

import duckdb

TABLE = "accidents_summary"
BENCH_DB = "bench_ceiling"
SESSION = "SET SESSION unique_checks = 0, foreign_key_checks = 0, sql_log_bin = 0"


def mysql(sql, db=None):
    """Runs `sql` with the mysql client (LOCAL INFILE allowed); returns its rows."""
    cmd = ["mysql", "-h127.0.0.1", "-uroot", "--local-infile=1", "-N", "-B"]
    if db:
        cmd.append(db)
    out = subprocess.run(cmd + ["-e", sql], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"mysql: {out.stderr.strip()} (in: {sql[:200]})")
    return [line.split("\t") for line in out.stdout.splitlines()]


def primary_key(like_db):
    """The primary key columns of the medallion table, in key order."""
    rows = mysql(
        "SELECT column_name FROM information_schema.statistics "
        f"WHERE table_schema = '{like_db}' AND table_name = '{TABLE}' AND index_name = 'PRIMARY' "
        "ORDER BY seq_in_index")
    if not rows:
        raise RuntimeError(f"{like_db}.{TABLE} has no primary key")
    return [r[0] for r in rows]


def export_csv(gold, work, key, whole_too=True):
    """Medallion's accidents_summary as CSV sorted by `key`: one file per year, and all rows in one
    file when `whole_too`. Returns (columns, {year: file}, whole file or None, rows)."""
    os.makedirs(work, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2")
    rel = f"read_parquet('{os.path.join(gold, TABLE)}/**/*.parquet')"
    cols = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()]
    # the rows' fingerprint: their count and the sum of their hashes, the same in any order
    rows, digest = con.execute(f"SELECT count(*), sum(hash(t))::VARCHAR FROM {rel} t").fetchone()
    order_by = ", ".join(f'"{c}"' for c in key)
    opts = "(FORMAT csv, HEADER false, DELIMITER '\t', NULLSTR '\\N', QUOTE '\"', ESCAPE '\"')"
    whole = os.path.join(work, f"{TABLE}.csv")
    stamp = os.path.join(work, f"{TABLE}.rows")
    years = [r[0] for r in con.execute(
        f"SELECT DISTINCT year(accident_date) FROM {rel} ORDER BY 1").fetchall()]
    if years and None in years:
        raise RuntimeError("accidents_summary has NULL accident_date rows")
    per_year = {y: os.path.join(work, f"{TABLE}-{y}.csv") for y in years}
    fingerprint = f"{rows}:{digest}:sorted by {','.join(key)}"
    fresh = (os.path.exists(stamp) and open(stamp).read().strip() == fingerprint
             and all(os.path.exists(p) for p in per_year.values()))
    if not fresh:
        for old in os.listdir(work):  # files of other rows (other years, other sizes)
            if old.startswith(TABLE):
                os.remove(os.path.join(work, old))
        for y, path in per_year.items():
            con.execute(f"COPY (SELECT * FROM {rel} WHERE year(accident_date) = {y} ORDER BY {order_by}) "
                        f"TO '{path}' {opts}")
        with open(stamp, "w") as f:
            f.write(fingerprint)
    if not whole_too:
        return cols, per_year, None, rows
    if not os.path.exists(whole):
        # the years' files in year order are the whole table sorted by (year, key)
        con.execute(f"COPY (SELECT * FROM {rel} ORDER BY year(accident_date), {order_by}) "
                    f"TO '{whole}.part' {opts}")
        os.replace(f"{whole}.part", whole)
    return cols, per_year, whole, rows


def load_stmt(path, table, cols):
    col_list = ",".join(f"`{c}`" for c in cols)
    return (f"LOAD DATA LOCAL INFILE '{path}' INTO TABLE {table} CHARACTER SET utf8mb4 "
            f"FIELDS TERMINATED BY '\\t' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n' "
            f"({col_list})")


def secondary_indexes(like_db):
    """ADD INDEX clauses of the medallion table's secondary indexes."""
    rows = mysql(
        "SELECT index_name, group_concat(concat('`', column_name, '`') ORDER BY seq_in_index) "
        "FROM information_schema.statistics "
        f"WHERE table_schema = '{like_db}' AND table_name = '{TABLE}' AND index_name <> 'PRIMARY' "
        "GROUP BY index_name ORDER BY index_name")
    return [f"ADD INDEX `{name}` ({cols})" for name, cols in rows]


def check_rows(table, expected):
    got = int(mysql(f"SELECT count(*) FROM {table}")[0][0])
    if got != expected:
        raise RuntimeError(f"{table} holds {got} rows, expected {expected}")


def single(like_db, whole, cols, rows):
    target = f"`{BENCH_DB}`.`{TABLE}`"
    mysql(f"DROP TABLE IF EXISTS {target}; CREATE TABLE {target} LIKE `{like_db}`.`{TABLE}`")
    t0 = time.perf_counter()
    mysql(f"{SESSION}; {load_stmt(whole, target, cols)}")
    seconds = time.perf_counter() - t0
    check_rows(target, rows)
    mysql(f"DROP TABLE {target}")
    return seconds


def ceiling(like_db, per_year, cols, rows, workers, stats_off=False):
    """The ceiling procedure; with `stats_off`, the year tables are created with
    STATS_AUTO_RECALC=0 and the finished table analysed once, as medallion's sink does."""
    target = f"`{BENCH_DB}`.`{TABLE}`"
    indexes = ", ".join(secondary_indexes(like_db))
    partitions = {int(m.group(1)): name for (name,) in mysql(
        "SELECT partition_name FROM information_schema.partitions "
        f"WHERE table_schema = '{like_db}' AND table_name = '{TABLE}'")
        for m in [re.fullmatch(r"p(\d{4})", name)] if m}
    missing = [y for y in per_year if y not in partitions]
    if missing:
        raise RuntimeError(f"{like_db}.{TABLE} has no partition for years {missing}")
    year_table = {y: f"`{BENCH_DB}`.`{TABLE}_y{y}`" for y in per_year}
    mysql(f"DROP TABLE IF EXISTS {target}; "
          + "".join(f"DROP TABLE IF EXISTS {t};" for t in year_table.values()))

    t0 = time.perf_counter()
    # the year tables: the partitioned table's columns and primary key, nothing else
    mysql(f"CREATE TABLE {target} LIKE `{like_db}`.`{TABLE}`")
    changes = [c.replace("ADD INDEX", "DROP INDEX").split(" (")[0] for c in secondary_indexes(like_db)]
    if stats_off:
        changes.append("STATS_AUTO_RECALC=0")
    stmts = []
    for t in year_table.values():
        stmts.append(f"CREATE TABLE {t} LIKE {target}")
        stmts.append(f"ALTER TABLE {t} {', '.join(changes)} REMOVE PARTITIONING")
    mysql("; ".join(stmts))
    # largest years first, two workers
    jobs = queue.Queue()
    for y in sorted(per_year, key=lambda y: -os.path.getsize(per_year[y])):
        jobs.put(y)
    errors = []

    def worker():
        while True:
            try:
                y = jobs.get_nowait()
            except queue.Empty:
                return
            try:
                sql = f"{SESSION}; {load_stmt(per_year[y], year_table[y], cols)}"
                if indexes:
                    sql += f"; ALTER TABLE {year_table[y]} {indexes}"
                mysql(sql)
            except RuntimeError as e:
                errors.append(str(e))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(errors[0])
    mysql("; ".join(f"ALTER TABLE {target} EXCHANGE PARTITION `{partitions[y]}` WITH TABLE {t}; "
                    f"DROP TABLE {t}" for y, t in year_table.items()))
    if stats_off:
        mysql(f"ANALYZE TABLE {target}")
    seconds = time.perf_counter() - t0
    check_rows(target, rows)
    mysql(f"DROP TABLE {target}")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", required=True, help="medallion's Parquet Gold folder")
    parser.add_argument("--like-db", required=True, help="database medallion's MySQL sink published")
    parser.add_argument("--work", required=True, help="folder for the CSV files")
    parser.add_argument("--out", required=True, help="JSON result")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--medallion-seconds", type=float,
                        help="medallion's staging time of accidents_summary into MySQL")
    parser.add_argument("--skip-single", action="store_true", help="only the ceiling procedure")
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.gold, TABLE)):
        print(f"error: no {TABLE} under Gold folder {args.gold}", file=sys.stderr)
        return 2
    try:
        key = primary_key(args.like_db)
        cols, per_year, whole, rows = export_csv(args.gold, args.work, key, whole_too=not args.skip_single)
        mysql(f"CREATE DATABASE IF NOT EXISTS `{BENCH_DB}`")
        result = {"table": TABLE, "rows": rows, "years": len(per_year), "workers": args.workers}
        if not args.skip_single:
            result["single_load_data_s"] = round(single(args.like_db, whole, cols, rows), 3)
        result["ceiling_s"] = round(ceiling(args.like_db, per_year, cols, rows, args.workers), 3)
        # informative: the same procedure with the statistics setting medallion's sink uses
        result["ceiling_stats_off_s"] = round(
            ceiling(args.like_db, per_year, cols, rows, args.workers, stats_off=True), 3)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.medallion_seconds:
        m = args.medallion_seconds
        result["medallion_s"] = m
        result["ratio_vs_ceiling"] = round(result["ceiling_s"] / m, 3)
        if "single_load_data_s" in result:
            result["ratio_vs_single_load_data"] = round(result["single_load_data_s"] / m, 3)
        # the ceiling is whichever pure-MariaDB way was fastest
        best = min(v for k, v in result.items() if k in ("ceiling_s", "single_load_data_s"))
        result["best_mariadb_s"] = best
        result["ratio_vs_best"] = round(best / m, 3)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
