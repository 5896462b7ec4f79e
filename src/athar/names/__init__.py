"""The name engine: Arabic and Latin names that meet across scripts and spellings.

Pure: no database, web or file I/O (the packaged names data is read with importlib.resources).

>>> canonical("عبدالرحمن") == canonical("Abdel Rahman") == "Abd al-Rahman"
True
>>> phonetic_key("محمد") == phonetic_key("Mohamed")
True
>>> compare("محمد أحمد الحلبي", "AL-HALABI, Mohammad Ahmad").level >= NameLevel.CANONICAL
True
"""

from typing import Any

from athar.names.compare import (
    CLOSE_THRESHOLD,
    AlignedPart,
    NameComparison,
    NameLevel,
    align,
    compare,
)
from athar.names.normalize import is_arabic, normalize
from athar.names.parse import ParsedName, parse_name
from athar.names.places import canonical_place, place_key
from athar.names.romanize import canonical, phonetic_key


def clear_caches() -> None:
    """Empty the per-token and per-name caches (for benchmarks and memory-bound runs)."""
    import importlib

    def mod(name: str) -> Any:
        return importlib.import_module(f"athar.names.{name}")

    _normalize, _skeleton, _tokens = mod("normalize"), mod("skeleton"), mod("tokens")
    _romanize, _parse, _compare, _places = (
        mod("romanize"),
        mod("parse"),
        mod("compare"),
        mod("places"),
    )
    for fn in (
        _normalize._normalize,
        _skeleton.arabic_skeleton,
        _skeleton.latin_skeleton,
        _tokens.split_words,
        _tokens._pieces,
        _tokens._raw_pieces,
        _normalize._token,
        _normalize.normalize,
        _romanize.analyse,
        _romanize._word_forms,
        _romanize.canonical,
        _romanize.phonetic_key,
        _parse.parse_name,
        _parse._word_family_evidence,
        _compare._parts,
        _compare.compare,
        _places._place_words,
        _places.place_key,
        _places.canonical_place,
    ):
        fn.cache_clear()


__all__ = [
    "CLOSE_THRESHOLD",
    "AlignedPart",
    "NameComparison",
    "NameLevel",
    "ParsedName",
    "align",
    "canonical",
    "canonical_place",
    "clear_caches",
    "compare",
    "is_arabic",
    "normalize",
    "parse_name",
    "phonetic_key",
    "place_key",
]
