"""PFIF export and the partner feed under consent; partners' API keys (scoped, revocable)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from sqlalchemy import Engine, text

from athar.cli import main
from athar.security import crypto
from athar.security.keys import KeyRing
from athar.services.actor import PUBLIC, Actor
from athar.services.casework import tracing
from athar.services.casework.tracing_intake import validate_intake
from athar.services.registry.importer import ImportOptions, import_file
from athar.services.sharing.api_keys import (
    ApiKeyRefused,
    create_api_key,
    revoke_api_key,
)
from athar.services.sharing.export_pfif import NS, export_pfif
from web_fixtures import Web, api_login, keyring, web  # noqa: F401 (fixtures)

ADMIN = Actor("admin-tester")
ATOM = "{http://www.w3.org/2005/Atom}"
CONSENTS = ([], ["partners"], ["partners", "research"], ["humanitarian"])
CSV = """source,record_id,given_name,family_name,sex,birth_date,status
ngo.example,A-1,Omar,Example,M,1980,missing
ngo.example,A-2,Rana,Sample,F,1990-02,detained
other.example,O-1,Karim,Test,M,1970,released
"""


@pytest.fixture(autouse=True)
def ring() -> Iterator[KeyRing]:
    ring = KeyRing.generate("kx1")
    crypto.configure(ring)
    yield ring
    crypto.configure(None)


def fill(engine: Engine, tmp_path: Path) -> dict[str, list[str]]:
    src = tmp_path / "list.csv"
    src.write_text(CSV, encoding="utf-8")
    r = import_file(engine, src, ImportOptions(actor=Actor("t"), today=date(2025, 6, 1)))
    assert r.outcome == "stored"
    consent: dict[str, list[str]] = {}
    for i, chosen in enumerate(CONSENTS):
        raw = {
            "given_name": f"Given{i}",
            "family_name": "Family",
            "sex": "F",
            "requester_name": f"Requester Secret{i}",
            "relationship": "parent",
            "contact_phone": f"+9639000000{i}",
            "contact_email": f"secret{i}@example.org",
            "circumstances": f"taken at the checkpoint, witness secret{i}",
        }
        intake = validate_intake(raw, list(chosen), None, photo_max_bytes=1)
        req = tracing.submit_request(engine, actor=PUBLIC, intake=intake, language="ar")
        consent[req.reference] = list(chosen)
    return consent


def person_ids(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    return [p.findtext(f"{{{NS}}}person_record_id") for p in root.iter(f"{{{NS}}}person")]


def test_pfif_export_follows_consent_and_holds_no_contact(
    db_engine: Engine, tmp_path: Path
) -> None:
    fill(db_engine, tmp_path)
    out = tmp_path / "p.xml"
    rep = export_pfif(
        db_engine,
        out,
        scope="partners",
        recipient="P",
        actor=ADMIN,
        sources=["ngo.example"],
        family_domain="athar.example.org",
    )
    ids = person_ids(out.read_bytes())
    assert rep.family_rows == 2 and rep.family_withheld == 2
    # a family's record is this instance's own: never family/..., which an Athar importing it
    # would take for its own families' records
    fam = [i for i in ids if i.startswith("athar.example.org/family.")]
    assert len(fam) == 2 and not any(i.startswith("family/") for i in ids)
    assert sorted(i for i in ids if i.startswith("ngo.example/")) == [
        "ngo.example/A-1",
        "ngo.example/A-2",
    ]
    assert not any(i.startswith("other.example/") for i in ids)
    body = out.read_text(encoding="utf-8")
    for secret in ("Secret", "secret", "+9639", "@example.org", "checkpoint"):
        assert secret not in body
    given = sorted(e.text for e in etree.fromstring(out.read_bytes()).iter(f"{{{NS}}}given_name"))
    assert given == ["Given1", "Given2", "Omar", "Rana"]  # consent 1 and 2 include partners


def test_api_keys_are_scoped_hashed_and_audited(db_engine: Engine, tmp_path: Path) -> None:
    fill(db_engine, tmp_path)
    info, token = create_api_key(
        db_engine, recipient="Partner P", scope="partners", sources=["ngo.example"], actor=ADMIN
    )
    assert token.startswith("athar_") and len(token) > 40 and info.sources == ("ngo.example",)
    with db_engine.connect() as c:
        stored = c.execute(text("SELECT prefix, token_sha256 FROM api_key")).one()
        assert token not in str(tuple(stored)) and stored.prefix == token[:12]
        actions = [r[0] for r in c.execute(text("SELECT action FROM audit_event"))]
    assert "api_key.create" in actions
    with pytest.raises(ApiKeyRefused):
        create_api_key(db_engine, recipient="P", scope="research", actor=ADMIN)
    with pytest.raises(ApiKeyRefused):
        create_api_key(db_engine, recipient=" ", scope="partners", actor=ADMIN)


def test_feed_pages_by_entry_date_under_the_keys_scope(web: Web, tmp_path: Path) -> None:  # noqa: F811
    fill(web.engine, tmp_path)
    _, token = create_api_key(
        web.engine, recipient="Partner P", scope="partners", sources=["ngo.example"], actor=ADMIN
    )
    client = web.client()
    assert client.get("/api/v1/pfif/feed").status_code == 401
    bad = client.get("/api/v1/pfif/feed", headers={"X-Api-Key": "athar_wrong"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "not_authenticated"

    got = client.get("/api/v1/pfif/feed", headers={"X-Api-Key": token})
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/atom+xml")
    all_ids = person_ids(got.content)
    domain = web.settings.pfif_domain  # ATHAR_PFIF_DOMAIN: families' records are this instance's
    assert len(all_ids) == 4 and sum(i.startswith(f"{domain}/family.") for i in all_ids) == 2
    assert not any(i.startswith("other.example/") for i in all_ids)
    assert "secret" not in got.text.lower()

    # page through it two at a time the way a partner syncs
    seen: list[str] = []
    since, skip = None, 0
    for _ in range(5):
        params: dict[str, str | int] = {"max_results": 2, "skip": skip}
        if since:
            params["min_entry_date"] = since
        page = client.get(
            "/api/v1/pfif/feed", params=params, headers={"Authorization": f"Bearer {token}"}
        )
        assert page.status_code == 200
        root = etree.fromstring(page.content)
        entries = root.findall(f"{ATOM}entry")
        for e in entries:
            seen.append(e.find(f"{{{NS}}}person/{{{NS}}}person_record_id").text)
            stamp = e.findtext(f"{ATOM}updated")
            skip = skip + 1 if stamp == since else 1
            since = stamp
        if len(entries) < 2:
            break
    assert seen == all_ids

    future = client.get(
        "/api/v1/pfif/feed",
        params={"min_entry_date": "2999-01-01T00:00:00Z"},
        headers={"X-Api-Key": token},
    )
    assert future.status_code == 200 and person_ids(future.content) == []
    wrong = client.get(
        "/api/v1/pfif/feed", params={"min_entry_date": "yesterday"}, headers={"X-Api-Key": token}
    )
    assert wrong.status_code == 422 and "min_entry_date" in wrong.json()["error"]["message"]
    too_many = client.get(
        "/api/v1/pfif/feed", params={"max_results": 5000}, headers={"X-Api-Key": token}
    )
    assert too_many.status_code == 422

    with web.engine.connect() as c:
        n = c.execute(text("SELECT COUNT(*) FROM audit_event WHERE action = 'export.pfif_feed'"))
        assert n.scalar_one() >= 4


def test_a_revoked_key_no_longer_reads(web: Web, tmp_path: Path) -> None:  # noqa: F811
    info, token = create_api_key(web.engine, recipient="P", scope="partners", actor=ADMIN)
    client = web.client()
    assert client.get("/api/v1/pfif/feed", headers={"X-Api-Key": token}).status_code == 200
    revoke_api_key(web.engine, info.id, actor=ADMIN, reason="contract ended")
    assert client.get("/api/v1/pfif/feed", headers={"X-Api-Key": token}).status_code == 401


def test_a_session_does_not_read_the_feed(web: Web) -> None:  # noqa: F811
    from athar.security.auth import Role

    web.add_user("admin", Role.ADMIN)
    client = web.client()
    api_login(client, "admin")
    got = client.get("/api/v1/pfif/feed")
    assert got.status_code == 403 and got.json()["error"]["code"] == "forbidden"


def test_api_keys_cli(db_url: str) -> None:
    env = {"ATHAR_DATABASE_URL": db_url}
    made = CliRunner().invoke(
        main, ["api-keys", "create", "--recipient", "P", "--scope", "partners"], env=env
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("athar_")
    listed = CliRunner().invoke(main, ["api-keys", "list"], env=env)
    assert token[:12] in listed.output and token not in listed.output and "live" in listed.output
    gone = CliRunner().invoke(main, ["api-keys", "revoke", "1", "--reason", "test"], env=env)
    assert gone.exit_code == 0 and "revoked" in gone.output
    missing = CliRunner().invoke(main, ["api-keys", "revoke", "99", "--reason", "x"], env=env)
    assert missing.exit_code == 1 and "no API key 99" in missing.output
