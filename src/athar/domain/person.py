"""A person's facts from their records: the rules, and the descriptive counts built on them.

Pure: the service (:mod:`athar.services.figures.statistics`) reads the store into
:class:`RecordFacts` (one per current record, with the person the latest link run put it
in and the record's status claims); everything here is arithmetic on those.  The
capture-pattern tables that estimation counts are built from these facts in
:mod:`athar.estimate.captures`.

**A person's attributes.**  A person has one or more records, from one or more lists, and
the records may disagree.  The rules, applied the same way everywhere:

* *sex*: the value all records that give one agree on; ``conflicting`` when they differ;
  ``unknown`` when none gives it;
* *year of arrest*: the earliest year any record gives (the first arrest);
* *governorate* (of arrest): the value most records give, ties broken by code order;
* *age group*: age at arrest (arrest year minus birth year, else the stated age's
  midpoint) from the first record (in store order) that allows it;
* *facilities*: every facility any record names (a person held in three places counts
  in three rows, so the rows do not add up to the persons);
* *last facility*: the facility of the latest-dated sighting (a record naming a
  facility, dated by its last-seen date, else its arrest date; undated sightings count
  only when no sighting is dated).

**Status is a claim, never a fact.**  Each record's ``status_event`` rows are claims by
its list.  A person's status is

* ``conflicting`` when one list claims release and another death, or when the person is
  claimed detained/missing at a date strictly later than every release or death claim;
* ``deceased`` / ``released`` when the only end-of-detention claims are of that kind;
* ``missing`` (still missing) when the claims are only ``missing`` or ``detained``;
* ``unidentified`` when the only claims are ``unidentified_living``/``unidentified_body``;
* ``no_claim`` when no record carries a status.

The conflicting persons are counted by the pair of claims (``conflicts``), never resolved
silently.

**Unaccounted for**: a person with a last facility and no release or death claim dated on
or after that sighting (an undated release or death claim counts as accounting for the
person; one dated before the last sighting does not).  Counted per last facility.

**Capture histories** (what estimation counts, :mod:`athar.estimate.captures`): a person is *on* a list when that list
has an *identifiable* record of them, one with a name or a detainee number.  A record with
neither (an unidentified body, a released person who could not say their name) cannot be
matched across lists by anyone, so linkage leaves it a person of its own, and counting it
would add a person seen by one list only: exactly the kind of person multiple systems
estimation extrapolates from.  Such records still count everywhere else (descriptive
figures, status, unaccounted for); estimation treats their lists as lists of identifiable
records, the usual definition in this field.

Dates are partial (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD``) and compared at the precision
both give.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

END_STATUSES = ("released", "deceased")
HELD_STATUSES = ("missing", "detained")
UNIDENTIFIED_STATUSES = ("unidentified_living", "unidentified_body")
STATUS_CATEGORIES = ("missing", "released", "deceased", "unidentified", "conflicting", "no_claim")
AGE_GROUPS = ("0-17", "18-29", "30-44", "45-59", "60+", "unknown")
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Claim:
    """One status claim of one record (a ``status_event`` row)."""

    status: str
    date: str | None = None
    facility: str | None = None


@dataclass(frozen=True)
class RecordFacts:
    """What one current record says, and the person it belongs to."""

    person: int
    source: str
    sex: str | None = None
    birth_year: int | None = None
    age_min: int | None = None
    age_max: int | None = None
    arrest_date: str | None = None
    governorate: str | None = None
    facility: str | None = None
    last_seen_date: str | None = None
    claims: tuple[Claim, ...] = ()
    #: the record carries a name or a detainee number: something linkage can match on
    identifiable: bool = True


@dataclass(frozen=True)
class PersonFacts:
    """One person's attributes under the rules in the module docstring."""

    person: int
    sources: frozenset[str]
    #: the lists that recorded the person identifiably (see "Capture histories" above)
    captured: frozenset[str]
    sex: str
    arrest_year: str
    governorate: str
    age_group: str
    facilities: frozenset[str]
    last_facility: str | None
    status: str
    conflict: str | None  # the claims in conflict, e.g. "deceased|released"
    unaccounted: bool


def later_or_same(a: str, b: str) -> bool:
    """``a`` is on or after ``b`` at the precision both dates give."""
    n = min(len(a), len(b))
    return a[:n] >= b[:n]


def strictly_later(a: str, b: str) -> bool:
    n = min(len(a), len(b))
    return a[:n] > b[:n]


def _year(date: str | None) -> int | None:
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def age_group(age: float | None) -> str:
    if age is None or age < 0:
        return UNKNOWN
    if age < 18:
        return "0-17"
    if age < 30:
        return "18-29"
    if age < 45:
        return "30-44"
    if age < 60:
        return "45-59"
    return "60+"


def _age_at_arrest(r: RecordFacts) -> float | None:
    arrest = _year(r.arrest_date)
    if r.birth_year is not None and arrest is not None:
        return float(arrest - r.birth_year)
    if r.age_min is not None and r.age_max is not None:
        return (r.age_min + r.age_max) / 2
    if r.age_min is not None:
        return float(r.age_min)
    return None


def person_status(claims: Sequence[Claim]) -> tuple[str, str | None]:
    """(status category, the conflicting claims or None) under the module's rules."""
    codes = {c.status for c in claims}
    ends = [c for c in claims if c.status in END_STATUSES]
    end_kinds = sorted({c.status for c in ends})
    if len(end_kinds) > 1:
        return "conflicting", "|".join(end_kinds)
    if ends:
        held = [c for c in claims if c.status in HELD_STATUSES and c.date]
        dated_ends = [c.date for c in ends if c.date]
        if held and dated_ends and len(dated_ends) == len(ends):
            for h in held:
                assert h.date is not None
                if all(strictly_later(h.date, d) for d in dated_ends):
                    return "conflicting", f"{end_kinds[0]}|{h.status} later"
        return end_kinds[0], None
    if codes & set(HELD_STATUSES):
        return "missing", None
    if codes & set(UNIDENTIFIED_STATUSES):
        return "unidentified", None
    return "no_claim", None


def last_sighting(records: Sequence[RecordFacts]) -> tuple[str | None, str | None]:
    """(facility, date) of the latest-dated record naming a facility (records in store
    order: the first of several that no later-dated one beats is kept)."""
    best: tuple[str | None, str | None] = (None, None)
    for r in records:
        if not r.facility:
            continue
        when = r.last_seen_date or r.arrest_date
        fac, date = best
        if fac is None:
            best = (r.facility, when)
        elif when is not None and (date is None or strictly_later(when, date)):
            best = (r.facility, when)
    return best


def accounted_for(seen: str | None, claims: Iterable[Claim]) -> bool:
    """A release or death claim dated on or after the last sighting ``seen``, or undated,
    or any such claim when the sighting itself is undated."""
    return any(
        c.status in END_STATUSES and (c.date is None or seen is None or later_or_same(c.date, seen))
        for c in claims
    )


def person_facts(person: int, records: Sequence[RecordFacts]) -> PersonFacts:
    if not records:
        raise ValueError(f"person {person} has no records")
    sexes = {r.sex for r in records if r.sex}
    sex = UNKNOWN if not sexes else (sexes.pop() if len(sexes) == 1 else "conflicting")
    years = [y for r in records if (y := _year(r.arrest_date)) is not None]
    govs = Counter(r.governorate for r in records if r.governorate)
    if govs:
        top = max(govs.values())
        governorate = min(g for g, c in govs.items() if c == top)
    else:
        governorate = UNKNOWN
    age = next((a for r in records if (a := _age_at_arrest(r)) is not None), None)
    claims = [c for r in records for c in r.claims]
    status, conflict = person_status(claims)
    last_facility, seen = last_sighting(records)
    unaccounted = last_facility is not None and not accounted_for(seen, claims)
    return PersonFacts(
        person=person,
        sources=frozenset(r.source for r in records),
        captured=frozenset(r.source for r in records if r.identifiable),
        sex=sex,
        arrest_year=str(min(years)) if years else UNKNOWN,
        governorate=governorate,
        age_group=age_group(age),
        facilities=frozenset(r.facility for r in records if r.facility),
        last_facility=last_facility,
        status=status,
        conflict=conflict,
        unaccounted=unaccounted,
    )


def persons(records: Iterable[RecordFacts]) -> list[PersonFacts]:
    """Group records by person (in first-seen order) and derive each person's facts."""
    groups: dict[int, list[RecordFacts]] = {}
    for r in records:
        groups.setdefault(r.person, []).append(r)
    return [person_facts(p, rs) for p, rs in groups.items()]


def _sorted(counter: Mapping[str, int]) -> dict[str, int]:
    return {k: counter[k] for k in sorted(counter, key=lambda k: (k == UNKNOWN, k))}


def pattern_key(sources: Iterable[str], lists: Sequence[str]) -> str:
    """An overlap pattern written as the lists it is on, joined by ``+``."""
    on = set(sources)
    return "+".join(s for s in lists if s in on)


@dataclass
class Description:
    """Counts of persons along each dimension (unsuppressed; see :func:`suppress`)."""

    persons: int
    by_source: dict[str, int] = field(default_factory=dict)
    by_overlap: dict[str, int] = field(default_factory=dict)
    by_facility: dict[str, int] = field(default_factory=dict)
    by_arrest_year: dict[str, int] = field(default_factory=dict)
    by_governorate: dict[str, int] = field(default_factory=dict)
    by_sex: dict[str, int] = field(default_factory=dict)
    by_age_group: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    status_conflicts: dict[str, int] = field(default_factory=dict)
    unaccounted_by_facility: dict[str, int] = field(default_factory=dict)

    DIMENSIONS = (
        "by_source",
        "by_overlap",
        "by_facility",
        "by_arrest_year",
        "by_governorate",
        "by_sex",
        "by_age_group",
        "by_status",
        "status_conflicts",
        "unaccounted_by_facility",
    )

    def to_dict(self) -> dict[str, Any]:
        return {"persons": self.persons, **{d: getattr(self, d) for d in self.DIMENSIONS}}


def describe(people: Sequence[PersonFacts]) -> Description:
    sources = sorted({s for p in people for s in p.sources})
    counts: dict[str, Counter[str]] = {
        "by_source": Counter(s for p in people for s in p.sources),
        "by_overlap": Counter(pattern_key(p.sources, sources) for p in people),
        "by_facility": Counter(f for p in people for f in p.facilities),
        "by_arrest_year": Counter(p.arrest_year for p in people),
        "by_governorate": Counter(p.governorate for p in people),
        "by_sex": Counter(p.sex for p in people),
        "by_age_group": Counter(p.age_group for p in people),
        "by_status": Counter(p.status for p in people),
        "status_conflicts": Counter(p.conflict for p in people if p.conflict),
        "unaccounted_by_facility": Counter(
            p.last_facility for p in people if p.unaccounted and p.last_facility
        ),
    }
    return description(len(people), counts)


def description(persons: int, counts: Mapping[str, Mapping[str, int]]) -> Description:
    """A :class:`Description` from the counts per dimension (keys as in
    ``Description.DIMENSIONS``), each in its published order: overlap patterns largest
    first, age groups and statuses in their fixed order, the rest by key with ``unknown``
    last."""
    d = Description(persons=persons)
    for dim in Description.DIMENSIONS:
        c = counts.get(dim, {})
        if dim == "by_overlap":
            value = dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
        elif dim == "by_age_group":
            value = {g: c[g] for g in AGE_GROUPS if c.get(g)}
        elif dim == "by_status":
            value = {s: c[s] for s in STATUS_CATEGORIES if c.get(s)}
        else:
            value = _sorted(c)
        setattr(d, dim, value)
    return d


def suppress(
    counts: Mapping[str, int], threshold: int, complementary: bool = True
) -> dict[str, int | None]:
    """Small-cell suppression: a count below ``threshold`` becomes ``None``.

    With ``complementary`` (for tables published with their total), when exactly one
    cell is suppressed the next smallest is suppressed too, so that the suppressed count
    cannot be recovered by subtracting the shown cells from the total.  Zero cells are
    left out.
    """
    out: dict[str, int | None] = {k: v for k, v in counts.items() if v > 0}
    small = [k for k, v in out.items() if v is not None and v < threshold]
    for k in small:
        out[k] = None
    if complementary and len(small) == 1:
        rest = [(v, k) for k, v in out.items() if v is not None]
        if rest:
            out[min(rest)[1]] = None
    return out
