"""The name engine: Arabic and Latin names that meet across scripts and spellings.

Pure: no database, web or file I/O (the packaged names data is read with importlib.resources).

>>> canonical("عبدالرحمن") == canonical("Abdel Rahman") == "Abd al-Rahman"
True
>>> phonetic_key("محمد") == phonetic_key("Mohamed")
True
>>> compare("محمد أحمد الحلبي", "AL-HALABI, Mohammad Ahmad").level >= NameLevel.CANONICAL
True
"""

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

__all__ = [
    "CLOSE_THRESHOLD",
    "AlignedPart",
    "NameComparison",
    "NameLevel",
    "ParsedName",
    "align",
    "canonical",
    "canonical_place",
    "compare",
    "is_arabic",
    "normalize",
    "parse_name",
    "phonetic_key",
    "place_key",
]
