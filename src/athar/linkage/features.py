"""Feature preparation: turn raw record rows into the columns the model compares.

Pure: a pandas frame of strings in, a pandas frame of features out.  Names go
through :mod:`athar.names` (normalised form, canonical Latin form and phonetic key
per name part), so that Arabic-script and Latin-script spellings of one name meet.
Every transform is memoised on the distinct input value: name frequencies are
Zipf-like, so a million records hold only tens of thousands of distinct names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd
import yaml

from athar.errors import InvalidInput
from athar.linkage.spec import FeatureSpec, LinkSpec

NAME_PARTS = ("given", "father", "grandfather", "family")


@dataclass(frozen=True)
class Problem:
    """One bad input value: the row (1-based, as in the file after its header), column, why."""

    row: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.reason} ({self.value!r})"


class FeatureError(ValueError, InvalidInput):
    """Input values the features cannot be prepared from; ``problems`` lists each."""

    code = "features_invalid"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "; ".join(str(p) for p in problems[:20])
        more = f" (and {len(problems) - 20} more)" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} bad value(s): {shown}{more}")


# ---------------------------------------------------------------- partial dates

_DATE_RE = re.compile(r"^\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*$")
_COMPACT_RE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")


def parse_partial_date(text: str) -> tuple[int | None, int | None, int | None] | None:
    """``1985`` / ``1985-03`` / ``1985-03-12`` / ``19850312`` -> (year, month, day).

    Unknown parts are ``None``.  Returns ``None`` when the text is not a date; an
    empty text is ``(None, None, None)``.
    """
    if not text or not text.strip():
        return (None, None, None)
    m = _DATE_RE.match(text) or _COMPACT_RE.match(text)
    if not m:
        return None
    y = int(m.group(1))
    mo = int(m.group(2)) if m.group(2) else None
    d = int(m.group(3)) if m.group(3) else None
    if not 1800 <= y <= 2100 or (mo is not None and not 1 <= mo <= 12):
        return None
    if d is not None and not 1 <= d <= 31:
        return None
    return (y, mo, d)


_AGE_RE = re.compile(r"^\s*(\d{1,3})\s*(?:[-–to]+\s*(\d{1,3}))?\s*$")


def parse_age(text: str) -> tuple[int, int] | None:
    """``34`` -> (34, 34); ``25-35`` -> (25, 35); ``None`` if not an age."""
    m = _AGE_RE.match(text)
    if not m:
        return None
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if lo > hi or hi > 120:
        return None
    return (lo, hi)


# ---------------------------------------------------------------- vocabularies


@cache
def _sex_words() -> dict[str, str]:
    raw = yaml.safe_load(
        (resources.files("athar.domain") / "data" / "sexes.yaml").read_text(encoding="utf-8")
    )
    return {str(w).strip().lower(): code for code, words in raw.items() for w in words}


def sex_code(text: str) -> str | None:
    """``M``/``F`` for the words lists use for them, or ``None`` if unknown."""
    return _sex_words().get(text.strip().lower())


@cache
def _facility_aliases() -> dict[str, str]:
    from athar import names

    raw = yaml.safe_load(
        (resources.files("athar.domain") / "data" / "facilities.yaml").read_text(encoding="utf-8")
    )
    index: dict[str, str] = {}
    for fac in raw:
        for alias in [fac.get("ar"), fac.get("en"), *(fac.get("aliases") or [])]:
            if alias:
                index[names.normalize(str(alias))] = str(fac["code"])
    return index


# ---------------------------------------------------------------- name transforms


class _NameCache:
    """Memoised calls into :mod:`athar.names` (imported only when names are prepared)."""

    def __init__(self) -> None:
        from athar import names

        self.names = names
        self.normalize: Callable[[str], str] = cache(names.normalize)
        self.canonical: Callable[[str], str] = cache(names.canonical)
        self.phonetic_key: Callable[[str], str] = cache(names.phonetic_key)
        self.parse: Callable[[str], Any] = cache(names.parse_name)
        self.place_key: Callable[[str], str] = cache(names.place_key)

    def part(self, text: str) -> tuple[str | None, str | None, str | None]:
        """(normalised, canonical, phonetic key) of one name part, ``None`` when empty."""
        if not text or not text.strip():
            return (None, None, None)
        norm = self.normalize(text) or None
        if norm is None:
            return (None, None, None)
        return (norm, self.canonical(text) or None, self.phonetic_key(text) or None)


def _person_name(frame: pd.DataFrame, f: FeatureSpec, nc: _NameCache) -> dict[str, list[Any]]:
    """Split (or parse) the name, then key every part; plus a bag of all part keys."""
    full_col, *part_cols = f.sources
    third_is_family = bool(f.options.get("third_is_family", False))
    second_is_family = bool(f.options.get("second_is_family", False))
    cols = {c: frame[c].tolist() if c in frame else [""] * len(frame) for c in f.sources}
    out: dict[str, list[Any]] = {
        f"{p}_{k}": [] for p in NAME_PARTS for k in ("norm", "canon", "key")
    }
    out["name_bag"] = []
    out["name_display"] = []
    for i in range(len(frame)):
        parts = [cols[c][i] for c in part_cols]
        full = cols[full_col][i]
        if not (parts[0].strip() or parts[3].strip()) and full.strip():
            p = nc.parse(full)
            parts = [p.given or "", p.father or "", p.grandfather or "", p.family or ""]
            if third_is_family and p.family is None and p.grandfather and len(p.tokens) == 3:
                # an unsplit three-part name with no family marker is ambiguous; Syrian
                # lists write it as given, father, family (option third_is_family)
                parts = [parts[0], parts[1], "", parts[2]]
            elif second_is_family and p.family is None and p.father and len(p.tokens) == 2:
                # likewise an unmarked two-part name: given and family (``Rami Kaakeh``),
                # as lists shorten a name, not given and father (option second_is_family)
                parts = [parts[0], "", "", parts[1]]
        bag: list[str] = []
        shown: list[str] = []
        for name, text in zip(NAME_PARTS, parts, strict=True):
            norm, canon, key = nc.part(text)
            out[f"{name}_norm"].append(norm)
            out[f"{name}_canon"].append(canon)
            out[f"{name}_key"].append(key)
            if key:
                bag.append(key)
            if canon:
                shown.append(canon)
        out["name_bag"].append(sorted(bag) if bag else None)
        out["name_display"].append(" ".join(shown) if shown else None)
    return out


def _single_name(frame: pd.DataFrame, f: FeatureSpec, nc: _NameCache) -> dict[str, list[Any]]:
    """A name as written (e.g. the mother's): its first given part, keyed."""
    values = frame[f.sources[0]].tolist() if f.sources[0] in frame else [""] * len(frame)
    out: dict[str, list[Any]] = {f"{f.name}_{k}": [] for k in ("norm", "canon", "key")}
    for text in values:
        given = ""
        if text.strip():
            p = nc.parse(text)
            given = p.given or (p.tokens[0] if p.tokens else "")
        norm, canon, key = nc.part(given)
        out[f"{f.name}_norm"].append(norm)
        out[f"{f.name}_canon"].append(canon)
        out[f"{f.name}_key"].append(key)
    return out


# ---------------------------------------------------------------- the entry point

_TEXT_WS = re.compile(r"\s+")
_ID_KEEP = re.compile(r"[^0-9A-Za-z/]+")
_ID_HAS = re.compile(r"[0-9A-Za-z]")
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _col(frame: pd.DataFrame, name: str) -> list[str]:
    return frame[name].tolist() if name in frame else [""] * len(frame)


def prepare_features(
    frame: pd.DataFrame,
    spec: LinkSpec,
    row_numbers: Iterable[int] | None = None,
) -> pd.DataFrame:
    """Derive the model's feature columns from raw string columns.

    ``frame`` holds one row per record with string cells ("" = unknown), including
    ``source`` and ``record_id``.  The result has ``unique_id`` (0..n-1), ``source``,
    ``record_id`` and the feature columns named by ``spec``.  Values that cannot be
    read raise :class:`FeatureError` listing every one when ``spec.strict`` (else
    they become unknown).
    """
    frame = frame.reset_index(drop=True)
    rows = list(row_numbers) if row_numbers is not None else list(range(2, len(frame) + 2))
    problems: list[Problem] = []
    out: dict[str, Any] = {
        "unique_id": list(range(len(frame))),
        "source": _col(frame, "source"),
        "record_id": _col(frame, "record_id"),
    }
    nc: _NameCache | None = None

    def names() -> _NameCache:
        nonlocal nc
        if nc is None:
            nc = _NameCache()
        return nc

    dates: dict[str, list[tuple[int | None, int | None, int | None]]] = {}
    for f in spec.features:
        src = f.sources[0]
        if f.kind == "person_name":
            out.update(_person_name(frame, f, names()))
        elif f.kind == "name":
            out.update(_single_name(frame, f, names()))
        elif f.kind == "text":
            out[f.name] = [_TEXT_WS.sub(" ", v.strip().lower()) or None for v in _col(frame, src)]
        elif f.kind == "identifier":
            ids = [_ID_KEEP.sub("", v.translate(_DIGITS)).upper() for v in _col(frame, src)]
            # an identifier with no digit or letter left (e.g. only "/") is unknown
            out[f.name] = [v if _ID_HAS.search(v) else None for v in ids]
        elif f.kind == "sex":
            vals = []
            for r, v in zip(rows, _col(frame, src), strict=True):
                code = sex_code(v) if v.strip() else None
                if v.strip() and code is None:
                    problems.append(Problem(r, src, v, "unknown sex"))
                vals.append(code)
            out[f.name] = vals
        elif f.kind == "place":
            nc_ = names()
            facilities = _facility_aliases() if f.options.get("facility") else {}
            vals = []
            for v in _col(frame, src):
                if not v.strip():
                    vals.append(None)
                    continue
                code = facilities.get(nc_.normalize(v)) if facilities else None
                vals.append(code or nc_.place_key(v) or None)
            out[f.name] = vals
        elif f.kind == "date":
            parsed = []
            for r, v in zip(rows, _col(frame, src), strict=True):
                d = parse_partial_date(v)
                if d is None:
                    problems.append(Problem(r, src, v, "not a date (YYYY, YYYY-MM, YYYY-MM-DD)"))
                    d = (None, None, None)
                parsed.append(d)
            dates[f.name] = parsed
            out[f"{f.name}_y"] = [d[0] for d in parsed]
            out[f"{f.name}_m"] = [d[1] for d in parsed]
            out[f"{f.name}_d"] = [d[2] for d in parsed]
        elif f.kind == "age":
            # sources: age, then date features (already prepared) whose year is the
            # record's own date, in order of preference; option birth: a date feature.
            birth = dates.get(str(f.options.get("birth", "")), [])
            refs = [dates.get(s, []) for s in f.sources[1:]]
            lo_l: list[int | None] = []
            hi_l: list[int | None] = []
            for i, (r, v) in enumerate(zip(rows, _col(frame, src), strict=True)):
                lo = hi = None
                if birth and birth[i][0] is not None:
                    lo = hi = birth[i][0]
                elif v.strip():
                    age = parse_age(v)
                    if age is None:
                        problems.append(Problem(r, src, v, "not an age or age range"))
                    else:
                        ref = next((d[i][0] for d in refs if d and d[i][0] is not None), None)
                        if ref is not None:
                            lo, hi = ref - age[1] - 1, ref - age[0]
                lo_l.append(lo)
                hi_l.append(hi)
            out[f"{f.name}_lo"] = lo_l
            out[f"{f.name}_hi"] = hi_l
        else:  # pragma: no cover - spec validation rejects unknown kinds
            raise ValueError(f"unknown feature kind {f.kind}")
    if problems and spec.strict:
        raise FeatureError(problems)
    result = pd.DataFrame(out)
    for c in result.columns:
        if c.endswith(("_y", "_m", "_d", "_lo", "_hi")) and c not in {"record_id"}:
            result[c] = result[c].astype("Int64")
    return result
