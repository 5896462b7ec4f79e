"""The true population and who each list captures, sampled with vectorised numpy.

Everything here is a set of arrays indexed by person. The capture model is where the
statistics of multiple systems estimation get their realism: each list captures a person with a
probability that depends on governorate, arrest year, facility, sex, fate and a latent
"visibility" the NGO lists and families share, so lists are dependent and some people are on
no list at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from athar.synth.tables import Tables

SOURCES = ("ngo_ar", "ngo_en", "family", "registry", "released", "morgue")

EPOCH = np.datetime64("1970-01-01", "D")
LIBERATION = int((np.datetime64("2024-12-08", "D") - EPOCH).astype(int))

YEARS = np.arange(2011, 2025)
YEAR_P = np.array([6, 16, 17, 14, 10, 8, 6, 5, 4, 3.5, 3, 2.5, 2, 2], dtype=np.float64)
YEAR_P /= YEAR_P.sum()

#: governorate code -> share of the detained population
GOV_SHARE = {
    "rif_dimashq": 22,
    "damascus": 12,
    "aleppo": 14,
    "homs": 12,
    "daraa": 10,
    "hama": 8,
    "idlib": 7,
    "deir_ez_zor": 5,
    "latakia": 2.5,
    "tartus": 1,
    "raqqa": 2,
    "hasakah": 1.5,
    "as_suwayda": 1,
    "quneitra": 1,
}

#: first place of detention: a security branch (code -> weight)
FIRST = {
    "branch_215": 10,
    "branch_227": 8,
    "branch_235": 12,
    "branch_248": 5,
    "branch_251": 8,
    "branch_285": 4,
    "mezzeh_airforce": 9,
    "political_security_damascus": 5,
    "military_police_qaboun": 3,
}
#: where a transferred person ends up (code -> weight)
LAST = {
    "sednaya": 40,
    "adra": 14,
    "military_police_qaboun": 8,
    "tadmur": 6,
    "homs_central": 5,
    "hama_central": 4,
    "aleppo_central": 6,
}
#: local prisons for each governorate's own detainees
LOCAL = {
    "homs": "homs_central",
    "hama": "hama_central",
    "aleppo": "aleppo_central",
    "idlib": "aleppo_central",
}
#: facilities whose registers were recovered (the `registry` list)
REGISTER_FACILITIES = ("sednaya", "military_police_qaboun", "branch_227", "branch_215")

#: (probability of dying, probability of release) by last facility
FATE_P = {
    "sednaya": (0.45, 0.22),
    "tadmur": (0.55, 0.10),
    "military_police_qaboun": (0.35, 0.20),
    "adra": (0.08, 0.55),
    "homs_central": (0.08, 0.50),
    "hama_central": (0.08, 0.50),
    "aleppo_central": (0.10, 0.45),
}
FATE_BRANCH = (0.30, 0.25)
FATES = ("missing", "released", "died_in_detention")

#: how often a captured person appears again in the same list
DUPLICATE_RATE = {
    "ngo_ar": 0.04,
    "ngo_en": 0.06,
    "family": 0.08,
    "registry": 0.03,
    "released": 0.01,
    "morgue": 0.0,
}


@dataclass
class Population:
    n: int
    sex: np.ndarray  # 0 male, 1 female
    birth: np.ndarray  # day number (days since 1970-01-01)
    arrest: np.ndarray  # day number
    gov: np.ndarray  # index into tables.governorates
    town: np.ndarray  # index into tables.towns
    first_fac: np.ndarray  # index into tables.facilities
    fac: np.ndarray  # last known facility
    fate: np.ndarray  # index into FATES
    fate_day: np.ndarray  # release or death day; -1 when missing
    given: np.ndarray  # index into male or female by sex
    father: np.ndarray
    grandfather: np.ndarray
    family: np.ndarray
    mother: np.ndarray  # index into female
    mother_family: np.ndarray
    sibling_of: np.ndarray  # person index or -1
    detainee_no: np.ndarray  # a number the last facility gave the person
    visibility: np.ndarray  # latent, shared by NGO lists and families
    counts: dict[str, np.ndarray]  # records per source per person


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _pick(
    rng: np.random.Generator, codes: Mapping[str, float], index: dict[str, int], size: int
) -> np.ndarray:
    keys = list(codes)
    p = np.array([codes[k] for k in keys], dtype=np.float64)
    idx = rng.choice(len(keys), size=size, p=p / p.sum())
    return np.array([index[k] for k in keys], dtype=np.int32)[idx]


def sample(n: int, rng: np.random.Generator, t: Tables) -> Population:
    """Draw ``n`` persons, their fates, and how many records each list holds about them."""
    gov_index = {g.code: i for i, g in enumerate(t.governorates)}
    fac_index = {f.code: i for i, f in enumerate(t.facilities)}
    fac_codes = np.array([f.code for f in t.facilities])

    sex = (rng.random(n) < 0.09).astype(np.int8)
    year = rng.choice(YEARS, size=n, p=YEAR_P)
    year_start = (np.array([f"{y}-01-01" for y in YEARS], dtype="datetime64[D]") - EPOCH).astype(
        np.int64
    )
    # from the uprising (15 March 2011) to the fall of the prisons (8 December 2024)
    first_day = np.where(YEARS == 2011, 73, 0)
    days_in = np.where(YEARS == 2024, 341, 365) - first_day
    yi = year - 2011
    arrest = year_start[yi] + first_day[yi] + (rng.random(n) * days_in[yi]).astype(np.int64)
    age = np.clip(14.0 + rng.gamma(2.3, 7.5, size=n), 14.0, 78.0)
    birth = arrest - (age * 365.25).astype(np.int64)

    gov = _pick(rng, GOV_SHARE, gov_index, n)
    town = np.empty(n, dtype=np.int32)
    for g in range(len(t.governorates)):
        members = np.nonzero(gov == g)[0]
        choices = np.array(
            [i for i, tw in enumerate(t.towns) if tw.governorate == g], dtype=np.int32
        )
        w = np.ones(len(choices))
        w[0] = 3.0  # the governorate's city
        town[members] = rng.choice(choices, size=len(members), p=w / w.sum())

    first = _pick(rng, FIRST, fac_index, n)
    last = _pick(rng, LAST, fac_index, n)
    local_code = np.array([LOCAL.get(g.code, "") for g in t.governorates])[gov]
    use_local = (local_code != "") & (rng.random(n) < 0.35)
    last = np.where(use_local, np.array([fac_index.get(c, 0) for c in local_code]), last)
    # Tadmur was emptied in 2015; later arrests go to Sednaya instead
    last = np.where((fac_codes[last] == "tadmur") & (year >= 2015), fac_index["sednaya"], last)
    stayed = rng.random(n) < 0.35  # never transferred out of the first branch
    fac = np.where(stayed, first, last).astype(np.int32)

    p_die = np.array([FATE_P.get(c, FATE_BRANCH)[0] for c in fac_codes])[fac]
    p_rel = np.array([FATE_P.get(c, FATE_BRANCH)[1] for c in fac_codes])[fac]
    u = rng.random(n)
    fate = np.where(u < p_die, 2, np.where(u < p_die + p_rel, 1, 0)).astype(np.int8)
    fate_day = np.full(n, -1, dtype=np.int64)
    # releases: most at the opening of the prisons in December 2024, some in earlier amnesties
    dec = LIBERATION + rng.integers(0, 8, size=n)
    early = (
        arrest
        + 60
        + (rng.random(n) * np.maximum(LIBERATION - 10 - arrest - 60, 1)).astype(np.int64)
    )
    rel_day = np.where((rng.random(n) < 0.7) | (early >= LIBERATION - 10), dec, early)
    fate_day = np.where(fate == 1, rel_day, fate_day)
    died = arrest + 3 + rng.exponential(700.0, size=n).astype(np.int64)
    fate_day = np.where(fate == 2, np.minimum(died, LIBERATION - 1), fate_day)

    given = np.where(
        sex == 0,
        rng.choice(len(t.male), size=n, p=t.male_p),
        rng.choice(len(t.female), size=n, p=t.female_p),
    ).astype(np.int32)
    father = rng.choice(len(t.male), size=n, p=t.male_p).astype(np.int32)
    grandfather = rng.choice(len(t.male), size=n, p=t.male_p).astype(np.int32)
    family = rng.choice(len(t.family), size=n, p=t.family_p).astype(np.int32)
    mother = rng.choice(len(t.female), size=n, p=t.female_p).astype(np.int32)
    mother_family = rng.choice(len(t.family), size=n, p=t.family_p).astype(np.int32)
    visibility = rng.standard_normal(n)

    # brothers and sisters detained too: same father, grandfather, family, mother, home, and
    # often the same arrest (they were taken together)
    sibling_of = np.full(n, -1, dtype=np.int64)
    if n > 10:
        is_sib = rng.random(n) < 0.06
        sib = np.nonzero(is_sib)[0]
        lead = rng.choice(np.nonzero(~is_sib)[0], size=len(sib))
        sibling_of[sib] = lead
        for arr in (father, grandfather, family, mother, mother_family, gov, town):
            arr[sib] = arr[lead]
        same_day = rng.random(len(sib)) < 0.6
        arrest[sib] = np.where(same_day, arrest[lead], arrest[sib])
        birth[sib] = arrest[sib] - (age[sib] * 365.25).astype(np.int64)
        clash = (given[sib] == given[lead]) & (sex[sib] == sex[lead])
        size = np.where(sex[sib] == 0, len(t.male), len(t.female))
        given[sib] = np.where(clash, (given[sib] + 1) % size, given[sib])
        visibility[sib] = 0.5 * visibility[sib] + 0.8 * visibility[lead]
    # a release or death comes after the arrest (siblings' arrests were moved above)
    fate_day = np.where(fate > 0, np.maximum(fate_day, arrest + 3), fate_day)
    year = (arrest.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970).astype(
        np.int64
    )

    detainee_no = rng.integers(100, 9999, size=n).astype(np.int32)
    counts = _capture(rng, t, n, sex, year, gov, first, fac, fate, fate_day, visibility)
    return Population(
        n=n,
        sex=sex,
        birth=birth,
        arrest=arrest,
        gov=gov,
        town=town,
        first_fac=first.astype(np.int32),
        fac=fac,
        fate=fate,
        fate_day=fate_day,
        given=given,
        father=father,
        grandfather=grandfather,
        family=family,
        mother=mother,
        mother_family=mother_family,
        sibling_of=sibling_of,
        detainee_no=detainee_no,
        visibility=visibility,
        counts=counts,
    )


def _capture(
    rng: np.random.Generator,
    t: Tables,
    n: int,
    sex: np.ndarray,
    year: np.ndarray,
    gov: np.ndarray,
    first: np.ndarray,
    fac: np.ndarray,
    fate: np.ndarray,
    fate_day: np.ndarray,
    z: np.ndarray,
) -> dict[str, np.ndarray]:
    gcode = np.array([g.code for g in t.governorates])[gov]
    fcode = np.array([f.code for f in t.facilities])
    south = np.isin(gcode, ["rif_dimashq", "damascus", "daraa", "homs"])
    north = np.isin(gcode, ["aleppo", "idlib"])
    east = np.isin(gcode, ["raqqa", "hasakah", "deir_ez_zor"])
    peak = (year >= 2012) & (year <= 2014)
    late = year >= 2019
    female = sex == 1

    logit = -0.85 + 0.9 * z + 0.45 * south - 0.9 * east + 0.5 * peak - 0.5 * late - 0.3 * female
    on_ar = rng.random(n) < _sigmoid(logit)
    # the English list copies part of the Arabic one (positive dependence) and is strong in the north
    sednaya = fcode[fac] == "sednaya"
    logit = -1.7 + 0.7 * z + 0.6 * north - 0.5 * east + 0.3 * (year <= 2013) + 1.0 * on_ar
    logit = logit + 0.4 * sednaya  # international attention to Sednaya
    on_en = rng.random(n) < _sigmoid(logit)
    # families file where NGOs did not reach them (negative dependence on the Arabic list)
    logit = -1.3 + 0.45 * z + 0.5 * (year >= 2017) + 0.6 * female + 0.4 * (fate == 0) - 0.6 * on_ar
    on_fam = rng.random(n) < _sigmoid(logit)
    # recovered registers: only some facilities, later years survive better; independent of z
    in_reg = np.isin(fcode[fac], REGISTER_FACILITIES) | np.isin(fcode[first], REGISTER_FACILITIES)
    logit = -0.3 + 0.7 * (year >= 2016) - 0.4 * (year <= 2012)
    on_reg = in_reg & (rng.random(n) < _sigmoid(logit))
    on_rel = (fate == 1) & (fate_day >= LIBERATION) & (rng.random(n) < np.where(sednaya, 0.85, 0.7))
    on_morgue = (fate == 2) & (rng.random(n) < 0.28)

    counts: dict[str, np.ndarray] = {}
    for src, on in zip(SOURCES, (on_ar, on_en, on_fam, on_reg, on_rel, on_morgue), strict=True):
        rate = DUPLICATE_RATE[src]
        c = on.astype(np.int8)
        extra = (rng.random(n) < rate).astype(np.int8) + (rng.random(n) < rate * rate * 4).astype(
            np.int8
        )
        counts[src] = c * (1 + extra)
    return counts
