"""The interchange record: its columns, and parsing one row into Athar's fields.

:func:`parse_row` turns the cells of one row (interchange column -> text) into the parsed
and normalised fields the registry stores, and lists every problem it finds.  Which
problems are errors (the row goes to quarantine) and which are warnings (the row is stored,
the warning is reported) is decided here, in one table-like place:

errors
    empty ``source`` or ``record_id``, or one longer than 200 characters; a date that is not a date, impossible (before 1900,
    day 31 of a 30-day month) or in the future; an age that is not a number or range, over
    120, or a range that runs backwards; a control character in a cell.
warnings
    a sex or status word the vocabulary does not know (the original text is kept and the
    code left empty); birth after arrest; arrest after last seen.

Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from athar.domain import fields, vocab
from athar.domain.dates import DateError, parse_age, parse_date
from athar.domain.quoting import quote

REQUIRED_COLUMNS: tuple[str, ...] = fields.of_type("key")
NAME_COLUMNS: tuple[str, ...] = fields.of_type("name")
DATE_COLUMNS: tuple[str, ...] = fields.of_type("date")
#: kept as written (cleaned), with nothing derived from them
TEXT_COLUMNS: tuple[str, ...] = fields.of_type("name", "text")
#: vocabulary -> how a word is looked up in it, and whether a word it does not know is reported
_VOCABULARIES: dict[str, tuple[Callable[[str], vocab.Mapped], bool]] = {
    "sexes": (vocab.map_sex, True),
    "statuses": (vocab.map_status, True),
    "places": (vocab.map_place, False),
    "facilities": (vocab.map_facility, False),
}
#: coded fields: (interchange column, text column, code column, lookup, report unknown words)
_CODED = tuple(
    (f.name, f.columns[0].name, f.columns[1].name, *_VOCABULARIES[f.vocabulary])
    for f in fields.FIELDS
    if f.vocabulary is not None
)
ERROR = "error"
#: longest ``source`` or ``record_id`` accepted (they are indexed keys)
MAX_KEY_LENGTH = 200
WARNING = "warning"

#: refused in every cell (and escaped when a refused row is stored): C0 and C1 control
#: characters, lone surrogates, and the bidirectional embeddings, overrides and isolates
#: (U+202A-U+202E, U+2066-U+2069), which make ``Ali\u202eidalaH`` show as another name
#: (issue 18, finding 11).  Tab, line feed and carriage return are text.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: refused in keys (source, record_id) on top of those: characters that show as nothing, so
#: that ``A-1`` and ``A\u200b-1`` would look the same in the queue.  Names keep them: ZWNJ
#: (U+200C) and ZWJ (U+200D) are part of correctly typed Arabic-script (notably Persian and
#: Kurdish) names, and the name comparison ignores all of them (``athar.names.normalize``).
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)


def unsafe_character(text: str) -> str | None:
    """What makes ``text`` unsafe to show (a control or bidirectional control character),
    as words naming its code point; ``None`` when it is safe."""
    bad = _CONTROL.search(text)
    if bad is None:
        return None
    char = bad.group()
    if char in _BIDI:
        return f"bidirectional control character U+{ord(char):04X}"
    return f"control character or lone surrogate U+{ord(char):04X}"


def invisible_character(text: str) -> str | None:
    """The first character of ``text`` that shows as nothing (for keys), as words."""
    bad = _INVISIBLE.search(text)
    return None if bad is None else f"invisible character U+{ord(bad.group()):04X}"


_SPACES = re.compile(r"\s+")
_UNUSUAL_SPACE = re.compile(r"\s\s|[^\S ]")


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem with one cell (``column``) or the whole row (``column`` is ``None``)."""

    column: str | None
    reason: str
    severity: str = ERROR


def storable(text: str | None) -> str | None:
    """``text`` (a refused row's key), with control characters, lone surrogates and
    characters that show as nothing written as visible escapes (``A\\u200b-1``)."""
    if text is None or not (_CONTROL.search(text) or _INVISIBLE.search(text)):
        return text
    escape = lambda m: f"\\u{ord(m.group()):04x}"  # noqa: E731
    return _INVISIBLE.sub(escape, _CONTROL.sub(escape, text))


@lru_cache(maxsize=65536)
def _date_info(text: str, today: date, order: str) -> tuple[str, str, int, date, date]:
    """(iso, precision, year, earliest day, latest day) of a date; raises DateError."""
    d = parse_date(text, today, order)
    return d.iso(), d.precision, d.year, d.earliest(), d.latest()


def clean_text(text: str) -> str:
    """NFC, surrounding whitespace removed, inner runs of whitespace made one space."""
    t = text.strip()
    if not t.isascii() and not unicodedata.is_normalized("NFC", t):
        t = unicodedata.normalize("NFC", t)
    return _SPACES.sub(" ", t) if _UNUSUAL_SPACE.search(t) else t


#: distinct cell texts seen -> their clean form (names, places and words repeat a lot);
#: bounded, so memory does not grow with the size of a list
_CLEAN: dict[str, str] = {}
_CLEAN_MAX = 1 << 16


def _clean_cell(cell: str) -> str:
    got = _CLEAN.get(cell)
    if got is None:
        if len(_CLEAN) >= _CLEAN_MAX:
            _CLEAN.clear()
        got = _CLEAN[cell] = clean_text(cell)
    return got


@lru_cache(maxsize=4096)
def _age_info(text: str) -> tuple[int, int] | str:
    """(min, max) of an age, or the reason it is not one."""
    try:
        return parse_age(text)
    except DateError as e:
        return str(e)


def parse_row(
    cells: dict[str, str], today: date, date_order: str = "iso"
) -> tuple[dict[str, Any], list[Issue]]:
    """Parse one row.  ``cells`` maps interchange columns to text (missing = unknown).

    Returns the parsed fields (keys are the registry's record columns) and every issue.
    """
    issues: list[Issue] = []
    out: dict[str, Any] = {}
    if _CONTROL.search("".join(cells.values())):
        for col, raw in cells.items():
            bad = unsafe_character(raw)
            if bad is not None:
                issues.append(Issue(col, f"{bad} in the cell"))
    clean: dict[str, str] = {}
    for col, cell in cells.items():
        if cell:
            c = _CLEAN.get(cell)
            if c is None:
                if cell.isascii() and not _UNUSUAL_SPACE.search(cell) and cell.strip() == cell:
                    c = cell  # already clean (ids, numbers, Latin names): not worth caching
                else:
                    c = _clean_cell(cell)
            if c:
                clean[col] = c
    text = clean.get

    for col in ("source", "record_id"):
        key = text(col)
        if key is None:
            issues.append(Issue(col, f"{col} is empty"))
        elif len(key) > MAX_KEY_LENGTH:
            issues.append(Issue(col, f"{col} is longer than {MAX_KEY_LENGTH} characters"))
        elif (hidden := invisible_character(key)) is not None:
            issues.append(Issue(col, f"{hidden} in the {col}: an id must be visible"))
        out[col] = key
    for col in TEXT_COLUMNS:
        out[col] = text(col)

    for col, text_col, code_col, lookup, report in _CODED:
        word = text(col)
        out[text_col], out[code_col] = word, None
        if word is not None:
            code = lookup(word).code
            out[code_col] = code
            if code is None and report:
                issues.append(
                    Issue(col, f"unknown {col} word {quote(word)}; kept as written", WARNING)
                )

    dates: dict[str, tuple[str, str, int, date, date]] = {}
    for col in DATE_COLUMNS:
        v = text(col)
        out[col], out[f"{col}_precision"] = None, None
        if v is None:
            continue
        try:
            d = _date_info(v, today, date_order)
        except DateError as e:
            issues.append(Issue(col, str(e)))
            continue
        dates[col] = d
        out[col], out[f"{col}_precision"] = d[0], d[1]
    out["birth_year"] = dates["birth_date"][2] if "birth_date" in dates else None

    age = text("age")
    out["age_text"], out["age_min"], out["age_max"] = age, None, None
    if age is not None:
        got = _age_info(age)
        if isinstance(got, str):
            issues.append(Issue("age", got))
        else:
            out["age_min"], out["age_max"] = got

    b, a, s = dates.get("birth_date"), dates.get("arrest_date"), dates.get("last_seen_date")
    if b and a and b[3] > a[4]:
        issues.append(Issue("birth_date", "born after the arrest date", WARNING))
    if a and s and a[3] > s[4]:
        issues.append(Issue("arrest_date", "arrested after the last-seen date", WARNING))
    return out, issues
