#!/usr/bin/env python3
"""Runs one command and measures it: wall time and peak resident memory.

Peak RSS is the largest sum, over 100 ms samples, of the RSS of the command's whole process tree
(a Spark driver is a JVM grandchild of the Python process) plus the trees of any --extra-pid (the
scheduler and executors of a cluster run, which live across runs). The command's stdout and stderr
go to --log; a JSON object goes to --out:

    {"cmd": [...], "exit_code": 0, "wall_s": 12.3, "peak_rss_mb": 812.5, "started": "...Z"}

Usage: measure.py --out RUN.json --log RUN.log [--extra-pid PID ...] -- COMMAND ARGS...
"""

import argparse
import datetime
import json
import subprocess
import sys
import time

import psutil


def tree_rss(pids):
    """Sum of the RSS (bytes) of `pids` and all their descendants, each process counted once."""
    seen = set()
    total = 0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            procs = [root] + root.children(recursive=True)
        except psutil.Error:
            continue
        for p in procs:
            if p.pid in seen:
                continue
            seen.add(p.pid)
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where the JSON measurement goes")
    parser.add_argument("--log", required=True, help="where the command's output goes")
    parser.add_argument("--extra-pid", type=int, action="append", default=[],
                        help="another process whose tree counts in the peak RSS")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        parser.error("no command given")

    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    peak = 0
    with open(args.log, "wb") as log:
        t0 = time.perf_counter()
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        except OSError as e:
            print(f"error: cannot start {cmd[0]}: {e}", file=sys.stderr)
            return 2
        while True:
            peak = max(peak, tree_rss([proc.pid] + args.extra_pid))
            try:
                code = proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
        wall = time.perf_counter() - t0
    result = {
        "cmd": cmd,
        "exit_code": code,
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak / 2**20, 1),
        "started": started,
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
