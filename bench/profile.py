"""Summarises a py-spy raw profile (`BENCH_PROFILE=1 make bench`): where the operator's CPU goes.

    python -m bench.profile [.work/bench/profile.txt] [top]

Samples of threads waiting for work (idle thread pools, the event loop's select) are dropped,
so percentages are of busy time. "inclusive" counts a function with everything it called.
"""

from __future__ import annotations

import pathlib
import re
import sys
from collections import Counter

IDLE = re.compile(r"(thread\.py:8\d|Condition\.wait \(threading\.py|select \(selectors\.py|_bootstrap\.py)")


def frame_name(frame: str) -> str:
    """`func (path/to/mod.py:12)` -> `func (mod.py)`."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.split(':')[0].split('/')[-1]})" if where else name


def summarise(lines, top: int = 40) -> str:
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit() or IDLE.search(stack.split(";")[-1]) or "importlib" in stack:
            continue
        n = int(count)
        total += n
        frames = [frame_name(f) for f in stack.split(";")]
        for f in set(frames):
            inclusive[f] += n
        own[frames[-1]] += n
    out = [f"{total} busy samples", "--- inclusive"]
    out += [f"{n * 100 / total:5.1f}%  {f}" for f, n in inclusive.most_common(top)]
    out += ["--- own time"]
    out += [f"{n * 100 / total:5.1f}%  {f}" for f, n in own.most_common(top // 2)]
    return "\n".join(out)


if __name__ == "__main__":
    path = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".work/bench/profile.txt")
    print(summarise(path.open(), int(sys.argv[2]) if len(sys.argv) > 2 else 40))
