"""Import throughput into SQLite and PostgreSQL at 100k and 1M interchange records.

The input is a synthetic world written by ``athar.synth.generate(records=N, seed=7)`` under
``bench/work/import-world-<N>/`` (generated once, reused; git-ignored).  Every list file
(``<source>.csv``; not truth/persons/contacts) is imported with the real import service,
each file one batch, into a fresh database that was migrated first (migration not timed).

Each run is its own child process, so the peak RSS it reports is its own.  Besides the
wall time (the target), each run reports the process CPU time, because the 2-core machine
is shared with other work and wall time depends on how busy it is.  As a baseline, the same
child first reads every file with ``csv.reader`` alone (same process, same files), and the
import time is quoted as a ratio to it.

    .venv/bin/python -m bench import                          # 100k x3 and 1M x1, both stores
    .venv/bin/python -m bench import -- --sizes 100000 --repeat 1 --backends sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from bench.common import WORK, write_results

NOT_LISTS = {"truth.csv", "persons.csv", "contacts.csv"}
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

CHILD = r"""
import csv, json, resource, sys, time
from pathlib import Path
from athar.services.actor import Actor
from athar.services.registry.importer import ImportOptions, import_file
from athar.store import migrate
from athar.store.engine import make_engine

url, files = sys.argv[1], [Path(p) for p in sys.argv[2:]]
engine = make_engine(url)
migrate.upgrade(engine)
rss_ready = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

t0 = time.perf_counter()
n = 0
for f in files:
    with open(f, encoding="utf-8", newline="") as fh:
        for _ in csv.reader(fh):
            n += 1
read_s = time.perf_counter() - t0

c0, t0 = time.process_time(), time.perf_counter()
out = {"rows": 0, "stored": 0, "quarantined": 0, "exit_codes": []}
for f in files:
    r = import_file(engine, f, ImportOptions(actor=Actor("bench")))
    out["rows"] += r.rows_total
    out["stored"] += r.rows_new + r.rows_new_version
    out["quarantined"] += r.rows_quarantined
    out["exit_codes"].append(r.exit_code)
out["seconds"] = time.perf_counter() - t0
out["cpu_seconds"] = time.process_time() - c0
out["csv_read_seconds"] = read_s
out["rss_ready_mb"] = rss_ready
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
engine.dispose()
print(json.dumps(out))
"""


def world(records: int) -> list[Path]:
    out = WORK / f"import-world-{records}"
    if not (out / "world.json").exists():
        from athar.synth import generate

        print(f"generating a synthetic world of {records} records in {out} ...", flush=True)
        t0 = time.perf_counter()
        generate(out, records=records, seed=7)
        print(f"  done in {time.perf_counter() - t0:.0f} s", flush=True)
    return sorted(p for p in out.glob("*.csv") if p.name not in NOT_LISTS)


def fresh_db(backend: str) -> tuple[str, Any]:
    if backend == "sqlite":
        path = WORK / f"import-bench-{uuid.uuid4().hex[:8]}.db"

        def drop() -> None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        return f"sqlite:///{path}", drop
    from sqlalchemy import create_engine

    name = f"athar_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop_pg() -> None:
        with admin.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}", drop_pg


def run_one(backend: str, files: list[Path]) -> dict[str, Any]:
    url, drop = fresh_db(backend)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, url, *map(str, files)],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"import child failed:\n{proc.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        drop()
    return result


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench import")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size below 1M (median)")
    args = ap.parse_args(argv)
    load_start = os.getloadavg()
    WORK.mkdir(parents=True, exist_ok=True)
    table = []
    for size in (int(s) for s in args.sizes.split(",")):
        files = world(size)
        for backend in args.backends.split(","):
            runs = []
            for _ in range(args.repeat if size < 1_000_000 else 1):
                r = run_one(backend, files)
                runs.append(r)
                print(
                    f"{backend} {size}: {r['rows']} rows in {r['seconds']:.1f} s "
                    f"(cpu {r['cpu_seconds']:.1f} s), {r['rows'] / r['seconds']:.0f} rows/s, "
                    f"peak {r['peak_rss_mb']:.0f} MiB",
                    flush=True,
                )
            runs.sort(key=lambda r: r["seconds"])
            med = runs[len(runs) // 2]
            table.append(
                {
                    "backend": backend,
                    "target_records": size,
                    "files": len(files),
                    "runs": len(runs),
                    "all_seconds": [round(r["seconds"], 1) for r in runs],
                    "median_seconds": round(statistics.median(r["seconds"] for r in runs), 1),
                    "rows": med["rows"],
                    "stored": med["stored"],
                    "quarantined": med["quarantined"],
                    "rows_per_s": round(med["rows"] / med["seconds"]),
                    "cpu_seconds": round(med["cpu_seconds"], 1),
                    "rows_per_cpu_s": round(med["rows"] / med["cpu_seconds"]),
                    "csv_read_seconds": round(med["csv_read_seconds"], 2),
                    "ratio_to_csv_read": round(med["seconds"] / med["csv_read_seconds"], 1),
                    "rss_ready_mb": round(med["rss_ready_mb"]),
                    "peak_rss_mb": round(med["peak_rss_mb"]),
                }
            )
    lines = [
        "`import_file` over every list of a synthetic world (`athar.synth`, seed 7), each file",
        "one batch, into a fresh migrated database; one child process per run (its own peak",
        "RSS). Target: 1M interchange records in under 120 s wall time, memory not growing",
        "with file size. Load average of the 2-core machine (1 min) at the start and the end",
        f"of this run: {load_start[0]:.1f} and {os.getloadavg()[0]:.1f}; wall times depend on it,",
        "so CPU seconds of the importing process are given beside them.",
        "Baseline: reading the same files with `csv.reader` alone, in the same process.",
        "",
        "| store | records | runs | median s (all) | rows/s | CPU s | rows/CPU-s | × csv read | stored | quarantined | RSS before MiB | peak RSS MiB |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in table:
        lines.append(
            f"| {t['backend']} | {t['rows']} | {t['runs']} | {t['median_seconds']} "
            f"({', '.join(map(str, t['all_seconds']))}) | {t['rows_per_s']} | {t['cpu_seconds']} "
            f"| {t['rows_per_cpu_s']} | {t['ratio_to_csv_read']} | {t['stored']} "
            f"| {t['quarantined']} | {t['rss_ready_mb']} | {t['peak_rss_mb']} |"
        )
    write_results("import", {"results": table}, "\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1:])
