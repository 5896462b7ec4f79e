"""Romanisation to a shared Latin canonical form and a coarser phonetic key (pure, no I/O).

Every word is looked up in the names data (by spelling, then by consonant skeleton); a known
word takes the entry's display form and key, so ``محمد``, ``Mohamed`` and ``Mhd`` all become
``Muhammad``.  An unknown word falls back to the rules: its skeleton rendered in Latin letters
(canonical) and the skeleton's coarse form (key).  Compounds keep their structure:
``Abd al-Rahman``, ``Nur al-Din``, ``Abu Zayd``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from athar.names.lexicon import Lexicon, names_lexicon
from athar.names.skeleton import coarse, medium, render, word_skeleton
from athar.names.tokens import (
    ABD,
    ABU,
    ALLAH,
    DIN,
    FULL_NAME_CACHE,
    NAME,
    Part,
    Word,
    group,
    split_words,
)

# fixed keys of the compound elements, so every spelling of them agrees
_FIXED_KEY = {ABD: "bd", ABU: "b", DIN: "dn", ALLAH: "l"}


@lru_cache(maxsize=1 << 18)
def _word_forms(text: str, places: bool = False) -> tuple[str, str]:
    """(canonical, key) of one normalised word."""
    lex: Lexicon
    if places:
        from athar.names.lexicon import places_lexicon

        lex = places_lexicon()
    else:
        lex = names_lexicon()
    entry = lex.lookup(text)
    if entry is not None:
        return entry.display, entry.key
    skel = word_skeleton(text)
    return render(medium(skel)), coarse(skel)


def word_canonical(word: Word) -> str:
    if word.kind in _FIXED_KEY and word.kind != ALLAH:
        return {ABD: "Abd", ABU: "Abu", DIN: "Din"}[word.kind]
    if word.kind == ALLAH:
        return "Allah"
    return _word_forms(word.text)[0]


def word_key(word: Word) -> str:
    fixed = _FIXED_KEY.get(word.kind)
    if fixed is not None:
        return fixed
    return _word_forms(word.text)[1]


def part_canonical(part: Part) -> str:
    words = part.words
    if part.kind == ABD:
        tail = words[1]
        if tail.kind == ALLAH:
            return "Abdullah"
        return "Abd al-" + word_canonical(tail)
    if part.kind == ABU:
        return "Abu " + word_canonical(words[1])
    if part.kind == DIN:
        return word_canonical(words[0]) + " al-Din"
    if part.kind == ALLAH:
        return word_canonical(words[0]) + "allah"
    return word_canonical(words[0])


def part_key(part: Part) -> str:
    return "".join(word_key(w) for w in part.words)


class Analysis(NamedTuple):
    """A name split into parts (``None`` marks the comma of an inverted name), with the
    canonical form and key of each part (in the order of the parts that are not None)."""

    parts: tuple[Part | None, ...]
    canonicals: tuple[str, ...]
    keys: tuple[str, ...]


@lru_cache(maxsize=FULL_NAME_CACHE)
def analyse(text: str) -> Analysis:
    """Split, group and romanise a name once; parse, canonical, key and compare share it."""
    parts = tuple(group(split_words(text)))
    # a plain one-word part takes its forms straight from the word cache
    forms = [
        _word_forms(p.words[0].text) if p.kind == NAME else (part_canonical(p), part_key(p))
        for p in parts
        if p is not None
    ]
    return Analysis(parts, tuple([f[0] for f in forms]), tuple([f[1] for f in forms]))


@lru_cache(maxsize=1 << 16)  # names and parts repeat; full names rarely do
def canonical(part: str) -> str:
    """Canonical Latin display form of a name or name part, from any script.

    The article is dropped (``al-Halabi`` -> ``Halabi``) so that lists that keep it and lists
    that drop it agree.  A word outside the names data is shown as its consonant skeleton
    in Latin letters (``الغندور`` -> ``Ghndr``): a matching form, not a spelling advice.
    """
    return " ".join(analyse(part).canonicals)


@lru_cache(maxsize=1 << 16)  # names and parts repeat; full names rarely do
def phonetic_key(part: str) -> str:
    """Coarse phonetic key of a name or name part, for blocking (any script in).

    One part gives one key without spaces (``Abd al-Rahman`` -> ``bdrhmn``); several parts
    give their keys separated by spaces.
    """
    return " ".join(analyse(part).keys)
