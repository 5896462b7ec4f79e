"""Athar's controlled vocabulary: statuses, sexes, governorates and facilities.

The words lists use live in the data files beside this module (``data/*.yaml``), never in
``if`` chains.  Every lookup returns a :class:`Mapped` value that keeps the original text
beside the code, so nothing the source wrote is lost.  Matching goes through
:func:`athar.domain.normalize.match_key`, so Arabic orthographic variants and Latin case and
punctuation do not matter.  Pure: the data files are read through ``importlib.resources``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from athar.domain.normalize import match_key
from athar.errors import ConfigError

#: Athar's status vocabulary.  Every status is a claim by one source about one record.
STATUS_CODES: tuple[str, ...] = (
    "missing",
    "detained",
    "released",
    "deceased",
    "unidentified_living",
    "unidentified_body",
)
SEX_CODES: tuple[str, ...] = ("M", "F")


class VocabularyError(ValueError, ConfigError):
    """A data file is inconsistent (e.g. one word maps to two codes)."""

    code = "vocabulary_inconsistent"


@dataclass(frozen=True, slots=True)
class Mapped:
    """A value as the source wrote it, and Athar's code for it (``None`` if unknown)."""

    text: str
    code: str | None

    @property
    def known(self) -> bool:
        return self.code is not None


@dataclass(frozen=True, slots=True)
class Facility:
    code: str
    name_ar: str
    name_en: str
    governorate: str | None
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Governorate:
    code: str
    name_ar: str
    name_en: str
    aliases: tuple[str, ...]


class Lexicon:
    """Words -> code, matched on :func:`match_key`."""

    def __init__(self, name: str, entries: dict[str, list[str]]) -> None:
        self.name = name
        self.codes = tuple(entries)
        self._index: dict[str, str] = {}
        for code, words in entries.items():
            for word in [code, *words]:
                key = match_key(str(word))
                if not key:
                    continue
                other = self._index.setdefault(key, code)
                if other != code:
                    raise VocabularyError(
                        f"{name}: {word!r} matches both {other!r} and {code!r} after normalisation"
                    )

    def lookup(self, text: str) -> Mapped:
        """Map ``text``; the original text is kept even when no code matches."""
        return Mapped(text, self._index.get(match_key(text)))

    def words(self) -> dict[str, str]:
        return dict(self._index)


def _load(name: str) -> Any:
    with resources.files("athar.domain").joinpath("data", name).open("r", encoding="utf-8") as f:
        return yaml.safe_load(f)


@cache
def statuses() -> Lexicon:
    """The status words: ``statuses.yaml`` and their feminine and plural forms,
    ``status_forms.yaml``."""
    words: dict[str, list[str]] = {code: [] for code in STATUS_CODES}
    for name in ("statuses.yaml", "status_forms.yaml"):
        data = _load(name)
        unknown = set(data) - set(STATUS_CODES)
        if unknown:
            raise VocabularyError(f"{name}: unknown status codes {sorted(unknown)}")
        for code in STATUS_CODES:
            words[code].extend(data.get(code) or [])
    return Lexicon("status", words)


@cache
def sexes() -> Lexicon:
    data = _load("sexes.yaml")
    return Lexicon("sex", {code: list(data.get(code) or []) for code in SEX_CODES})


@cache
def governorate_list() -> tuple[Governorate, ...]:
    return tuple(
        Governorate(g["code"], g["ar"], g["en"], tuple(g.get("aliases") or []))
        for g in _load("governorates.yaml")
    )


@cache
def governorates() -> Lexicon:
    return Lexicon(
        "governorate",
        {g.code: [g.name_ar, g.name_en, *g.aliases] for g in governorate_list()},
    )


@cache
def facility_list() -> tuple[Facility, ...]:
    return tuple(
        Facility(f["code"], f["ar"], f["en"], f.get("governorate"), tuple(f.get("aliases") or []))
        for f in _load("facilities.yaml")
    )


@cache
def facilities() -> Lexicon:
    return Lexicon(
        "facility",
        {f.code: [f.name_ar, f.name_en, *f.aliases] for f in facility_list()},
    )


@lru_cache(maxsize=16384)
def map_status(text: str) -> Mapped:
    return statuses().lookup(text)


@lru_cache(maxsize=16384)
def map_sex(text: str) -> Mapped:
    return sexes().lookup(text)


@cache
def towns() -> Lexicon:
    """Towns and districts (``data/towns.tsv``, any script) -> their governorate's code."""
    text = resources.files("athar.domain").joinpath("data", "towns.tsv").read_text("utf-8")
    entries: dict[str, list[str]] = {g.code: [] for g in governorate_list()}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        gov, name_ar, latin = line.split("\t")
        if gov not in entries:
            raise VocabularyError(f"towns.tsv line {n}: unknown governorate {gov!r}")
        entries[gov] += [name_ar, *latin.split("|")]
    return Lexicon("town", entries)


@lru_cache(maxsize=16384)
def map_place(text: str) -> Mapped:
    """Map a place to its governorate's code: a governorate's own name, or a known town in it."""
    found = governorates().lookup(text)
    return found if found.known else towns().lookup(text)


@lru_cache(maxsize=16384)
def map_facility(text: str) -> Mapped:
    return facilities().lookup(text)
