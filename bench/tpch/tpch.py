"""TPC-H: medallion sql against DuckDB on the same Parquet folders, for one scale factor.

Run by bench/tpch/run (which makes the venv and the data); see its --help. For each query of
bench/tpch/queries/qNN.sql it times

  medallion  `medallion sql --lake DIR --parallelism 2 --format csv -f qNN.sql`, a new process per
             run: the wall time includes the process start and the lake's registration (measured
             on its own as `SELECT 1` and reported next to the results)
  duckdb     a new in-memory DuckDB connection per run (threads = 2) with one view per table over
             the same Parquet files (read_parquet('DIR/TABLE/*.parquet')); the time is the
             query's execution and the fetch of all its rows, not the connection nor the views

then checks the two answers agree (same row count; numbers within 1e-6 relative; strings and
dates equal; rows in order, else sorted as a fallback, which is reported), and writes
results/tpch-sf<SF>-<STAMP>.json and .md.
"""

import argparse
import csv
import datetime as dt
import decimal
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time

import duckdb

TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]
REL_TOL = 1e-6
TARGET_SF1 = 1.3  # medallion / DuckDB, geometric mean over the 22 queries at SF1


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as e:  # noqa: BLE001 - only for the record
        return f"? ({e})"


def loadavg():
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "?"


# ---- the engines ------------------------------------------------------------------------------

class Medallion:
    name = "medallion"

    def __init__(self, binary, lake, root, logs, timeout):
        self.binary, self.lake, self.root, self.logs, self.timeout = binary, lake, root, logs, timeout
        self.env = dict(os.environ)
        # the lake is given explicitly; no catalog, scheduler or lake from the caller's environment
        for k in ("MEDALLION_CATALOG", "MEDALLION_SCHEDULER", "MEDALLION_LAKE"):
            self.env.pop(k, None)

    def command(self, sql_args):
        return [self.binary, "sql", "--lake", self.lake, "--parallelism", "2", "--format", "csv", *sql_args]

    def run(self, label, sql_args):
        """-> (seconds, columns, rows of strings) or raises RuntimeError."""
        out = os.path.join(self.logs, f"medallion-{label}.csv")
        err = os.path.join(self.logs, f"medallion-{label}.stderr")
        with open(out, "w") as fo, open(err, "w") as fe:
            # a blocking wait, timed out by a timer: subprocess.run(timeout=...) polls the process
            # with sleeps of up to 50 ms, which added up to 50 ms to every medallion time
            timed_out = threading.Event()
            t0 = time.perf_counter()
            p = subprocess.Popen(self.command(sql_args), stdout=fo, stderr=fe, cwd=self.root,
                                 env=self.env)

            def kill():
                timed_out.set()
                p.kill()

            timer = threading.Timer(self.timeout, kill)
            timer.start()
            try:
                p.wait()
            finally:
                timer.cancel()
            seconds = time.perf_counter() - t0
            if timed_out.is_set():
                raise RuntimeError(f"timed out after {self.timeout} s")
        if p.returncode != 0:
            tail = open(err, errors="replace").read().strip().splitlines()[-6:]
            raise RuntimeError(f"exit code {p.returncode}: " + " | ".join(tail))
        with open(out, newline="") as f:
            lines = list(csv.reader(f))
        if not lines:
            return seconds, [], []
        return seconds, lines[0], lines[1:]


    def types(self, label, sql):
        """The column types of the query's answer in medallion (planned, not run): a view of it,
        described. -> ['Int64', 'Decimal128(19, 6)', ...]"""
        body = re.sub(r";\s*$", "", sql.strip())
        _, cols, rows = self.run(label, [f"CREATE VIEW tpch_answer AS {body}; DESCRIBE tpch_answer"])
        return [r[cols.index("data_type")] for r in rows]


class DuckDB:
    name = "duckdb"

    def __init__(self, lake, timeout):
        self.lake, self.timeout = lake, timeout

    def run(self, label, sql):
        con = duckdb.connect(":memory:")
        try:
            con.execute("SET threads = 2")
            for t in TABLES:
                path = os.path.join(self.lake, t, "*.parquet").replace("'", "''")
                con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{path}')")
            timer = threading.Timer(self.timeout, con.interrupt)
            timer.start()
            try:
                t0 = time.perf_counter()
                con.execute(sql)
                rows = con.fetchall()
                seconds = time.perf_counter() - t0
                columns = [d[0] for d in con.description]
            except duckdb.Error as e:
                raise RuntimeError(str(e).strip().splitlines()[0] if str(e).strip() else repr(e))
            finally:
                timer.cancel()
        finally:
            con.close()
        return seconds, columns, rows


# ---- comparing answers ------------------------------------------------------------------------

def is_number(v):
    return isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool)


def decimal_scale(type_name):
    """'Decimal128(19, 6)' -> 6; other types -> None."""
    m = re.fullmatch(r"Decimal(?:32|64|128|256)\(\s*\d+\s*,\s*(-?\d+)\s*\)", type_name or "")
    return int(m.group(1)) if m else None


def cell_equal(ref, got, scale=None, used=None, col=None):
    """ref: DuckDB's value (typed); got: medallion's CSV text; scale: the decimal scale of
    medallion's column, if a decimal. -> None if equal, else why not. Numbers are equal within
    REL_TOL relative, or, for a decimal column of medallion, within one unit of its last decimal
    place (DataFusion's avg of DECIMAL(15,2) is DECIMAL(19,6), where DuckDB's is a DOUBLE); a
    column that needed the latter is added to `used`."""
    if ref is None:
        return None if got == "" else f"NULL vs {got!r}"
    if is_number(ref):
        try:
            g = float(got)
        except ValueError:
            return f"{ref} vs {got!r} (not a number)"
        r = float(ref)
        if r == g or (math.isnan(r) and math.isnan(g)):
            return None
        diff, size = abs(r - g), max(abs(r), abs(g))
        if diff <= REL_TOL * size:
            return None
        if scale is not None and diff <= 10.0 ** -scale * (1 + 1e-9):
            if used is not None:
                used.add(col)
            return None
        return (f"{ref} vs {got} (relative difference {diff / size:.2e}"
                + (f", more than a unit of medallion's decimal scale {scale}" if scale is not None else "") + ")")
    if isinstance(ref, bool):
        return None if got.lower() == str(ref).lower() else f"{ref} vs {got!r}"
    if isinstance(ref, (dt.date, dt.datetime)):
        return None if got.replace("T", " ") == ref.isoformat().replace("T", " ") else f"{ref} vs {got!r}"
    return None if str(ref) == got else f"{str(ref)!r} vs {got!r}"


def rows_mismatch(ref_rows, got_rows, scales, used):
    """-> None when every row agrees, else a description of the first difference."""
    for i, (r, g) in enumerate(zip(ref_rows, got_rows)):
        if len(r) != len(g):
            return f"row {i + 1}: {len(r)} columns vs {len(g)}"
        for j, (a, b) in enumerate(zip(r, g)):
            why = cell_equal(a, b, scales[j] if j < len(scales) else None, used, j)
            if why:
                return f"row {i + 1} column {j + 1}: duckdb {why} medallion"
    return None


def sort_key_ref(row):
    return tuple(f"{float(v):.6g}" if is_number(v) else ("" if v is None else
                 (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else str(v))) for v in row)


def sort_key_got(row, ref_example):
    out = []
    for j, v in enumerate(row):
        ref = ref_example[j] if j < len(ref_example) else None
        if is_number(ref):
            try:
                out.append(f"{float(v):.6g}")
                continue
            except ValueError:
                pass
        out.append(v)
    return tuple(out)


def compare(sql, ref_cols, ref_rows, got_cols, got_rows, got_types):
    """-> (agree: bool, how: str, detail: str, columns compared at medallion's decimal scale)."""
    scales = [decimal_scale(t) for t in got_types]
    used = set()

    def names(cols):
        return [got_cols[j] if j < len(got_cols) else str(j + 1) for j in sorted(cols)]

    if len(ref_rows) != len(got_rows):
        return False, "row count", f"duckdb {len(ref_rows)} rows, medallion {len(got_rows)}", []
    if ref_rows and got_cols and len(ref_cols) != len(got_cols):
        return False, "columns", f"duckdb {len(ref_cols)} columns, medallion {len(got_cols)}", []
    ordered = re.search(r"\border\s+by\b", sql, re.IGNORECASE) is not None
    in_order = None
    if ordered:
        in_order = rows_mismatch(ref_rows, got_rows, scales, used)
        if in_order is None:
            return True, "ordered", "", names(used)
    used = set()
    ref_sorted = sorted(ref_rows, key=sort_key_ref)
    got_sorted = sorted(got_rows, key=lambda r: sort_key_got(r, ref_rows[0])) if ref_rows else []
    why = rows_mismatch(ref_sorted, got_sorted, scales, used)
    if why is None:
        if ordered:
            return True, "sorted", f"not in the same order: {in_order}", names(used)
        return True, "unordered", "the query has no ORDER BY: rows compared sorted", names(used)
    if ordered:
        return False, "ordered", f"{in_order}; sorted, still: {why}", names(used)
    return False, "unordered", why, names(used)


# ---- the benchmark ----------------------------------------------------------------------------

def agree_label(r, markdown):
    if r["agree"]:
        text = {"ordered": "yes", "sorted": "yes, but in another order (ties?)",
                "unordered": "yes (no ORDER BY: compared sorted)"}[r["compared"]]
        if r.get("compared_at_decimal_scale"):
            text += f"; {', '.join(r['compared_at_decimal_scale'])} equal at medallion's decimal scale"
        return text
    if r["agree"] is False:
        text = ("**NO**" if markdown else "DISAGREE") + f" ({r['compared']}): {r['detail']}"
    else:
        errs = "; ".join(f"{n}: {r[n]['error']}" for n in ("medallion", "duckdb") if r[n]["error"])
        text = ("**FAILED**" if markdown else "FAILED") + f" {errs}"
    return text.replace("|", "\\|") if markdown else text


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def fmt_s(x):
    return "—" if x is None else (f"{x:.3f}" if x < 100 else f"{x:.1f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sf", required=True)
    ap.add_argument("--lake", required=True)
    ap.add_argument("--queries-dir", required=True)
    ap.add_argument("--queries", required=True, help="comma-separated query numbers")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--medallion", required=True)
    ap.add_argument("--root", required=True, help="working directory of medallion (the repository)")
    ap.add_argument("--results", required=True)
    ap.add_argument("--logs", required=True)
    ap.add_argument("--stamp", required=True)
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--note", default="")
    ap.add_argument("--data-info", default="{}")
    a = ap.parse_args()

    os.makedirs(a.logs, exist_ok=True)
    os.makedirs(a.results, exist_ok=True)
    med = Medallion(a.medallion, a.lake, a.root, a.logs, a.timeout)
    ddb = DuckDB(a.lake, a.timeout)
    queries = [int(q) for q in a.queries.split(",")]
    debug_build = "/debug/" in os.path.realpath(a.medallion)

    machine = {
        "cpu": sh("lscpu | sed -n 's/^Model name: *//p'"),
        "cpus": sh("nproc"),
        "memory": sh("free -h | sed -n 2p"),
        "kernel": platform.release(),
        "os": sh(". /etc/os-release && echo $PRETTY_NAME"),
        "python": platform.python_version(),
    }
    versions = {
        "medallion": sh(f"'{a.medallion}' --version"),
        "medallion_binary": os.path.realpath(a.medallion),
        "medallion_build": "debug" if debug_build else "release",
        "git_commit": sh(f"git -C '{a.root}' rev-parse --short HEAD"),
        "git_dirty": bool(sh(f"git -C '{a.root}' status --porcelain --untracked-files=no")),
        "duckdb": duckdb.__version__,
        "tpchgen_cli": sh(f"'{os.path.dirname(sys.executable)}/tpchgen-cli' --version"),
    }
    settings = {
        "repeat": a.repeat, "warmup": bool(a.warmup), "medallion_parallelism": 2, "duckdb_threads": 2,
        "MEDALLION_MEMORY": os.environ.get("MEDALLION_MEMORY"), "timeout_s": a.timeout,
        "rel_tol": REL_TOL, "lake": a.lake,
    }
    print(f"== TPC-H SF{a.sf}: medallion ({versions['medallion_build']} build, {versions['medallion']}) "
          f"vs DuckDB {duckdb.__version__}; {len(queries)} queries, repeat {a.repeat}, "
          f"warm-up {'on' if a.warmup else 'off'}; load {loadavg()}", flush=True)
    if debug_build:
        print("   NOTE: a debug build of medallion: a correctness check, NOT a speed figure", flush=True)
    load_start = loadavg()
    started = time.time()

    # medallion's fixed cost per run: process start, session, the lake's registration; one
    # untimed run, then max(3, repeat) timed ones
    startup = {"times": [], "error": None}
    try:
        for i in range(1 + max(3, a.repeat)):
            s, _, _ = med.run(f"startup-{i}", ["SELECT 1"])
            if i > 0:
                startup["times"].append(s)
        startup["median"] = statistics.median(startup["times"])
    except RuntimeError as e:
        startup["error"] = str(e)
        startup["median"] = None
    print(f"   medallion start-up + lake registration (SELECT 1): {fmt_s(startup['median'])} s"
          + (f" ERROR {startup['error']}" if startup["error"] else ""), flush=True)

    results = []
    for q in queries:
        path = os.path.join(a.queries_dir, f"q{q:02d}.sql")
        sql = open(path).read()
        rec = {"query": q, "file": os.path.relpath(path, a.root),
               "medallion": {"times": [], "error": None}, "duckdb": {"times": [], "error": None}}
        answers = {}

        def one(engine, label, timed):
            st = rec[engine.name]
            if st["error"]:
                return
            try:
                if engine is med:
                    s, cols, rows = med.run(f"q{q:02d}-{label}", ["-f", path])
                else:
                    s, cols, rows = ddb.run(label, sql)
            except RuntimeError as e:
                st["error"] = str(e)
                return
            if timed:
                st["times"].append(s)
            if engine.name not in answers:
                answers[engine.name] = (cols, rows)

        if a.warmup:
            one(med, "warmup", False)
            one(ddb, "warmup", False)
        for r in range(a.repeat):
            order = (med, ddb) if r % 2 == 0 else (ddb, med)
            for e in order:
                one(e, f"r{r + 1}", True)

        for name in ("medallion", "duckdb"):
            st = rec[name]
            st["median"] = statistics.median(st["times"]) if st["times"] and not st["error"] else None
            st["rows"] = len(answers[name][1]) if name in answers else None
        m, d = rec["medallion"]["median"], rec["duckdb"]["median"]
        rec["ratio"] = m / d if m and d else None
        if "medallion" in answers and "duckdb" in answers and not rec["medallion"]["error"] \
                and not rec["duckdb"]["error"]:
            (gc, gr), (rc, rr) = answers["medallion"], answers["duckdb"]
            try:
                types = med.types(f"q{q:02d}-types", sql)
            except RuntimeError as e:  # only the decimal scales are lost
                types, rec["types_error"] = [], str(e)
            agree, how, detail, at_scale = compare(sql, rc, rr, gc, gr, types)
            rec.update(agree=agree, compared=how, detail=detail, medallion_types=types,
                       compared_at_decimal_scale=at_scale)
        else:
            failed = [n for n in ("medallion", "duckdb") if rec[n]["error"]]
            rec.update(agree=None, compared=None, detail=f"{' and '.join(failed)} failed")
        results.append(rec)
        status = agree_label(rec, markdown=False)
        print(f"   q{q:02d}  medallion {fmt_s(m):>8} s  duckdb {fmt_s(d):>8} s  "
              f"ratio {('%.2f' % rec['ratio']) if rec['ratio'] else '—':>6}  {status}", flush=True)
        for n in ("medallion", "duckdb"):
            if rec[n]["error"]:
                print(f"         {n} error: {rec[n]['error']}", flush=True)

    # ---- summary --------------------------------------------------------------------------------
    ok = [r for r in results if r["agree"] and r["ratio"]]
    gm = geomean([r["ratio"] for r in ok])
    su = startup.get("median")
    # the ratios with medallion's start-up subtracted, when every query took longer than it
    gm_net = None
    if su is not None and ok and all(r["medallion"]["median"] > su for r in ok):
        gm_net = geomean([(r["medallion"]["median"] - su) / r["duckdb"]["median"] for r in ok])
    flagged = [r for r in results if not r["agree"]]
    summary = {
        "geomean_ratio": gm, "geomean_over": len(ok), "queries": len(results),
        "geomean_ratio_minus_startup": gm_net,
        "medallion_total_s": sum(r["medallion"]["median"] or 0 for r in results),
        "duckdb_total_s": sum(r["duckdb"]["median"] or 0 for r in results),
        "target": f"SF1: geomean <= {TARGET_SF1}x DuckDB",
        "target_met": (gm is not None and gm <= TARGET_SF1 and not flagged) if float(a.sf) == 1 else None,
        "disagree": [r["query"] for r in results if r["agree"] is False],
        "failed": [r["query"] for r in results if r["agree"] is None],
    }

    lines = [f"## TPC-H SF{a.sf}: medallion vs DuckDB ({a.stamp})", ""]
    if debug_build:
        lines += ["**medallion is a debug build: this is a correctness check, NOT a speed figure.**", ""]
    lines += [
        f"{versions['medallion']} ({versions['medallion_build']}, commit {versions['git_commit']}"
        f"{', dirty tree' if versions['git_dirty'] else ''}), `medallion sql --parallelism 2`, a new process per run; "
        f"DuckDB {duckdb.__version__}, 2 threads, a new connection per run. Median of {a.repeat} alternating "
        f"run(s){', after one warm-up run of each' if a.warmup else ', no warm-up'}. "
        f"Load average {load_start} at the start. MEDALLION_MEMORY={settings['MEDALLION_MEMORY'] or 'unset'}."
        + (f" Note: {a.note}" if a.note else ""),
        "",
        "| query | medallion s | duckdb s | ratio | answers agree |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for r in results:
        ag = agree_label(r, markdown=True)
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "—"
        lines.append(f"| Q{r['query']} | {fmt_s(r['medallion']['median'])} | {fmt_s(r['duckdb']['median'])} "
                     f"| {ratio} | {ag} |")
    lines.append("")
    gm_text = f"{gm:.2f}x" if gm else "—"
    target = f"target at SF1: ≤ {TARGET_SF1}x DuckDB"
    if float(a.sf) == 1 and gm:
        target += " — " + ("met" if summary["target_met"] else "NOT met")
    if debug_build:
        target += " (not applicable: debug build)"
    lines.append(f"**Geometric mean of the ratios (medallion / DuckDB): {gm_text}** over {len(ok)} of "
                 f"{len(results)} queries whose answers agree ({target}).")
    lines.append("")
    lines.append(f"Totals: medallion {fmt_s(summary['medallion_total_s'])} s, DuckDB "
                 f"{fmt_s(summary['duckdb_total_s'])} s. medallion's start-up and lake registration "
                 f"(`SELECT 1`, included in every medallion time): {fmt_s(su)} s"
                 + (f"; geometric mean with it subtracted: {gm_net:.2f}x." if gm_net else "."))
    if flagged:
        lines.append("")
        lines.append("Flagged: " + "; ".join(
            f"Q{r['query']} " + ("disagrees" if r["agree"] is False else "failed") for r in flagged) + ".")
    md = "\n".join(lines) + "\n"

    base = os.path.join(a.results, f"tpch-sf{a.sf}-{a.stamp}")
    record = {
        "benchmark": "tpch", "sf": a.sf, "stamp": a.stamp, "note": a.note, "machine": machine,
        "versions": versions, "settings": settings, "data": json.loads(a.data_info),
        "load_start": load_start, "load_end": loadavg(), "seconds": time.time() - started,
        "medallion_startup": startup, "queries": results, "summary": summary,
    }
    with open(base + ".json", "w") as f:
        json.dump(record, f, indent=1, default=str)
    with open(base + ".md", "w") as f:
        f.write(md)
    print()
    print(md)
    print(f"   wrote {base}.json and .md", flush=True)
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
