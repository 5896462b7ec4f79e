"""The generator's packaged tables: name frequencies, towns, and the domain vocabulary files.

Name tables are ordered by frequency; the generator gives rank ``k`` a Zipf-Mandelbrot weight
``1 / (k + b) ** s``. Family names are the hand-written table plus "ال + given name"
(al-Ahmad) and "أبو + given name" (Abu Zayd) families, which Syrian family names often are.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import yaml

ARABIC_RANGE = range(0x0600, 0x0700)


#: classical given names that also make "ال" family names (الأحمد, الخالد)
AL_FAMILIES = (
    "محمد أحمد محمود علي عمر حسن حسين مصطفى إبراهيم يوسف خالد قاسم سليمان صالح عثمان موسى "
    "عيسى يحيى سعيد خليل إسماعيل حمدان زيد ناصر"
).split()
#: given names that make "أبو" family names (أبو زيد, أبو خليل)
ABU_FAMILIES = (
    "زيد خليل صالح علي حمدان عمر حسن حسين محمد أحمد محمود مصطفى إبراهيم يوسف خالد قاسم "
    "سليمان عثمان موسى عيسى يحيى سعيد إسماعيل جمال كمال عادل ناصر شاكر رشيد جميل عمار حمزة "
    "عامر شريف مراد طارق فاروق نعمان ياسين"
).split()


@dataclass(frozen=True)
class Name:
    ar: str
    key: str  # romanisation key, see athar.synth.spelling


@dataclass(frozen=True)
class Place:
    code: str
    ar: tuple[str, ...]  # first = usual Arabic form
    lat: tuple[str, ...]  # first = usual Latin form
    governorate: int = -1  # index into Tables.governorates (towns and facilities)


@dataclass(frozen=True)
class Tables:
    male: tuple[Name, ...]
    female: tuple[Name, ...]
    family: tuple[Name, ...]
    male_p: np.ndarray
    female_p: np.ndarray
    family_p: np.ndarray
    governorates: tuple[Place, ...]
    towns: tuple[Place, ...]
    facilities: tuple[Place, ...]
    #: status code -> (Arabic words, Latin words)
    statuses: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
    #: sex code -> (Arabic words, Latin words)
    sexes: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]


def is_arabic(s: str) -> bool:
    return any(ord(c) in ARABIC_RANGE for c in s)


def zipf(n: int, s: float, b: float) -> np.ndarray:
    """Zipf-Mandelbrot probabilities for ranks 1..n."""
    w = 1.0 / (np.arange(1, n + 1, dtype=np.float64) + b) ** s
    return np.asarray(w / w.sum())


def _read_names(fname: str) -> list[Name]:
    text = resources.files("athar.synth").joinpath("data", fname).read_text(encoding="utf-8")
    out: list[Name] = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ar, key = line.split("\t")
        out.append(Name(ar.strip(), key.strip()))
    return out


def _yaml(fname: str) -> object:
    text = resources.files("athar.domain").joinpath("data", fname).read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _split(words: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (
        tuple(w for w in words if is_arabic(w)),
        tuple(w for w in words if not is_arabic(w)),
    )


@lru_cache(maxsize=1)
def load() -> Tables:
    male = _read_names("given_male.tsv")
    female = _read_names("given_female.tsv")
    family = _read_names("family.tsv")
    seen = {n.ar for n in family}
    generated: list[Name] = []
    by_ar = {n.ar: n for n in male}
    for ar in AL_FAMILIES:  # al-Ahmad, al-Hasan ... (common in eastern Syria)
        if "ال" + ar not in seen:
            generated.append(Name("ال" + ar, "al-" + by_ar[ar].key))
            seen.add("ال" + ar)
    for ar in ABU_FAMILIES:  # Abu Zayd, Abu Khalil ...
        if "أبو " + ar not in seen:
            generated.append(Name("أبو " + ar, "'abuu " + by_ar[ar].key))
            seen.add("أبو " + ar)
    # the hand-written top 40 keep their ranks; the rest interleave with generated families
    head, tail = family[:40], family[40:]
    merged: list[Name] = list(head)
    for i in range(max(len(tail), len(generated))):
        merged.extend(x[i] for x in (tail, generated) if i < len(x))
    family = merged

    govs_raw = _yaml("governorates.yaml")
    assert isinstance(govs_raw, list)
    governorates: list[Place] = []
    gov_index: dict[str, int] = {}
    for g in govs_raw:
        g_ar, g_lat = _split(list(g.get("aliases", [])))
        governorates.append(Place(g["code"], (g["ar"], *g_ar), (g["en"], *g_lat)))
        gov_index[g["code"]] = len(governorates) - 1

    towns: list[Place] = []
    text = resources.files("athar.domain").joinpath("data", "towns.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        gov, t_ar, t_lat = line.split("\t")
        towns.append(Place(t_ar, (t_ar,), tuple(t_lat.split("|")), gov_index[gov]))

    fac_raw = _yaml("facilities.yaml")
    assert isinstance(fac_raw, list)
    facilities: list[Place] = []
    for f in fac_raw:
        f_ar, f_lat = _split(list(f.get("aliases", [])))
        facilities.append(
            Place(f["code"], (f["ar"], *f_ar), (f["en"], *f_lat), gov_index[f["governorate"]])
        )

    st_raw = _yaml("statuses.yaml")
    assert isinstance(st_raw, dict)
    statuses = {k: _split(list(v)) for k, v in st_raw.items()}
    sx_raw = _yaml("sexes.yaml")
    assert isinstance(sx_raw, dict)
    sexes = {k: _split(list(v)) for k, v in sx_raw.items()}

    return Tables(
        male=tuple(male),
        female=tuple(female),
        family=tuple(family),
        male_p=zipf(len(male), 1.05, 0.6),
        female_p=zipf(len(female), 0.95, 0.8),
        family_p=zipf(len(family), 0.7, 8.0),
        governorates=tuple(governorates),
        towns=tuple(towns),
        facilities=tuple(facilities),
        statuses=statuses,
        sexes=sexes,
    )
