"""Allele frequency tables: parsing, the packaged default, and the minimum-frequency rule.

A table maps each marker to an ordered ``{allele label: frequency}`` dict.  Labels are strings
(``"14"``, ``"9.3"``); they compare as strings and sort by numeric value.  Nothing here
renormalises a table it was given: only :func:`with_minimum` changes frequencies, and it says
which alleles it added.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

from athar.errors import InvalidInput

#: A marker's allele frequencies, in table order.
MarkerFreqs = dict[str, float]
#: marker -> allele -> frequency
FrequencyTable = dict[str, MarkerFreqs]

DEFAULT_MINIMUM = 0.001
ALLELE_RE = re.compile(r"^\d+(\.\d)?$")


class FrequencyTableError(ValueError, InvalidInput):
    """A frequency table that cannot be parsed; ``problems`` lists (line number, message)."""

    code = "dna_frequency_table_invalid"

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"line {n}: {m}" for n, m in problems))


def is_allele_label(label: str) -> bool:
    """An STR allele label: a repeat number (``14``) or a microvariant (``9.3``)."""
    return bool(ALLELE_RE.match(label))


def allele_sort_key(label: str) -> tuple[float, str]:
    try:
        return (float(label), label)
    except ValueError:
        return (math.inf, label)


def parse_table(text: str) -> FrequencyTable:
    """Parse ``marker<TAB>allele<TAB>frequency`` text (a header line first) into a table.

    Every bad line is reported (:class:`FrequencyTableError`), not just the first.
    """
    table: FrequencyTable = {}
    problems: list[tuple[int, str]] = []
    lines = text.splitlines()
    if not lines or [c.strip() for c in lines[0].split("\t")] != ["marker", "allele", "frequency"]:
        problems.append((1, "the header must be marker<TAB>allele<TAB>frequency"))
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cols = [c.strip() for c in line.split("\t")]
        if len(cols) != 3:
            problems.append((n, f"expected 3 tab-separated columns, found {len(cols)}"))
            continue
        marker, allele, freq_text = cols
        if not marker:
            problems.append((n, "empty marker name"))
            continue
        if not is_allele_label(allele):
            problems.append((n, f"allele {allele!r} is not a repeat number or microvariant"))
            continue
        try:
            freq = float(freq_text)
        except ValueError:
            problems.append((n, f"frequency {freq_text!r} is not a number"))
            continue
        if not (0.0 < freq <= 1.0) or not math.isfinite(freq):
            problems.append((n, f"frequency {freq_text} is not a probability in (0, 1]"))
            continue
        marker_freqs = table.setdefault(marker, {})
        if allele in marker_freqs:
            problems.append((n, f"allele {allele} of {marker} is listed twice"))
            continue
        marker_freqs[allele] = freq
    if problems:
        raise FrequencyTableError(problems)
    return table


@cache
def _default_text() -> str:
    return (resources.files("athar.dna") / "data" / "west_asia_str.tsv").read_text("utf-8")


def default_table() -> FrequencyTable:
    """The packaged West Asia table (norSTR, MIT; ``data/west_asia_str.README.txt``)."""
    return parse_table(_default_text())


#: The 21 autosomal markers of the GlobalFiler / expanded CODIS set.
CODIS21: tuple[str, ...] = (
    "D3S1358",
    "vWA",
    "D16S539",
    "CSF1PO",
    "TPOX",
    "D8S1179",
    "D21S11",
    "D18S51",
    "D2S441",
    "D19S433",
    "TH01",
    "FGA",
    "D22S1045",
    "D5S818",
    "D13S317",
    "D7S820",
    "D10S1248",
    "D1S1656",
    "D12S391",
    "D2S1338",
    "SE33",
)


@dataclass(frozen=True)
class AddedAllele:
    """An allele absent from the table, added at the minimum frequency."""

    marker: str
    allele: str
    frequency: float


def with_minimum(
    table: Mapping[str, Mapping[str, float]],
    observed: Mapping[str, Iterable[str]],
    minimum: float = DEFAULT_MINIMUM,
) -> tuple[FrequencyTable, list[AddedAllele]]:
    """Add every observed allele missing from ``table`` at frequency ``minimum``.

    With k unseen alleles at a marker, the listed ones are multiplied by
    ``(1 - minimum * k) / (their sum)`` so the marker sums to 1 again (pedtools' ``addAllele``
    convention).  Markers without unseen alleles are returned unchanged (not renormalised).
    Returns the new table and the list of added alleles, to be reported to the user.
    """
    if not 0.0 < minimum < 1.0:
        raise ValueError(f"minimum frequency {minimum} is not in (0, 1)")
    out: FrequencyTable = {m: dict(f) for m, f in table.items()}
    added: list[AddedAllele] = []
    for marker, alleles in observed.items():
        if marker not in out:
            continue
        freqs = out[marker]
        new = sorted({a for a in alleles if a not in freqs}, key=allele_sort_key)
        if not new:
            continue
        if minimum * len(new) >= 1.0:
            raise ValueError(f"{marker}: {len(new)} unseen alleles at {minimum} leave no mass")
        scale = (1.0 - minimum * len(new)) / sum(freqs.values())
        merged = {a: f * scale for a, f in freqs.items()}
        for a in new:
            merged[a] = minimum
            added.append(AddedAllele(marker, a, minimum))
        out[marker] = dict(sorted(merged.items(), key=lambda kv: allele_sort_key(kv[0])))
    return out, added
