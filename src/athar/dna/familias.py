"""Export a case as a Familias ``.fam`` file (text), so a laboratory can reproduce the LR.

The layout follows Familias 3 as the R package pedFamilias reads and writes it: a preamble
with the version; each individual (name, sex, then each typed marker as three 0-based
integers: allele index, allele index, marker index); the "Known relations" block with one
pedigree per hypothesis, each a list of (parent, child) pairs of 0-based individual indices;
then the frequency database, one block per marker with the female and male mutation rate,
model code (0 equal, 4 extended stepwise), number of alleles, range and second rate, followed
by the alleles and their frequencies.

Two pedigrees are written: ``H1`` (the person of interest takes the missing person's place)
and ``H2`` (the reference pedigree with the missing person untyped; the person of interest is
unrelated).  In H1 the missing person's label is not used and so is an unrelated untyped
person, which leaves the likelihood unchanged.

Checked once by hand (R is not needed by the tests): files written for fixture cases 003, 013,
028, 046, 055, 056 and 070, read by ``pedFamilias::readFam`` and passed to
``forrel::kinshipLR(H1, H2, ref = 2)``, give forrel's recorded LR with relative difference 0.
"""

from __future__ import annotations

from athar.dna.case import Case
from athar.dna.frequencies import allele_sort_key

FAMILIAS_VERSION = "3.2.8"
_MODEL_CODE = {"none": 0, "equal": 0, "stepwise": 4}


def _num(x: float) -> str:
    return repr(float(x)) if x != int(x) else str(int(x))


def _quote(s: str) -> str:
    if '"' in s or "\n" in s:
        raise ValueError(f"a Familias label cannot contain quotes or newlines: {s!r}")
    return f'"{s}"'


def write_fam(case: Case) -> str:
    """The case as the text of a Familias ``.fam`` file."""
    markers = list(case.markers)
    alleles = {m: sorted(case.markers[m], key=allele_sort_key) for m in markers}
    mp = next(p for p in case.pedigree if p.id == case.missing)
    persons = [(p.id, p.sex) for p in case.pedigree] + [(case.poi, mp.sex)]
    labels = [pid for pid, _ in persons]
    index = {pid: i for i, pid in enumerate(labels)}

    lines: list[str] = [
        _quote(f"Output from Familias, version {FAMILIAS_VERSION}"),
        _quote("(Produced by Athar: athar dna fam)"),
        FAMILIAS_VERSION,
        _quote(""),
        str(len(persons)),
    ]
    for pid, sex in persons:
        lines += [_quote(pid), "#FALSE#", "-1", "#FALSE#", "#TRUE#" if sex == "M" else "#FALSE#"]
        profile = case.genotypes.get(pid, {})
        typed = [m for m in markers if m in profile]
        lines.append(str(len(typed)))
        for m in typed:
            a, b = profile[m]
            lines += [
                str(alleles[m].index(a)),
                str(alleles[m].index(b)),
                str(markers.index(m)),
            ]

    def relations(rename: dict[str, str]) -> list[str]:
        out: list[str] = []
        for p in case.pedigree:
            if p.father is None or p.mother is None:
                continue
            child = index[rename.get(p.id, p.id)]
            for parent in (p.father, p.mother):
                out += [str(index[rename.get(parent, parent)]), str(child)]
        return out

    h1 = relations({case.missing: case.poi})
    h2 = relations({})
    lines += [_quote("Known relations"), "0", "0", "0", "2"]
    for k, (name, rel) in enumerate((("H1", h1), ("H2", h2))):
        lines += [str(k), _quote(name), "0", "0", str(len(rel) // 2), *rel]

    lines += [
        "#FALSE# (#Databases: 1 ;Theta/Kinship/Fst: 0 )",
        str(len(markers)),
        "#TRUE#",
        _quote("unknown"),
    ]
    mut = case.mutation
    code = _MODEL_CODE[mut.kind]
    rate = mut.rate if mut.kind != "none" else 0.0
    rng = mut.range if mut.kind == "stepwise" else 0.0
    rate2 = mut.rate2 if mut.kind == "stepwise" else 0.0
    for m in markers:
        n = len(alleles[m])
        lines += [_quote(m), _num(rate), _num(rate), str(code), str(code), str(n)]
        lines += [_num(rng), _num(rng), _num(rate2), _num(rate2), "#FALSE#", "0"]
        lines.append(
            f"{n}\t(DatabaseSize = 1000 , Dropout probability = 0 , Minor allele frequency = 0 )"
        )
        for a in alleles[m]:
            lines += [_quote(a), repr(case.markers[m][a])]
    return "\n".join(lines) + "\n"
