#!/usr/bin/env python3
"""Checks that engines' Gold tables agree before any of their times is reported.

Each source is NAME=DIR (Parquet Gold folder: DIR/<table>/*.parquet) or NAME=mysql:DB (tables
of a MySQL database on 127.0.0.1:3306, root). The first source is the reference. For every Gold
table and every column of the reference (except last_updated and MySQL's auto ids):

- row counts equal;
- numeric and boolean columns: non-NULL counts equal and sums within 1e-9 relative;
- string, date and time columns: equal as sorted lists (multisets, NULLs included) — Parquet
  sources only; MySQL sources are checked on counts and numeric sums.

Prints one line per difference and writes a JSON report (--report); exit 0 when all agree, 1 when
something differs, 2 on bad input.

Usage: compare.py [--report R.json] medallion=DIR duckdb=DIR spark=DIR [mysql_medallion=mysql:DB]
"""

import argparse
import json
import os
import subprocess
import sys

import duckdb

TABLES = ["accidents_summary", "kpis_security", "kpis_temporal", "hotspots", "kpis_weather",
          "kpis_infrastructure", "kpis_anomalies", "kpis_correlations", "insights"]
SKIPPED = {"last_updated"}
REL_TOL = 1e-9
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
           "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "BOOLEAN")


def is_numeric(sql_type):
    return sql_type.upper().startswith(NUMERIC)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= REL_TOL * max(abs(a), abs(b)) or a == b


class Parquet:
    """A Gold folder read with DuckDB."""

    def __init__(self, con, name, root):
        self.con, self.name, self.root = con, name, root

    def relation(self, table):
        path = os.path.join(self.root, table)
        if not os.path.isdir(path):
            return None
        return f"read_parquet('{path}/**/*.parquet')"

    def columns(self, table):
        rel = self.relation(table)
        if rel is None:
            return None
        return {r[0]: r[1] for r in self.con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}

    def count(self, table):
        return self.con.execute(f"SELECT count(*) FROM {self.relation(table)}").fetchone()[0]

    def sums(self, table, cols):
        exprs = ", ".join(f'count("{c}"), sum(CAST("{c}" AS DOUBLE))' for c in cols)
        row = self.con.execute(f"SELECT {exprs} FROM {self.relation(table)}").fetchone()
        return {c: (row[2 * i], row[2 * i + 1]) for i, c in enumerate(cols)}


class MySql:
    """A Gold database read with the mysql client."""

    def __init__(self, name, db):
        self.name, self.db = name, db

    def query(self, sql):
        out = subprocess.run(["mysql", "-h127.0.0.1", "-uroot", "-N", "-B", self.db, "-e", sql],
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"mysql {self.db}: {out.stderr.strip()}")
        return [line.split("\t") for line in out.stdout.splitlines()]

    def columns(self, table):
        rows = self.query(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = '{self.db}' AND table_name = '{table}'")
        return {r[0]: r[1] for r in rows} or None

    def count(self, table):
        return int(self.query(f"SELECT count(*) FROM `{table}`")[0][0])

    def sums(self, table, cols):
        exprs = ", ".join(f"count(`{c}`), sum(`{c}`)" for c in cols)
        row = self.query(f"SELECT {exprs} FROM `{table}`")[0]
        num = lambda v: None if v == "NULL" else float(v)  # noqa: E731
        return {c: (int(row[2 * i]), num(row[2 * i + 1])) for i, c in enumerate(cols)}


def multiset_diff(con, ref, other, table, col):
    """Rows of `col` in one source and not the other (as multisets), a few of each."""
    a = f'SELECT CAST("{col}" AS VARCHAR) AS v FROM {ref.relation(table)}'
    b = f'SELECT CAST("{col}" AS VARCHAR) AS v FROM {other.relation(table)}'
    only_a = con.execute(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
    only_b = con.execute(f"SELECT count(*) FROM ({b} EXCEPT ALL {a})").fetchone()[0]
    if only_a == 0 and only_b == 0:
        return None
    ex_a = [r[0] for r in con.execute(f"SELECT v FROM ({a} EXCEPT ALL {b}) ORDER BY v LIMIT 3").fetchall()]
    ex_b = [r[0] for r in con.execute(f"SELECT v FROM ({b} EXCEPT ALL {a}) ORDER BY v LIMIT 3").fetchall()]
    return {"only_in_" + ref.name: only_a, "only_in_" + other.name: only_b,
            "examples_" + ref.name: ex_a, "examples_" + other.name: ex_b}


def compare(con, ref, other):
    """The differences between `other` and the reference, as a list of dicts."""
    diffs = []
    for table in TABLES:
        ref_cols = ref.columns(table)
        other_cols = other.columns(table)
        if ref_cols is None or other_cols is None:
            missing = ref.name if ref_cols is None else other.name
            diffs.append({"table": table, "what": f"table missing in {missing}"})
            continue
        n_ref, n_other = ref.count(table), other.count(table)
        if n_ref != n_other:
            diffs.append({"table": table, "what": "row count", ref.name: n_ref, other.name: n_other})
            continue
        cols = [c for c in ref_cols if c not in SKIPPED]
        absent = [c for c in cols if c not in other_cols]
        for c in absent:
            diffs.append({"table": table, "column": c, "what": f"column missing in {other.name}"})
        cols = [c for c in cols if c in other_cols]
        numeric = [c for c in cols if is_numeric(ref_cols[c])]
        if isinstance(other, MySql):
            # Gold tables with an auto id carry it in MySQL only; compare the reference's columns
            numeric = [c for c in numeric if other_cols[c] not in ("varchar", "char", "enum")]
        s_ref, s_other = ref.sums(table, numeric), other.sums(table, numeric)
        for c in numeric:
            (cnt_a, sum_a), (cnt_b, sum_b) = s_ref[c], s_other[c]
            if cnt_a != cnt_b or not close(sum_a, sum_b):
                diffs.append({"table": table, "column": c, "what": "non-NULL count or sum",
                              ref.name: [cnt_a, sum_a], other.name: [cnt_b, sum_b]})
        if isinstance(other, Parquet):
            for c in cols:
                if c in numeric:
                    continue
                d = multiset_diff(con, ref, other, table, c)
                if d:
                    diffs.append({"table": table, "column": c, "what": "sorted values", **d})
    return diffs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--report", help="JSON report file")
    parser.add_argument("sources", nargs="+", help="NAME=DIR or NAME=mysql:DB; the first is the reference")
    args = parser.parse_args()
    con = duckdb.connect()
    con.execute("SET threads = 2")
    sources = []
    for spec in args.sources:
        name, sep, where = spec.partition("=")
        if not sep or not name or not where:
            print(f"error: source '{spec}' is not NAME=DIR or NAME=mysql:DB", file=sys.stderr)
            return 2
        if where.startswith("mysql:"):
            sources.append(MySql(name, where[len("mysql:"):]))
        elif os.path.isdir(where):
            sources.append(Parquet(con, name, where))
        else:
            print(f"error: Gold folder {where} of source {name} does not exist", file=sys.stderr)
            return 2
    if not isinstance(sources[0], Parquet):
        print("error: the reference (first source) must be a Parquet Gold folder", file=sys.stderr)
        return 2
    report = {"reference": sources[0].name, "tolerance": REL_TOL, "sources": {}}
    ok = True
    for other in sources[1:]:
        try:
            diffs = compare(con, sources[0], other)
        except (RuntimeError, duckdb.Error) as e:
            diffs = [{"what": f"could not read: {e}"}]
        report["sources"][other.name] = diffs
        for d in diffs:
            ok = False
            print(f"DIFF {sources[0].name} vs {other.name}: {json.dumps(d, default=str)}")
        if not diffs:
            print(f"agree: {sources[0].name} and {other.name} ({len(TABLES)} Gold tables)")
    report["agree"] = ok
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1, default=str)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
