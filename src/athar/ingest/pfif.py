"""PFIF (People Finder Interchange Format) 1.1-1.4: a safe streaming reader and its field tables.

PFIF is the XML format Google Person Finder and the tools around it exchange missing-person
records in: ``person`` records, each with ``person_record_id`` of the form ``domain/local-id``
(the domain names the record's home repository), and ``note`` records that say what someone
learned (``status``: ``information_sought``, ``is_note_author``, ``believed_alive``,
``believed_missing``, ``believed_dead``; ``linked_person_record_id``: two records may be one
person).  Specification: http://zesty.ca/pfif/1.4 (and 1.1, 1.2, 1.3).

The XML is parsed with lxml's ``iterparse`` (memory bounded: each ``person`` is dropped once
read), never resolving an entity, never touching the network, with libxml2's size limits on,
and a document that has a DOCTYPE (the only place entities, and so entity-expansion bombs, can
be declared) is refused outright, as defusedxml does.

The field tables below are Athar's reading of the specifications; :mod:`athar.ingest.pfif_schema`
builds the XSD of each version from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from athar.domain.record import WARNING, Issue
from athar.ingest.limits import Deadline
from athar.ingest.readers import RawRow, UnusableInput

NS_PREFIX = "http://zesty.ca/pfif/"
VERSIONS = ("1.1", "1.2", "1.3", "1.4")
NAMESPACES = {f"{NS_PREFIX}{v}": v for v in VERSIONS}


class PfifUnusable(UnusableInput):
    """A PFIF file that cannot be read at all: not XML, a DTD, an unknown version."""

    code = "pfif_unusable"


# -- the fields of each version ---------------------------------------------------------------

_PERSON_11 = (
    "person_record_id",
    "entry_date",
    "author_name",
    "author_email",
    "author_phone",
    "source_name",
    "source_date",
    "source_url",
    "first_name",
    "last_name",
    "home_city",
    "home_state",
    "home_neighborhood",
    "home_street",
    "home_zip",
    "photo_url",
    "other",
)
_PERSON_12 = tuple(f for f in _PERSON_11 if f != "home_zip") + (
    "home_postal_code",
    "home_country",
    "sex",
    "date_of_birth",
    "age",
)
_PERSON_13 = (*_PERSON_12, "full_name", "expiry_date")
_PERSON_14 = tuple(
    {"first_name": "given_name", "last_name": "family_name", "other": "description"}.get(f, f)
    for f in _PERSON_13
) + ("alternate_names", "profile_urls")

_NOTE_11 = (
    "note_record_id",
    "entry_date",
    "author_name",
    "author_email",
    "author_phone",
    "source_date",
    "found",
    "email_of_found_person",
    "phone_of_found_person",
    "last_known_location",
    "text",
)
_NOTE_12 = (*_NOTE_11, "person_record_id", "linked_person_record_id", "status")
_NOTE_13 = _NOTE_12
_NOTE_14 = (*tuple("author_made_contact" if f == "found" else f for f in _NOTE_13), "photo_url")

PERSON_FIELDS: dict[str, tuple[str, ...]] = {
    "1.1": _PERSON_11,
    "1.2": _PERSON_12,
    "1.3": _PERSON_13,
    "1.4": _PERSON_14,
}
NOTE_FIELDS: dict[str, tuple[str, ...]] = {
    "1.1": _NOTE_11,
    "1.2": _NOTE_12,
    "1.3": _NOTE_13,
    "1.4": _NOTE_14,
}
#: fields every record must have, by version (Athar's reading of each specification)
PERSON_REQUIRED: dict[str, tuple[str, ...]] = {
    "1.1": ("person_record_id", "first_name", "last_name"),
    "1.2": ("person_record_id", "first_name", "last_name"),
    "1.3": ("person_record_id", "first_name", "last_name"),
    "1.4": ("person_record_id", "entry_date", "full_name"),
}
NOTE_REQUIRED: dict[str, tuple[str, ...]] = {
    "1.1": ("note_record_id", "author_name", "source_date", "text"),
    "1.2": ("note_record_id", "author_name", "source_date", "text"),
    "1.3": ("note_record_id", "author_name", "source_date", "text"),
    "1.4": ("note_record_id", "entry_date", "author_name", "source_date", "text"),
}
STATUSES = (
    "information_sought",
    "is_note_author",
    "believed_alive",
    "believed_missing",
    "believed_dead",
)
SEXES = ("female", "male", "other")
#: fields that are contact details: never stored, never exported
CONTACT_FIELDS = frozenset(
    {"author_email", "author_phone", "email_of_found_person", "phone_of_found_person"}
)
DATE_FIELDS = frozenset({"entry_date", "source_date", "expiry_date"})

#: ``YYYY-MM-DDThh:mm:ssZ`` (UTC), the one date-time form PFIF uses
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
#: ``domain/local-id``: the domain names the home repository
RECORD_ID_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)/(\S.*)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}")
DOB_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
AGE_RE = re.compile(r"^\d+(-\d+)?$")


def parse_datetime(text: str) -> datetime | None:
    """A PFIF UTC date-time, or None when it is not one."""
    if not DATETIME_RE.match(text):
        return None
    try:
        return datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def format_datetime(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_record_id(value: str) -> tuple[str, str] | None:
    """``domain/local-id`` -> (domain, local id); None when it is not of that form."""
    m = RECORD_ID_RE.match(value)
    if m is None:
        return None
    return m.group(1), m.group(2)


# -- what the reader yields --------------------------------------------------------------------


@dataclass
class PfifNote:
    line: int
    fields: dict[str, str]
    #: (field, problem) found while reading: a repeated or unknown field
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    nested: bool = False


@dataclass
class PfifPerson:
    line: int
    fields: dict[str, str]
    notes: list[PfifNote] = field(default_factory=list)
    problems: list[tuple[str | None, str]] = field(default_factory=list)


def _local(tag: Any) -> tuple[str | None, str]:
    if not isinstance(tag, str):
        return None, ""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return None, tag


def _fields(
    el: Any, ns: str, allowed: tuple[str, ...], kind: str
) -> tuple[dict[str, str], list[tuple[str | None, str]], list[Any]]:
    """A record element's fields (text), its problems, and its nested ``note`` elements."""
    values: dict[str, str] = {}
    problems: list[tuple[str | None, str]] = []
    notes: list[Any] = []
    known = _qualified(ns, allowed)
    for child in el:
        name = known.get(child.tag)
        if name is not None and name not in values and not len(child):
            text = child.text
            if text is not None:
                text = text.strip()
                if text:
                    values[name] = text
            continue
        cns, name = _local(child.tag)
        if not name:  # a comment or processing instruction
            continue
        if cns != ns:
            problems.append(
                (name, f"element {name!r} at line {child.sourceline} is not in the PFIF namespace")
            )
            continue
        if kind == "person" and name == "note":
            notes.append(child)
            continue
        if name not in allowed:
            problems.append(
                (
                    name,
                    f"{kind} at line {el.sourceline}: {name!r} (line {child.sourceline}) "
                    "is not a field of this PFIF version",
                )
            )
            continue
        if len(child):
            problems.append((name, f"{name!r} at line {child.sourceline} holds elements, not text"))
            continue
        text = (child.text or "").strip()
        if name in values:
            problems.append(
                (
                    name,
                    f"{kind} at line {el.sourceline}: {name!r} appears more than once "
                    f"(again at line {child.sourceline})",
                )
            )
            continue
        if text:
            values[name] = text
    return values, problems, notes


@cache
def _qualified(ns: str, fields: tuple[str, ...]) -> dict[str, str]:
    return {f"{{{ns}}}{f}": f for f in fields}


class PfifReader:
    """Stream a PFIF document: its version, then its persons (with nested notes) and notes.

    ``records()`` may be called more than once; each call parses the file again.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.version, self.namespace = self._sniff()

    def _iterparse(self, fh: Any, events: tuple[str, ...]) -> Any:
        return etree.iterparse(
            fh,
            events=events,
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )

    def _refuse(self, e: Exception) -> PfifUnusable:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        return PfifUnusable(f"{self.path.name}: not well-formed XML: {msg[:300]}")

    def _sniff(self) -> tuple[str, str]:
        if not self.path.is_file():
            raise PfifUnusable(f"{self.path}: no such file")
        try:
            with open(self.path, "rb") as fh:
                return self._first(fh)
        except etree.XMLSyntaxError as e:
            raise self._refuse(e) from e
        except OSError as e:
            raise PfifUnusable(f"{self.path.name}: cannot read: {e}") from e

    def _first(self, fh: Any) -> tuple[str, str]:
        for _event, el in self._iterparse(fh, ("start",)):
            self._check_no_dtd(el)
            ns, name = _local(el.tag)
            if name != "pfif":
                raise PfifUnusable(
                    f"{self.path.name}: line {el.sourceline}: the root element is "
                    f"{name!r}, not pfif:pfif"
                )
            if ns not in NAMESPACES:
                known = ", ".join(VERSIONS)
                raise PfifUnusable(
                    f"{self.path.name}: line {el.sourceline}: unknown PFIF version: namespace "
                    f"{ns!r} (Athar reads PFIF {known}, namespaces {NS_PREFIX}1.1 ... 1.4)"
                )
            return NAMESPACES[ns], ns
        raise PfifUnusable(f"{self.path.name}: the file is empty")

    def _check_no_dtd(self, el: Any) -> None:
        info = el.getroottree().docinfo
        if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
            raise PfifUnusable(
                f"{self.path.name}: the document has a DOCTYPE; a DTD (where entities, and "
                "entity-expansion bombs, are declared) is refused in PFIF input"
            )

    def records(self) -> Iterator[PfifPerson | PfifNote]:
        """Each top-level ``person`` (with its nested notes) and top-level ``note``, in order."""
        ns, version = self.namespace, self.version
        person_fields, note_fields = PERSON_FIELDS[version], NOTE_FIELDS[version]
        try:
            with open(self.path, "rb") as fh:
                yield from self._records(fh, ns, person_fields, note_fields)
        except etree.XMLSyntaxError as e:
            raise self._refuse(e) from e
        except OSError as e:
            raise PfifUnusable(f"{self.path.name}: cannot read: {e}") from e

    def _records(
        self, fh: Any, ns: str, person_fields: tuple[str, ...], note_fields: tuple[str, ...]
    ) -> Iterator[PfifPerson | PfifNote]:
        checked = False
        for _event, el in self._iterparse(fh, ("end",)):
            if not checked:
                self._check_no_dtd(el)
                checked = True
            parent = el.getparent()
            if parent is None or parent.getparent() is not None:
                continue  # the root's end, or a field: read with its record
            ens, name = _local(el.tag)
            if ens == ns and name == "person":
                values, problems, nested = _fields(el, ns, person_fields, "person")
                person = PfifPerson(el.sourceline or 0, values, problems=problems)
                for n in nested:
                    nv, nprob, _ = _fields(n, ns, note_fields, "note")
                    person.notes.append(PfifNote(n.sourceline or 0, nv, nprob, nested=True))
                yield person
            elif ens == ns and name == "note":
                values, problems, _ = _fields(el, ns, note_fields, "note")
                yield PfifNote(el.sourceline or 0, values, problems)
            elif name:
                yield PfifNote(
                    el.sourceline or 0,
                    {},
                    [
                        (
                            name,
                            f"element {name!r} at line {el.sourceline} is neither a PFIF "
                            "person nor a note",
                        )
                    ],
                )
            # drop what was read: memory stays bounded however long the file is
            el.clear()
            while el.getprevious() is not None:
                del parent[0]


# -- PFIF as a table the importer reads ----------------------------------------------------------

#: interchange columns that PFIF has no field for, carried in ``description`` as lines
#: ``name: value`` (what Athar's own PFIF export writes); any other description is ``notes``
DESCRIPTION_FIELDS = (
    "father_name",
    "grandfather_name",
    "mother_name",
    "birth_place",
    "arrest_date",
    "arrest_place",
    "facility",
    "last_seen_date",
    "detainee_number",
)
#: a description line saying that ``full_name`` was only made of the name parts on export
#: (PFIF 1.4 requires a full name; the record had none): read back as no full name
NAME_FROM_PARTS = "full_name: (made of the given and family names)"
_DESCRIPTION_LINE = re.compile(r"^(" + "|".join(DESCRIPTION_FIELDS) + r"): (.*)$")
#: the interchange columns a PFIF person gives
TABLE_HEADER = [
    "source",
    "record_id",
    "full_name",
    "given_name",
    "family_name",
    "sex",
    "birth_date",
    "age",
    "status",
    "notes",
    *DESCRIPTION_FIELDS,
]
#: PFIF note status -> Athar status codes the note's text may name, and the default code
#: (``None``: no claim unless the text names one of the allowed codes)
STATUS_CLAIMS: dict[str, tuple[frozenset[str], str | None]] = {
    "information_sought": (frozenset({"missing", "detained"}), "missing"),
    "believed_missing": (frozenset({"missing", "detained"}), "missing"),
    "believed_alive": (frozenset({"detained", "released", "unidentified_living"}), None),
    "is_note_author": (frozenset({"released"}), None),
    "believed_dead": (frozenset({"deceased", "unidentified_body"}), "deceased"),
}
#: Athar status code -> PFIF note status (export)
PFIF_STATUS: dict[str, str] = {
    "missing": "believed_missing",
    "detained": "believed_alive",
    "released": "believed_alive",
    "unidentified_living": "believed_alive",
    "deceased": "believed_dead",
    "unidentified_body": "believed_dead",
}
#: the source of families' records (``athar.services.casework.tracing_intake.FAMILY_SOURCE``;
#: a test checks they agree): no PFIF file writes to it
RESERVED_SOURCE = "family"
#: ``full_name`` of a record with no name at all (PFIF 1.4 requires one); read back as no name
UNKNOWN_NAME = "(name unknown)"
#: the word written into the status cell for a default claim
STATUS_WORD = {"missing": "missing", "deceased": "deceased"}


def describe(cells: dict[str, Any], name_from_parts: bool = False) -> str | None:
    """The ``description`` Athar writes for the interchange fields PFIF has no field for."""
    lines = [NAME_FROM_PARTS] if name_from_parts else []
    for name in DESCRIPTION_FIELDS:
        v = cells.get(name)
        if v is not None and str(v).strip():
            lines.append(f"{name}: {' '.join(str(v).split())}")
    return "\n".join(lines) or None


def read_description(text: str) -> dict[str, str] | None:
    """The fields of a description in Athar's ``name: value`` form; None if it is not one."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.strip() == NAME_FROM_PARTS:
            continue
        m = _DESCRIPTION_LINE.match(line.strip())
        if m is None or m.group(1) in out:
            return None
        out[m.group(1)] = m.group(2).strip()
    return out or None


def _note_order(n: PfifNote) -> tuple[str, str, int]:
    f = n.fields
    return (f.get("source_date", ""), f.get("entry_date", ""), n.line)


def status_claims(
    notes: list[PfifNote], authorised: frozenset[str]
) -> tuple[list[tuple[str, PfifNote]], list[Issue]]:
    """(status word, note) of every note of a person that makes a claim, oldest first, and
    warnings for the notes that make none.

    A ``believed_dead`` note makes a claim only when its home repository (the domain of its
    ``note_record_id``) is a source an administrator authorised; otherwise it is kept in the
    record's raw PFIF, reported, and never a death claim.
    """
    from athar.domain.vocab import map_status

    issues: list[Issue] = []
    claims: list[tuple[str, PfifNote]] = []
    for n in sorted(notes, key=_note_order):
        status = n.fields.get("status")
        if status not in STATUS_CLAIMS:
            continue
        allowed, default = STATUS_CLAIMS[status]
        if status == "believed_dead":
            ids = split_record_id(n.fields.get("note_record_id", ""))
            home = ids[0] if ids else None
            if home not in authorised:
                issues.append(
                    Issue(
                        "status",
                        f"note at line {n.line}: believed_dead from {home or 'an unnamed source'!s}"
                        ", a source not authorised to assert a death: kept with the record's "
                        "PFIF, not a death claim",
                        WARNING,
                    )
                )
                continue
        text = n.fields.get("text", "")
        code = map_status(text).code if text and len(text) <= 200 else None
        if code in allowed:
            claims.append((text, n))
        elif default is not None:
            claims.append((STATUS_WORD[default], n))
        else:
            issues.append(
                Issue(
                    "status",
                    f"note at line {n.line}: {status} names no status of Athar's vocabulary "
                    "(its text does not say detained, released, ...): no status claim from it",
                    WARNING,
                )
            )
    return claims, issues


def _without_contacts(fields: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    dropped = [k for k in fields if k in CONTACT_FIELDS]
    if not dropped:
        return fields, []
    return {k: v for k, v in fields.items() if k not in CONTACT_FIELDS}, dropped


def person_row(
    person: PfifPerson,
    extra_notes: list[PfifNote],
    version: str,
    authorised: frozenset[str],
    now: datetime,
) -> RawRow:
    """A PFIF person (and its notes) as the importer's row: its cells, the problems found, the
    claims of its earlier notes (the latest is the ``status`` cell) and its link hints."""
    f = person.fields
    issues = [Issue(el, msg) for el, msg in person.problems]
    cells: dict[str, Any] = {}
    pid = f.get("person_record_id")
    ids = split_record_id(pid) if pid else None
    if pid is None:
        issues.append(
            Issue("person_record_id", f"person at line {person.line}: no person_record_id")
        )
    elif ids is None:
        issues.append(
            Issue(
                "person_record_id",
                f"person at line {person.line}: person_record_id {pid!r} is not domain/local-id",
            )
        )
    elif ids[0] == RESERVED_SOURCE:
        issues.append(
            Issue(
                "person_record_id",
                f"person at line {person.line}: person_record_id {pid!r}: source "
                f"{RESERVED_SOURCE!r} holds this store's families' records, which come only "
                "from tracing requests; a PFIF file cannot write to it",
            )
        )
        cells["source"], cells["record_id"] = ids
    else:
        cells["source"], cells["record_id"] = ids
    notes = [*person.notes, *extra_notes]
    expiry = parse_datetime(f.get("expiry_date", ""))
    if expiry is not None and expiry <= now:
        issues.append(
            Issue(
                "expiry_date",
                f"person at line {person.line}: expired on {f['expiry_date']}; PFIF asks that "
                "its data be deleted, so only its ids are kept",
            )
        )
        raw = {**cells, "pfif": {"version": version, "person_record_id": pid, "expired": True}}
        return RawRow(person.line, raw, issues)
    given = f.get("given_name", f.get("first_name"))
    family = f.get("family_name", f.get("last_name"))
    cells["full_name"] = f.get("full_name")
    desc = f.get("description", f.get("other"))
    from_parts = desc is not None and NAME_FROM_PARTS in desc.splitlines()
    if cells["full_name"] == UNKNOWN_NAME or from_parts:
        cells["full_name"] = None  # Athar's export had to make one up: the record had none
    cells["given_name"], cells["family_name"] = given, family
    sex = f.get("sex")
    cells["sex"] = {"female": "F", "male": "M"}.get(sex or "", sex)
    cells["birth_date"] = f.get("date_of_birth")
    cells["age"] = f.get("age")
    if desc:
        parsed = read_description(desc)
        if parsed is None:
            cells["notes"] = desc
        else:
            cells.update(parsed)
    for n in notes:
        issues.extend(Issue(el, msg) for el, msg in n.problems)
        ref = n.fields.get("person_record_id")
        if n.nested and ref is not None and ref != pid:
            issues.append(
                Issue(
                    "person_record_id",
                    f"note at line {n.line}: person_record_id {ref!r} is not its person's "
                    f"({pid!r})",
                )
            )
    claims, claim_issues = status_claims(notes, authorised)
    issues.extend(claim_issues)
    if claims:  # the latest claim is the record's status; the earlier ones are claims too
        cells["status"] = claims[-1][0]
    earlier = tuple(
        (
            word,
            n.fields["source_date"][:10]
            if DATE_RE.match(n.fields.get("source_date", ""))
            else None,
        )
        for word, n in claims[:-1]
    )
    hints = []
    for n in notes:
        linked = n.fields.get("linked_person_record_id")
        if linked and split_record_id(linked) and linked != pid:
            hints.append((linked, n.fields.get("note_record_id"), n.fields.get("text")))
    kept, dropped = _without_contacts(f)
    kept_notes = []
    for n in notes:
        nf, nd = _without_contacts(n.fields)
        dropped.extend(nd)
        kept_notes.append({"line": n.line, **nf})
    if dropped:
        issues.append(
            Issue(
                None,
                f"person at line {person.line}: contact details not kept "
                f"({', '.join(sorted(set(dropped)))}): Athar stores no contact detail from a list",
                WARNING,
            )
        )
    cells = {k: v for k, v in cells.items() if v is not None}
    cells["pfif"] = {"version": version, "person": kept, "notes": kept_notes}
    return RawRow(person.line, cells, issues, earlier, tuple(hints))


class PfifTable:
    """A PFIF document read as the importer's table: one row per person, numbered by its line.

    The XML is parsed once, streaming, when the table is opened: each person goes to a
    temporary spool (bounded memory); top-level notes (not nested in their person) are held,
    only those, until every person is known.  Then each person becomes its row, into a second
    spool that :meth:`rows` replays as often as the importer asks.  A top-level note whose person
    is not in the file is a quarantined row: Athar does not attach claims to records by guesswork.
    """

    fmt = "pfif"
    encoding: str | None = "xml"

    def __init__(
        self,
        path: Path,
        authorised: frozenset[str] = frozenset(),
        now: datetime | None = None,
        deadline: Deadline | None = None,
    ) -> None:
        from athar.ingest.encoding import file_hash
        from athar.ingest.limits import current_limits
        from athar.ingest.readers import Spool

        self.path = Path(path)
        self.reader = PfifReader(self.path)
        self.version = self.reader.version
        self.content_hash = file_hash(self.path)[0]
        self.header = list(TABLE_HEADER)
        self.authorised = authorised
        self.now = now or datetime.now(UTC)
        max_rows = current_limits().max_rows
        persons, self._rows = Spool(), Spool()
        try:
            loose: dict[str, list[PfifNote]] = {}
            for count, rec in enumerate(self.reader.records()):
                if deadline is not None and not count % 4096 and deadline.expired():
                    raise UnusableInput(deadline.message(self.path.name))
                if isinstance(rec, PfifNote):
                    loose.setdefault(rec.fields.get("person_record_id", ""), []).append(rec)
                    continue
                persons.append(rec)
                if persons.count > max_rows:
                    raise UnusableInput(
                        f"{self.path.name}: more than {max_rows} persons (the limit)"
                    )
            used: set[str] = set()
            for person in persons:
                pid = person.fields.get("person_record_id", "")
                used.add(pid)
                self._rows.append(
                    person_row(
                        person,
                        loose.get(pid, []) if pid else [],
                        self.version,
                        authorised,
                        self.now,
                    )
                )
            for pid, notes in loose.items():
                if pid not in used:
                    for n in notes:
                        self._rows.append(self._orphan(pid, n))
        except BaseException:
            self._rows.close()
            raise
        finally:
            persons.close()

    def _orphan(self, pid: str, n: PfifNote) -> RawRow:
        ids = split_record_id(pid) if pid else None
        raw: dict[str, Any] = {"pfif": {"version": self.version, "note": n.fields}}
        if ids:
            raw["source"], raw["record_id"] = ids
        problem = Issue(
            "person_record_id",
            f"note at line {n.line}: its person ({pid or 'none named'}) is not in this file; "
            "a note is imported with its person",
        )
        return RawRow(n.line, raw, [problem])

    def rows(self) -> Iterator[RawRow]:
        yield from self._rows

    def close(self) -> None:
        self._rows.close()
