#!/usr/bin/env python3
"""Times the API-style queries of bench/api_queries.sql on a Gold database (issue 3 item 7).

For each query: EXPLAIN (saved as text under --explain-dir; the `key` column must name an index
for the result to count as "uses an index"), one warm-up run, then --repeat timed runs over one
connection (client-side wall time: send, execute, fetch all rows). When the optimizer reads a table
without an index (a table of a few dozen rows, where a scan is cheaper), the query is explained and
timed again with its `-- index:` forced, to show the index serves it. Writes a JSON list: name,
median_ms, p95_ms, rows, keys used, uses_index, under_100ms, and `forced` (index, keys,
median_ms) when an index was forced.

Usage: api.py --db DB --out R.json --explain-dir DIR [--repeat 50]
"""

import argparse
import json
import os
import re
import statistics
import sys
import time

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))


def queries(path):
    """(name, index, sql) of each `-- name:` block of the file (index: its `-- index:` or None)."""
    out, name, index, lines = [], None, None, []
    for line in open(path):
        if line.startswith("-- name:"):
            if name:
                out.append((name, index, "".join(lines).strip().rstrip(";")))
            name, index, lines = line.split(":", 1)[1].strip(), None, []
        elif name and line.startswith("-- index:"):
            index = line.split(":", 1)[1].strip()
        elif name and not line.startswith("--"):
            lines.append(line)
    if name:
        out.append((name, index, "".join(lines).strip().rstrip(";")))
    return out


def force_index(sql, index):
    """`sql` with `FORCE INDEX (index)` after its first `FROM table`."""
    return re.sub(r"\bFROM\s+(\w+)", rf"FROM \1 FORCE INDEX ({index})", sql, count=1)


def explain(cur, sql, path):
    """EXPLAIN `sql`, saved as text at `path`; returns (keys, access types, rows examined)."""
    cur.execute("EXPLAIN " + sql)
    header = [d[0] for d in cur.description]
    plan = cur.fetchall()
    with open(path, "w") as f:
        f.write(sql + ";\n\n" + "\t".join(header) + "\n")
        f.writelines("\t".join("NULL" if v is None else str(v) for v in row) + "\n" for row in plan)
    column = lambda name: [row[header.index(name)] for row in plan]
    return column("key"), column("type"), column("rows")


def timed(cur, sql, repeat):
    """(rows returned, sorted wall times in ms) of one warm-up then `repeat` runs of `sql`."""
    cur.execute(sql)
    rows = len(cur.fetchall())
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        cur.execute(sql)
        cur.fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    return rows, sorted(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--explain-dir", required=True)
    parser.add_argument("--queries", default=os.path.join(HERE, "api_queries.sql"))
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    try:
        conn = pymysql.connect(host="127.0.0.1", user="root", database=args.db)
    except pymysql.Error as e:
        print(f"error: cannot open database {args.db} on 127.0.0.1:3306: {e}", file=sys.stderr)
        return 3
    os.makedirs(args.explain_dir, exist_ok=True)
    results = []
    with conn.cursor() as cur:
        for name, index, sql in queries(args.queries):
            keys, types, examined = explain(cur, sql, os.path.join(args.explain_dir, f"{name}.txt"))
            rows, times = timed(cur, sql, args.repeat)
            median = statistics.median(times)
            result = {
                "name": name,
                "median_ms": round(median, 3),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
                "rows": rows,
                "keys": keys,
                "access_types": types,  # "index" = a full index scan, "ALL" = a table scan
                "rows_examined": examined,  # the optimizer's estimate, per table
                "uses_index": all(k is not None for k in keys),
                "under_100ms": median < 100,
            }
            line = f"{name}: median {median:.2f} ms, {rows} rows, key {keys}"
            if not result["uses_index"] and index:
                forced_sql = force_index(sql, index)
                forced_keys, _, _ = explain(
                    cur, forced_sql, os.path.join(args.explain_dir, f"{name}.forced.txt"))
                _, forced_times = timed(cur, forced_sql, args.repeat)
                result["forced"] = {
                    "index": index,
                    "keys": forced_keys,
                    "median_ms": round(statistics.median(forced_times), 3),
                }
                line += f"; {index} forced: key {forced_keys}, median {result['forced']['median_ms']:.2f} ms"
            results.append(result)
            print(line)
    conn.close()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
