"""Script-aware normalisation of names (pure, no I/O).

Arabic: hamza and alef forms, taa marbuta -> haa, alef maqsura -> yaa, tashkeel, tatweel,
Persian and Urdu letter shapes, Arabic-Indic digits.  Latin: case, diacritics, apostrophes and
ayn/hamza marks, hyphens and dots, and the article ``Al`` glued to a name (``Alhalabi``).

The result is idempotent: ``normalize(normalize(x)) == normalize(x)``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ARABIC_LETTERS = frozenset("ءابتثجحخدذرزسشصضطظعغفقكلمنهوىيةپچژڤگ")

# --- Arabic character folding -------------------------------------------------------------
_AR_FOLD: dict[int, str | None] = {}


def _fold(chars: str, to: str | None) -> None:
    for c in chars:
        _AR_FOLD[ord(c)] = to


# tashkeel, Quranic annotation marks, superscript alef, tatweel, bidi and joiner controls
_fold("".join(chr(c) for c in range(0x064B, 0x0660)), None)
_fold("\u0670\u0640\u200b\u200c\u200d\u200e\u200f\u061c\ufeff\u2066\u2067\u2068\u2069", None)
_fold("".join(chr(c) for c in range(0x06D6, 0x06EE) if c not in (0x06E5, 0x06E6)), None)
_fold("أإآٱٲٳ", "ا")  # hamza and alef forms (wasla too)
_fold("ؤ", "و")
_fold("ئ", "ي")
_fold("ىیۍێېےۓ", "ي")  # alef maqsura, Persian/Urdu/Pashto yeh shapes
_fold("ةۃ", "ه")  # taa marbuta
_fold("ھہۀەۂ", "ه")  # Persian/Urdu heh shapes
_fold("کڪګڭ", "ك")  # Persian/Urdu kaf shapes
_fold("ٹ", "ت")
_fold("ڈ", "د")
_fold("ڑ", "ر")
_fold("ں", "ن")
_fold("ڨ", "ق")  # Maghrebi gaf written with qaf
_fold("ڥ", "ف")
_fold("،؛", ",")
_fold("؟", " ")
for _i, _d in enumerate("٠١٢٣٤٥٦٧٨٩"):
    _AR_FOLD[ord(_d)] = str(_i)
for _i, _d in enumerate("۰۱۲۳۴۵۶۷۸۹"):
    _AR_FOLD[ord(_d)] = str(_i)

# --- Latin ------------------------------------------------------------------------------------
# ayn and hamza marks and apostrophes vanish (Sa'id, Sa`id, Saʿīd -> said)
_MARKS = "'`´‘’‛′ʹʻʼʽʾʿˈˊˋ\u02bc\u02c8ʔʕ"
_LATIN_FOLD: dict[int, str | None] = {ord(c): None for c in _MARKS}
_LATIN_FOLD.update(
    {
        ord("ß"): "ss",
        ord("æ"): "ae",
        ord("œ"): "oe",
        ord("ø"): "o",
        ord("đ"): "d",
        ord("ð"): "d",
        ord("ł"): "l",
        ord("þ"): "th",
        ord("ı"): "i",
        ord("ħ"): "h",
        ord("ŧ"): "t",
    }
)
_FOLD = {**_AR_FOLD, **_LATIN_FOLD}
_FOLD_KEEP_HAMZA = {k: v for k, v in _FOLD.items() if chr(k) not in "أإآ"}

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_./\\|+()\[\]{}\"*#~:;!?<>=&@^«»]+")
_COMMA = re.compile(r"\s*,[\s,]*")
_SPACES = re.compile(r"\s+")
# characters that survive normalisation: letters, digits, comma, space
_DROP = re.compile(r"[^\w, ]|_")

# glued article: al/el + name.  Split only when the rest looks like an Arabic name: a nisba
# ending, an Arabic-only digraph or letter at its start, or a doubled (assimilated) consonant.
_GLUED_AL = re.compile(r"^(?:al|el)(?=[a-z]{3,}$)")
_ARABIC_START = re.compile(r"^(?:kh|gh|sh|th|dh|q|h|j|z|d|s|t|n|r|m|f|b|k)")
_NISBA_END = re.compile(r"(?:[^aeiou]i|awi|ani|ee|[^aeiou]y)$")


def _split_glued_article(word: str) -> str:
    if not _GLUED_AL.match(word):
        return word
    rest = word[2:]
    if rest[0] in "aeiouwyl":
        return word
    if len(rest) >= 4 and (
        _NISBA_END.search(rest) or rest.startswith(("kh", "gh", "sh", "q", "h"))
    ):
        return word[:2] + " " + rest
    if rest[0] == rest[1] and _ARABIC_START.match(rest):  # assimilated: "assayed"
        return word[:2] + " " + rest
    return word


_NEEDS_STRIP = re.compile(r"[^\x00-\x7f\u0600-\u06ff]")


def _strip_diacritics(text: str) -> str:
    """Drop Latin (and other non-Arabic) combining marks; Arabic letters pass untouched."""
    if not _NEEDS_STRIP.search(text):
        return text
    out = []
    for ch in text:
        if ch.isascii() or "\u0600" <= ch <= "\u06ff":
            out.append(ch)
            continue
        for part in unicodedata.normalize("NFKD", ch):
            if not unicodedata.combining(part):
                out.append(part)
    return "".join(out)


def _token_once(text: str, table: dict[int, str | None]) -> str:
    # NFKC unfolds Arabic presentation forms and compatibility characters (ﻻ -> لا).
    s = text if text.isascii() else unicodedata.normalize("NFKC", text)
    s = s.translate(table)
    if not s.isascii():
        s = _strip_diacritics(s).translate(table)
    s = s.casefold()
    s = _SEPARATORS.sub(" ", s)
    s = _DROP.sub("", s)
    s = _SPACES.sub(" ", s).strip()
    if s.startswith(("al", "el")) or " al" in s or " el" in s:
        s = " ".join(_split_glued_article(w) for w in s.split(" "))
    return s


@lru_cache(maxsize=1 << 18)
def _token(text: str, keep_hamza: bool) -> str:
    """Normalise one whitespace-free token (cached: names are Zipf-distributed)."""
    table = _FOLD_KEEP_HAMZA if keep_hamza else _FOLD
    s = _token_once(text, table)
    # casefolding and NFKC can each produce what the other changes (rare letters such as
    # Þ -> þ -> th); repeat until stable so that normalisation is idempotent
    for _ in range(4):
        if not _NEEDS_STRIP.search(s) and not (
            s.startswith(("al", "el")) or " al" in s or " el" in s
        ):
            break  # only ASCII and Arabic letters, no article left to split: stable
        again = " ".join(_token_once(w, table) for w in s.split(" "))
        if again == s:
            break
        s = again
    return s


def _normalize_uncached(text: str, keep_hamza: bool) -> str:
    """:func:`_normalize` without its cache, for callers that cache the result themselves
    (a second cache keyed by the same, mostly distinct, full names only costs time)."""
    tokens = [_token(w, keep_hamza) for w in text.split()]
    s = " ".join(tokens) if all(tokens) else " ".join(t for t in tokens if t)
    if "," in s:
        s = _COMMA.sub(", ", s).strip(" ,")
        s = _SPACES.sub(" ", s)
    return s


_normalize = lru_cache(maxsize=1 << 16)(_normalize_uncached)


@lru_cache(maxsize=1 << 16)
def normalize(text: str) -> str:
    """Normalise a name, place or full name, in any script.  Idempotent."""
    return fold_hamza(_normalize_uncached(text, True))


def normalize_keep_hamza(text: str) -> str:
    """Like :func:`normalize` but keep hamza on alef (أ إ آ), which tells the article ``ال``
    (always plain alef) from a name that begins with ``أل``/``إل`` (``ألبرت``, ``إلياس``)."""
    return _normalize(text, True)


_HAMZA_ALEF = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا"})


def fold_hamza(text: str) -> str:
    """Turn the output of :func:`normalize_keep_hamza` into that of :func:`normalize`."""
    return text if text.isascii() else text.translate(_HAMZA_ALEF)


def is_arabic(text: str) -> bool:
    """True if ``text`` contains an Arabic letter."""
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text)
