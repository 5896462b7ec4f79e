"""Run benchmarks: ``python -m bench all`` or ``python -m bench NAME [NAME ...] [-- ARGS]``.

Each benchmark is a module ``bench/bench_<name>.py`` with ``main(argv: list[str]) -> None``.
Every benchmark runs in its own Python process, so the peak memory it reports is its own,
and writes its results to ``bench/results/<name>.md`` (and ``.json``).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    names = available() if not argv or argv == ["all"] else argv
    unknown = [n for n in names if n not in available()]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(available())}")
        return 2
    failed = []
    for name in names:
        print(f"== bench {name}", flush=True)
        t0 = time.perf_counter()
        rc = subprocess.call(
            [
                sys.executable,
                "-c",
                f"import sys; from bench.bench_{name} import main; main(sys.argv[1:])",
                *extra,
            ],
            cwd=HERE.parent,
        )
        print(f"== bench {name}: exit {rc} after {time.perf_counter() - t0:.1f} s", flush=True)
        if rc != 0:
            failed.append(name)
    if failed:
        print(f"FAILED benchmarks: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
