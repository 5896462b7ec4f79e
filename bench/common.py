"""Helpers shared by the benchmarks: timing, peak memory, writing results."""

from __future__ import annotations

import json
import platform
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
WORK = Path(__file__).resolve().parent / "work"


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its waited-for children), in MiB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, list[float], Any]:
    """Run ``fn`` ``repeat`` times; return (median seconds, all timings, last result)."""
    times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, result


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_results(name: str, data: dict[str, Any], markdown: str) -> Path:
    """Write ``bench/results/<name>.json`` and ``<name>.md``; return the markdown path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    data = {"benchmark": name, "machine": machine(), **data}
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    md = RESULTS / f"{name}.md"
    md.write_text(
        f"# Benchmark: {name}\n\n_{data['machine']['when']}, {data['machine']['cpus']} CPUs, Python {data['machine']['python']}_\n\n{markdown}\n"
    )
    print(md.read_text())
    return md
