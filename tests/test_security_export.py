"""Partner exports follow consent; research extracts are pseudonymised; both are audited.

The store is filled from a synthetic world (``athar synth``): three NGO/registry lists are
imported, and every row of the synthetic ``family`` list becomes a tracing request through
the intake service, with the requester's name, phone and e-mail from ``contacts.csv`` and the
family's note as their account.  Consent varies by row.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from athar.cli import main
from athar.security import crypto
from athar.security.keys import KeyRing
from athar.services.actor import CLI, PUBLIC, Actor
from athar.services.casework import tracing
from athar.services.casework.tracing_intake import validate_intake
from athar.services.registry.importer import ImportOptions, import_file
from athar.services.sharing.export_common import ExportError
from athar.services.sharing.export_partner import export_partner
from athar.services.sharing.export_research import (
    HEADER,
    QUASI_IDENTIFIERS,
    SUPPRESSED,
    age_band,
    coarsen,
    export_research,
)
from athar.store.engine import make_engine
from athar.store.models import AuditEvent, Person, PersonRecord, Record, Source

IMPORTED = ("ngo_ar", "ngo_en", "registry")
#: consent of the i-th family request
CONSENTS = ([], ["partners"], ["partners", "research"], ["humanitarian", "research"])
RELATIONSHIPS = {"mother": "parent", "father": "parent", "son": "child", "daughter": "child"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("world")
    result = CliRunner().invoke(
        main, ["synth", str(out), "--persons", "80", "--seed", "7", "--quiet"]
    )
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(autouse=True)
def ring() -> Iterator[KeyRing]:
    ring = KeyRing.generate("kx1")
    crypto.configure(ring)
    yield ring
    crypto.configure(None)


def rows_of(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@dataclass
class Store:
    engine: Engine
    #: reference -> consent given at intake
    consent: dict[str, list[str]]
    #: every text that must never leave in an export: phones, e-mails, the family's account
    family_secrets: list[str]
    #: the relatives who filed the requests
    requesters: list[str]


@pytest.fixture
def store(db_url: str, world: Path) -> Iterator[Store]:
    engine = make_engine(db_url)
    for code in IMPORTED:
        result = import_file(engine, world / f"{code}.csv", ImportOptions(actor=Actor("test")))
        assert result.outcome in ("stored", "partly_quarantined"), result
    contacts = {r["record_id"]: r for r in rows_of(world / "contacts.csv")}
    consent: dict[str, list[str]] = {}
    secrets: list[str] = []
    requesters: list[str] = []
    for i, row in enumerate(rows_of(world / "family.csv")):
        contact = contacts[row["record_id"]]
        raw: dict[str, object] = {k: v for k, v in row.items() if v}
        raw.pop("status", None)
        if raw.get("sex") not in ("M", "F"):
            raw.pop("sex", None)
        raw["requester_name"] = contact["requester_name"]
        raw["relationship"] = RELATIONSHIPS.get(contact["relationship"], "relative")
        raw["contact_phone"] = contact["phone"] or None
        raw["contact_email"] = contact["email"] or None
        raw["circumstances"] = f"{row['notes']} شاهد {i:04d}"
        chosen = CONSENTS[i % len(CONSENTS)]
        intake = validate_intake(raw, list(chosen), None, photo_max_bytes=1)
        request = tracing.submit_request(engine, actor=PUBLIC, intake=intake, language="ar")
        consent[request.reference] = list(chosen)
        secrets.append(str(raw["circumstances"]))
        requesters.append(contact["requester_name"])
        secrets += [v for v in (contact["phone"], contact["email"]) if v]
    assert sum(1 for c in consent.values() if "partners" in c) >= 3
    try:
        yield Store(engine, consent, secrets, requesters)
    finally:
        engine.dispose()


def audit_events(engine: Engine, action: str) -> list[dict[str, object]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(AuditEvent.actor, AuditEvent.entity_id, AuditEvent.detail)
            .where(AuditEvent.action == action)
            .order_by(AuditEvent.seq)
        ).all()
    return [{"actor": a, "scope": e, **json.loads(d)} for a, e, d in rows]


def references(rows: list[dict[str, str]]) -> set[str]:
    return {r["record_id"] for r in rows if r["source"] == "family"}


def with_consent(store: Store, scope: str) -> set[str]:
    return {ref for ref, c in store.consent.items() if scope in c}


# --- partner exports ---------------------------------------------------------------------------


def test_partner_export_carries_only_consented_family_records(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "partner.csv"
    report = export_partner(
        store.engine, out, scope="partners", recipient="Org A", actor=Actor("operator-1")
    )
    rows = rows_of(out)
    assert references(rows) == with_consent(store, "partners")
    assert {r["source"] for r in rows} == {"family"}  # no other source unless named
    assert report.rows == len(rows) == report.family_rows
    assert report.family_withheld == len(store.consent) - len(with_consent(store, "partners"))
    # humanitarian is a different scope: a different set of requests
    export_partner(store.engine, out, scope="humanitarian", recipient="ICRC", actor=Actor("op"))
    assert references(rows_of(out)) == with_consent(store, "humanitarian")


def test_every_export_is_audited_with_file_hash(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    report = export_partner(
        store.engine, out, scope="partners", recipient="Org A", actor=Actor("operator-1")
    )
    [event] = audit_events(store.engine, "export.partner")
    assert event["actor"] == "operator-1" and event["scope"] == "partners"
    assert event["recipient"] == "Org A"
    assert event["rows"] == report.rows == len(rows_of(out))
    assert event["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == report.sha256
    assert event["family_withheld_no_consent"] == report.family_withheld > 0


def test_withdrawn_consent_takes_effect_on_the_next_export(store: Store, tmp_path: Path) -> None:
    first, second = tmp_path / "1.csv", tmp_path / "2.csv"
    ref = sorted(with_consent(store, "partners"))[0]
    export_partner(store.engine, first, scope="partners", recipient="Org A", actor=Actor("op"))
    assert ref in references(rows_of(first))
    tracing.set_consent(store.engine, actor=CLI, reference=ref, consent=["research"])
    export_partner(store.engine, second, scope="partners", recipient="Org A", actor=Actor("op"))
    assert references(rows_of(second)) == references(rows_of(first)) - {ref}
    # and given again, it goes out again
    tracing.set_consent(store.engine, actor=CLI, reference=ref, consent=["partners"])
    export_partner(store.engine, second, scope="partners", recipient="Org A", actor=Actor("op"))
    assert ref in references(rows_of(second))


def test_no_contact_detail_or_family_account_ever_goes_out(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "all.csv"
    for scope in ("partners", "humanitarian", "un_missing"):
        for ref in store.consent:  # every request consents, to put the most at risk
            tracing.set_consent(store.engine, actor=CLI, reference=ref, consent=[scope])
        export_partner(
            store.engine, out, scope=scope, recipient="X", actor=Actor("op"), all_sources=True
        )
        text = out.read_text(encoding="utf-8")
        assert references(rows_of(out)) == set(store.consent)
        for secret in store.family_secrets:
            assert secret not in text, secret
        for phone in (s for s in store.family_secrets if s.startswith("+963")):
            assert "".join(ch for ch in phone if ch.isdigit()) not in text.replace(" ", "")
        # A requester's name is never sent as such; the only place it may appear is the
        # mother_name of the missing person (a list, or the family, gave it as his mother).
        for row in rows_of(out):
            cells = {v for c, v in row.items() if c != "mother_name"}
            assert not cells & set(store.requesters), row
    header = next(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert "notes" not in header and header[:2] == ["source", "record_id"]


def test_other_sources_only_when_named(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "p.csv"
    export_partner(
        store.engine, out, scope="partners", recipient="Org", actor=Actor("op"), sources=["ngo_ar"]
    )
    rows = rows_of(out)
    with store.engine.connect() as conn:
        n_ar = conn.scalar(
            select(func.count())
            .select_from(Record)
            .join(Source)
            .where(Source.code == "ngo_ar", Record.is_current.is_(True))
        )
    assert Counter(r["source"] for r in rows)["ngo_ar"] == n_ar
    assert {r["source"] for r in rows} == {"family", "ngo_ar"}
    [event] = audit_events(store.engine, "export.partner")
    assert event["sources"] == ["ngo_ar"] and event["source_rows"] == {"ngo_ar": n_ar}
    with pytest.raises(ExportError, match="unknown source"):
        export_partner(
            store.engine,
            out,
            scope="partners",
            recipient="Org",
            actor=Actor("op"),
            sources=["nope"],
        )
    with pytest.raises(ExportError, match="family"):
        export_partner(
            store.engine,
            out,
            scope="partners",
            recipient="Org",
            actor=Actor("op"),
            sources=["family"],
        )


def test_refused_exports_write_nothing(store: Store, tmp_path: Path) -> None:
    out = tmp_path / "out" / "p.csv"
    out.parent.mkdir()
    for kwargs, message in (
        ({"scope": "research", "recipient": "R"}, "athar export research"),
        ({"scope": "partners", "recipient": "  "}, "recipient"),
        ({"scope": "partners", "recipient": "R", "sources": ["nope"]}, "unknown source"),
    ):
        with pytest.raises(ExportError, match=message):
            export_partner(store.engine, out, actor=Actor("op"), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ExportError, match=r"csv or \*.xlsx"):
        export_partner(
            store.engine,
            out.with_suffix(".txt"),
            scope="partners",
            recipient="R",
            actor=Actor("o"),
        )
    with pytest.raises(ExportError, match="not an existing directory"):
        export_partner(
            store.engine,
            out.parent / "nope" / "p.csv",
            scope="partners",
            recipient="R",
            actor=Actor("o"),
        )
    assert list(out.parent.iterdir()) == []  # no file, no temporary file
    assert audit_events(store.engine, "export.partner") == []


def test_partner_export_is_formula_safe(store: Store, tmp_path: Path) -> None:
    hostile = tmp_path / "hostile.csv"
    hostile.write_text(
        "source,record_id,full_name,facility\n"
        'ngo_x,X-1,"=HYPERLINK(""http://evil.example"",""x"")",@SUM(1+1)\n',
        encoding="utf-8",
    )
    assert import_file(store.engine, hostile, ImportOptions(actor=Actor("t"))).outcome == "stored"
    out = tmp_path / "p.csv"
    export_partner(
        store.engine, out, scope="partners", recipient="R", actor=Actor("op"), sources=["ngo_x"]
    )
    [row] = [r for r in rows_of(out) if r["source"] == "ngo_x"]
    assert row["full_name"].startswith("'=HYPERLINK") and row["facility"] == "'@SUM(1+1)"


# --- research extracts ---------------------------------------------------------------------------


def identifying_texts(world: Path) -> set[str]:
    """Every name, record id, detainee number and note in the synthetic lists and contacts."""
    found: set[str] = set()
    columns = (
        "record_id",
        "full_name",
        "given_name",
        "father_name",
        "grandfather_name",
        "family_name",
        "mother_name",
        "detainee_number",
        "notes",
        "requester_name",
        "phone",
        "email",
    )
    for path in world.glob("*.csv"):
        for row in rows_of(path):
            found.update(v for c in columns if len(v := (row.get(c) or "")) >= 3)
    return found


def xlsx_rows(path: Path) -> list[dict[str, object]]:
    wb = load_workbook(path, read_only=True)
    try:
        values = list(wb.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    finally:
        wb.close()
    header = [str(h) for h in values[0]]
    return [dict(zip(header, r, strict=True)) for r in values[1:]]


def test_research_extract_holds_no_identifying_text(
    store: Store, world: Path, tmp_path: Path
) -> None:
    csv_out, xlsx_out = tmp_path / "r.csv", tmp_path / "r.xlsx"
    export_research(store.engine, csv_out, actor=Actor("op"), all_sources=True, k=3)
    export_research(store.engine, xlsx_out, actor=Actor("op"), all_sources=True, k=3)
    csv_text = csv_out.read_text(encoding="utf-8")
    xlsx_text = "\n".join(
        "" if v is None else str(v) for r in xlsx_rows(xlsx_out) for v in r.values()
    )
    secrets = identifying_texts(world) | set(store.family_secrets) | set(store.consent)
    secrets |= set(store.requesters)
    assert len(secrets) > 100
    for secret in secrets:
        assert secret not in csv_text, secret
        assert secret not in xlsx_text, secret
    # no person pseudonym unless asked for (issue 18, finding 13); every field quoted (finding 5)
    assert next(csv.reader(csv_text.splitlines())) == [c for c in HEADER if c != "person"]
    rows = rows_of(csv_out)
    # family records only with research consent; here every named source is in
    assert Counter(r["source"] for r in rows)["family"] == len(with_consent(store, "research"))
    assert {r["source"] for r in rows} == {"family", *IMPORTED}
    assert len(xlsx_rows(xlsx_out)) == len(rows)
    events = audit_events(store.engine, "export.research")
    assert [e["rows"] for e in events] == [len(rows), len(rows)]
    assert events[0]["sha256"] == hashlib.sha256(csv_out.read_bytes()).hexdigest()


def link(engine: Engine, groups: list[list[int]]) -> None:
    """Link records (by row id) into persons, as a link run would."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    with Session(engine) as db:
        for members in groups:
            person = Person(created_at=now)
            db.add(person)
            db.flush()
            db.add_all(
                PersonRecord(person_id=person.id, record_id=r, created_at=now) for r in members
            )
        db.commit()


def test_pseudonyms_stable_within_an_export_and_different_across(
    store: Store, tmp_path: Path
) -> None:
    with store.engine.connect() as conn:
        ids = conn.scalars(
            select(Record.id)
            .join(Source)
            .where(Source.code == "ngo_ar", Record.is_current.is_(True))
            .order_by(Record.id)
        ).all()
    link(store.engine, [[ids[0], ids[1], ids[2]], [ids[3], ids[4]]])
    one, two = tmp_path / "1.csv", tmp_path / "2.csv"
    for out in (one, two):
        export_research(
            store.engine, out, actor=Actor("op"), sources=["ngo_ar"], k=2, with_person=True
        )
    first, second = rows_of(one), rows_of(two)
    persons = Counter(r["person"] for r in first if r["person"])
    assert sorted(persons.values()) == [2, 3]  # one pseudonym per linked person
    assert len({r["record"] for r in first}) == len(first)  # one per record
    assert all(re.fullmatch(r"r[0-9a-f]{20}", r["record"]) for r in first)
    assert sorted(Counter(r["person"] for r in second if r["person"]).values()) == [2, 3]
    pseudonyms = lambda rows: {r["record"] for r in rows} | {r["person"] for r in rows}  # noqa: E731
    assert pseudonyms(first) - {""} and not (pseudonyms(first) - {""}) & pseudonyms(second)


def test_dates_are_coarsened(store: Store, tmp_path: Path) -> None:
    month, year = tmp_path / "m.csv", tmp_path / "y.csv"
    export_research(store.engine, month, actor=Actor("op"), all_sources=True, k=2)
    export_research(store.engine, year, actor=Actor("op"), all_sources=True, k=2, dates="year")
    m_rows, y_rows = rows_of(month), rows_of(year)
    allowed = {"", SUPPRESSED}
    for r in m_rows:
        assert r["birth_year"] in allowed or re.fullmatch(r"\d{4}(-\d{4})?", r["birth_year"])
        for c in ("arrest_period", "last_seen_period"):
            assert r[c] in allowed or re.fullmatch(r"\d{4}(-\d{2})?", r[c]), r[c]
    # what is left after suppression is coarse; the rule itself:
    assert [coarsen(d, "month") for d in ("2012-05-03", "2012-05", "2012", None)] == [
        "2012-05",
        "2012-05",
        "2012",
        None,
    ]
    assert coarsen("2012-05-03", "year") == "2012"
    assert [age_band(34, 34), age_band(30, 35), age_band(25, 35), age_band(None, 3)] == [
        "30-39",
        "30-39",
        None,
        None,
    ]
    for r in y_rows:
        for c in ("arrest_period", "last_seen_period"):
            assert r[c] in allowed or re.fullmatch(r"\d{4}", r[c]), r[c]
    assert all(r["age_band"] in allowed or re.fullmatch(r"\d+-\d+", r["age_band"]) for r in m_rows)


@pytest.mark.parametrize("k", [2, 5, 1000])
def test_small_cells_are_suppressed(store: Store, tmp_path: Path, k: int) -> None:
    out = tmp_path / "r.csv"
    export_research(store.engine, out, actor=Actor("op"), all_sources=True, k=k)
    rows = rows_of(out)
    groups = Counter((r["source"], *(r[c] for c in QUASI_IDENTIFIERS)) for r in rows)
    for key, n in groups.items():
        fully_suppressed = all(v == SUPPRESSED for v in key[1:])
        assert n >= k or fully_suppressed, (key, n)
    if k == 1000:  # nothing can be shown at all
        assert all(r[c] == SUPPRESSED for r in rows for c in QUASI_IDENTIFIERS)
    [event] = audit_events(store.engine, "export.research")
    assert event["small_cell"] == k


def test_research_extract_is_formula_safe_in_csv_and_xlsx(store: Store, tmp_path: Path) -> None:
    hostile = tmp_path / "h.csv"
    hostile.write_text("source,record_id\n=cmd,Z-1\n", encoding="utf-8")
    assert import_file(store.engine, hostile, ImportOptions(actor=Actor("t"))).outcome == "stored"
    csv_out, xlsx_out = tmp_path / "r.csv", tmp_path / "r.xlsx"
    export_research(store.engine, csv_out, actor=Actor("op"), sources=["=cmd"], k=2)
    export_research(store.engine, xlsx_out, actor=Actor("op"), sources=["=cmd"], k=2)
    assert "'=cmd" in {r["source"] for r in rows_of(csv_out)}
    assert "'=cmd" in {r["source"] for r in xlsx_rows(xlsx_out)}
    wb = load_workbook(xlsx_out)
    try:
        cells = [c for row in wb.active.iter_rows() for c in row]  # type: ignore[union-attr]
        assert all(c.data_type != "f" for c in cells)
    finally:
        wb.close()


def test_export_cli(store: Store, tmp_path: Path, db_url: str) -> None:
    env = {"ATHAR_DATABASE_URL": db_url, "ATHAR_ACTOR": "cli-operator"}
    out = tmp_path / "p.csv"
    result = CliRunner().invoke(
        main,
        ["export", "partner", str(out), "--scope", "partners", "--recipient", "Org B"],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert f"exported {len(rows_of(out))} rows" in result.output
    research = tmp_path / "r.xlsx"
    result = CliRunner().invoke(
        main,
        ["export", "research", str(research), "--all-sources", "--dates", "year", "--no-person"],
        env={**env, "ATHAR_SMALL_CELL": "4"},
    )
    assert result.exit_code == 0, result.output
    assert "groups under 4 rows made coarser or suppressed" in result.output
    [event] = audit_events(store.engine, "export.research")
    assert event["actor"] == "cli-operator" and event["small_cell"] == 4
    assert "person" not in event["columns"] and "person" not in xlsx_rows(research)[0]
    result = CliRunner().invoke(
        main,
        ["export", "partner", str(out), "--scope", "partners", "--recipient", "B", "--source", "x"],
        env=env,
    )
    assert result.exit_code == 1 and "unknown source(s): x" in result.output


def test_suppression_makes_values_coarser_before_it_removes_them() -> None:
    from athar.services.sharing.export_research import LADDER, suppress_small_cells

    assert {c for c, step in LADDER if step("1999") == SUPPRESSED} == set(QUASI_IDENTIFIERS)
    header = ["record", "source", *QUASI_IDENTIFIERS]
    base = dict.fromkeys(QUASI_IDENTIFIERS, "x") | {"source": "ngo", "arrest_period": "2013-04"}
    dicts = [base | {"record": f"r{i}", "birth_year": str(1985 + i)} for i in range(5)]
    dicts.append(base | {"record": "r5", "birth_year": "1990", "facility": "rare"})  # alone
    rows = [[d[c] for c in header] for d in dicts]
    changed = suppress_small_cells(rows, 5, header)
    out = [dict(zip(header, r, strict=True)) for r in rows]
    assert [r["birth_year"] for r in out[:5]] == ["1985-1989"] * 5  # one five-year band
    assert all(r["arrest_period"] == "2013-04" and r["facility"] == "x" for r in out[:5])
    assert all(v == SUPPRESSED for c, v in out[5].items() if c in QUASI_IDENTIFIERS)
    assert [r["record"] for r in out] == [f"r{i}" for i in range(6)]
    assert changed["generalised_cells"] >= 5 and changed["suppressed_cells"] == 9


def test_asking_for_fewer_columns_suppresses_less(store: Store, tmp_path: Path) -> None:
    full, few = tmp_path / "full.csv", tmp_path / "few.csv"
    export_research(store.engine, full, actor=Actor("op"), all_sources=True, k=3)
    columns = ["sex", "arrest_governorate"]
    export_research(store.engine, few, actor=Actor("op"), all_sources=True, k=3, columns=columns)
    assert next(csv.reader(few.read_text(encoding="utf-8").splitlines())) == [
        "record",
        "source",
        *columns,
    ]

    def cut(path: Path, column: str) -> int:
        return sum(r[column] == SUPPRESSED for r in rows_of(path))

    assert cut(few, "arrest_governorate") < cut(full, "arrest_governorate")
    rows = rows_of(few)
    groups = Counter((r["source"], *(r[c] for c in columns)) for r in rows)
    assert all(n >= 3 or key[1:] == (SUPPRESSED,) * 2 for key, n in groups.items())
    with pytest.raises(ExportError, match="unknown column"):
        export_research(store.engine, few, actor=Actor("op"), columns=["full_name"])


def test_withdrawal_through_the_web_api_applies_to_the_next_cli_export(
    store: Store, db_url: str, tmp_path: Path
) -> None:
    """End to end: a case worker withdraws consent in the web app; the operator's next
    `athar export partner` leaves the request out."""
    from athar.security.auth import Role
    from athar.web.app import create_app
    from web_fixtures import Web, api_login, settings

    app = create_app(settings(db_url), engine=store.engine)
    web = Web(app, store.engine, app.state.settings)
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    token = api_login(client, "amira")
    ref = sorted(with_consent(store, "partners"))[-1]
    env = {"ATHAR_DATABASE_URL": db_url, "ATHAR_ACTOR": "operator"}
    out = tmp_path / "p.csv"
    args = ["export", "partner", str(out), "--scope", "partners", "--recipient", "Org"]
    assert CliRunner().invoke(main, args, env=env).exit_code == 0
    assert ref in references(rows_of(out))
    r = client.put(
        f"/api/v1/tracing-requests/{ref}/consent",
        json={"consent": ["humanitarian"]},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    assert CliRunner().invoke(main, args, env=env).exit_code == 0
    assert ref not in references(rows_of(out))
    assert references(rows_of(out)) == with_consent(store, "partners") - {ref}


def test_an_export_without_rows_says_why_and_how_to_get_some(tmp_path: Path, db_url: str) -> None:
    """Issue 14, defect 12: `athar export research out.csv` with the defaults wrote a
    header-only file and exited 0, silently."""
    env = {"ATHAR_DATABASE_URL": db_url, "ATHAR_ACTOR": "cli-operator"}
    for args in (["research"], ["partner", "--scope", "partners", "--recipient", "Org"]):
        out = tmp_path / f"{args[0]}.csv"
        result = CliRunner().invoke(main, ["export", args[0], str(out), *args[1:]], env=env)
        assert result.exit_code == 1, result.output
        assert "no row was exported" in result.stderr
        assert "--source CODE" in result.stderr and "--all-sources" in result.stderr


def test_a_research_export_reports_its_suppression_per_column(
    store: Store, tmp_path: Path, db_url: str
) -> None:
    env = {"ATHAR_DATABASE_URL": db_url, "ATHAR_ACTOR": "cli-operator"}
    result = CliRunner().invoke(
        main, ["export", "research", str(tmp_path / "r.csv"), "--all-sources"], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(
        i for i, line in enumerate(lines) if line.split()[:3] == ["column", "coarser", "suppressed"]
    )
    per_column = {line.split()[0]: line.split()[1:] for line in lines[header + 1 :]}
    assert per_column and set(per_column) <= set(QUASI_IDENTIFIERS)
    [event] = audit_events(store.engine, "export.research")[-1:]
    by_column = event["counts"]["by_column"]
    assert {
        c: [str(n["generalised"]), str(n["suppressed"])] for c, n in by_column.items()
    } == per_column
