"""The names data: common Arabic names and name elements with their Latin spellings.

Loaded once from the packaged files ``data/names.tsv`` and ``data/places.tsv`` with
:mod:`importlib.resources` (no other I/O).  Each entry has a display form, Arabic forms, Latin
variants and kinds; the lookups map any normalised spelling (the earlier entry wins a shared
spelling) and any spelling skeleton to the entry that owns it; a skeleton shared by names with
different display forms (Said/Saad) maps to none, and the rules decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from athar.names.normalize import normalize
from athar.names.skeleton import coarse, medium, word_skeleton


@dataclass(frozen=True, slots=True)
class Entry:
    display: str
    arabic: tuple[str, ...]
    latin: tuple[str, ...]
    kinds: frozenset[str]
    key: str


@dataclass(frozen=True, slots=True)
class Lexicon:
    entries: tuple[Entry, ...]
    by_form: dict[str, int]
    by_skeleton: dict[str, int]

    def lookup(self, word: str) -> Entry | None:
        """The entry for one normalised word (hamza folded), by spelling, then by skeleton."""
        i = self.by_form.get(word)
        if i is None:
            skel = medium(word_skeleton(word))
            if not skel:
                return None
            i = self.by_skeleton.get(skel)
            if i is None:
                return None
        return self.entries[i]


def _strip_article(word: str) -> str:
    if word.startswith("ال") and len(word) >= 4:
        return word[2:]
    return word


def _build(filename: str) -> Lexicon:
    text = resources.files("athar.names").joinpath("data", filename).read_text(encoding="utf-8")
    entries: list[Entry] = []
    by_form: dict[str, int] = {}
    by_skeleton: dict[str, int] = {}
    key_by_display: dict[str, str] = {}
    ambiguous: set[str] = set()
    for line_no, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) != 4:
            raise ValueError(
                f"names data {filename} line {line_no}: expected 4 tab-separated columns"
            )
        display, ar, lat, kinds = cols
        arabic = tuple(
            a if a == "الله" else _strip_article(normalize(a)) for a in ar.split(",") if a
        )
        latin = tuple(normalize(v) for v in lat.split())
        skel = word_skeleton(arabic[0]) if arabic else word_skeleton(latin[0])
        key = key_by_display.setdefault(display, coarse(skel))
        idx = len(entries)
        entries.append(Entry(display, arabic, latin, frozenset(kinds.split()), key))
        for form in (*arabic, *latin, normalize(display)):
            by_form.setdefault(form, idx)
        for form in (*arabic, *latin):
            s = medium(word_skeleton(form))
            if s:
                by_skeleton.setdefault(s, idx)
                if entries[by_skeleton[s]].display != display:
                    ambiguous.add(s)
    for s in ambiguous:  # a skeleton shared by different names tells nothing
        del by_skeleton[s]
    return Lexicon(tuple(entries), by_form, by_skeleton)


@cache
def names_lexicon() -> Lexicon:
    """The lexicon of personal names and name elements."""
    return _build("names.tsv")


@cache
def places_lexicon() -> Lexicon:
    """The lexicon of place names and facility words."""
    return _build("places.tsv")
