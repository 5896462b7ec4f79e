"""Genotype profiles from laboratory CSV exports in the long layout.

One row per sample and marker: sample label (the barcode on the tube), marker, allele 1,
allele 2 (GeneMapper-style exports leave allele 2 empty for a homozygote, or repeat allele 1).
Comma-, semicolon- or tab-separated; header names are matched without regard to case, spaces
or underscores.  Every problem is reported with its row and column; rows with problems are
left out of the profiles.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass

from athar.dna.frequencies import is_allele_label

SAMPLE_HEADERS = ("samplename", "sample", "samplelabel", "label", "barcode", "sampleid")
MARKER_HEADERS = ("marker", "locus", "markername")
ALLELE1_HEADERS = ("allele1", "a1")
ALLELE2_HEADERS = ("allele2", "a2")

#: sample label -> marker -> (allele, allele)
Profiles = dict[str, dict[str, tuple[str, str]]]


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based line number in the file (the header is row 1)
    column: str
    message: str


def _key(s: str) -> str:
    return re.sub(r"[\s_\-]", "", s).lower()


def marker_key(name: str) -> str:
    """Marker names compared without case, spaces, underscores or hyphens (Penta D = PENTA_D)."""
    return _key(name)


def parse_profiles(text: str, markers: Iterable[str]) -> tuple[Profiles, list[RowProblem]]:
    """Parse a long-layout genotype CSV; ``markers`` are the known marker names (a frequency
    table's), used to recognise and canonicalise marker names."""
    known = {marker_key(m): m for m in markers}
    text = text.removeprefix("\ufeff")
    lines = text.splitlines()
    problems: list[RowProblem] = []
    profiles: Profiles = {}
    if not lines or not lines[0].strip():
        return profiles, [RowProblem(1, "", "the file is empty; expected a header line")]
    first = lines[0]
    delimiter = "\t" if "\t" in first else (";" if first.count(";") > first.count(",") else ",")
    rows = list(csv.reader(lines, delimiter=delimiter))
    header = [_key(h) for h in rows[0]]

    def find(names: tuple[str, ...]) -> int:
        for name in names:
            if name in header:
                return header.index(name)
        return -1

    cols = {
        "sample": find(SAMPLE_HEADERS),
        "marker": find(MARKER_HEADERS),
        "allele 1": find(ALLELE1_HEADERS),
        "allele 2": find(ALLELE2_HEADERS),
    }
    absent = [name for name, i in cols.items() if i < 0]
    if absent:
        return profiles, [
            RowProblem(1, name, f"no '{name}' column in the header {rows[0]}") for name in absent
        ]
    extra = [i for i, h in enumerate(header) if re.fullmatch(r"allele\d+", h) and int(h[6:]) > 2]
    seen: dict[tuple[str, str], int] = {}
    for rowno, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue

        def cell(i: int, row: list[str] = row) -> str:
            return row[i].strip() if i < len(row) else ""

        sample = cell(cols["sample"])
        marker_raw = cell(cols["marker"])
        a1, a2 = cell(cols["allele 1"]), cell(cols["allele 2"])
        bad = False
        if not sample:
            problems.append(RowProblem(rowno, "sample", "empty sample label"))
            bad = True
        marker = known.get(marker_key(marker_raw))
        if marker is None:
            problems.append(RowProblem(rowno, "marker", f"unknown marker {marker_raw!r}"))
            bad = True
        more = [cell(i) for i in extra if cell(i)]
        if more:
            problems.append(
                RowProblem(
                    rowno,
                    "alleles",
                    f"{2 + len(more)} alleles ({', '.join([a1, a2, *more])}); a genotype has two",
                )
            )
            bad = True
        if not a1 and not a2:
            continue  # marker not called for this sample: untyped, not a problem
        if not a1:
            problems.append(RowProblem(rowno, "allele 1", "allele 2 given without allele 1"))
            bad = True
        for col, a in (("allele 1", a1), ("allele 2", a2)):
            if a and not is_allele_label(a):
                problems.append(
                    RowProblem(rowno, col, f"{a!r} is not a repeat number or microvariant")
                )
                bad = True
        if bad or marker is None:
            continue
        genotype = (a1, a2 or a1)
        prev = seen.get((sample, marker))
        if prev is not None:
            if profiles[sample][marker] != genotype:
                problems.append(
                    RowProblem(
                        rowno,
                        "marker",
                        f"{sample} {marker} given again with a different genotype (row {prev})",
                    )
                )
            continue
        seen[(sample, marker)] = rowno
        profiles.setdefault(sample, {})[marker] = genotype
    return profiles, problems
