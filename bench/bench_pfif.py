"""PFIF throughput: export N persons as PFIF 1.4, import them into an empty store; peak memory.

A synthetic interchange CSV of N records (seeded; names, dates, statuses; no real person) is
imported into a fresh SQLite store (not timed).  Then, each in its own child process so the
peak RSS is its own: ``export_pfif`` of every record (scope ``partners``, every source named),
and ``import_file`` of that PFIF file into a second fresh store (the source authorised to
assert deaths, so every note becomes a claim).  Memory should not grow with N: the reader
streams (``iterparse``, each person dropped once read) and the writer writes element by element;
compare the peak RSS across sizes.

    .venv/bin/python -m bench pfif                           # 100k persons (the target)
    .venv/bin/python -m bench pfif -- --sizes 5000 20000     # a quick check
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import WORK, write_results

STATUSES = ["missing", "detained", "released", "deceased", "مختفي قسريا"]
GIVEN = ["Omar", "Rana", "Samir", "Huda", "محمد", "فاطمة", "Karim", "Lina"]
FAMILY = ["Example", "Sample", "Testing", "الحلبي", "المثال"]

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from athar.services.actor import Actor
from athar.store.engine import make_engine
phase, url, path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
engine = make_engine(url)
t0 = time.perf_counter()
if phase == "export":
    from athar.services.sharing.export_pfif import export_pfif
    r = export_pfif(engine, path, scope="partners", recipient="bench", actor=Actor("bench"), family_domain="bench.athar.example",
                    all_sources=True)
    n = r.rows
else:
    from athar.services.registry.importer import ImportOptions, import_file
    from athar.services.registry.pfif_sources import set_death_authorised
    set_death_authorised(engine, "bench.example", True, actor=Actor("bench"), reason="bench")
    r = import_file(engine, path, ImportOptions(actor=Actor("bench")))
    assert r.outcome == "stored", (r.outcome, r.message)
    n = r.rows_new
secs = time.perf_counter() - t0
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"phase": phase, "n": n, "seconds": secs, "peak_rss_mb": rss}))
"""


def make_csv(path: Path, n: int) -> None:
    rnd = random.Random(7)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            [
                "source",
                "record_id",
                "given_name",
                "family_name",
                "sex",
                "birth_date",
                "age",
                "arrest_date",
                "facility",
                "status",
            ]
        )
        for i in range(n):
            w.writerow(
                [
                    "bench.example",
                    f"R-{i}",
                    rnd.choice(GIVEN),
                    rnd.choice(FAMILY),
                    rnd.choice("MF"),
                    str(rnd.randint(1950, 2000)),
                    "",
                    f"{rnd.randint(2011, 2020)}-{rnd.randint(1, 12):02d}",
                    "Saydnaya Prison",
                    rnd.choice(STATUSES),
                ]
            )


def store(path: Path) -> str:
    from athar.store.engine import make_engine
    from athar.store.migrate import upgrade

    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def child(phase: str, url: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, phase, url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench pfif")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    args = ap.parse_args(argv)
    from athar.services.actor import Actor
    from athar.services.registry.importer import ImportOptions, import_file
    from athar.store.engine import make_engine

    work = WORK / "pfif"
    work.mkdir(parents=True, exist_ok=True)
    runs = []
    for n in args.sizes:
        src = work / f"list-{n}.csv"
        make_csv(src, n)
        url_a = store(work / f"a-{n}.db")
        engine = make_engine(url_a)
        assert import_file(engine, src, ImportOptions(actor=Actor("bench"))).outcome == "stored"
        engine.dispose()
        xml = work / f"out-{n}.xml"
        exp = child("export", url_a, xml)
        imp = child("import", store(work / f"b-{n}.db"), xml)
        runs.append(
            {"persons": n, "xml_mb": xml.stat().st_size / 2**20, "export": exp, "import": imp}
        )
    lines = [
        "| persons | XML MiB | export s | export /s | export peak MiB | import s | "
        "import /s | import peak MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        e, i = r["export"], r["import"]
        lines.append(
            f"| {r['persons']} | {r['xml_mb']:.1f} | {e['seconds']:.1f} | "
            f"{r['persons'] / e['seconds']:.0f} | {e['peak_rss_mb']:.0f} | {i['seconds']:.1f} | "
            f"{r['persons'] / i['seconds']:.0f} | {i['peak_rss_mb']:.0f} |"
        )
    cmd = "python -m bench pfif -- --sizes " + " ".join(map(str, args.sizes))
    write_results(
        "pfif",
        {"runs": runs, "command": cmd},
        "\n".join(lines) + f"\n\nSQLite stores. Command: `{cmd}`.\n",
    )
