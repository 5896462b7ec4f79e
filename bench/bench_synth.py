"""Synthetic world generation: wall time and peak memory at 10k, 100k and 1M records.

Each size runs in its own child process so that its peak RSS is its own. Run with
``.venv/bin/python -m bench synth`` (add ``-- --sizes 10000,100000`` for a quicker run).
The worlds are written under bench/work/synth-<size>/ (git-ignored) for other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench.common import WORK, write_results

CHILD = """
import json, resource, sys, time
from pathlib import Path
from athar.synth import generate
out, records, seed = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
t0 = time.perf_counter()
summary = generate(out, records=records, seed=seed)
seconds = time.perf_counter() - t0
usage = resource.getrusage(resource.RUSAGE_SELF)
peak, cpu = usage.ru_maxrss / 1024.0, usage.ru_utime + usage.ru_stime
size = sum(p.stat().st_size for p in out.iterdir()) / 2**20
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_rss_mb": peak, "output_mb": size,
                  "records": summary["records_total"], "persons": summary["persons_total"],
                  "documented": summary["persons_documented"]}))
"""


def run_one(records: int, seed: int) -> dict[str, float]:
    out = WORK / f"synth-{records}"
    if out.exists():
        for p in out.iterdir():
            p.unlink()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), str(records), str(seed)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - t0
    return result


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench synth")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size below 1M (median)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        runs = [run_one(size, args.seed) for _ in range(args.repeat if size < 1_000_000 else 1)]
        runs.sort(key=lambda r: r["seconds"])
        med = runs[len(runs) // 2]
        rows.append(
            {
                "target_records": size,
                "runs": len(runs),
                "all_seconds": [round(r["seconds"], 2) for r in runs],
                **{k: round(v, 2) for k, v in med.items()},
            }
        )
        print(f"{size}: {med['seconds']:.1f} s, peak {med['peak_rss_mb']:.0f} MiB", flush=True)
    lines = [
        "`athar synth OUTDIR --records N` (`generate(records=N)`), each size in a fresh process, "
        "median of the runs listed. Target: 1M records in well under 3 minutes. "
        "The machine has 2 cores shared with other work, so wall times are noisy; CPU s is the "
        "process's user+system time (the generator is single-threaded), a steadier figure.",
        "",
        "| target records | records | persons | on ≥1 list | runs | median wall s | all wall s | CPU s | records/s (wall) | peak RSS MiB | output MiB |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['target_records']:,} | {int(r['records']):,} | {int(r['persons']):,} | "
            f"{int(r['documented']):,} | {r['runs']} | {r['seconds']:.1f} | {r['all_seconds']} | "
            f"{r['cpu_seconds']:.1f} | "
            f"{r['records'] / r['seconds']:,.0f} | {r['peak_rss_mb']:.0f} | {r['output_mb']:.0f} |"
        )
    write_results("synth", {"sizes": rows}, "\n".join(lines))
