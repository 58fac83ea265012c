"""Run every ``benchmarks/bench_*.py`` module's ``main()``.

``python -m benchmarks`` runs them all; ``python -m benchmarks samples instruments`` runs the
named ones; arguments after ``--`` are given to each selected module (as its ``sys.argv[1:]``),
e.g. ``python -m benchmarks samples -- --sizes 10000,100000``.
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def discover() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(p.stem for p in here.glob("bench_*.py"))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    passed: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, passed = argv[:cut], argv[cut + 1 :]
    names = discover()
    if argv:
        wanted = {a if a.startswith("bench_") else f"bench_{a}" for a in argv}
        unknown = wanted - set(names)
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}; have: {', '.join(names)}")
            return 2
        names = [n for n in names if n in wanted]
    failures = 0
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        entry = getattr(module, "main", None)
        if entry is None:
            continue
        print(f"== {name}", flush=True)
        saved = sys.argv
        sys.argv = [f"benchmarks/{name}.py", *passed]
        started = time.perf_counter()
        try:
            result = entry()
        except SystemExit as exc:
            result = exc.code
        finally:
            sys.argv = saved
        if result not in (None, 0):
            failures += 1
        print(f"== {name}: {time.perf_counter() - started:.1f} s", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
