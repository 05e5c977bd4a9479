"""Where the operator's memory goes: `python -m bench.memory OUT -- [studio-operator args]`.

Runs the operator in this process. On SIGUSR1 it writes to OUT the live objects by type (count
and shallow size, from the garbage collector's view), with the process's RSS at that moment.
With BENCH_TRACEMALLOC=1 it runs under tracemalloc and writes the live memory by allocation
site instead (the innermost frame, and the operator's and kopf's frames above it); tracemalloc
slows the operator several times and costs memory of its own, so use it to find what holds
memory, and the benchmark's VmHWM to say how much.
"""

from __future__ import annotations

import collections
import gc
import linecache
import os
import pathlib
import signal
import sys
import tracemalloc

FRAMES = 12
TOP = 40


def rss_mb() -> float:
    for line in pathlib.Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _site(trace: tracemalloc.Traceback) -> str:
    """The innermost frame, and the innermost two of the operator's and kopf's code above it."""
    newest_first = list(reversed(trace))
    ours = [f for f in newest_first[1:] if "studio_operator" in f.filename or "/kopf/" in f.filename][:2]
    return " <- ".join(f"{f.filename.rsplit('site-packages/', 1)[-1].rsplit('/', 1)[-1]}:{f.lineno} "
                       f"{linecache.getline(f.filename, f.lineno).strip()[:50]}" for f in newest_first[:1] + ours)


def report(snapshot: tracemalloc.Snapshot) -> str:
    by_site: dict[str, list[int]] = {}
    for stat in snapshot.statistics("traceback"):
        entry = by_site.setdefault(_site(stat.traceback), [0, 0])
        entry[0] += stat.size
        entry[1] += stat.count
    total = sum(size for size, _ in by_site.values())
    lines = [f"RSS {rss_mb():.1f} MiB; traced {total / 2**20:.1f} MiB live", ""]
    for site, (size, count) in sorted(by_site.items(), key=lambda kv: -kv[1][0])[:TOP]:
        lines.append(f"{size / 2**20:8.2f} MiB {count:9d} blocks  {site}")
    return "\n".join(lines) + "\n"


def census() -> str:
    sizes: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    for obj in gc.get_objects():
        name = type(obj).__qualname__
        counts[name] += 1
        sizes[name] += sys.getsizeof(obj)
    lines = [f"RSS {rss_mb():.1f} MiB; {sum(counts.values())} objects the collector tracks, "
             f"{sum(sizes.values()) / 2**20:.1f} MiB shallow (strings and numbers inside them are not counted)", ""]
    lines += [f"{size / 2**20:8.2f} MiB {counts[name]:9d}  {name}" for name, size in sizes.most_common(TOP)]
    return "\n".join(lines) + "\n"


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    argv = sys.argv[3:] if sys.argv[2:3] == ["--"] else sys.argv[2:]
    tracing = os.environ.get("BENCH_TRACEMALLOC") == "1"
    if tracing:
        tracemalloc.start(FRAMES)

    def dump(*_: object) -> None:
        out.write_text(report(tracemalloc.take_snapshot()) if tracing else census())

    signal.signal(signal.SIGUSR1, dump)
    from studio_operator.launch import main as operator_main

    operator_main(argv)


if __name__ == "__main__":
    main()
