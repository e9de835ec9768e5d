#!/usr/bin/env python3
"""Writes BENCHMARKS.md from bench/results/run-*.json (the output of bench/run).

For each size, the newest run that measured it is reported: per engine the median wall time over
the successful repetitions (and min/max, runs), median peak RSS, medallion's and the peers'
aggregation-phase time; the ratios and targets of issue 8 and issue 3 item 7; the agreement check;
the API queries with their EXPLAIN keys; the machine and the load the runs saw.

Usage: report.py --results bench/results --out BENCHMARKS.md
"""

import argparse
import glob
import json
import os
import statistics
import sys

ENGINE_NOTES = {
    "medallion": "medallion run, embedded (DataFusion in-process, 2 partitions), Parquet Gold",
    "medallion-mysql": "medallion run, embedded (DataFusion in-process, 2 partitions), Gold published into MySQL by the sink",
    "cluster-1": "medallion submit: scheduler + 1 executor x 1 task slot, Parquet Gold",
    "cluster-2": "medallion submit: scheduler + 2 executors x 1 task slot, Parquet Gold",
    "duckdb": "DuckDB, 2 threads, Parquet Gold (bench/duckdb_datamart.py)",
    "spark": "PySpark local[2], driver 8g, SQL built-ins, Parquet Gold (bench/spark_datamart.py)",
    "spark-jdbc": "PySpark local[2] into MySQL via Spark's JDBC writer (MariaDB Connector/J)",
    "ceiling": "MariaDB LOAD DATA of accidents_summary from CSV (bench/sink.py; wall includes the one-stream load too)",
}


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=2, unit=""):
    if v is None:
        return "—"
    return f"{v:.{digits}f}{unit}"


# Issue 8's "whole 7.7M datamart into MySQL in under 60 s", against the ~55 s the ceiling procedure
# took where it was set.
MYSQL_GOAL = 60 / 55


def ratio(a, b):
    return a / b if a is not None and b not in (None, 0) else None


def engine_stats(runs):
    ok = [r for r in runs if r.get("exit_code") == 0]
    ph = lambda k: [r.get("phases", {}).get(k) for r in ok]  # noqa: E731
    return {
        "n": len(ok),
        "failed": len(runs) - len(ok),
        "wall": med([r["wall_s"] for r in ok]),
        "min": min((r["wall_s"] for r in ok), default=None),
        "max": max((r["wall_s"] for r in ok), default=None),
        "rss": med([r["peak_rss_mb"] for r in ok]),
        "aggregation": med(ph("aggregation_s")),
        "summary": med(ph("summary_s")),
        "ceiling": med(ph("ceiling_s")),
        "ceiling_stats_off": med(ph("ceiling_stats_off_s")),
        "single": med(ph("single_load_data_s")),
        "sink_medallion": med(ph("medallion_s")),
        "loads": [r.get("load_before", {}).get("loadavg", "?") for r in runs],
        "started": [r.get("started") for r in runs],
    }


def target_line(name, value, goal, met):
    status = "—" if met is None else ("met" if met else "**not met**")
    return f"| {name} | {value} | {goal} | {status} |"


def size_section(size, run):
    runs = [r for r in run["runs"] if r["size"] == size]
    engines = []
    for r in runs:
        if r["engine"] not in engines:
            engines.append(r["engine"])
    st = {e: engine_stats([r for r in runs if r["engine"] == e]) for e in engines}
    g = lambda e, k: st.get(e, {}).get(k)  # noqa: E731
    out = [f"## {size} rows (run {run['stamp']}, {run['repeat']} alternating repetition(s), seed {run['seed']})", ""]
    starts = sorted(s for e in st.values() for s in e["started"] if s)
    if starts:
        out.append(f"Measured {starts[0]} to {starts[-1]} UTC.")
    if run.get("note"):
        out.append(f"Note: {run['note']}")
    out += ["", "| engine | median wall s | min–max s | runs ok | peak RSS MB (median) | aggregation phase s | accidents_summary s | 1-min load before each run |",
            "|---|---|---|---|---|---|---|---|"]
    for e in engines:
        s = st[e]
        fail = f" ({s['failed']} failed)" if s["failed"] else ""
        out.append(f"| {e} | {fmt(s['wall'])} | {fmt(s['min'])}–{fmt(s['max'])} | {s['n']}{fail} | "
                   f"{fmt(s['rss'], 0)} | {fmt(s['aggregation'], 3)} | {fmt(s['summary'], 3)} | "
                   f"{', '.join(x.split()[0] for x in s['loads'])} |")
    out += ["", "Engines: " + "; ".join(f"`{e}` = {ENGINE_NOTES.get(e, e)}" for e in engines) + ".", ""]

    out += ["### Ratios and targets", "", "| what | value | target | status |", "|---|---|---|---|"]
    sp = ratio(g("spark", "wall"), g("medallion", "wall"))
    out.append(target_line("end to end, Spark local[2] / medallion (Parquet, wall)", fmt(sp, 2, "x"), ">= 5x",
                           None if sp is None else sp >= 5))
    spj = ratio(g("spark-jdbc", "wall"), g("medallion-mysql", "wall"))
    out.append(target_line("end to end into MySQL, Spark JDBC / medallion sink (wall)", fmt(spj, 2, "x"), "—", None))
    dk = ratio(g("medallion", "aggregation"), g("duckdb", "aggregation"))
    out.append(target_line("aggregation phase, medallion / DuckDB", fmt(dk, 2, "x"), "<= 1.5x",
                           None if dk is None else dk <= 1.5))
    dkw = ratio(g("medallion", "wall"), g("duckdb", "wall"))
    out.append(target_line("end to end, medallion / DuckDB (wall)", fmt(dkw, 2, "x"), "—", None))
    cl = ratio(g("cluster-1", "wall"), g("cluster-2", "wall"))
    out.append(target_line("cluster, 1 executor / 2 executors (1 slot each, wall)", fmt(cl, 2, "x"), ">= 1.6x",
                           None if cl is None else cl >= 1.6))
    mm = g("medallion-mysql", "wall")
    full_size = size.lower() in ("7.7m", "7700k")
    if mm is not None:
        out.append(target_line("whole datamart published into MySQL (medallion, wall)", fmt(mm, 1, " s"),
                               "(see the next line)", None))
        # issue 8's "< 60 s" was set against MariaDB's ceiling procedure taking ~55 s on the machine
        # it was written on: judged as a ratio to that procedure measured in the same run
        wc = ratio(mm, g("ceiling", "ceiling"))
        out.append(target_line("whole datamart published into MySQL / MariaDB ceiling procedure (same run)",
                               fmt(wc, 3, "x"), f"<= {MYSQL_GOAL:.3f}x (60 s / 55 s, at 7.7M)",
                               None if wc is None or not full_size else wc <= MYSQL_GOAL))
        ws = ratio(mm, g("ceiling", "ceiling_stats_off"))
        if ws is not None:
            out.append(target_line("whole datamart into MySQL / ceiling procedure with statistics recalculation off, as the sink (same run)",
                                   fmt(ws, 2, "x"), "(informative)", None))
    if g("ceiling", "ceiling") is not None:
        c, sgl, m = g("ceiling", "ceiling"), g("ceiling", "single"), g("ceiling", "sink_medallion")
        out.append(target_line("MariaDB ceiling procedure for accidents_summary (2 workers, per-year, indexes after, EXCHANGE)",
                               fmt(c, 2, " s"), "—", None))
        cs = g("ceiling", "ceiling_stats_off")
        if cs is not None:
            out.append(target_line("the same procedure, year tables STATS_AUTO_RECALC=0 and one ANALYZE (as the sink)",
                                   fmt(cs, 2, " s"), "(informative)", None))
        if sgl is not None:
            out.append(target_line("MariaDB one-stream LOAD DATA into the same DDL", fmt(sgl, 2, " s"), "—", None))
        out.append(target_line("medallion's staging of accidents_summary into MySQL (lake read + compute + load + index)",
                               fmt(m, 2, " s"), "—", None))
        r = ratio(c, m)
        out.append(target_line("sink rows/s as a share of the ceiling procedure's (ceiling s / medallion s)",
                               fmt(None if r is None else 100 * r, 0, " %"), "(informative)", None))
        if sgl is not None:
            r1 = ratio(sgl, m)
            out.append(target_line("sink rows/s as a share of one-stream LOAD DATA's", fmt(None if r1 is None else 100 * r1, 0, " %"),
                                   "(informative)", None))
        # the target is judged against whichever pure-MariaDB way was fastest on this run
        best = min(v for v in (c, sgl) if v is not None)
        rb = ratio(best, m)
        out.append(target_line("sink rows/s as a share of the fastest pure-MariaDB load's (best s / medallion s)",
                               fmt(None if rb is None else 100 * rb, 0, " %"), ">= 70 %", None if rb is None else rb >= 0.7))
    out.append("")

    cmp = run.get("compare", {}).get(size)
    out += ["### Agreement of the Gold tables", ""]
    if cmp is None:
        out.append("Not checked in this run (fewer than two engines with Gold output).")
    else:
        out.append(f"Reference: `{cmp['reference']}`; row counts, numeric sums within {cmp['tolerance']} relative, "
                   "sorted string/date columns equal (MySQL sources: counts and sums).")
        out.append("")
        for src, diffs in cmp["sources"].items():
            if not diffs:
                out.append(f"- `{src}`: agrees on all six Gold tables.")
            else:
                out.append(f"- `{src}`: **{len(diffs)} difference(s)**:")
                for d in diffs[:12]:
                    out.append(f"  - {json.dumps(d, default=str)}")
    out.append("")

    api = run.get("api", {}).get(size)
    if api:
        out += ["### API queries on medallion's MySQL Gold tables (bench/api_queries.sql)", "",
                "| query | median ms | p95 ms | rows | EXPLAIN key | index used | < 100 ms |", "|---|---|---|---|---|---|---|"]
        for q in api:
            out.append(f"| {q['name']} | {q['median_ms']:.2f} | {q['p95_ms']:.2f} | {q['rows']} | "
                       f"{', '.join(str(k) for k in q['keys'])} | {index_used(q)} | "
                       f"{'yes' if q['under_100ms'] else '**no**'} |")
        out.append("")
        if any("forced" in q for q in api):
            out.append("Where the optimizer scans the table, it is a table of a few dozen rows (hotspots "
                       "holds the top 50 by definition) and a scan is its cheapest plan; the query was "
                       "also explained and timed with its index forced (`.forced` in `explain`).")
            out.append("")
        out.append(f"EXPLAIN output: `bench/results/run-{run['stamp']}.json` (`explain`).")
        out.append("")
    return out


def index_used(query):
    """The "index used" cell of an API query: yes, or why not and what forcing the index gave."""
    if query["uses_index"]:
        return "yes"
    examined = [n for n in query.get("rows_examined") or [] if n is not None]
    cell = f"no: table scan of ~{max(examined)} rows" if examined else "**no**"
    forced = query.get("forced")
    if forced:
        keys = ", ".join(str(k) for k in forced["keys"])
        cell += f"; {forced['index']} forced: key {keys}, {forced['median_ms']:.2f} ms"
    return cell


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    runs = []
    for path in sorted(glob.glob(os.path.join(args.results, "run-*.json"))):
        try:
            runs.append(json.load(open(path)))
        except (OSError, ValueError) as e:
            print(f"error: cannot read {path}: {e}", file=sys.stderr)
            return 2
    if not runs:
        print(f"error: no run-*.json under {args.results}", file=sys.stderr)
        return 2
    latest = {}
    for run in runs:  # sorted by stamp: the newest wins
        for size in run["sizes"]:
            if any(r["size"] == size for r in run["runs"]):
                latest[size] = run
    lines = ["# Benchmarks", "",
             "Written by `bench/run` (bench/report.py) from `bench/results/run-*.json`; do not edit by hand —",
             "except the \"Findings\" section at the end, which is kept. Medians over alternating repetitions;",
             "times are wall clock of the whole process (start-up included) unless said.", ""]
    order = sorted(latest, key=lambda s: float(s.lower().rstrip("km")) * (1e6 if s.lower().endswith("m") else 1e3 if s.lower().endswith("k") else 1))
    for size in order:
        lines += size_section(size, latest[size])
    m = runs[-1]["machine"]
    lines += ["## Machine", "",
              f"- CPU: {m.get('cpu')} ({m.get('cpus')} CPUs); memory: {m.get('memory')}",
              f"- {m.get('os')}, kernel {m.get('kernel')}",
              f"- MariaDB {m.get('mariadb')} (innodb_buffer_pool_size {m.get('innodb_buffer_pool_size')}); "
              f"{m.get('rustc')}; {m.get('medallion')}; DuckDB {m.get('duckdb')}; PySpark {m.get('pyspark')}; "
              f"{m.get('java')}; Python {m.get('python')}",
              "- The machine is shared: the load column above is the 1-minute load average just before each run "
              "(2 CPUs: anything above ~0.5 means something else was running).", ""]
    keep = ""
    if os.path.exists(args.out):
        text = open(args.out).read()
        i = text.find("## Findings")
        if i >= 0:
            keep = text[i:]
    if keep:
        lines.append(keep.rstrip() + "\n")
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + ("\n" if not keep else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
