"""Write one list's record about one person, the way that list's writers would.

Each source has its own script, its own habits of spelling, dating and naming places, its own
gaps and its own errors. A renderer returns interchange rows (lists in :data:`COLUMNS` order).
"""

from __future__ import annotations

import random
from calendar import isleap
from dataclasses import dataclass
from datetime import date

import numpy as np

from athar.domain.interchange import INTERCHANGE_COLUMNS
from athar.synth.population import LIBERATION, REGISTER_FACILITIES, Population
from athar.synth.spelling import (
    MUHAMMAD_ABBREVIATIONS,
    ArabicHabit,
    arabic,
    arabic_indic,
    latin,
    latin_typo,
)
from athar.synth.tables import Name, Place, Tables

#: the interchange columns (../shared/schema.md), in the order the generator writes them
COLUMNS = INTERCHANGE_COLUMNS
CONTACT_COLUMNS = ("source", "record_id", "requester_name", "relationship", "phone", "email")
(
    SOURCE,
    RECORD_ID,
    FULL,
    GIVEN,
    FATHER,
    GRAND,
    FAMILY,
    MOTHER,
    SEX,
    BIRTH,
    AGE,
    BPLACE,
    ADATE,
    APLACE,
    FACILITY,
    LAST_SEEN,
    STATUS,
    DETAINEE_NO,
    NOTES,
) = range(len(COLUMNS))

AR_NGO = ArabicHabit(0.35, 0.2, 0.2, 0.35, 0.15, 0.02, 0.02)
AR_FAMILY = ArabicHabit(0.5, 0.35, 0.3, 0.3, 0.1, 0.05, 0.12)
AR_REGISTRY = ArabicHabit(0.6, 0.4, 0.4, 0.5, 0.3, 0.0, 0.01, ocr=0.035)
AR_INTAKE = ArabicHabit(0.5, 0.3, 0.3, 0.4, 0.2, 0.0, 0.06)

#: transliteration habits of each Latin-script list, with their shares
LATIN_MIX = {
    "ngo_en": (
        ("levantine", "scholarly", "french", "english", "typed"),
        (0.45, 0.2, 0.2, 0.1, 0.05),
    ),
    "family": (("levantine", "typed", "french", "english"), (0.5, 0.25, 0.15, 0.1)),
    "released": (("levantine", "typed", "english"), (0.6, 0.25, 0.15)),
}

RELATIONSHIPS = (
    ("mother", "أمه", "his mother", "her mother", 0.28),
    ("brother", "أخوه", "his brother", "her brother", 0.2),
    ("sister", "أخته", "his sister", "her sister", 0.12),
    ("wife", "زوجته", "his wife", "", 0.16),
    ("father", "والده", "his father", "her father", 0.1),
    ("son", "ابنه", "his son", "her son", 0.08),
    ("daughter", "ابنته", "his daughter", "her daughter", 0.06),
)


@dataclass(slots=True)
class PersonView:
    """One person's fields as plain Python values (fast to read in the per-record loop)."""

    idx: int
    sex: int
    birth: tuple[int, int, int]
    birth_day: int
    arrest: tuple[int, int, int]
    arrest_day: int
    gov: Place
    town: Place
    first_fac: Place
    fac: Place
    fate: int
    fate_day: int
    given: Name
    father: Name
    grandfather: Name
    family: Name
    mother: Name
    mother_family: Name
    detainee_no: str


def ymd(days: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return y.tolist(), m.tolist(), dd.tolist()


def iso(day: int) -> str:
    return date.fromordinal(_EPOCH_ORDINAL + day).isoformat()


class Renderer:
    """Renders the records of every source for one chunk of persons."""

    def __init__(self, t: Tables, pop: Population, rng: random.Random) -> None:
        self.t = t
        self.pop = pop
        self.rng = rng
        fac_codes = [f.code for f in t.facilities]
        self.suffix = [
            c.removeprefix("branch_") if c.startswith("branch_") else "" for c in fac_codes
        ]

    # -- person view ---------------------------------------------------------------------
    def views(self, idx: np.ndarray) -> list[PersonView]:
        p, t = self.pop, self.t
        by, bm, bd = ymd(p.birth[idx])
        ay, am, ad = ymd(p.arrest[idx])
        cols = [
            a[idx].tolist()
            for a in (
                p.sex,
                p.birth,
                p.arrest,
                p.gov,
                p.town,
                p.first_fac,
                p.fac,
                p.fate,
                p.fate_day,
                p.given,
                p.father,
                p.grandfather,
                p.family,
                p.mother,
                p.mother_family,
                p.detainee_no,
            )
        ]
        govs, towns, facs = t.governorates, t.towns, t.facilities
        male, female, family = t.male, t.female, t.family
        out = []
        for k, (i, sex, b, a, g, tw, ff, f, fate, fd, gi, fa, gf, fm, mo, mf, no) in enumerate(
            zip(idx.tolist(), *cols, strict=True)
        ):
            out.append(
                PersonView(
                    i, sex, (by[k], bm[k], bd[k]), b, (ay[k], am[k], ad[k]), a,
                    govs[g], towns[tw], facs[ff], facs[f], fate, fd,
                    (female if sex else male)[gi], male[fa], male[gf], family[fm],
                    female[mo], family[mf], f"{no}/{self.suffix[f] or ay[k]}",
                )
            )  # fmt: skip
        return out

    # -- small helpers ------------------------------------------------------------------
    def pick(self, items: tuple[str, ...], first: float = 0.5) -> str:
        """The usual form with probability ``first``, else any other form."""
        if len(items) == 1 or self.rng.random() < first:
            return items[0]
        return items[self.rng.randrange(1, len(items))]

    def date(
        self,
        ymd_: tuple[int, int, int],
        probs: tuple[float, float, float],
        err: float = 0.0,
        swap: float = 0.0,
        latest: int = 2025,
    ) -> str:
        """A date written at full / year-month / year precision (``probs``), else empty.

        With probability ``err`` the year is one off (never past ``latest``); with probability
        ``swap`` day and month change places. The result is always a valid date.
        """
        y, m, d = ymd_
        r = self.rng.random()
        if err and self.rng.random() < err:
            y += self.rng.choice((-1, 1))
            if y > latest:
                y -= 2
            if m == 2 and d == 29 and not isleap(y):
                d = 28
        if r < probs[0]:
            if swap and d <= 12 and d != m and self.rng.random() < swap:
                return f"{y}-{d:02d}-{m:02d}"
            return f"{y}-{m:02d}-{d:02d}"
        if r < probs[0] + probs[1]:
            return f"{y}-{m:02d}"
        if r < probs[0] + probs[1] + probs[2]:
            return str(y)
        return ""

    def ar(self, n: Name, h: ArabicHabit, family: bool = False) -> str:
        return arabic(n.ar, h, self.rng, family)

    def lat(self, n: Name, habit: str, typo: float = 0.0) -> str:
        opts = latin(n.key, habit)
        s = opts[0] if len(opts) == 1 else opts[self.rng.randrange(len(opts))]
        if typo and self.rng.random() < typo:
            s = latin_typo(s, self.rng)
        return s

    def habit(self, source: str) -> str:
        names, weights = LATIN_MIX[source]
        return self.rng.choices(names, weights)[0]

    def status(self, code: str, arabic_script: bool) -> str:
        words = self.t.statuses[code][0 if arabic_script else 1]
        return words[self.rng.randrange(len(words))]

    def sex(self, s: int, arabic_script: bool, coded: float) -> str:
        if self.rng.random() < coded:
            return "F" if s else "M"
        words = self.t.sexes["F" if s else "M"][0 if arabic_script else 1]
        return words[0] if self.rng.random() < 0.8 else words[1]  # not "boy" for a man

    def place(self, v: PersonView, arabic_script: bool, town: float) -> str:
        p = v.town if self.rng.random() < town else v.gov
        if arabic_script:
            return arabic(self.pick(p.ar, 0.7), AR_NGO, self.rng)
        return self.pick(p.lat, 0.6)

    def facility(self, f: Place, arabic_script: bool, usual: float = 0.4) -> str:
        return self.pick(f.ar if arabic_script else f.lat, usual)

    def age_at(self, v: PersonView, day: int) -> int:
        return int((day - v.birth_day) / 365.25)

    def age_range(self, true_age: int, sd: float, width: int) -> str:
        est = true_age + self.rng.gauss(0.0, sd)
        lo = max(0, int(est // 5) * 5 - (width - 5) // 2 // 5 * 5)
        return f"{lo}-{lo + width}"

    def fate_claim(
        self, v: PersonView, row: list[str], arabic_script: bool, p_died: float, p_rel: float
    ) -> None:
        """Status as an NGO would know it: missing, or a release/death it heard of."""
        r = self.rng.random()
        known = v.fate_day >= 0 and v.fate_day < LIBERATION - 30
        if v.fate == 2 and known and r < p_died:
            row[STATUS] = self.status("deceased", arabic_script)
            row[LAST_SEEN] = self.date(ymd_of(v.fate_day), (0.4, 0.4, 0.2))
        elif v.fate == 1 and known and r < p_rel:
            row[STATUS] = self.status("released", arabic_script)
            row[LAST_SEEN] = self.date(ymd_of(v.fate_day), (0.3, 0.5, 0.2))
        elif v.fate == 1 and r > 0.99:  # a wrong claim: released, but listed as dead
            row[STATUS] = self.status("deceased", arabic_script)
        else:
            code = "detained" if self.rng.random() < 0.25 else "missing"
            row[STATUS] = self.status(code, arabic_script)
            if self.rng.random() < 0.2:  # a sighting in detention
                end = v.fate_day if v.fate_day >= 0 else LIBERATION
                day = v.arrest_day + int(self.rng.random() * max(end - v.arrest_day, 1))
                row[LAST_SEEN] = self.date(ymd_of(day), (0.1, 0.6, 0.3))

    def latin_full(self, parts: list[str], family: str, inverted: float, upper: float) -> str:
        r = self.rng.random()
        if r < inverted:
            fam = family.upper() if self.rng.random() < upper else family
            return f"{fam}, {' '.join(parts)}"
        return " ".join([*parts, family])

    # -- sources ----------------------------------------------------------------------------
    def ngo_ar(self, v: PersonView, dup: int) -> list[str]:
        h = AR_NGO
        row = [""] * len(COLUMNS)
        row[GIVEN] = self.ar(v.given, h)
        row[FATHER] = self.ar(v.father, h)
        if self.rng.random() < 0.75:
            row[GRAND] = self.ar(v.grandfather, h)
        row[FAMILY] = self.ar(v.family, h, family=True)
        if self.rng.random() < 0.8:
            m = self.ar(v.mother, h)
            if self.rng.random() < 0.4:
                m += " " + self.ar(v.mother_family, h, family=True)
            row[MOTHER] = m
        if self.rng.random() < 0.95:
            row[SEX] = self.sex(v.sex, True, 0.1)
        row[BIRTH] = self.date(v.birth, (0.25, 0.15, 0.45), err=0.05, swap=0.03)
        if self.rng.random() < 0.7:
            row[BPLACE] = self.place(v, True, 0.5)
        row[ADATE] = self.date(v.arrest, (0.4, 0.35, 0.2), err=0.02, latest=2024)
        if self.rng.random() < 0.7:
            row[APLACE] = self.place(v, True, 0.85)
        if self.rng.random() < 0.55:
            row[FACILITY] = self.facility(v.first_fac if self.rng.random() < 0.6 else v.fac, True)
        self.fate_claim(v, row, True, 0.35, 0.5)
        return row

    def ngo_en(self, v: PersonView, dup: int) -> list[str]:
        hb = self.habit("ngo_en")
        row = [""] * len(COLUMNS)
        g = self.lat(v.given, hb, 0.03)
        if v.given.key == "muHammad" and self.rng.random() < 0.25:
            g = self.rng.choice(MUHAMMAD_ABBREVIATIONS)
        f = self.lat(v.father, hb, 0.03)
        gf = self.lat(v.grandfather, hb, 0.03) if self.rng.random() < 0.4 else ""
        fam = self.lat(v.family, hb, 0.03)
        if self.rng.random() < 0.6:
            if self.rng.random() < 0.15:
                parts = [g]  # father dropped
            else:
                parts = [g, f, gf] if gf else [g, f]
            row[FULL] = self.latin_full(parts, fam, 0.4, 0.7)
        else:
            row[GIVEN], row[FATHER], row[GRAND], row[FAMILY] = g, f, gf, fam
        if self.rng.random() < 0.4:
            row[MOTHER] = self.lat(v.mother, hb, 0.03)
        if self.rng.random() < 0.85:
            row[SEX] = self.sex(v.sex, False, 0.7)
        r = self.rng.random()
        if r < 0.25:  # an age at arrest instead of a birth date
            age = self.age_at(v, v.arrest_day)
            if self.rng.random() < 0.2:
                age += self.rng.choice((-1, 1))
            row[AGE] = str(age)
            row[ADATE] = self.date(v.arrest, (0.15, 0.45, 0.4))
        else:
            row[BIRTH] = self.date(v.birth, (0.12, 0.08, 0.65), err=0.05, swap=0.05)
            row[ADATE] = self.date(v.arrest, (0.15, 0.4, 0.4), err=0.02, latest=2024)
        if self.rng.random() < 0.6:
            row[BPLACE] = self.place(v, False, 0.4)
        if self.rng.random() < 0.4:
            row[APLACE] = self.place(v, False, 0.8)
        if self.rng.random() < 0.5:
            row[FACILITY] = self.facility(v.first_fac if self.rng.random() < 0.5 else v.fac, False)
        self.fate_claim(v, row, False, 0.3, 0.4)
        return row

    def family(self, v: PersonView, dup: int) -> tuple[list[str], list[str]]:
        row = [""] * len(COLUMNS)
        arabic_script = self.rng.random() < 0.6
        if arabic_script:
            h = AR_FAMILY
            g, f, gf = self.ar(v.given, h), self.ar(v.father, h), self.ar(v.grandfather, h)
            fam = self.ar(v.family, h, family=True)
            mother = self.ar(v.mother, h)
            mfam = self.ar(v.mother_family, h, family=True)
        else:
            hb = self.habit("family")
            g, f, gf = (self.lat(n, hb, 0.1) for n in (v.given, v.father, v.grandfather))
            fam = self.lat(v.family, hb, 0.1)
            mother = self.lat(v.mother, hb, 0.1)
            mfam = self.lat(v.mother_family, hb, 0.1)
        with_gf = self.rng.random() < 0.5
        if self.rng.random() < 0.5:
            parts = [g, f, gf, fam] if with_gf else [g, f, fam]
            row[FULL] = " ".join(parts)
        else:
            row[GIVEN], row[FATHER], row[FAMILY] = g, f, fam
            row[GRAND] = gf if with_gf else ""
        if self.rng.random() < 0.92:
            row[MOTHER] = f"{mother} {mfam}" if self.rng.random() < 0.5 else mother
        row[SEX] = self.sex(v.sex, arabic_script, 0.3)
        r = self.rng.random()
        if r < 0.75:
            row[BIRTH] = self.date(v.birth, (1.0, 0.0, 0.0), err=0.04, swap=0.06)
        elif r < 0.9:
            row[BIRTH] = str(v.birth[0])
        elif r < 0.95:
            row[AGE] = str(self.age_at(v, v.arrest_day))
        row[ADATE] = self.date(v.arrest, (0.7, 0.2, 0.1), err=0.01, swap=0.03, latest=2024)
        if self.rng.random() < 0.8:
            row[BPLACE] = self.place(v, arabic_script, 0.6)
        if self.rng.random() < 0.85:
            row[APLACE] = self.place(v, arabic_script, 0.9)
        if self.rng.random() < 0.3:
            row[FACILITY] = self.facility(
                v.first_fac if self.rng.random() < 0.7 else v.fac, arabic_script
            )
        row[STATUS] = self.status("missing", arabic_script)

        rel = self._relationship(v)
        code, ar_word, his, hers, _ = rel
        row[NOTES] = (
            f"قدم الطلب {ar_word}" if arabic_script else f"reported by {hers if v.sex else his}"
        )
        contact = [
            "family",
            "",
            self._requester(v, code, arabic_script),
            code,
            f"+963 900 {self.rng.randrange(1000):03d} {self.rng.randrange(1000):03d}",
            "",
        ]
        if self.rng.random() < 0.3:
            contact[5] = (
                f"{self.lat(v.family, 'typed').lower().replace(' ', '')}.{self.rng.randrange(100, 999)}@example.org"
            )
        return row, contact

    def _relationship(self, v: PersonView) -> tuple[str, str, str, str, float]:
        choices = [r for r in RELATIONSHIPS if not (v.sex and r[0] == "wife")]
        return self.rng.choices(choices, [r[4] for r in choices])[0]

    def _requester(self, v: PersonView, code: str, arabic_script: bool) -> str:
        t = self.t
        if code == "mother":
            names = [v.mother, v.mother_family]
        elif code == "father":
            names = [v.father, v.grandfather, v.family]
        elif code in ("brother", "sister"):
            pool = t.male if code == "brother" else t.female
            names = [pool[self.rng.randrange(len(pool) // 2)], v.father, v.family]
        elif code == "wife":
            names = [
                t.female[self.rng.randrange(len(t.female) // 2)],
                t.family[self.rng.randrange(len(t.family))],
            ]
        else:
            pool = t.male if code == "son" else t.female
            names = [pool[self.rng.randrange(len(pool) // 2)], v.given, v.family]
        if arabic_script:
            return " ".join(n.ar for n in names)
        return " ".join(latin(n.key, "levantine")[0] for n in names)

    def registry(self, v: PersonView, dup: int) -> list[str]:
        h = AR_REGISTRY
        row = [""] * len(COLUMNS)
        row[GIVEN] = self.ar(v.given, h)
        row[FATHER] = self.ar(v.father, h)
        if self.rng.random() < 0.2:
            row[GRAND] = self.ar(v.grandfather, h)
        row[FAMILY] = self.ar(v.family, h, family=True)
        if self.rng.random() < 0.85:
            row[MOTHER] = self.ar(v.mother, h)
        if v.sex and self.rng.random() < 0.5:
            row[SEX] = self.sex(v.sex, True, 0.0)
        r = self.rng.random()
        if r < 0.7:
            y = v.birth[0] + (self.rng.choice((-1, 1)) if self.rng.random() < 0.08 else 0)
            row[BIRTH] = str(y)
        elif r < 0.85:
            row[BIRTH] = self.date(v.birth, (1.0, 0.0, 0.0), swap=0.05)
        if self.rng.random() < 0.6:
            row[BPLACE] = arabic(
                self.pick((v.town if self.rng.random() < 0.6 else v.gov).ar, 0.8), h, self.rng
            )
        row[ADATE] = self.date(v.arrest, (0.8, 0.1, 0.05), err=0.02, latest=2024)
        reg_fac = v.fac if v.fac.code in _REG else v.first_fac
        row[FACILITY] = self.facility(reg_fac, True, 0.5)
        if v.fate == 2 and self.rng.random() < 0.4:
            row[STATUS] = self.rng.choice(("توفي", "متوفى", "توفي في المعتقل"))
            row[LAST_SEEN] = iso(v.fate_day)
        else:
            row[STATUS] = self.rng.choice(("موقوف", "محتجز", "معتقل", "موقوف"))
            if self.rng.random() < 0.5:
                end = v.fate_day if v.fate_day >= 0 else LIBERATION
                row[LAST_SEEN] = iso(
                    v.arrest_day + int(self.rng.random() * max(end - v.arrest_day, 1))
                )
        if self.rng.random() < 0.95:
            no = v.detainee_no
            if dup:  # registered again after a transfer: a new number
                no = f"{self.rng.randrange(100, 9999)}/{no.split('/')[1]}"
            elif reg_fac is not v.fac:
                code = reg_fac.code
                suffix = code.removeprefix("branch_") if code.startswith("branch_") else v.arrest[0]
                no = f"{self.rng.randrange(100, 9999)}/{suffix}"
            r = self.rng.random()
            if r < 0.08:
                no = arabic_indic(no)
            elif r < 0.16:
                no = no.replace("/", " / ")
            row[DETAINEE_NO] = no
        return row

    def released(self, v: PersonView, dup: int) -> list[str]:
        row = [""] * len(COLUMNS)
        arabic_script = self.rng.random() < 0.7
        early = v.arrest[0] <= 2014
        unnamed = self.rng.random() < (0.45 if early else 0.25)
        row[SEX] = self.sex(v.sex, arabic_script, 0.5)
        row[LAST_SEEN] = iso(v.fate_day)
        row[FACILITY] = self.facility(v.fac, arabic_script, 0.5) if self.rng.random() < 0.9 else ""
        row[STATUS] = self.status("released", arabic_script)
        age = self.age_at(v, v.fate_day)
        if unnamed:
            row[AGE] = self.age_range(age, 3.5, 5)
            row[NOTES] = self.rng.choice(
                ("لا يستطيع ذكر اسمه", "غير معروف الاسم", "فاقد للذاكرة")
                if arabic_script
                else (
                    "unable to state name",
                    "unable to state name; memory loss",
                    "does not remember his name" if not v.sex else "does not remember her name",
                )
            )
            if self.rng.random() < 0.25:
                row[DETAINEE_NO] = v.detainee_no
            return row
        if arabic_script:
            h = AR_INTAKE
            g, f, fam = self.ar(v.given, h), self.ar(v.father, h), self.ar(v.family, h, family=True)
            mother = self.ar(v.mother, h)
        else:
            hb = self.habit("released")
            g, f, fam = (self.lat(n, hb, 0.05) for n in (v.given, v.father, v.family))
            mother = self.lat(v.mother, hb, 0.05)
        if self.rng.random() < 0.6:
            row[FULL] = f"{g} {f} {fam}" if self.rng.random() < 0.8 else f"{g} {fam}"
        else:
            row[GIVEN], row[FATHER], row[FAMILY] = g, f, fam
        if self.rng.random() < 0.5:
            row[MOTHER] = mother
        r = self.rng.random()
        if r < 0.5:
            row[BIRTH] = self.date(v.birth, (0.3, 0.0, 0.7), err=0.05)
        elif r < 0.8:
            row[AGE] = str(age + self.rng.choice((-1, 0, 0, 0, 1)))
        if self.rng.random() < 0.4:
            row[APLACE] = self.place(v, arabic_script, 0.8)
        if self.rng.random() < 0.2:
            row[DETAINEE_NO] = v.detainee_no
        return row

    def morgue(self, v: PersonView, dup: int) -> list[str]:
        row = [""] * len(COLUMNS)
        arabic_script = self.rng.random() < 0.6
        found = LIBERATION + 1 + int(self.rng.random() * 200)
        row[LAST_SEEN] = iso(found)
        age = self.age_at(v, v.fate_day)
        if self.rng.random() < 0.92:
            row[SEX] = self.sex(v.sex, arabic_script, 0.5)
        row[AGE] = self.age_range(age, 6.0, 10)
        where = self.facility(v.fac, arabic_script, 0.5)
        if self.rng.random() < 0.5:
            row[FACILITY] = where
            row[NOTES] = "وجدت في المنشأة" if arabic_script else "found at the facility"
        else:
            town = self.pick(v.town.ar, 1.0) if arabic_script else self.pick(v.town.lat, 0.6)
            row[NOTES] = (
                f"وجدت في مقبرة جماعية قرب {town}"
                if arabic_script
                else f"found in a mass grave near {town}"
            )
        if self.rng.random() < 0.1:  # papers found on the body
            h = AR_INTAKE
            row[FULL] = " ".join(
                (self.ar(v.given, h), self.ar(v.father, h), self.ar(v.family, h, family=True))
            )
            row[STATUS] = (
                self.status("deceased", True) if arabic_script else self.status("deceased", False)
            )
            row[NOTES] += "؛ وثائق مع الجثة" if arabic_script else "; papers found with the body"
        else:
            row[STATUS] = (
                "جثة مجهولة الهوية"
                if arabic_script
                else self.rng.choice(("unidentified body", "unidentified remains"))
            )
        return row


_REG = frozenset(REGISTER_FACILITIES)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def ymd_of(day: int) -> tuple[int, int, int]:
    d = date.fromordinal(_EPOCH_ORDINAL + day)
    return d.year, d.month, d.day
