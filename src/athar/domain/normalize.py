"""The one place where Athar's domain code normalises text before matching vocabulary.

Arabic matching must survive ordinary orthographic variation: hamza and alef forms
(أ إ آ ٱ → ا, ؤ → و, ئ → ي), taa marbuta and haa (ة → ه), alef maqsura and yaa (ى → ي),
tashkeel and tatweel (removed), Arabic-Indic digits (→ ASCII) and the article (ال, al-, el-).
Latin text is case-folded and stripped of punctuation.

This is a small local normaliser.  The names engine (:mod:`athar.names`) owns full name
normalisation; when it exports ``normalize``, :func:`match_key` should delegate to it, and
nothing else in the domain package needs to change.  Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_TRANSLATE = str.maketrans(
    {
        "\u0640": None,  # tatweel
        "\u0623": "\u0627",  # أ
        "\u0625": "\u0627",  # إ
        "\u0622": "\u0627",  # آ
        "\u0671": "\u0627",  # ٱ
        "\u0624": "\u0648",  # ؤ
        "\u0626": "\u064a",  # ئ
        "\u0649": "\u064a",  # ى
        "\u0629": "\u0647",  # ة
        "\u06cc": "\u064a",  # Persian yeh
        "\u06a9": "\u0643",  # keheh
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Extended Arabic-Indic digits
    }
)
_PUNCT = re.compile(r"[\s\-_'’‘`´.,;:()\[\]{}/\\\"“”«»،؛]+")
_LATIN_ARTICLES = frozenset({"al", "el", "al-", "el-", "the"})


def translate_digits(text: str) -> str:
    """Replace Arabic-Indic digits by ASCII digits (for dates, ages, numbers)."""
    return text.translate(_TRANSLATE) if any("\u0660" <= c <= "\u06f9" for c in text) else text


def _strip_article(token: str) -> str:
    if len(token) > 3 and token.startswith("\u0627\u0644"):  # ال
        return token[2:]
    if token.startswith(("al-", "el-")) and len(token) > 3:
        return token[3:]
    return token


@lru_cache(maxsize=65536)
def match_key(text: str) -> str:
    """A matching key for vocabulary lookup: equal keys mean "the same word(s)".

    >>> match_key("مختفى قسرياً") == match_key("مختفي قسريا")
    True
    >>> match_key("Al-Hasakah") == match_key("hasakah")
    True
    """
    t = unicodedata.normalize("NFKC", text).casefold()
    t = _DIACRITICS.sub("", t).translate(_TRANSLATE)
    # Split on punctuation but keep the Latin article as its own token so it can be dropped.
    t = re.sub(r"\b(al|el)-", r"\1 ", t)
    tokens = [_strip_article(tok) for tok in _PUNCT.split(t) if tok]
    tokens = [tok for tok in tokens if tok not in _LATIN_ARTICLES]
    return " ".join(tokens)
