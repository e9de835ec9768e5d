"""Write the 22 TPC-H query texts of DuckDB's tpch extension to bench/tpch/queries/qNN.sql.

    python bench/tpch/extract_queries.py [--check] [DIR]

The files are committed; this only shows where they came from and checks them (--check: compare,
write nothing, exit 1 on a difference). It needs a duckdb Python package whose tpch extension
loads: `LOAD tpch` after `INSTALL tpch` (which downloads it from DuckDB's extension site), or,
where that site cannot be reached, the PyPI package duckdb-extension-tpch of the same DuckDB
version (e.g. `pip install duckdb==1.5.5 duckdb-extension-tpch==1.5.5` in a scratch venv; the
query texts do not change between versions). A file whose first line is a `--` comment carries a
dialect tweak, said in that comment, and is left alone.
"""

import glob
import os
import sys

import duckdb


def load_tpch(con):
    try:
        con.execute("LOAD tpch")
        return
    except duckdb.Error:
        pass
    try:
        con.execute("INSTALL tpch")
        con.execute("LOAD tpch")
        return
    except duckdb.Error:
        pass
    import duckdb_extension_tpch  # noqa: PLC0415 - the PyPI package, when installed

    base = os.path.dirname(duckdb_extension_tpch.__file__)
    for path in glob.glob(os.path.join(base, "extensions", "*", "tpch.duckdb_extension")):
        con.execute(f"LOAD '{path}'")
        return
    sys.exit("error: no tpch extension to load")


def main():
    args = sys.argv[1:]
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    out = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "queries")
    con = duckdb.connect()
    load_tpch(con)
    rows = con.execute("SELECT query_nr, query FROM tpch_queries() ORDER BY query_nr").fetchall()
    os.makedirs(out, exist_ok=True)
    differ = 0
    for nr, query in rows:
        path = os.path.join(out, f"q{nr:02d}.sql")
        text = query.rstrip() + "\n"
        old = open(path).read() if os.path.exists(path) else None
        if old is not None and old.startswith("--"):
            print(f"{path}: tweaked (first line: {old.splitlines()[0]}), left alone")
            continue
        if old != text:
            differ += 1
            print(f"{path}: {'differs' if old is not None else 'missing'}" + ("" if check else ", written"))
            if not check:
                with open(path, "w") as f:
                    f.write(text)
    print(f"{len(rows)} queries from DuckDB {duckdb.__version__}'s tpch extension, {differ} differ")
    return 1 if check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
