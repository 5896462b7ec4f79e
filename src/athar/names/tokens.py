"""Splitting a name into words and grouping compound names (pure, no I/O).

Words are classified: ordinary names, the article (``al``, ``el``, ``ال``, assimilated
``ad-``/``ash-``/``ez-``...), connectors (``bin``/``ibn``/``bint``, ``بن``), the compound
heads ``Abd`` and ``Abu`` and the compound tails ``al-Din`` and ``Allah``.  Compounds glued
into one word (``Abdulrahman``, ``عبدالرحمن``, ``Nureddin``, ``Nasrallah``, ``Abuzeid``) are
split first, so every spelling yields the same words.  :func:`group` then joins compounds into
name parts.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from athar.names.normalize import _normalize_uncached, fold_hamza

NAME, ABD, ABU, DIN, ALLAH, ARTICLE, CONNECTOR, COMMA = (
    "name",
    "abd",
    "abu",
    "din",
    "allah",
    "article",
    "connector",
    "comma",
)

_ARTICLES = frozenset({"al", "el", "ال", "il", "l"})
# assimilated article before a sun letter: ad-Din, ash-Sham, ez-Zor, ur-Rahman
_SUN_ARTICLES = {
    p + c: c for p in ("a", "e", "u", "o") for c in ("d", "r", "s", "sh", "t", "th", "z", "n", "dh")
}
_CONNECTORS = frozenset(
    {"bin", "ibn", "bint", "ben", "bent", "binti", "ebn", "bn", "بن", "ابن", "إبن", "بنت"}
)
_ABD = frozenset({"abd", "abed", "abdel", "abdul", "abdal", "abdol", "abdil", "abdu l", "عبد"})
_ABU = frozenset({"abu", "abou", "abo", "ابو", "أبو", "ابا", "أبا", "ابي", "أبي", "bou"})
_DIN = frozenset(
    {"din", "deen", "dine", "دين", "eddin", "eddine", "uddin", "addin", "iddin", "eddeen"}
)
_ALLAH = frozenset({"allah", "الله", "ullah", "ollah", "alla"})
_MUHAMMAD_ABBREV = frozenset({"mhd", "mohd", "md", "mhmd", "muhd", "م"})

_DIN_SUFFIXES = (
    "eddine",
    "eddin",
    "eddeen",
    "uddin",
    "uddeen",
    "addin",
    "iddin",
    "aldin",
    "eldin",
    "aldeen",
    "eldeen",
)
_ALLAH_SUFFIXES = ("allah", "ullah", "ollah", "ellah")
_LATIN_ABD = re.compile(r"^ab[e]?d(?P<rest>[a-z]*)$")
_ALLAH_AFTER_ABD = re.compile(r"^[aeiou]?ll?ahi?$|^[aeiou]?lla$")
_VOWELS = frozenset("aeiou")
#: size of the caches keyed by a whole name.  Full names rarely repeat, and large caches of
#: tuples make the garbage collector's full passes slow; words are cached far more widely.
FULL_NAME_CACHE = 1 << 9

_COMMAS = re.compile(r"([,،؛，﹐﹑、])")
_M_DOT = re.compile(r"(?<![^\s,])(?:[Mm]|م)\.(?=\s|$)")


class Word(NamedTuple):
    """One word of a name.  ``text`` is normalised (hamza folded) with the article removed."""

    text: str
    kind: str
    article: bool = False


def _split_abd_latin(w: str) -> list[tuple[str, str]] | None:
    m = _LATIN_ABD.match(w)
    if not m:
        return None
    rest = m.group("rest")
    if _ALLAH_AFTER_ABD.match(rest):
        return [("abd", ABD), ("allah", ALLAH)]
    for conn in ("ul", "el", "al", "ol", "il"):
        if rest.startswith(conn) and len(rest) - 2 >= 3:
            return [("abd", ABD), (rest[2:], NAME)]
    if len(rest) >= 4 and rest[0] in _VOWELS and rest[1] == rest[2] and rest[1] not in _VOWELS:
        return [("abd", ABD), (rest[2:], NAME)]  # abdurrahman, abdussalam
    if len(rest) >= 4 and rest[0] not in _VOWELS:
        return [("abd", ABD), (rest, NAME)]  # abdrabbo, abdkarim
    return None


def _expand(token: str) -> list[tuple[str, str]]:
    """Split one token glued from compound elements into (word, kind) pieces."""
    if token.isascii():
        if token.startswith("ab") and token not in _ABD:
            split = _split_abd_latin(token)
            if split:
                return split
        for suf in _DIN_SUFFIXES:
            if token.endswith(suf) and len(token) - len(suf) >= 2:
                return [(token[: -len(suf)], NAME), ("din", DIN)]
        for suf in _ALLAH_SUFFIXES:
            if token.endswith(suf) and len(token) - len(suf) >= 3:
                return [(token[: -len(suf)], NAME), ("allah", ALLAH)]
        for pre in ("abou", "abu"):
            if (
                token.startswith(pre)
                and len(token) - len(pre) >= 3
                and token[len(pre)] not in _VOWELS
            ):
                return [(pre, ABU), (token[len(pre) :], NAME)]
        return [(token, NAME)]
    if token.startswith("عبد") and len(token) > 3:
        rest = token[3:]
        if rest == "الله":
            return [("عبد", ABD), ("الله", ALLAH)]
        if rest.startswith("ال") and len(rest) >= 4:
            return [("عبد", ABD), (rest, NAME)]
        if len(rest) >= 3:
            return [("عبد", ABD), (rest, NAME)]
    if token.endswith("الدين") and len(token) >= 7:
        return [(token[:-5], NAME), ("دين", DIN)]
    if token.endswith("الله") and len(token) >= 6:
        return [(token[:-4], NAME), ("الله", ALLAH)]
    for pre in ("ابو", "أبو"):
        if token.startswith(pre) and len(token) - 3 >= 3:
            return [(pre, ABU), (token[3:], NAME)]
    return [(token, NAME)]


_SPECIAL = (
    _ARTICLES
    | set(_SUN_ARTICLES)
    | {"ul", "ol", "الله"}
    | _CONNECTORS
    | _ABD
    | _ABU
    | _ALLAH
    | _DIN
)


# A piece is a plain tuple (tok, kind, special, article, text), not a NamedTuple: the piece
# caches hold hundreds of thousands of them, and plain tuples of strings and booleans are
# untracked by the garbage collector, whose full passes would otherwise walk them all.
#   tok: keep-hamza text, Arabic article removed; special: needs the neighbouring words to be
#   classified; article: the Arabic article was glued to it; text: the word's text (hamza folded)
_Piece = tuple[str, str, bool, bool, str]


def _piece(tok: str, kind: str) -> _Piece:
    article = False
    if (
        kind == NAME
        and not tok.isascii()
        and tok.startswith("ال")
        and len(tok) >= 4
        and tok != "الله"
    ):
        tok, article = tok[2:], True
    special = kind != NAME or tok in _SPECIAL
    return (tok, kind, special, article, fold_hamza(tok))


@lru_cache(maxsize=1 << 18)
def _pieces(token: str) -> tuple[_Piece, ...]:
    if token == ",":
        return (_piece(",", COMMA),)
    if token in _MUHAMMAD_ABBREV:
        return (_piece("محمد" if token == "م" else "muhammad", NAME),)
    return tuple(_piece(t, k) for t, k in _expand(token))


@lru_cache(maxsize=1 << 18)
def _raw_pieces(raw: str) -> tuple[_Piece, ...]:
    """The pieces of one whitespace-free token of the input, normalised and expanded."""
    if _COMMAS.search(raw):  # keep the comma of "FAMILY, Given" as a piece of its own
        out: list[_Piece] = []
        for t in _COMMAS.split(raw):
            out.extend(_pieces(",") if _COMMAS.fullmatch(t) else _raw_pieces(t) if t else ())
        return tuple(out)
    light = _normalize_uncached(raw, True)  # = normalize_keep_hamza(raw); cached here already
    if "," in light:
        light = light.replace(",", " , ")
    return tuple(p for token in light.split() for p in _pieces(token))


@lru_cache(maxsize=FULL_NAME_CACHE)
def split_words(text: str) -> tuple[Word, ...]:
    """The words of a name (or full name), classified; commas kept as COMMA words."""
    if "." in text:
        text = _M_DOT.sub(" محمد " if "م." in text else " muhammad ", text)
    pieces = [p for raw in text.split() for p in _raw_pieces(raw)]
    if not any(p[2] for p in pieces):
        return tuple([Word(p[4], NAME, p[3]) for p in pieces])
    words: list[Word] = []
    pending_article = False
    n = len(pieces)
    for i, piece in enumerate(pieces):
        tok, kind, special, glued_article, text = piece
        if not special:
            words.append(Word(text, kind, glued_article or pending_article))
            pending_article = False
            continue
        if glued_article:
            pending_article = True
        nxt = pieces[i + 1][0] if i + 1 < n else ""
        if kind == NAME:
            if tok in _ARTICLES and nxt and pieces[i + 1][1] != COMMA:
                pending_article = True
                continue
            sun = _SUN_ARTICLES.get(tok)
            if sun and nxt.startswith(sun) and pieces[i + 1][1] != COMMA:
                pending_article = True
                continue
            if tok in ("ul", "ol") and words and words[-1].kind == ABD:
                pending_article = True
                continue
            if tok in _CONNECTORS and nxt and i > 0:
                words.append(Word(tok, CONNECTOR))
                continue
            if tok in _ABD and nxt:
                kind = ABD
            elif tok in _ABU and nxt:
                kind = ABU
            elif tok in _ALLAH and words and words[-1].kind in (NAME, ABD):
                kind = ALLAH
            elif tok in _DIN and words and words[-1].kind == NAME:
                kind = DIN
        article = pending_article
        pending_article = False
        words.append(Word(fold_hamza(tok), kind, article))
    return tuple(words)


class Part(NamedTuple):
    """A name part: one word, or a compound (Abd al-X, Abu X, X al-Din, X-allah)."""

    words: tuple[Word, ...]
    kind: str  # NAME, ABD, ABU, DIN (X al-Din), ALLAH (X-allah)
    article: bool
    after_connector: bool


def group(words: tuple[Word, ...]) -> list[Part | None]:
    """Group words into parts; a COMMA becomes ``None`` (the inverted-name separator)."""
    if all(w.kind == NAME for w in words):
        return [Part((w,), NAME, w.article, False) for w in words]
    parts: list[Part | None] = []
    i, n = 0, len(words)
    connector = False
    while i < n:
        w = words[i]
        if w.kind == COMMA:
            parts.append(None)
            i += 1
            continue
        if w.kind == CONNECTOR:
            connector = True
            i += 1
            continue
        if w.kind in (ABD, ABU) and i + 1 < n and words[i + 1].kind in (NAME, ALLAH, DIN):
            parts.append(Part((w, words[i + 1]), w.kind, w.article, connector))
            i += 2
        elif w.kind == NAME and i + 1 < n and words[i + 1].kind in (DIN, ALLAH):
            parts.append(Part((w, words[i + 1]), words[i + 1].kind, w.article, connector))
            i += 2
        else:
            parts.append(Part((w,), NAME, w.article, connector))
            i += 1
        connector = False
    return parts
