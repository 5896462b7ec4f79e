"""A missing-person case: marker frequencies, mutation model, pedigree, genotypes.

:func:`parse_case` turns the JSON-shaped dict of ``athar dna lr CASE.json`` into a
:class:`Case`, reporting every problem it finds (as field, message) rather than the first.
In a case, frequencies are used exactly as given, so an allele outside a marker's list is an
error here (use :func:`athar.dna.frequencies.with_minimum` beforehand to add rare alleles).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from athar.dna.frequencies import is_allele_label
from athar.dna.mutation import MODELS, MutationModel
from athar.dna.pedigree import Person, pedigree_problems, topological_order
from athar.errors import InvalidInput

POI = "POI"
#: Tolerance on a marker's frequency sum (pedtools rejects sums that do not round to 1 at 3 dp).
SUM_TOLERANCE = 0.0005

Genotype = tuple[str, str]


class CaseError(ValueError, InvalidInput):
    """A case that cannot be computed; ``problems`` lists (field, message)."""

    code = "dna_case_invalid"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {m}" for f, m in problems))


@dataclass(frozen=True)
class Case:
    markers: dict[str, dict[str, float]]
    mutation: MutationModel
    pedigree: tuple[Person, ...]
    missing: str
    #: person id -> marker -> genotype; the person of interest is ``poi``
    genotypes: dict[str, dict[str, Genotype]] = field(default_factory=dict)
    poi: str = POI

    def poi_genotypes(self) -> dict[str, Genotype]:
        return self.genotypes.get(self.poi, {})

    def relatives(self) -> dict[str, dict[str, Genotype]]:
        return {p: g for p, g in self.genotypes.items() if p != self.poi}


def _allele_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def _is_probability(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0.0 < value <= 1.0
    )


def parse_markers(data: Any, problems: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    markers: dict[str, dict[str, float]] = {}
    if not isinstance(data, Mapping) or not data:
        problems.append(("markers", "must be a non-empty object: marker -> {allele: frequency}"))
        return markers
    for marker, freqs in data.items():
        where = f"markers.{marker}"
        if not isinstance(freqs, Mapping) or not freqs:
            problems.append((where, "must be a non-empty object: allele -> frequency"))
            continue
        ok: dict[str, float] = {}
        for allele, f in freqs.items():
            label = str(allele).strip()
            if not label:
                problems.append((where, "an allele label is empty"))
            elif not _is_probability(f):
                problems.append(
                    (f"{where}.{label}", f"frequency {f!r} is not a probability in (0, 1]")
                )
            else:
                ok[label] = float(f)
        if len(ok) == len(freqs) and abs(sum(ok.values()) - 1.0) > SUM_TOLERANCE:
            problems.append((where, f"frequencies sum to {sum(ok.values()):.6g}, not 1"))
        markers[str(marker)] = ok
    return markers


def parse_mutation(data: Any, problems: list[tuple[str, str]]) -> MutationModel:
    if data is None:
        return MutationModel()
    if not isinstance(data, Mapping):
        problems.append(("mutation", 'must be an object such as {"model": "none"}'))
        return MutationModel()
    kind = data.get("model", "none")
    if kind not in MODELS:
        problems.append(("mutation.model", f"{kind!r} is not one of {', '.join(MODELS)}"))
        return MutationModel()
    if kind == "none":
        return MutationModel()
    needed = ("rate",) if kind == "equal" else ("rate", "rate2", "range")
    values: dict[str, float] = {}
    for key in needed:
        v = data.get(key)
        x = float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan
        good = (0 < x < 1) if key == "range" else (0 <= x <= 1)
        if not good:
            bound = "a number in (0, 1)" if key == "range" else "a probability"
            problems.append((f"mutation.{key}", f"{v!r} is not {bound} ({kind} model)"))
        else:
            values[key] = x
    if len(values) < len(needed):
        return MutationModel()
    return MutationModel(kind, values["rate"], values.get("rate2", 0.0), values.get("range", 0.1))


def parse_pedigree(data: Any, problems: list[tuple[str, str]]) -> tuple[Person, ...]:
    if not isinstance(data, list) or not data:
        problems.append(("pedigree", "must be a non-empty list of persons"))
        return ()
    persons: list[Person] = []
    for i, row in enumerate(data):
        where = f"pedigree[{i}]"
        if not isinstance(row, Mapping):
            problems.append((where, "must be an object with id, father, mother, sex"))
            continue
        pid = row.get("id")
        if not isinstance(pid, str) or not pid.strip():
            problems.append((f"{where}.id", "must be a non-empty string"))
            continue
        parents: list[str | None] = []
        for role in ("father", "mother"):
            v = row.get(role)
            if v is not None and not (isinstance(v, str) and v.strip()):
                problems.append((f"{where}.{role}", "must be a person id or null"))
                v = None
            parents.append(v)
        sex = row.get("sex")
        persons.append(Person(pid, parents[0], parents[1], sex if isinstance(sex, str) else "?"))
    problems.extend(pedigree_problems(persons))
    return tuple(persons)


def parse_case(data: Any, poi: str = POI) -> Case:
    """Validate and convert a case dict; :class:`CaseError` lists every problem found."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise CaseError([("case", "must be a JSON object")])
    unknown = sorted(set(data) - {"markers", "mutation", "pedigree", "missing", "genotypes"})
    for key in unknown:
        problems.append((key, "unknown field"))
    markers = parse_markers(data.get("markers"), problems)
    mutation = parse_mutation(data.get("mutation"), problems)
    if mutation.kind == "stepwise":
        for marker, freqs in markers.items():
            bad = [a for a in freqs if not is_allele_label(a)]
            if bad:
                problems.append(
                    (
                        f"markers.{marker}",
                        f"the stepwise model needs numeric alleles; not numeric: {', '.join(bad)}",
                    )
                )
    persons = parse_pedigree(data.get("pedigree"), problems)
    ids = {p.id for p in persons}
    missing = data.get("missing")
    if not isinstance(missing, str) or not missing:
        problems.append(("missing", "must name the missing person in the pedigree"))
        missing = ""
    elif persons and missing not in ids:
        problems.append(("missing", f"{missing!r} is not in the pedigree"))
    if poi in ids:
        problems.append(
            ("pedigree", f"{poi!r} is reserved for the person of interest; rename that relative")
        )
    genotypes: dict[str, dict[str, Genotype]] = {}
    gdata = data.get("genotypes")
    if not isinstance(gdata, Mapping):
        problems.append(("genotypes", "must be an object: person -> marker -> [allele, allele]"))
        gdata = {}
    for pid, profile in gdata.items():
        where = f"genotypes.{pid}"
        if pid != poi and pid not in ids:
            problems.append((where, f"{pid!r} is neither {poi!r} nor a person in the pedigree"))
            continue
        if pid == missing and pid != poi:
            problems.append(
                (where, f"the missing person {pid!r} cannot be typed; their profile is the {poi}'s")
            )
            continue
        if not isinstance(profile, Mapping):
            problems.append((where, "must be an object: marker -> [allele, allele]"))
            continue
        out: dict[str, Genotype] = {}
        for marker, pair in profile.items():
            mw = f"{where}.{marker}"
            if marker not in markers:
                problems.append((mw, f"marker {marker!r} is not in the case's markers"))
                continue
            if not isinstance(pair, list | tuple) or len(pair) != 2:
                n = len(pair) if isinstance(pair, list | tuple) else "no list of"
                problems.append((mw, f"a genotype has 2 alleles, found {n} alleles"))
                continue
            labels = [_allele_text(a) for a in pair]
            good = True
            for a, label in zip(pair, labels, strict=True):
                if label is None:
                    problems.append((mw, f"allele {a!r} is not an allele label"))
                    good = False
                elif markers[marker] and label not in markers[marker]:
                    problems.append(
                        (mw, f"allele {label} is not in the frequency list of {marker}")
                    )
                    good = False
            if good and labels[0] is not None and labels[1] is not None:
                out[marker] = (labels[0], labels[1])
        genotypes[pid] = out
    if problems:
        raise CaseError(problems)
    ordered = tuple(topological_order(persons))
    return Case(markers, mutation, ordered, missing, genotypes, poi)
