#!/usr/bin/env python3
"""Folds `perf script` output into stacks and draws them as a flame graph SVG (no dependencies).

    perf script -i perf.data | flamegraph.py --folded out.folded --svg out.svg --top 25

Also prints the functions with the most samples on-CPU (self) and on the stack (total).
"""

import argparse
import collections
import html
import re
import sys

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.+?)\s+\((.*)\)\s*$")


def fold(lines):
    """Counts of `root;...;leaf` stacks from perf script text."""
    counts = collections.Counter()
    stack, comm = [], None
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if stack:
                counts[";".join([comm] + list(reversed(stack)))] += 1
            stack, comm = [], None
            continue
        if comm is None and not line.startswith((" ", "\t")):
            comm = line.split()[0]
            continue
        m = FRAME.match(line)
        if m:
            name = re.sub(r"\+0x[0-9a-f]+$", "", m.group(1))
            name = re.sub(r"::h[0-9a-f]{16}$", "", name)
            if name == "[unknown]":
                name = f"[{m.group(2).rsplit('/', 1)[-1]}]"
            stack.append(name)
    if stack:
        counts[";".join([comm] + list(reversed(stack)))] += 1
    return counts


def svg(counts, out, width=1600, row=16):
    """A plain flame graph: root at the bottom, width proportional to samples."""
    tree = {"n": 0, "c": {}}
    for stack, n in counts.items():
        node = tree
        node["n"] += n
        for f in stack.split(";"):
            node = node["c"].setdefault(f, {"n": 0, "c": {}})
            node["n"] += n
    depth = max((s.count(";") + 1 for s in counts), default=1) + 1
    height = depth * row + 40
    total = tree["n"] or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="monospace" font-size="11">',
             f'<text x="5" y="15">{total} samples; hover for names</text>']

    def draw(node, name, x, level):
        w = node["n"] / total * width
        if w < 0.3:
            return
        y = height - (level + 1) * row
        hue = (hash(name) % 60) + 10
        label = html.escape(name)
        pct = 100 * node["n"] / total
        parts.append(f'<g><title>{label} ({node["n"]} samples, {pct:.1f}%)</title>'
                     f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" '
                     f'fill="hsl({hue},90%,60%)"/>')
        if w > 40:
            chars = int(w / 7)
            parts.append(f'<text x="{x + 2:.1f}" y="{y + row - 4}">{html.escape(name[:chars])}</text>')
        parts.append("</g>")
        cx = x
        for child_name, child in sorted(node["c"].items()):
            draw(child, child_name, cx, level + 1)
            cx += child["n"] / total * width

    x = 0.0
    for name, child in sorted(tree["c"].items()):
        draw(child, name, x, 0)
        x += child["n"] / total * width
    parts.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(parts))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folded", help="write folded stacks here")
    parser.add_argument("--svg", help="write the flame graph here")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    counts = fold(sys.stdin)
    total = sum(counts.values())
    if not total:
        print("error: no samples in the perf script input", file=sys.stderr)
        return 2
    if args.folded:
        with open(args.folded, "w") as f:
            for stack, n in counts.most_common():
                f.write(f"{stack} {n}\n")
    if args.svg:
        svg(counts, args.svg)
    self_c, total_c = collections.Counter(), collections.Counter()
    for stack, n in counts.items():
        frames = stack.split(";")
        self_c[frames[-1]] += n
        for f in set(frames[1:]):
            total_c[f] += n
    print(f"{total} samples")
    print(f"-- top {args.top} self (on-CPU)")
    for f, n in self_c.most_common(args.top):
        print(f"{100 * n / total:6.2f}%  {f[:160]}")
    print(f"-- top {args.top} total (on the stack)")
    for f, n in total_c.most_common(args.top):
        print(f"{100 * n / total:6.2f}%  {f[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
