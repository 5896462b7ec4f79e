"""Partial dates and ages as lists write them.  Pure: no I/O.

A date may be partial: ``1985`` (year), ``1985-03`` (month) or ``1985-03-12`` (day).  The
interchange format is ISO; a column mapping may declare day-first (``12/03/1985``) or
month-first order for other layouts.  Arabic-Indic digits are accepted everywhere.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from athar.domain.normalize import translate_digits
from athar.domain.quoting import quote
from athar.errors import InvalidInput

#: Dates before this year are impossible for the records Athar holds.
MIN_YEAR = 1900
MAX_AGE = 120
DATE_ORDERS = ("iso", "dmy", "mdy")

_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ]00:00(?::00)?)?$")
_SLASHED = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[/.\-](\d{4})$")
_AGE = re.compile(r"^(\d{1,3})(?:\.0+)?(?:\s*[-–—]\s*(\d{1,3})(?:\.0+)?)?$")


class DateError(ValueError, InvalidInput):
    """The text is not a date this field accepts; the message says why."""

    code = "date_invalid"


@dataclass(frozen=True, slots=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def iso(self) -> str:
        if self.day:
            return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
        if self.month:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}"

    def earliest(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> date:
        month = self.month or 12
        return date(self.year, month, self.day or calendar.monthrange(self.year, month)[1])


def _build(year: int, month: int | None, day: int | None, today: date) -> PartialDate:
    if month is not None and not 1 <= month <= 12:
        raise DateError(f"month {month} is not between 1 and 12")
    if day is not None:
        assert month is not None
        last = calendar.monthrange(year, month)[1] if 1 <= year <= 9999 else 31
        if not 1 <= day <= last:
            raise DateError(f"day {day} does not exist in {year:04d}-{month:02d}")
    if year < MIN_YEAR:
        raise DateError(f"year {year} is before {MIN_YEAR}")
    d = PartialDate(year, month, day)
    if d.earliest() > today:
        raise DateError(f"{d.iso()} is in the future")
    return d


@lru_cache(maxsize=65536)
def parse_date(text: str, today: date, order: str = "iso") -> PartialDate:
    """Parse a possibly partial date; raise :class:`DateError` saying what is wrong."""
    t = translate_digits(text.strip())
    m = _ISO.match(t)
    if m:
        y, mo, d = m.groups()
        return _build(int(y), int(mo) if mo else None, int(d) if d else None, today)
    if order in ("dmy", "mdy"):
        m = _SLASHED.match(t)
        if m:
            a, b, y = (int(g) for g in m.groups())
            day, month = (a, b) if order == "dmy" else (b, a)
            return _build(y, month, day, today)
        m = _MONTH_YEAR.match(t)
        if m:
            return _build(int(m.group(2)), int(m.group(1)), None, today)
        raise DateError(
            f"{quote(text)} is not a date (expected YYYY, YYYY-MM, YYYY-MM-DD or {order})"
        )
    raise DateError(f"{quote(text)} is not a date (expected YYYY, YYYY-MM or YYYY-MM-DD)")


@lru_cache(maxsize=4096)
def parse_age(text: str) -> tuple[int, int]:
    """Parse ``34`` or ``25-35`` into an inclusive (min, max) range of years."""
    t = translate_digits(text.strip())
    m = _AGE.match(t)
    if not m:
        raise DateError(f"{quote(text)} is not an age or an age range like 25-35")
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) is not None else lo
    if lo > hi:
        raise DateError(f"age range {quote(text)} runs backwards")
    if hi > MAX_AGE:
        raise DateError(f"age {hi} is impossible (over {MAX_AGE})")
    return lo, hi
