"""Descriptive statistics: the first ``aggregate_figures`` call on the load-bench stores.

What the statistics page and ``/api/v1/stats`` compute once per change of the store (see
``athar.services.figures.overview.registry_overview``): every descriptive count of the persons,
small cells suppressed.  Two code paths, on the same store in the same run:

* ``old``: ``aggregate_figures`` as it was at commit ``BASE`` (read with ``git show`` into
  a temporary module): every current record and status claim read into Python
  (``registry_view``), persons derived one by one and counted (``person.describe``);
* ``new``: the current ``aggregate_figures``: counted in the database by one statement
  (:mod:`athar.store.figures`), with only the sightings of persons with several facility
  records folded in Python.

Each run is a fresh Python process (imports done before the clock starts), so its peak RSS
is its own; the database server's own memory is not in it (PostgreSQL sorts and hashes
within ``work_mem``, spilling to temporary files beyond it).  Reported per path: wall time
of the call, peak RSS of the process and how much the call added to it, CPU time of the
process, median of ``--repeat`` runs (old and new alternate), and the load average before
each run (the machine is shared).  The figures of the two paths are compared: the run fails
if they differ.

The stores are the load benchmark's (``bench/work/athar_bench_load_<N>_postgresql.json``
names the URL); they are only read.

    .venv/bin/python -m bench stats                          # 100k and 1M
    .venv/bin/python -m bench stats -- --records 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics as stats
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

from bench.common import WORK, write_results

#: the last commit with the Python-only aggregate_figures
BASE = "9588fb9"
SMALL_CELL = 5
ROOT = Path(__file__).resolve().parent.parent


#: where the person rules the old module imports live now (``athar.domain.person``)
_MOVED = {
    "from athar.estimate import registry\n": "from athar.domain import person as registry\n",
    "from athar.estimate.registry import ": "from athar.domain.person import ",
}


def _old_module() -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{BASE}:src/athar/services/statistics.py"],  # its path at BASE
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    for old, new in _MOVED.items():
        source = source.replace(old, new)
    module = types.ModuleType("athar_statistics_base")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    exec(compile(source, f"{BASE}:statistics.py", "exec"), module.__dict__)  # noqa: S102
    return module


def child(path: str, url: str) -> None:
    """One measured call, in this process; prints one JSON line."""
    from sqlalchemy import text

    from athar.services.figures import statistics
    from athar.store.engine import make_engine

    fn = _old_module().aggregate_figures if path == "old" else statistics.aggregate_figures
    engine = make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        figures = fn(conn, SMALL_CELL)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    engine.dispose()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(
        json.dumps(
            {"wall_s": wall, "cpu_s": cpu, "rss_mb": rss, "rss_before_mb": rss0, "figures": figures}
        )
    )


def run_once(path: str, url: str) -> dict[str, Any]:
    load = os.getloadavg()[0]
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from bench.bench_stats import child; child(*sys.argv[1:])",
        ]
        + [path, url],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "NUMBA_NUM_THREADS": "1"},
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["load_before"] = load
    return result


def store(n: int) -> dict[str, Any] | None:
    marker = WORK / f"athar_bench_load_{n}_postgresql.json"
    if not marker.exists():
        return None
    data: dict[str, Any] = json.loads(marker.read_text())
    return data


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench stats")
    ap.add_argument("--records", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    results: dict[str, Any] = {"base_commit": BASE, "small_cell": SMALL_CELL, "stores": {}}
    lines = [
        "First `aggregate_figures` call (every descriptive count, small cells suppressed) on the "
        f"load-bench PostgreSQL stores; old = the Python path at `{BASE}`, new = counted in SQL. "
        f"Medians of {args.repeat} runs per path, each in a fresh process, old and new "
        "alternating; `1-min load` is the load average before each run (2 CPUs, shared).",
        "",
        "| records | persons | path | wall s (median) | wall s (runs) | CPU s (client) "
        "| peak RSS MB | RSS added by the call MB | 1-min load | same figures |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    failed = False
    for n in args.records:
        info = store(n)
        if info is None:
            lines.append(f"| {n:,} | | | store not built (no marker file) | | | | | | |")
            continue
        runs: dict[str, list[dict[str, Any]]] = {"old": [], "new": []}
        for _ in range(args.repeat):
            for path in ("old", "new"):
                r = run_once(path, info["url"])
                runs[path].append(r)
                print(f"{n} {path}: {r['wall_s']:.1f} s, {r['rss_mb']:.0f} MB", flush=True)
        reference = runs["old"][0]["figures"]
        same = all(r["figures"] == reference for rs in runs.values() for r in rs)
        failed |= not same
        entry: dict[str, Any] = {"url": info["url"], "same_figures": same}
        for path, rs in runs.items():
            entry[path] = {
                "wall_s": [round(r["wall_s"], 2) for r in rs],
                "cpu_s": [round(r["cpu_s"], 2) for r in rs],
                "peak_rss_mb": [round(r["rss_mb"]) for r in rs],
                "rss_added_mb": [round(r["rss_mb"] - r["rss_before_mb"]) for r in rs],
                "load_before": [round(r["load_before"], 2) for r in rs],
            }
            med = {k: stats.median(v) for k, v in entry[path].items()}
            entry[path]["median"] = med
            lines.append(
                f"| {n:,} | {reference['persons']:,} | {path} | {med['wall_s']:.1f} | "
                f"{', '.join(f'{w:.1f}' for w in entry[path]['wall_s'])} | {med['cpu_s']:.1f} | "
                f"{med['peak_rss_mb']:.0f} | {med['rss_added_mb']:.0f} | "
                f"{', '.join(f'{x:.1f}' for x in entry[path]['load_before'])} | {same} |"
            )
        entry["speedup_median_wall"] = round(
            entry["old"]["median"]["wall_s"] / entry["new"]["median"]["wall_s"], 1
        )
        results["stores"][str(n)] = entry
    write_results("stats", results, "\n".join(lines))
    if failed:
        raise SystemExit("the old and new paths gave different figures")
