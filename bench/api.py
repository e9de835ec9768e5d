#!/usr/bin/env python3
"""Times the API-style queries of bench/api_queries.sql on a Gold database (issue 3 item 7).

For each query: EXPLAIN (saved as text under --explain-dir; the `key` column must name an index
for the result to count as "uses an index"), one warm-up run, then --repeat timed runs over one
connection (client-side wall time: send, execute, fetch all rows). Writes a JSON list:
name, median_ms, p95_ms, rows, keys used, uses_index, under_100ms.

Usage: api.py --db DB --out R.json --explain-dir DIR [--repeat 50]
"""

import argparse
import json
import os
import statistics
import sys
import time

import pymysql

HERE = os.path.dirname(os.path.abspath(__file__))


def queries(path):
    """(name, sql) of each `-- name:` block of the file."""
    out, name, lines = [], None, []
    for line in open(path):
        if line.startswith("-- name:"):
            if name:
                out.append((name, "".join(lines).strip().rstrip(";")))
            name, lines = line.split(":", 1)[1].strip(), []
        elif name and not line.startswith("--"):
            lines.append(line)
    if name:
        out.append((name, "".join(lines).strip().rstrip(";")))
    return out


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
        for name, sql in queries(args.queries):
            cur.execute("EXPLAIN " + sql)
            header = [d[0] for d in cur.description]
            plan = cur.fetchall()
            with open(os.path.join(args.explain_dir, f"{name}.txt"), "w") as f:
                f.write(sql + ";\n\n" + "\t".join(header) + "\n")
                f.writelines("\t".join("NULL" if v is None else str(v) for v in row) + "\n"
                             for row in plan)
            keys = [row[header.index("key")] for row in plan]
            types = [row[header.index("type")] for row in plan]
            cur.execute(sql)
            rows = len(cur.fetchall())
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                cur.execute(sql)
                cur.fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            median = statistics.median(times)
            results.append({
                "name": name,
                "median_ms": round(median, 3),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
                "rows": rows,
                "keys": keys,
                "access_types": types,  # "index" = a full index scan, "ALL" = a table scan
                "uses_index": all(k is not None for k in keys),
                "under_100ms": median < 100,
            })
            print(f"{name}: median {median:.2f} ms, {rows} rows, key {keys}")
    conn.close()
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
