"""Parsing a full Arabic-style name into given, father, grandfather and family (pure).

An Arabic full name is usually ``given father [grandfather] [family]``.  Which trailing part is
a family name is not written down, so the parser scores the evidence and reports how sure it is
(``confidence``): the article (``al-Halabi``, ``الحلبي``), an ``Abu X`` compound at the end, a
nisba ending (``-i``, ``ي``), the inverted ``FAMILY, Given Father`` form and ``bin``/``ibn``
connectors all count; a last part that is a common given name counts against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from athar.names.lexicon import names_lexicon
from athar.names.romanize import analyse
from athar.names.tokens import ABD, ABU, DIN, FULL_NAME_CACHE, NAME, Part


@dataclass(frozen=True, slots=True)
class ParsedName:
    """A full name split into its parts.  Parts are canonical Latin forms (or None)."""

    given: str | None
    father: str | None
    grandfather: str | None
    family: str | None
    confidence: float
    #: canonical name tokens after grouping compounds, in written order
    tokens: tuple[str, ...] = field(default=())
    #: whether the input was in the inverted "FAMILY, Given Father" form
    inverted: bool = False


@lru_cache(maxsize=1 << 16)
def _word_family_evidence(w: str) -> float:
    """Evidence from the word itself: the names data (a known family name or element, or a
    known given name) and a nisba ending."""
    score = 0.0
    lex = names_lexicon()
    i = lex.by_form.get(w)
    if i is not None:
        kinds = lex.entries[i].kinds
        if "f" in kinds and "g" not in kinds:
            score += 0.5
        elif "g" in kinds and "f" not in kinds:
            score -= 0.4
    if w.endswith(("ي", "ى")) or (w.isascii() and w.endswith(("i", "y")) and len(w) > 3):
        score += 0.3  # nisba
    return score


def _family_evidence(part: Part) -> float:
    """How much a part looks like a family name: > 0 for, < 0 against."""
    score = 0.0
    if part.article:
        score += 0.6
    if part.kind == ABU:
        score += 0.6
    if part.after_connector:
        return -1.0  # "bin X": X is a father or grandfather
    if part.kind == NAME:
        score += _word_family_evidence(part.words[0].text)
    if part.kind in (ABD, DIN):
        score -= 0.5  # compounds of these kinds are given names
    return score


def _assign(parts: Sequence[Part], names: Sequence[str]) -> tuple[list[str | None], float]:
    n = len(names)
    if n == 0:
        return [None, None, None, None], 0.0
    connectors = sum(1 for p in parts if p.after_connector)
    if n == 1:
        ev = _family_evidence(parts[0])
        if ev > 0.3:
            return [None, None, None, names[0]], 0.5
        return [names[0], None, None, None], 0.6
    ev = _family_evidence(parts[-1])
    has_family = ev > 0.0 or (n >= 4 and ev > -0.5)
    if n == 2:
        if has_family:
            return [names[0], None, None, names[1]], min(0.95, 0.6 + ev / 2)
        return [names[0], names[1], None, None], min(0.9, 0.6 + connectors * 0.3 - ev / 4)
    if n == 3:
        if has_family:
            return [names[0], names[1], None, names[2]], min(0.95, 0.55 + ev / 2)
        # unsplit three-token name with no family marker: given father grandfather is the
        # commonest reading, but it is ambiguous
        return [names[0], names[1], names[2], None], min(0.9, 0.45 + connectors * 0.2 - ev / 4)
    # four or more: given father grandfather family; extra middle parts join the grandfather
    family = names[-1] if has_family else None
    middle = names[2:-1] if has_family else names[2:]
    grandfather = " ".join(middle) if middle else None
    conf = 0.7 + min(0.25, max(0.0, ev) / 2) - (0.15 if n > 4 else 0.0)
    return [names[0], names[1], grandfather, family], conf


@lru_cache(maxsize=FULL_NAME_CACHE)
def parse_name(full: str) -> ParsedName:
    """Split a full name into given, father, grandfather and family, with a confidence."""
    analysis = analyse(full)
    grouped = analysis.parts
    tokens = analysis.canonicals
    if None not in grouped:
        slots, conf = _assign(grouped, tokens)  # type: ignore[arg-type]  # no None in it
        return ParsedName(slots[0], slots[1], slots[2], slots[3], round(max(0.0, conf), 2), tokens)
    # inverted "FAMILY, Given Father"
    parts = [p for p in grouped if p is not None]
    comma = grouped.index(None)
    n_before = sum(1 for p in grouped[:comma] if p is not None)
    before, rest = list(tokens[:n_before]), list(tokens[n_before:])
    if before and rest:
        family = " ".join(before)
        given = rest[0]
        father = rest[1] if len(rest) > 1 else None
        grandfather = " ".join(rest[2:]) or None
        conf = 0.9 if len(before) == 1 and len(rest) <= 3 else 0.75
        return ParsedName(given, father, grandfather, family, conf, tokens, True)
    slots, conf = _assign(parts, tokens)
    return ParsedName(slots[0], slots[1], slots[2], slots[3], round(max(0.0, conf), 2), tokens)
