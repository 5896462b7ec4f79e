"""Labels of a match-weight waterfall, marked for translation.

The waterfall's steps carry the linkage spec's comparison names (``given``, ``birth``...) and
Splink's level labels (``same phonetic key``, ``Exact match on facility``...), which are data
stored with each link run's model.  Pages show them through the catalogue: a comparison name
becomes a field label here, and a level label is its own msgid (marked below so ``make
translations`` extracts it).  A name or label not listed is shown as it is.
"""

from __future__ import annotations

from athar.domain.fields import FIELDS as DECLARED
from athar.domain.messages import N_

#: comparison name (``comparisons:`` in the linkage settings) -> field label: each field's
#: linkage column (:mod:`athar.domain.fields`), and the bag of all name parts
FIELDS: dict[str, str] = {
    **{f.linkage: f.label for f in DECLARED if f.linkage},
    "whole_name": N_("Whole name"),
}

#: every level label of the packaged ``interchange`` settings (the store's linkage), as msgids
LEVELS: tuple[str, ...] = (
    N_("All other comparisons"),
    N_("Array intersection size >= 1"),
    N_("Array intersection size >= 2"),
    N_("Exact match on arrest_place"),
    N_("Exact match on birth_place"),
    N_("Exact match on detainee_no"),
    N_("Exact match on facility"),
    N_("Exact match on sex"),
    N_("agree to the precision both give"),
    N_("close (Jaro-Winkler on canonical)"),
    N_("close as written (Jaro-Winkler on normalised)"),
    N_("close keys (Jaro-Winkler on phonetic key)"),
    N_("day and month swapped"),
    N_("exact (normalised)"),
    N_("exact day"),
    N_("initial agrees with the name"),
    N_("near (Jaro-Winkler on canonical)"),
    N_("null"),
    N_("null (one side unknown)"),
    N_("null, or both give a birth date"),
    N_("parts agree (counted by the part comparisons)"),
    N_("ranges overlap"),
    N_("same canonical form"),
    N_("same phonetic key"),
    N_("same set of name keys, in any order"),
    N_("same year, month or day differ"),
    N_("within 3 years"),
    N_("within 8 years"),
    N_("year +/- 1"),
    N_("year +/- 3"),
)


def field_label(comparison: str) -> str:
    """The msgid of a comparison's field label (the name itself when it is not listed)."""
    return FIELDS.get(comparison, comparison)
