"""Generate a synthetic world: a population, the lists that document it, and the truth.

``generate(outdir, persons=N, seed=S)`` writes (see docs/synthetic-world.md):

- ``<source>.csv`` for each of :data:`~athar.synth.population.SOURCES`: interchange CSV;
- ``truth.csv``: ``source,record_id,person_id`` for every record of every list;
- ``persons.csv``: the whole true population, including persons on no list;
- ``contacts.csv``: the relatives who filed the ``family`` tracing requests;
- ``world.json``: seed, parameters and counts.

The output is a pure function of the parameters and the seed: byte-identical on every run.
Persons are generated with vectorised numpy, then rendered and written chunk by chunk, so
memory stays modest at a million records.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import numpy as np

from athar.errors import InvalidInput
from athar.progress import SILENT, Progress
from athar.synth import population as popmod
from athar.synth.population import FATES, SOURCES, Population
from athar.synth.render import (
    COLUMNS,
    CONTACT_COLUMNS,
    FAMILY,
    FATHER,
    FULL,
    GIVEN,
    GRAND,
    RECORD_ID,
    SOURCE,
    PersonView,
    Renderer,
    iso,
)
from athar.synth.tables import Tables, load

GENERATOR_VERSION = 1
PILOT_PERSONS = 20_000
PERSON_COLUMNS = (
    "person_id",
    "sex",
    "birth_date",
    "governorate",
    "arrest_date",
    "arrest_place",
    "first_facility",
    "facility",
    "fate",
    "fate_date",
    "on_lists",
    "sibling_of",
    "given_name",
    "father_name",
    "grandfather_name",
    "family_name",
    "mother_name",
)
ID_PREFIX = {"ngo_ar": "A-", "ngo_en": "E-", "registry": "R-", "released": "X-", "morgue": "M-"}


class SynthError(ValueError, InvalidInput):
    """Parameters the generator cannot honour."""

    code = "synth_parameters_invalid"


def persons_for_records(records: int, seed: int, tables: Tables | None = None) -> int:
    """How many persons make about ``records`` records in all (measured on a pilot draw)."""
    t = tables or load()
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, 7])))
    pilot = popmod.sample(PILOT_PERSONS, rng, t)
    per_person = sum(int(c.sum()) for c in pilot.counts.values()) / PILOT_PERSONS
    return max(1, round(records / per_person))


def person_id(i: int) -> str:
    return f"P{i + 1:07d}"


def generate(
    outdir: Path,
    persons: int | None = None,
    seed: int = 1,
    records: int | None = None,
    chunk: int = 50_000,
    progress: Progress = SILENT,
) -> dict[str, Any]:
    """Write a synthetic world to ``outdir``; return the summary also written to world.json.

    Give exactly one of ``persons`` (population size) or ``records`` (approximate total number
    of records; the population size is measured on a pilot draw). ``chunk`` persons are
    rendered at a time; the population does not depend on it, the record files do (row order
    and spelling draws), so keep the default for reproducible files.
    """
    if (persons is None) == (records is None):
        raise SynthError("give exactly one of persons or records")
    if persons is not None and persons < 1:
        raise SynthError(f"persons must be at least 1, got {persons}")
    if records is not None and records < 1:
        raise SynthError(f"records must be at least 1, got {records}")
    if seed < 0:
        raise SynthError(f"seed must be zero or positive, got {seed}")
    t = load()
    n = persons if persons is not None else persons_for_records(int(records or 0), seed, t)
    ss = np.random.SeedSequence(seed)
    pop_ss, id_ss, render_ss = ss.spawn(3)
    progress.phase(f"drawing a population of {n:,} persons")
    pop = popmod.sample(n, np.random.Generator(np.random.PCG64(pop_ss)), t)

    totals = {s: int(pop.counts[s].sum()) for s in SOURCES}
    id_rng = np.random.Generator(np.random.PCG64(id_ss))
    numbers = {s: (id_rng.permutation(totals[s]) + 1).tolist() for s in SOURCES}
    next_id = dict.fromkeys(SOURCES, 0)
    # one random stream per source: a change in how one list is written leaves the others alone
    renderers = {
        src: Renderer(t, pop, random.Random(int(ss_src.generate_state(1, np.uint64)[0])))
        for src, ss_src in zip(SOURCES, render_ss.spawn(len(SOURCES)), strict=True)
    }
    renderer = renderers[SOURCES[0]]  # for person views only (no randomness)

    outdir.mkdir(parents=True, exist_ok=True)
    files = {s: (outdir / f"{s}.csv").open("w", encoding="utf-8", newline="") for s in SOURCES}
    extra = {
        name: (outdir / f"{name}.csv").open("w", encoding="utf-8", newline="")
        for name in ("truth", "contacts", "persons")
    }
    unnamed = dict.fromkeys(SOURCES, 0)
    try:
        writers = {s: csv.writer(f, lineterminator="\n") for s, f in files.items()}
        truth = csv.writer(extra["truth"], lineterminator="\n")
        contacts = csv.writer(extra["contacts"], lineterminator="\n")
        people = csv.writer(extra["persons"], lineterminator="\n")
        for w in writers.values():
            w.writerow(COLUMNS)
        truth.writerow(("source", "record_id", "person_id"))
        contacts.writerow(CONTACT_COLUMNS)
        people.writerow(PERSON_COLUMNS)
        on_lists = _on_lists(pop)
        progress.phase("writing the lists", n, "persons")

        for lo in range(0, n, chunk):
            hi = min(n, lo + chunk)
            for src in SOURCES:
                counts = pop.counts[src]
                idx = np.nonzero(counts[lo:hi])[0] + lo
                rend = renderers[src]
                rng = rend.rng
                render = getattr(rend, src)
                bundles: list[tuple[list[str], int, list[str] | None]] = []
                for v in renderer.views(idx):
                    for k in range(int(counts[v.idx])):
                        out = render(v, k)
                        if src == "family":
                            row, contact = out
                            row[RECORD_ID] = str(_filing_year(v, rng))
                            bundles.append((row, v.idx, contact))
                        else:
                            bundles.append((out, v.idx, None))
                rng.shuffle(bundles)
                for row, pidx, contact in bundles:
                    number = numbers[src][next_id[src]]
                    next_id[src] += 1
                    if src == "family":
                        rid = f"T-{row[RECORD_ID]}-{number:06d}"
                    else:
                        rid = f"{ID_PREFIX[src]}{number}"
                    row[SOURCE], row[RECORD_ID] = src, rid
                    if not (row[FULL] or row[GIVEN] or row[FATHER] or row[GRAND] or row[FAMILY]):
                        unnamed[src] += 1
                    writers[src].writerow(row)
                    truth.writerow((src, rid, person_id(pidx)))
                    if contact is not None:
                        contact[0], contact[1] = src, rid
                        contacts.writerow(contact)
            _write_persons(people, renderer.views(np.arange(lo, hi)), on_lists, pop.sibling_of)
            progress.update(hi)
    finally:
        for f in (*files.values(), *extra.values()):
            f.close()

    summary = _summary(pop, seed, persons, records, totals, unnamed, on_lists)
    (outdir / "world.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
    )
    return summary


def _filing_year(v: PersonView, rng: random.Random) -> int:
    return max(v.arrest[0], 2013 + int(rng.random() * 13))  # 2013..2025


def _on_lists(pop: Population) -> list[str]:
    names = np.array(SOURCES)
    present = np.stack([pop.counts[s] > 0 for s in SOURCES], axis=1)
    out: list[str] = []
    for row in present:
        out.append(";".join(names[row].tolist()))
    return out


def _write_persons(
    w: Any, views: list[PersonView], on_lists: list[str], sibling_of: np.ndarray
) -> None:
    for v in views:
        sib = int(sibling_of[v.idx])
        w.writerow(
            (
                person_id(v.idx),
                "F" if v.sex else "M",
                iso(v.birth_day),
                v.gov.code,
                iso(v.arrest_day),
                v.town.lat[0],
                v.first_fac.code,
                v.fac.code,
                FATES[v.fate],
                iso(v.fate_day) if v.fate_day >= 0 else "",
                on_lists[v.idx],
                "" if sib < 0 else person_id(sib),
                v.given.ar,
                v.father.ar,
                v.grandfather.ar,
                v.family.ar,
                f"{v.mother.ar} {v.mother_family.ar}",
            )
        )


def _summary(
    pop: Population,
    seed: int,
    persons: int | None,
    records: int | None,
    totals: dict[str, int],
    unnamed: dict[str, int],
    on_lists: list[str],
) -> dict[str, Any]:
    distinct = {s: int((pop.counts[s] > 0).sum()) for s in SOURCES}
    patterns: dict[str, int] = {}
    for lists in on_lists:
        if lists:
            patterns[lists] = patterns.get(lists, 0) + 1
    documented = sum(patterns.values())
    return {
        "generator": "athar.synth",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "parameters": {"persons": persons, "records": records},
        "sources": list(SOURCES),
        "persons_total": pop.n,
        "persons_documented": documented,
        "persons_on_no_list": pop.n - documented,
        "persons_by_fate": {f: int((pop.fate == i).sum()) for i, f in enumerate(FATES)},
        "records_total": sum(totals.values()),
        "records_per_source": totals,
        "persons_per_source": distinct,
        "duplicates_per_source": {s: totals[s] - distinct[s] for s in SOURCES},
        "unnamed_records_per_source": unnamed,
        "family_contacts": totals["family"],
        "siblings_in_population": int((pop.sibling_of >= 0).sum()),
        "overlap_patterns": dict(sorted(patterns.items())),
    }
