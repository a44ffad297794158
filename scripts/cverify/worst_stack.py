#!/usr/bin/env python3
"""Worst stack depth (bytes) of a C unit from GCC's -fcallgraph-info=su
files: each function's frame plus the deepest chain of its callees (the
loop has no recursion: a cycle is an error). Prints the figure; with -v the
chain too. Usage: worst_stack.py FILE.ci..."""
from __future__ import annotations

import functools
import re
import sys


def main() -> int:
    verbose = "-v" in sys.argv
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    for path in (a for a in sys.argv[1:] if a != "-v"):
        text = open(path, encoding="utf-8").read()
        for m in re.finditer(r'node:\s*\{\s*title:\s*"([^"]+)"\s*label:\s*"([^"]*)"', text):
            size = re.search(r"(\d+) bytes", m.group(2))
            frames[m.group(1)] = int(size.group(1)) if size else 0
        for m in re.finditer(r'edge:\s*\{\s*sourcename:\s*"([^"]+)"\s*targetname:\s*"([^"]+)"', text):
            calls.setdefault(m.group(1), set()).add(m.group(2))

    @functools.lru_cache(maxsize=None)
    def depth(fn: str, path: tuple = ()) -> tuple[int, tuple]:
        if fn in path:
            raise SystemExit(f"worst_stack: recursion through {fn}")
        best = (0, ())
        for callee in calls.get(fn, ()):
            d = depth(callee, path + (fn,))
            if d[0] > best[0]:
                best = d
        return frames.get(fn, 0) + best[0], (fn,) + best[1]

    worst = max((depth(f) for f in frames), default=(0, ()))
    print(worst[0])
    if verbose:
        print(" -> ".join(worst[1]), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
