"""Exports: time of a partner export and a research extract, and what suppression costs.

The store is a synthetic world (``athar.synth.generate(records=N, seed=7)``, reused from
``bench/work/import-world-<N>/`` when the import benchmark made it) imported into SQLite with
the real import service, except its ``family`` list: every row of that list (up to
``--requests``) is filed instead as a tracing request through the intake service
(``validate_intake`` + ``submit_request``), with a synthetic requester, phone and account, and
consent cycling through none / partners / partners+research / humanitarian+research.  No link
run is made, so the extract's ``person`` column is empty.

Measured, on that store, with the real code path (the services behind ``athar export``):

* ``export_partner`` (scope ``partners``, every source named), CSV;
* ``export_research`` with ``k=5`` (the default ``ATHAR_SMALL_CELL``), CSV, dates by month and
  by year, and XLSX by month;
* for each research extract: rows, and the share of known values of each quasi-identifier
  that small-cell suppression replaced by ``*``; rows with every quasi-identifier suppressed.

Times are medians of ``--repeat`` runs; the load average before and after is recorded, since
the machine is shared.

    .venv/bin/python -m bench export                        # 10k and 100k records
    .venv/bin/python -m bench export -- --sizes 10000 --repeat 3
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import time
from pathlib import Path
from typing import Any

from bench.common import WORK, peak_rss_mb, timed, write_results

NOT_LISTS = {"truth.csv", "persons.csv", "contacts.csv", "family.csv"}
CONSENTS = ([], ["partners"], ["partners", "research"], ["humanitarian", "research"])
#: the columns a study of detention (who, where from, when, where held, what became of them)
DETENTION = ["sex", "arrest_governorate", "arrest_period", "facility", "status"]


def world(n: int) -> Path:
    from athar.synth import generate

    for candidate in (WORK / f"import-world-{n}", WORK / f"export-world-{n}"):
        if (candidate / "world.json").exists():
            return candidate
    out = WORK / f"export-world-{n}"
    generate(out, records=n, seed=7)
    return out


def prepare(n: int, max_requests: int) -> tuple[str, dict[str, Any]]:

    from athar.security import crypto
    from athar.security.keys import KeyRing
    from athar.services.actor import PUBLIC, Actor
    from athar.services.casework.tracing import submit_request
    from athar.services.casework.tracing_intake import validate_intake
    from athar.services.registry.importer import ImportOptions, import_file
    from athar.store.engine import make_engine
    from athar.store.migrate import upgrade

    crypto.configure(KeyRing.generate("kbench"))
    src = world(n)
    work = WORK / f"export-{n}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = f"sqlite:///{work / 'athar.db'}"
    engine = make_engine(url)
    upgrade(engine)
    imported = 0
    for f in sorted(src.glob("*.csv")):
        if f.name not in NOT_LISTS:
            imported += import_file(engine, f, ImportOptions(actor=Actor("bench"))).rows_new
    filed = 0
    t0 = time.perf_counter()
    with open(src / "family.csv", encoding="utf-8", newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i >= max_requests:
                break
            raw: dict[str, Any] = {k: v for k, v in row.items() if v and k != "status"}
            if raw.get("sex") not in ("M", "F"):
                raw.pop("sex", None)
            raw.update(
                requester_name=f"Synthetic Relative {i}",
                relationship="relative",
                contact_phone=f"+963 944 {i:06d}",
                circumstances=row.get("notes") or "synthetic account",
            )
            try:
                intake = validate_intake(raw, CONSENTS[i % 4], None, photo_max_bytes=1)
            except ValueError:
                continue  # a generated row the public form would refuse (e.g. no name)
            submit_request(engine, actor=PUBLIC, intake=intake, language="ar")
            filed += 1
    engine.dispose()
    return url, {
        "records_imported": imported,
        "requests_filed": filed,
        "requests_seconds": round(time.perf_counter() - t0, 1),
    }


def suppression(path: Path) -> dict[str, Any]:
    from athar.services.sharing.export_research import QUASI_IDENTIFIERS, SUPPRESSED

    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = [c for c in QUASI_IDENTIFIERS if rows and c in rows[0]]
    share: dict[str, float] = {}
    for c in columns:
        known = [r[c] for r in rows if r[c] != ""]
        share[c] = round(sum(v == SUPPRESSED for v in known) / len(known), 3) if known else 0.0
    all_cut = sum(all(r[c] == SUPPRESSED for c in columns) for r in rows)
    return {
        "rows": len(rows),
        "suppressed_share": share,
        "rows_fully_suppressed": round(all_cut / len(rows), 3) if rows else 0.0,
    }


def run_size(n: int, repeat: int, max_requests: int) -> dict[str, Any]:
    from athar.services.actor import Actor
    from athar.services.sharing.export_partner import export_partner
    from athar.services.sharing.export_research import export_research
    from athar.store.engine import make_engine

    load_before = os.getloadavg()
    url, setup = prepare(n, max_requests)
    engine = make_engine(url)
    out = WORK / f"export-{n}"
    result: dict[str, Any] = {"records": n, **setup}
    try:
        med, times, rep = timed(
            lambda: export_partner(
                engine,
                out / "partner.csv",
                scope="partners",
                recipient="bench",
                actor=Actor("bench"),
                all_sources=True,
            ),
            repeat,
        )
        result["partner_csv"] = {
            "median_s": round(med, 2),
            "runs_s": [round(t, 2) for t in times],
            "rows": rep.rows,
            "family_rows": rep.family_rows,
            "family_withheld": rep.family_withheld,
        }
        for label, name, dates, columns in (
            ("research_csv_month", "research-month.csv", "month", None),
            ("research_csv_year", "research-year.csv", "year", None),
            ("research_xlsx_month", "research-month.xlsx", "month", None),
            ("research_csv_detention", "research-detention.csv", "year", DETENTION),
        ):
            path = out / name
            med, times, rep = timed(
                lambda p=path, d=dates, c=columns: export_research(
                    engine, p, actor=Actor("bench"), all_sources=True, dates=d, k=5, columns=c
                ),
                repeat,
            )
            result[label] = {"median_s": round(med, 2), "runs_s": [round(t, 2) for t in times]}
            result[label]["rows"] = rep.rows
            if path.suffix == ".csv":
                result[label].update(suppression(path))
    finally:
        engine.dispose()
    result["peak_rss_mib"] = round(peak_rss_mb(), 1)
    result["load_before"] = [round(x, 2) for x in load_before]
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def markdown(results: list[dict[str, Any]], command: str) -> str:
    lines = [
        f"Command: `{command}`",
        "",
        "| records | requests filed | partner CSV rows | partner CSV s | research CSV (month) s "
        "| research CSV (year) s | research XLSX s | peak RSS MiB | load before → after |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['records']:,} | {r['requests_filed']:,} | {r['partner_csv']['rows']:,} "
            f"| {r['partner_csv']['median_s']} | {r['research_csv_month']['median_s']} "
            f"| {r['research_csv_year']['median_s']} | {r['research_xlsx_month']['median_s']} "
            f"| {r['peak_rss_mib']} | {r['load_before'][0]} → {r['load_after'][0]} |"
        )
    lines += ["", "Small-cell suppression at k = 5 (share of known values replaced by `*`):", ""]
    from athar.services.sharing.export_research import QUASI_IDENTIFIERS

    lines.append("| records | dates | rows | " + " | ".join(QUASI_IDENTIFIERS) + " | all cut |")
    lines.append("|---:|---|---:|" + "---:|" * (len(QUASI_IDENTIFIERS) + 1))
    for r in results:
        for label, dates in (
            ("research_csv_month", "month"),
            ("research_csv_year", "year"),
            ("research_csv_detention", "year, 5 columns"),
        ):
            s = r[label]
            cells = " | ".join(
                f"{s['suppressed_share'][c]:.0%}" if c in s["suppressed_share"] else "–"
                for c in QUASI_IDENTIFIERS
            )
            lines.append(
                f"| {r['records']:,} | {dates} | {s['rows']:,} | {cells} "
                f"| {s['rows_fully_suppressed']:.0%} |"
            )
    lines += [
        "",
        f"The last row carries only the columns of a detention study ({', '.join(DETENTION)}; "
        "`--columns`); `–` marks a column not in that extract. "
        "Partner export: family rows are the requests whose consent includes `partners`; the "
        "others are withheld (see the JSON). Times are medians; runs are in the JSON.",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench export")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="at most this many requests")
    args = parser.parse_args(argv)
    results = [run_size(n, args.repeat, args.requests) for n in args.sizes]
    command = (
        ".venv/bin/python -m bench export -- " + " ".join(argv)
        if argv
        else (".venv/bin/python -m bench export")
    )
    write_results("export", {"results": results}, markdown(results, command))
