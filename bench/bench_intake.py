"""Candidates at intake: seconds from a tracing request's registration to its candidates.

The target (issue 14): candidates within 10 s of intake on a 1M-record store, p95 over 20
intakes.  The store is a synthetic world of ``--persons`` persons (about six records each
across the lists), imported and linked once (a full ``athar link`` run); then ``--intakes``
tracing requests, each naming a person one of the NGO lists holds, are registered one after
another through the service the public form calls, while the job worker that ``athar serve``
runs takes their ``score_subject`` jobs.  Measured per intake: from the call that registers it
to the job's end, read from the store (what the request page shows).

    .venv/bin/python -m bench intake -- --persons 300 --intakes 5          # a quick check
    .venv/bin/python -m bench intake -- --persons 170000 --intakes 20 --write   # ~1M records
    (add --url postgresql+psycopg://... for PostgreSQL; the database must be empty)
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import machine, write_results


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench intake")
    ap.add_argument("--persons", type=int, default=300)
    ap.add_argument("--intakes", type=int, default=20)
    ap.add_argument("--url", help="an empty database (default: a new SQLite file)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--write", action="store_true", help="write bench/results/intake.md")
    args = ap.parse_args(argv)

    from click.testing import CliRunner
    from sqlalchemy.orm import Session

    from athar.cli import main as cli
    from athar.security.crypto import KeyRing, configure
    from athar.services import jobs
    from athar.services.actor import PUBLIC, Actor
    from athar.services.casework import tracing, tracing_intake
    from athar.services.linking import runs
    from athar.services.registry.importer import ImportOptions, import_file
    from athar.services.worker import worker
    from athar.store import migrate
    from athar.store.engine import make_engine

    configure(KeyRing.generate("bench"))
    work = Path(tempfile.mkdtemp(prefix="athar-bench-intake-"))
    url = args.url or f"sqlite:///{work / 'athar.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    world = work / "world"
    r = CliRunner().invoke(
        cli,
        ["synth", str(world), "--persons", str(args.persons), "--seed", str(args.seed), "--quiet"],
    )
    assert r.exit_code == 0, r.output
    t0 = time.perf_counter()
    for source in ("registry", "ngo_ar", "ngo_en", "released", "morgue"):
        path = world / f"{source}.csv"
        if path.exists():
            import_file(engine, path, ImportOptions(actor=Actor("bench")))
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    full = runs.link_store(engine, actor=Actor("bench"))
    link_s = time.perf_counter() - t0
    with (world / "ngo_en.csv").open(encoding="utf-8") as fh:
        known = [row for row, _ in zip(csv.DictReader(fh), range(args.intakes), strict=False)]
    w = worker(engine, poll_seconds=0.1).start()
    seconds: list[float] = []
    counts: list[Any] = []
    try:
        for row in known:
            raw = {
                "requester_name": "Bench Family",
                "relationship": "sibling",
                "contact_phone": "+963 944 000 000",
                **{
                    k: row[k] or None
                    for k in (
                        "full_name",
                        "given_name",
                        "father_name",
                        "family_name",
                        "mother_name",
                    )
                },
                "birth_date": row["birth_date"] or None,
            }
            intake = tracing_intake.validate_intake(raw, [], None, photo_max_bytes=1)
            started = time.perf_counter()
            stored = tracing.submit_request(engine, actor=PUBLIC, intake=intake, language="en")
            w.wake()
            subject = f"family:{stored.reference}"
            while True:
                with Session(engine) as db:
                    job = jobs.latest_for(db, subject)
                if job is not None and job.done:
                    break
                time.sleep(0.05)
            seconds.append(time.perf_counter() - started)
            counts.append((job.state, (job.result or {}).get("candidates"), job.message))
    finally:
        w.stop()
        engine.dispose()
    ordered = sorted(seconds)
    p95 = ordered[max(0, int(round(0.95 * len(ordered))) - 1)]
    data = {
        "persons": args.persons,
        "records": full["records"],
        "backend": engine.dialect.name,
        "intakes": len(seconds),
        "seconds": seconds,
        "p50_s": statistics.median(seconds),
        "p95_s": p95,
        "jobs": counts,
        "load_s": load_s,
        "full_link_s": link_s,
        "machine": machine(),
    }
    line = (
        f"{engine.dialect.name}, {full['records']} records: intake to candidates "
        f"p50 {data['p50_s']:.2f} s, p95 {p95:.2f} s over {len(seconds)} intakes "
        f"(states: {sorted({c[0] for c in counts})})"
    )
    print(line)
    if args.write:
        write_results(
            "intake",
            data,
            "# Intake to candidates\n\n"
            + line
            + "\n\nCommand: `python -m bench intake -- "
            + " ".join(argv)
            + "`\n",
        )
