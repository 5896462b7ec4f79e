"""Places and detention facilities through the name machinery (pure, no I/O).

``حمص``/``Homs``/``Hims``, ``Deir ez-Zor``/``Deir al-Zour``/``دير الزور`` and
``Saydnaya``/``Sednaya``/``صيدنايا`` meet: the words go through the same normalisation,
article handling and consonant skeletons as personal names, with a small places lexicon
(``data/places.tsv``) for exonyms (``Aleppo``/``حلب``) and the descriptive words of facility
names (``Branch``/``فرع``, ``Prison``/``سجن``).  Numbers are kept (``Branch 215``).
"""

from __future__ import annotations

from functools import lru_cache

from athar.names.lexicon import Entry, places_lexicon
from athar.names.skeleton import coarse, medium, render, word_skeleton
from athar.names.tokens import COMMA, split_words


def _lookup(word: str) -> Entry | None:
    lex = places_lexicon()
    i = lex.by_form.get(word)
    if i is None and word.endswith("ه") and len(word) > 3:
        i = lex.by_form.get(word[:-1])  # feminine agreement: العسكرية -> عسكري
    if i is None:
        skel = medium(word_skeleton(word))
        if len(skel) < 3:
            return None
        i = lex.by_skeleton.get(skel)
        if i is None or "p" not in lex.entries[i].kinds:
            return None
    return lex.entries[i]


# little words of place descriptions that carry no identity
_STOPWORDS = frozenset({"في", "of", "in", "at", "the", "and", "de", "du", "la", "le", "و"})


def _split_arabic(piece: str) -> list[str]:
    """Split a glued Arabic place word: ``ديرالزور`` -> دير زور, ``بدمشق`` -> دمشق."""
    if piece.isascii() or _lookup(piece) is not None:
        return [piece]
    i = piece.find("ال", 2)
    if i >= 2 and len(piece) - i >= 4 and _lookup(piece[:i]) is not None:
        return [piece[:i], piece[i + 2 :]]
    if piece[0] in "بلو" and len(piece) >= 4 and _lookup(piece[1:]) is not None:
        return [piece[1:]]
    return [piece]


@lru_cache(maxsize=1 << 16)
def _place_words(text: str) -> tuple[tuple[str, str, str], ...]:
    """(kind, display, key) per word: kind is "p" (name), "a" (adjective), "h" (head), "n"."""
    out: list[tuple[str, str, str]] = []
    for w in split_words(text):
        if w.kind == COMMA or not w.text:
            continue
        for piece in (p for q in w.text.split() for p in _split_arabic(q)):
            if piece in _STOPWORDS:
                continue
            if piece.isdigit():
                out.append(("n", piece, piece))
                continue
            entry = _lookup(piece)
            if entry is not None:
                kind = "p" if "p" in entry.kinds else ("h" if "h" in entry.kinds else "a")
                out.append(
                    (kind, entry.display, entry.key if kind == "p" else "#" + entry.display.lower())
                )
                continue
            skel = word_skeleton(piece)
            if skel:
                out.append(("p", render(medium(skel)), coarse(skel)))
    return tuple(out)


@lru_cache(maxsize=1 << 16)
def place_key(text: str) -> str:
    """Order-free key of a place or facility name: its words' keys, sorted and de-duplicated."""
    return " ".join(sorted({key for _, _, key in _place_words(text)}))


@lru_cache(maxsize=1 << 16)
def canonical_place(text: str) -> str:
    """Canonical Latin display form: names, then descriptive words, then the head word and
    numbers (``سجن صيدنايا العسكري`` -> ``Sednaya Military Prison``; ``فرع 215`` ->
    ``Branch 215``)."""
    words = _place_words(text)
    seen: set[str] = set()
    ordered: list[str] = []
    for kind in ("p", "a", "h", "n"):
        for k, display, _ in words:
            if k == kind and display not in seen:
                seen.add(display)
                ordered.append(display)
    return " ".join(ordered)
