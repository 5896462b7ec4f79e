"""The one place where Athar's domain code normalises text before matching vocabulary.

Arabic matching must survive ordinary orthographic variation: hamza and alef forms
(أ إ آ ٱ → ا, ؤ → و, ئ → ي), taa marbuta and haa (ة → ه), alef maqsura and yaa (ى → ي),
tashkeel and tatweel (removed), Arabic-Indic digits (→ ASCII) and the article (ال, al-, el-).
Latin text is case-folded and stripped of punctuation.

Character folding is delegated to the names engine (:func:`athar.names.normalize`), so
vocabulary and names fold text the same way.  On top of it this module applies the folds
vocabulary matching relies on (kept here so a change in the names engine cannot silently
break status or facility matching; the tests check both agree) and drops the article and
punctuation.  Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from athar.names import normalize as names_normalize

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
_LATIN_ARTICLES = frozenset({"al", "el", "the"})


_ARABIC_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9]")


def translate_digits(text: str) -> str:
    """Replace Arabic-Indic digits by ASCII digits (for dates, ages, numbers)."""
    return text.translate(_TRANSLATE) if _ARABIC_DIGIT.search(text) else text


def fold(text: str) -> str:
    """Character folding for vocabulary: the names engine's, then the folds listed above."""
    t = unicodedata.normalize("NFKC", names_normalize(text)).casefold()
    return _DIACRITICS.sub("", t).translate(_TRANSLATE)


def _strip_article(token: str) -> str:
    if len(token) > 3 and token.startswith("\u0627\u0644"):  # ال
        return token[2:]
    return token


@lru_cache(maxsize=65536)
def match_key(text: str) -> str:
    """A matching key for vocabulary lookup: equal keys mean "the same word(s)".

    >>> match_key("مختفى قسرياً") == match_key("مختفي قسريا")
    True
    >>> match_key("Al-Hasakah") == match_key("hasakah")
    True
    >>> match_key("الفرع ٢١٥") == match_key("فرع 215")
    True
    """
    tokens = [_strip_article(tok) for tok in _PUNCT.split(fold(text)) if tok]
    return " ".join(tok for tok in tokens if tok not in _LATIN_ARTICLES)
