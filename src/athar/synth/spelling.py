"""How the synthetic lists write names: transliteration habits and Arabic-script variants.

This module is deliberately independent of :mod:`athar.names`. The generator produces the
data the name engine is evaluated on; if it borrowed the engine's own tables the evaluation
would be circular. Every table here is written for the generator alone.

Names are stored in the packaged tables as Arabic script plus a *romanisation key*, a small
ASCII notation that keeps what transliteration habits disagree about::

    aa ii uu  long vowels          '  hamza        `  ayn
    H  ḥ      x  kh                g  gh           q  qaf
    S D T Z   emphatic s d t z     th dh sh        @  taa marbuta
    al-       the article          doubled letters are shadda

A *habit* turns a key into Latin letters the way one kind of writer does (a scholar, a
Levantine English speaker, a French-educated clerk, a hurried typist).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

# ---------------------------------------------------------------------------------------------
# Latin transliteration habits
# ---------------------------------------------------------------------------------------------

_DIGRAPHS = ("aa", "ii", "uu", "th", "dh", "sh")
_SHORT = ("a", "i", "u")
_LONG = ("aa", "ii", "uu")
_VOWELS = frozenset(_SHORT + _LONG)
_GLOTTAL = ("'", "`")
_SUN = frozenset(("t", "th", "d", "dh", "r", "z", "s", "sh", "S", "D", "T", "Z", "l", "n"))


@dataclass(frozen=True)
class Habit:
    """One way of writing Arabic names in Latin letters."""

    name: str
    short: tuple[str, str, str]  # a, i, u
    long: tuple[str, str, str]  # aa, ii, uu
    cons: dict[str, str]  # special consonants
    ay: str
    aw: str
    glottal_medial: str
    taa_marbuta: str
    simplify_double: bool = False
    double_intervocalic_s: bool = False
    initial_w_ou: bool = False


_BASE_CONS = {
    "H": "h",
    "x": "kh",
    "S": "s",
    "D": "d",
    "T": "t",
    "Z": "z",
    "g": "gh",
    "q": "q",
    "j": "j",
    "sh": "sh",
    "th": "th",
    "dh": "dh",
}

HABITS: dict[str, Habit] = {
    # Muhammad, Khalid, Aisha, Qasim, Abd al-Rahman, Nur al-Din
    "scholarly": Habit(
        "scholarly", ("a", "i", "u"), ("a", "i", "u"), _BASE_CONS, "ay", "aw", "'", "a"
    ),
    # Mohammad, Khaled, Qasem, Abdulrahman, Nour Al-Din (Levantine English)
    "levantine": Habit(
        "levantine",
        ("a", "e", "o"),
        ("a", "i", "ou"),
        {**_BASE_CONS, "dh": "z"},
        "ei",
        "aw",
        "",
        "a",
    ),
    # Muhammad, Kareem, Waleed, Fatimah (English with long vowels doubled)
    "english": Habit(
        "english", ("a", "i", "u"), ("a", "ee", "oo"), _BASE_CONS, "ai", "aw", "'", "ah"
    ),
    # Mohamed, Khaled, Aicha, Kassem, Abdel Rahman, Nour Eddine
    "french": Habit(
        "french",
        ("a", "e", "o"),
        ("a", "i", "ou"),
        {**_BASE_CONS, "q": "k", "sh": "ch"},
        "ei",
        "aou",
        "",
        "a",
        double_intervocalic_s=True,
        initial_w_ou=True,
    ),
    # a hurried typist: doubles dropped, taa marbuta as -eh
    "typed": Habit(
        "typed",
        ("a", "i", "u"),
        ("a", "i", "u"),
        {**_BASE_CONS, "dh": "th"},
        "ai",
        "aw",
        "",
        "eh",
        True,
    ),
}

#: spellings of very common names that no rule produces (one tuple per habit)
_OVERRIDES: dict[str, dict[str, tuple[str, ...]]] = {
    "muHammad": {
        "scholarly": ("Muhammad",),
        "levantine": ("Mohammad", "Mohammed", "Mohamad"),
        "english": ("Muhammad", "Muhammed", "Mohammed"),
        "french": ("Mohamed", "Mohammed"),
        "typed": ("Mohamad", "Mohammed", "Mohamed"),
    },
    "'aHmad": {
        "scholarly": ("Ahmad",),
        "levantine": ("Ahmad", "Ahmed"),
        "english": ("Ahmed",),
        "french": ("Ahmed",),
        "typed": ("Ahmad", "Ahmd"),
    },
    "maHmuud": {
        "scholarly": ("Mahmud",),
        "levantine": ("Mahmoud",),
        "english": ("Mahmood",),
        "french": ("Mahmoud",),
        "typed": ("Mahmod", "Mahmoud"),
    },
    "`alii": {
        "scholarly": ("Ali",),
        "levantine": ("Ali",),
        "english": ("Ali", "Aly"),
        "french": ("Ali",),
        "typed": ("Ali", "Aly"),
    },
    "`iid": {
        "scholarly": ("Id",),
        "levantine": ("Eid",),
        "english": ("Eid",),
        "french": ("Aid", "Eid"),
        "typed": ("Eid", "Ied"),
    },
    "`umar": {
        "scholarly": ("Umar",),
        "levantine": ("Omar",),
        "english": ("Umar", "Omar"),
        "french": ("Omar",),
        "typed": ("Omar",),
    },
    "Hasan": {
        "scholarly": ("Hasan",),
        "levantine": ("Hasan", "Hassan"),
        "english": ("Hassan",),
        "french": ("Hassan",),
        "typed": ("Hasan",),
    },
    "Husayn": {
        "scholarly": ("Husayn",),
        "levantine": ("Hussein", "Hussain"),
        "english": ("Hussain",),
        "french": ("Houssein", "Hussein"),
        "typed": ("Husain", "Hussen"),
    },
    "muSTafaa": {
        "scholarly": ("Mustafa",),
        "levantine": ("Mustafa", "Moustafa"),
        "english": ("Mustafa",),
        "french": ("Moustafa",),
        "typed": ("Mostafa",),
    },
    "yuusuf": {
        "scholarly": ("Yusuf",),
        "levantine": ("Yousef", "Yousif"),
        "english": ("Yousuf", "Yusuf"),
        "french": ("Youssef",),
        "typed": ("Yosef", "Yusef"),
    },
    "'ibraahiim": {
        "scholarly": ("Ibrahim",),
        "levantine": ("Ibrahim",),
        "english": ("Ibraheem",),
        "french": ("Ibrahim",),
        "typed": ("Ebrahim", "Ibrahem"),
    },
    "`aa'isha@": {
        "scholarly": ("Aisha",),
        "levantine": ("Aisha", "Aysha"),
        "english": ("Ayesha", "Aishah"),
        "french": ("Aicha",),
        "typed": ("Aesha",),
    },
    "faaTima@": {
        "scholarly": ("Fatima",),
        "levantine": ("Fatima", "Fatma"),
        "english": ("Fatimah",),
        "french": ("Fatma", "Fatima"),
        "typed": ("Fatema",),
    },
    "xadiija@": {
        "scholarly": ("Khadija",),
        "levantine": ("Khadija", "Khadijeh"),
        "english": ("Khadeejah",),
        "french": ("Khadija",),
        "typed": ("Khadeja",),
    },
    "qaasim": {
        "scholarly": ("Qasim",),
        "levantine": ("Qasem",),
        "english": ("Qasim",),
        "french": ("Kassem",),
        "typed": ("Kasem",),
    },
    "xaalid": {
        "scholarly": ("Khalid",),
        "levantine": ("Khaled",),
        "english": ("Khalid",),
        "french": ("Khaled",),
        "typed": ("Khaled",),
    },
    "`abd allaah": {
        "scholarly": ("Abd Allah", "Abdullah"),
        "levantine": ("Abdullah", "Abdallah"),
        "english": ("Abdullah",),
        "french": ("Abdallah", "Abdellah"),
        "typed": ("Abdulla",),
    },
    "yaHyaa": {
        "scholarly": ("Yahya",),
        "levantine": ("Yahya", "Yehia"),
        "english": ("Yahya",),
        "french": ("Yahia",),
        "typed": ("Yahia",),
    },
    "`uthmaan": {
        "scholarly": ("Uthman",),
        "levantine": ("Othman", "Osman"),
        "english": ("Uthman",),
        "french": ("Othmane", "Osman"),
        "typed": ("Othman",),
    },
    "mu`aadh": {
        "scholarly": ("Muadh",),
        "levantine": ("Moaz", "Muath"),
        "english": ("Muaz", "Muadh"),
        "french": ("Mouaz",),
        "typed": ("Moaz",),
    },
    "'abuu": {
        "scholarly": ("Abu",),
        "levantine": ("Abu", "Abou"),
        "english": ("Abu",),
        "french": ("Abou",),
        "typed": ("Abo", "Abu"),
    },
}


def _units(key: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(key):
        two = key[i : i + 2]
        if two in _DIGRAPHS:
            out.append(two)
            i += 2
        else:
            out.append(key[i])
            i += 1
    return out


def _word(key: str, h: Habit) -> str:
    """Transliterate one word (no spaces, no article) with habit ``h``."""
    u = _units(key)
    n = len(u)
    out: list[str] = []
    initial = True  # nothing but glottal stops so far
    i = 0
    while i < n:
        t = u[i]
        prev = u[i - 1] if i else ""
        nxt = u[i + 1] if i + 1 < n else ""
        after = u[i + 2] if i + 2 < n else ""
        if t in _GLOTTAL:
            if not initial and nxt:  # medial: written or dropped; final: dropped
                out.append(h.glottal_medial)
            i += 1
            continue
        if t == "@" or (t == "a" and nxt == "@"):
            out.append(h.taa_marbuta)
            i += 1 if t == "@" else 2
            continue
        if t == "a" and nxt in ("y", "w") and after not in _VOWELS and after != nxt:
            if initial:
                out.append("ay" if nxt == "y" else "aw")
            else:
                out.append(h.ay if nxt == "y" else h.aw)
            initial = False
            i += 2
            continue
        if t in _SHORT:
            v = h.short[_SHORT.index(t)]
            if initial and t == "i":
                v = "i" if h.name != "levantine" else "e"
            out.append(v)
        elif t == "ii" and i == n - 1:  # final -ii (nisba, Hani) is -i in every habit
            out.append("i")
        elif t in _LONG:
            out.append(h.long[_LONG.index(t)])
        else:
            if t == prev and h.simplify_double:
                i += 1
                continue
            if t == "w" and initial and h.initial_w_ou and nxt in _VOWELS:
                out.append("ou")
            elif (
                t == "s"
                and h.double_intervocalic_s
                and prev in _VOWELS
                and nxt in _VOWELS
                and prev != "s"
            ):
                out.append("ss")
            else:
                out.append(h.cons.get(t, t))
        initial = False
        i += 1
    word = "".join(out)
    return word[:1].upper() + word[1:]


def _article(stem: str, stem_key: str, h: Habit) -> tuple[str, ...]:
    first = _units(stem_key.lstrip("'`"))[:1]
    sun = bool(first) and first[0] in _SUN
    if h.name == "scholarly":
        if sun and not stem.lower().startswith("l"):
            return (f"al-{stem}", f"a{stem[:1].lower()}-{stem}")
        return (f"al-{stem}",)
    if h.name == "french":
        return (f"El-{stem}", f"El {stem}")
    if h.name == "english":
        return (f"Al {stem}", f"Al-{stem}")
    if h.name == "typed":
        return (f"Al{stem.lower()}", f"Al {stem}")
    return (f"Al-{stem}",)


@lru_cache(maxsize=200_000)
def latin(key: str, habit: str) -> tuple[str, ...]:
    """All spellings of the name with romanisation ``key`` under ``habit`` (first = usual)."""
    h = HABITS[habit]
    if key in _OVERRIDES:
        return _OVERRIDES[key][habit]
    if key.startswith("al-"):
        rest = key[3:]
        return tuple(a for s in latin(rest, habit) for a in _article(s, rest, h))
    if " " not in key:
        return (_word(key, h),)
    head, tail = key.split(" ", 1)
    if head == "'abuu":
        return tuple(f"{a} {t}" for a in latin(head, habit) for t in latin(tail, habit)[:1])
    if tail.startswith("al-"):
        stem_key = tail[3:]
        stem = latin(stem_key, habit)[0]
        if head == "`abd":
            forms = {
                "scholarly": (f"Abd al-{stem}",),
                "levantine": (f"Abdul{stem.lower()}", f"Abdul {stem}", f"Abd Al-{stem}"),
                "english": (
                    f"Abdul {stem}",
                    f"Abdur {stem}" if stem[:1] == "R" else f"Abdul{stem.lower()}",
                ),
                "french": (f"Abdel{stem.lower()}", f"Abdel {stem}"),
                "typed": (f"Abdal{stem.lower()}", f"Abd Al{stem.lower()}"),
            }
            return forms[habit]
        first = latin(head, habit)[0]
        if stem_key == "diin":
            forms = {
                "scholarly": (f"{first} al-Din",),
                "levantine": (f"{first} Aldeen", f"{first}aldin", f"{first} Al-Din"),
                "english": (f"{first}uddin", f"{first} ud-Deen"),
                "french": (f"{first}eddine", f"{first} Eddine"),
                "typed": (f"{first}aldin", f"{first} Eldin"),
            }
            return forms[habit]
        return tuple(f"{first} {a}" for a in _article(stem, stem_key, h))
    return (" ".join(latin(p, habit)[0] for p in key.split(" ")),)


MUHAMMAD_ABBREVIATIONS = ("Mhd", "M.", "Mohd", "Moh'd", "Mhd.")


def latin_typo(s: str, rng: random.Random) -> str:
    """One typing slip in a Latin-script name: drop, double, swap or change a vowel."""
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.random()
    if op < 0.3:
        return s[:i] + s[i + 1 :]
    if op < 0.5:
        return s[:i] + s[i] + s[i:]
    if op < 0.75:
        return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]
    swaps = {"a": "e", "e": "i", "i": "e", "o": "u", "u": "o"}
    for j in range(i, len(s)):
        if s[j] in swaps:
            return s[:j] + swaps[s[j]] + s[j + 1 :]
    return s


# ---------------------------------------------------------------------------------------------
# Arabic-script variants
# ---------------------------------------------------------------------------------------------

_HAMZA_SEATS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا"})
_TASHKEEL = ("\u064e", "\u064f", "\u0650", "\u0651", "\u0652")  # fatha damma kasra shadda sukun

#: letters a worn or badly scanned page confuses (dots lost or added)
_OCR_GROUPS = ("بتثني", "جحخ", "دذ", "رز", "سش", "صض", "طظ", "عغ", "فق", "ةه")
OCR_CONFUSIONS: dict[str, str] = {c: g.replace(c, "") for g in _OCR_GROUPS for c in g}

#: letters people mishear or misspell for each other when writing a name down
_PHONETIC = {
    "ت": "ط",
    "ط": "ت",
    "س": "ص",
    "ص": "س",
    "ذ": "ز",
    "ز": "ذ",
    "ض": "د",
    "د": "ض",
    "ق": "ك",
    "ك": "ق",
    "ه": "ح",
    "ح": "ه",
    "ث": "س",
    "ظ": "ض",
}


@dataclass(frozen=True)
class ArabicHabit:
    """How often one list's writers vary an Arabic name (probabilities per name)."""

    hamza: float  # أ إ آ written as bare ا (and, rarer, a hamza seat that is wrong)
    taa_marbuta: float  # final ة written ه
    alef_maqsura: float  # final ى written ي (and, rarer, final ي written ى)
    join: float  # عبد الرحمن -> عبدالرحمن, أبو زيد -> أبوزيد
    drop_article: float  # الحلبي -> حلبي (family names only)
    tashkeel: float  # a vowel mark added
    typo: float  # a phonetic slip, a dropped or doubled letter
    ocr: float = 0.0  # per letter: dot confusion


def arabic(name: str, h: ArabicHabit, rng: random.Random, family: bool = False) -> str:
    """One written form of the Arabic ``name`` under habit ``h``."""
    r = rng.random
    s = name
    if h.hamza:
        x = r()
        if x < h.hamza:
            s = s.translate(_HAMZA_SEATS)
        elif (
            x < h.hamza * 1.15 and s[:1] in "اأإ" and not s.startswith("ال")
        ):  # a wrong or hypercorrect seat: إسامة
            s = ("إ" if s[0] == "أ" else "أ" if s[0] == "إ" else rng.choice("أإ")) + s[1:]
    if h.taa_marbuta and s.endswith("ة") and r() < h.taa_marbuta:
        s = s[:-1] + "ه"
    if h.alef_maqsura and r() < h.alef_maqsura:
        if s.endswith("ى"):
            s = s[:-1] + "ي"
        elif s.endswith("ي") and r() < 0.3:
            s = s[:-1] + "ى"
    if " " in s and h.join and r() < h.join:
        s = s.replace(" ", "", 1)
    if family and h.drop_article and s.startswith("ال") and len(s) > 4 and r() < h.drop_article:
        s = s[2:]
    if h.tashkeel and r() < h.tashkeel:
        i = rng.randrange(1, len(s)) if len(s) > 1 else 1
        if s[i - 1] != " ":
            s = s[:i] + rng.choice(_TASHKEEL) + s[i:]
    if h.typo and r() < h.typo:
        s = arabic_typo(s, rng)
    if h.ocr:
        s = "".join(
            rng.choice(OCR_CONFUSIONS[c]) if c in OCR_CONFUSIONS and r() < h.ocr else c for c in s
        )
    return s


def arabic_typo(s: str, rng: random.Random) -> str:
    """One slip in an Arabic name: a misheard letter, a dropped, doubled or swapped letter."""
    if len(s) < 3:
        return s
    op = rng.random()
    if op < 0.45:
        spots = [i for i, c in enumerate(s) if c in _PHONETIC]
        if spots:
            i = rng.choice(spots)
            return s[:i] + _PHONETIC[s[i]] + s[i + 1 :]
    i = rng.randrange(1, len(s) - 1)
    if s[i] == " " or s[i - 1] == " ":
        return s
    if op < 0.7:
        return s[:i] + s[i + 1 :]
    if op < 0.85:
        return s[:i] + s[i] + s[i:]
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]


_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic_indic(s: str) -> str:
    """Write the ASCII digits of ``s`` as Arabic-Indic digits (٠١٢...)."""
    return s.translate(_ARABIC_INDIC)
