"""Graded comparison of names and per-part alignment of full names (pure, no I/O).

Levels, best first: the same after normalisation (EXACT), the same canonical form (CANONICAL),
the same phonetic key (PHONETIC), close by string distance on the canonical form (CLOSE),
DIFFERENT.  The score is the Jaro-Winkler similarity of the canonical forms (1.0 when equal),
a continuous feature for the linkage model.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import lru_cache

from rapidfuzz.distance import JaroWinkler

from athar.names.normalize import normalize
from athar.names.romanize import analyse
from athar.names.tokens import FULL_NAME_CACHE, Word

#: Jaro-Winkler similarity of canonical forms at or above which two names are CLOSE
CLOSE_THRESHOLD = 0.88


class NameLevel(IntEnum):
    DIFFERENT = 0
    CLOSE = 1
    PHONETIC = 2
    CANONICAL = 3
    EXACT = 4


@dataclass(frozen=True, slots=True)
class AlignedPart:
    """One row of an alignment: a part of each name (None when unmatched) and their level."""

    a: str | None
    b: str | None
    level: NameLevel
    score: float


@dataclass(frozen=True, slots=True)
class NameComparison:
    level: NameLevel
    score: float
    a_canonical: str
    b_canonical: str
    a_key: str
    b_key: str
    #: per-part alignment when either side has several parts; empty for single parts
    alignment: tuple[AlignedPart, ...] = ()


@dataclass(frozen=True, slots=True)
class _P:
    exact: str
    canonical: str
    key: str


def _words_exact(words: tuple[Word, ...]) -> str:
    return " ".join(w.text for w in words)


@lru_cache(maxsize=FULL_NAME_CACHE)
def _parts(full: str) -> tuple[_P, ...]:
    analysis = analyse(full)
    real = [p for p in analysis.parts if p is not None]
    out = [
        _P(_words_exact(p.words), c, k)
        for p, c, k in zip(real, analysis.canonicals, analysis.keys, strict=True)
    ]
    if None in analysis.parts:  # "FAMILY, Given Father" -> Given Father FAMILY
        n_before = sum(1 for p in analysis.parts[: analysis.parts.index(None)] if p is not None)
        out = out[n_before:] + out[:n_before]
    return tuple(out)


def _level(a: _P, b: _P) -> tuple[NameLevel, float]:
    if not a.canonical or not b.canonical:
        return NameLevel.DIFFERENT, 0.0
    score = JaroWinkler.normalized_similarity(a.canonical.casefold(), b.canonical.casefold())
    if a.exact == b.exact:
        return NameLevel.EXACT, 1.0
    if a.canonical == b.canonical:
        return NameLevel.CANONICAL, 1.0
    if a.key and a.key == b.key:
        return NameLevel.PHONETIC, score
    if score >= CLOSE_THRESHOLD:
        return NameLevel.CLOSE, score
    return NameLevel.DIFFERENT, score


_WEIGHT = {
    NameLevel.EXACT: 4.0,
    NameLevel.CANONICAL: 3.6,
    NameLevel.PHONETIC: 2.6,
    NameLevel.CLOSE: 1.4,
    NameLevel.DIFFERENT: -1.0,
}


def _align(pa: tuple[_P, ...], pb: tuple[_P, ...]) -> list[AlignedPart]:
    """Order-preserving alignment that maximises the summed level weights (gaps cost 0)."""
    n, m = len(pa), len(pb)
    pair = [[_level(x, y) for y in pb] for x in pa]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    move = [[0] * (m + 1) for _ in range(n + 1)]  # 0 diag, 1 skip a, 2 skip b
    for i in range(n - 1, -1, -1):
        move[i][m] = 1
    for j in range(m - 1, -1, -1):
        move[n][j] = 2
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            diag = best[i + 1][j + 1] + _WEIGHT[pair[i][j][0]] + pair[i][j][1] * 0.1
            skip_a, skip_b = best[i + 1][j], best[i][j + 1]
            if diag >= skip_a and diag >= skip_b:
                best[i][j], move[i][j] = diag, 0
            elif skip_a >= skip_b:
                best[i][j], move[i][j] = skip_a, 1
            else:
                best[i][j], move[i][j] = skip_b, 2
    rows: list[AlignedPart] = []
    i = j = 0
    while i < n or j < m:
        mv = move[i][j]
        if mv == 0 and i < n and j < m:
            lvl, sc = pair[i][j]
            if lvl == NameLevel.DIFFERENT:
                rows.append(AlignedPart(pa[i].canonical, None, NameLevel.DIFFERENT, 0.0))
                rows.append(AlignedPart(None, pb[j].canonical, NameLevel.DIFFERENT, 0.0))
            else:
                rows.append(AlignedPart(pa[i].canonical, pb[j].canonical, lvl, sc))
            i, j = i + 1, j + 1
        elif mv == 1 or j >= m:
            rows.append(AlignedPart(pa[i].canonical, None, NameLevel.DIFFERENT, 0.0))
            i += 1
        else:
            rows.append(AlignedPart(None, pb[j].canonical, NameLevel.DIFFERENT, 0.0))
            j += 1
    return rows


def align(full_a: str, full_b: str) -> list[AlignedPart]:
    """Per-part alignment of two full names whose parts (given, father...) are unknown.

    Parts are matched in written order (an inverted ``FAMILY, Given`` name is turned round
    first); a part of one name may be left unmatched, such as a father's name that one list
    leaves out.
    """
    return _align(_parts(full_a), _parts(full_b))


@lru_cache(maxsize=FULL_NAME_CACHE)
def compare(a: str, b: str) -> NameComparison:
    """Compare two names or name parts; full names are aligned part by part.

    For full names the level is the worst level over the parts of the name with fewer parts
    (an unmatched part there counts as DIFFERENT): every part the shorter name states must be
    found in the other.  The score is the mean score over those parts.
    """
    pa, pb = _parts(a), _parts(b)
    ca = " ".join(p.canonical for p in pa)
    cb = " ".join(p.canonical for p in pb)
    ka = " ".join(p.key for p in pa)
    kb = " ".join(p.key for p in pb)
    if not pa or not pb:
        return NameComparison(NameLevel.DIFFERENT, 0.0, ca, cb, ka, kb)
    if len(pa) == 1 and len(pb) == 1:
        lvl, sc = _level(pa[0], pb[0])
        return NameComparison(lvl, sc, ca, cb, ka, kb)
    rows = _align(pa, pb)
    shorter_is_a = len(pa) <= len(pb)
    levels: list[NameLevel] = []
    scores: list[float] = []
    for r in rows:
        mine = r.a if shorter_is_a else r.b
        if mine is None:
            continue
        other = r.b if shorter_is_a else r.a
        levels.append(r.level if other is not None else NameLevel.DIFFERENT)
        scores.append(r.score if other is not None else 0.0)
    level = min(levels) if levels else NameLevel.DIFFERENT
    score = sum(scores) / len(scores) if scores else 0.0
    if normalize(a) == normalize(b):
        level, score = NameLevel.EXACT, 1.0
    return NameComparison(level, round(score, 4), ca, cb, ka, kb, tuple(rows))
