"""Imports through the API and the page with a YAML column mapping (a data partner's own
layout), on both stores.  A partner's mapping cannot put rows into another source."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.store.models import ImportBatch, QuarantineRow, Record, Source
from web_fixtures import Web, api_login, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]

#: a partner's spreadsheet export in its own layout
PARTNER_CSV = (
    "Case No;Name;Mother;Born;Row\n"
    "X-101;محمد أحمد الحلبي;فاطمة;05/03/1985;1\n"
    "X-102;Omar Khaled Haddad;Samira;11/04/1988;2\n"
)
MAPPING = """\
columns:
  Case No: record_id
  Mother: mother_name
  Born: birth_date
split:
  Name:
    into: [given_name, father_name, family_name]
ignore: [Row]
date_order: dmy
delimiter: ";"
"""


def _import(client, token: str, mapping: str | None, *, content: str = PARTNER_CSV, **fields: str):  # type: ignore[no-untyped-def]
    files = {"file": ("partner.csv", content.encode("utf-8"), "text/csv")}
    if mapping is not None:
        files["mapping"] = ("partner.yaml", mapping.encode("utf-8"), "application/yaml")
    return client.post("/api/v1/imports", files=files, data=fields, headers={"X-CSRF-Token": token})


def _records(web: Web) -> dict[str, tuple[str, str | None, str | None, str | None]]:
    with Session(web.engine) as db:
        rows = db.execute(
            select(Record, Source.code).join(Source, Source.id == Record.source_id)
        ).all()
        return {r.record_id: (code, r.given_name, r.family_name, r.birth_date) for r, code in rows}


def _partner(web: Web) -> tuple[object, str]:
    web.add_user("partner", Role.DATA_PARTNER, source_code="ngo_x")
    client = web.client()
    return client, api_login(client, "partner")


def test_a_partner_imports_their_own_layout_through_a_mapping(web: Web) -> None:
    client, token = _partner(web)
    without = _import(client, token, None)
    assert without.status_code == 422 and without.json()["error"]["code"] == "unusable_file"
    assert "Case No" in without.json()["error"]["message"]  # the unknown column is named
    r = _import(client, token, MAPPING)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["source"] == "ngo_x" and body["rows_new"] == 2 and body["rows_quarantined"] == 0
    got = _records(web)
    assert got["X-101"] == ("ngo_x", "محمد", "الحلبي", "1985-03-05")
    assert got["X-102"] == ("ngo_x", "Omar", "Haddad", "1988-04-11")
    with Session(web.engine) as db:
        batch = db.scalars(select(ImportBatch)).one()
        assert batch.mapping == "mapping-partner.yaml"


def test_a_partner_mapping_cannot_set_another_source(web: Web) -> None:
    client, token = _partner(web)
    for i, extra in enumerate(("source: other_ngo\n", "constants:\n  source: other_ngo\n")):
        content = PARTNER_CSV.replace("X-1", f"X-{i}9")
        r = _import(client, token, MAPPING + extra, content=content)
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["source"] == "ngo_x"
        assert body["rows_new"] == 0 and body["rows_quarantined"] == 2
        assert all(p["column"] == "source" for p in body["problems"] if p["severity"] == "error")
        assert any("other_ngo" in p["reason"] for p in body["problems"])
    assert _records(web) == {}
    with Session(web.engine) as db:
        assert len(list(db.scalars(select(QuarantineRow)))) == 4
        assert db.scalar(select(Source.id).where(Source.code == "other_ngo")) is None


def test_an_administrator_mapping_may_name_the_source_and_bad_mappings_are_refused(
    web: Web,
) -> None:
    web.add_user("admin", Role.ADMIN)
    client = web.client()
    token = api_login(client, "admin")
    bad = _import(client, token, MAPPING + "colour: blue\n")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unusable_file"
    assert "colour" in bad.json()["error"]["message"]
    not_yaml = _import(client, token, "columns: [unclosed\n")
    assert not_yaml.status_code == 422
    huge = _import(client, token, "# " + "x" * (64 * 1024) + "\n" + MAPPING)
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"
    assert _records(web) == {}
    r = _import(client, token, MAPPING + "source: ngo_y\n")
    assert r.status_code == 201, r.text
    assert {v[0] for v in _records(web).values()} == {"ngo_y"}


def test_the_import_page_takes_a_mapping(web: Web) -> None:
    client, _ = _partner(web)
    page = client.get("/imports?lang=ar")
    assert page.status_code == 200 and 'name="mapping"' in page.text
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match
    r = client.post(  # type: ignore[attr-defined]
        "/imports?lang=en",
        files={
            "file": ("partner.csv", PARTNER_CSV.encode("utf-8"), "text/csv"),
            "mapping": ("partner.yaml", MAPPING.encode("utf-8"), "application/yaml"),
        },
        data={"csrf_token": match.group(1)},
    )
    assert r.status_code == 200 and r.url.path.startswith("/imports/jobs/"), r.text
    assert "partner.csv" in r.text
    assert set(_records(web)) == {"X-101", "X-102"}
    # no mapping chosen: the browser still sends an empty file part, which is ignored
    r = client.post(  # type: ignore[attr-defined]
        "/imports?lang=en",
        files={
            "file": ("plain.csv", b"source,record_id,given_name\nngo_x,X-7,Sami\n", "text/csv"),
            "mapping": ("", b"", "application/octet-stream"),
        },
        data={"csrf_token": match.group(1)},
    )
    assert r.status_code == 200 and r.url.path.startswith("/imports/jobs/"), r.text
    assert "X-7" in _records(web)
