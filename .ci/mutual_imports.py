#!/usr/bin/env python3
"""Fails when two source files of a crate import each other (issue 25: "no two files import each
other"). Reads every `.rs` file under each crate's `src/`, takes the module paths it names in code
(`crate::a::b`, `super::c`, `self::d`, `use` groups included; comments and `#[cfg(test)] mod tests`
left out), maps each to the file that defines that module, and reports every pair of files that
name each other. A module and its own parent (`mod.rs` declaring it) do not count.

    python3 .ci/mutual_imports.py [CRATE_SRC_DIR ...]    # default: every crate of the workspace
"""

import os
import re
import sys

CRATES = ["udfs/src", "core/src", "jobs/src", "scheduler/src", "executor/src"]
PATH_START = re.compile(r"\b(?:crate|super|self)::")


def modules(src):
    """Module path (a tuple of names) -> the file that defines it."""
    found = {}
    for folder, _, files in os.walk(src):
        for name in files:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(folder, name)
            parts = os.path.relpath(path, src)[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            found[tuple(parts)] = path
    return found


def code_of(path):
    """The file's text without comments and without its unit tests module."""
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"#\[cfg\(test\)\]\s*mod tests\s*\{.*", "", text, flags=re.S)


def path_tokens(code):
    """Every `crate::…`, `super::…` or `self::…` path of `code`, `use` groups whole (balanced braces)."""
    tokens = []
    for match in PATH_START.finditer(code):
        if match.start() > 0 and code[match.start() - 1] == ":":
            continue  # the tail of a longer path, e.g. `super::super::`
        end, depth = match.end(), 0
        while end < len(code):
            char = code[end]
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    break
                depth -= 1
            elif depth == 0 and not (char.isalnum() or char in "_:"):
                break
            end += 1
        tokens.append(code[match.start() : end])
    return tokens


def expand(tree):
    """`a::{b, c::{d, e}}` -> [[a, b], [a, c, d], [a, c, e]] (a `use` tree's whole paths)."""
    prefix, brace, rest = tree.partition("{")
    head = [part.strip() for part in prefix.split("::") if part.strip()]
    if not brace:
        return [head]
    items, depth, item = [], 0, ""
    for char in rest[: rest.rindex("}")]:
        if char == "," and depth == 0:
            items.append(item)
            item = ""
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        item += char
    items.append(item)
    return [head + tail for sub in items if sub.strip() for tail in expand(sub.strip())]


def named_paths(module, token):
    """The module paths a `crate::`/`super::`/`self::` token names, seen from `module`."""
    paths = []
    for parts in expand(token):
        head, rest = parts[0], parts[1:]
        base = [] if head == "crate" else list(module[:-1]) if head == "super" else list(module)
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
        paths.append(base + rest)
    return paths


def defining_module(known, path):
    """The longest prefix of `path` that is a module with its own file."""
    for end in range(len(path), 0, -1):
        if tuple(path[:end]) in known:
            return tuple(path[:end])
    return None


def mutual_pairs(src):
    known = modules(src)
    edges = set()
    for module, path in known.items():
        for token in path_tokens(code_of(path)):
            for named in named_paths(module, token):
                target = defining_module(known, named)
                if target is not None and target != module:
                    edges.add((module, target))
    pairs = []
    for a, b in sorted(edges):
        related = a == b[: len(a)] or b == a[: len(b)]
        if a < b and (b, a) in edges and not related:
            pairs.append((known[a], known[b]))
    return pairs


def main():
    crates = sys.argv[1:] or CRATES
    pairs = [pair for src in crates for pair in mutual_pairs(src)]
    for a, b in pairs:
        print(f"error: {a} and {b} import each other", file=sys.stderr)
    print(f"mutual imports: {len(pairs)} pairs in {', '.join(crates)}")
    return 1 if pairs else 0


if __name__ == "__main__":
    sys.exit(main())
