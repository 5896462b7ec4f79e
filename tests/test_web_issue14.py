"""Defects of issue 14 in the web app, each pinned by a test that failed before its fix."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from athar import config
from athar.security.auth import Role
from athar.security.crypto import KeyRing
from athar.store.engine import make_engine
from athar.web.app import CSP, create_app
from web_fixtures import Web, api_login, csrf, intake_json, keyring, settings, web  # noqa: F401


def test_add_user_form_has_no_default_role_and_refuses_a_missing_one(web: Web) -> None:  # noqa: F811
    web.add_user("root", Role.ADMIN)
    client = web.client()
    api_login(client, "root")
    page = client.get("/users?lang=en")
    assert page.status_code == 200
    select = re.search(r'<select id="u-role".*?</select>', page.text, re.S)
    assert select is not None
    options = re.findall(r"<option[^>]*>", select.group(0))
    # the first option, the one a browser shows selected, chooses nothing; no role is selected
    assert 'value=""' in options[0] and "selected" in options[0]
    assert all("selected" not in o for o in options[1:])
    assert "required" in select.group(0)
    # a form sent without a role makes nobody (least of all an administrator)
    token = csrf(client)
    sent = client.post(
        "/users?lang=en",
        data={"csrf_token": token, "username": "nobody", "display_name": "N", "role": ""},
    )
    assert sent.status_code == 422 and "Choose a role." in sent.text
    assert "nobody" not in client.get("/api/v1/users").text


def test_head_of_the_home_page_answers_like_get(web: Web) -> None:  # noqa: F811
    client = web.client()
    head = client.head("/")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-type"].startswith("text/html")


def test_organisation_name_and_contact_are_settings_shown_in_footer_and_confirmation(
    db_url: str,
    keyring: KeyRing,  # noqa: F811
) -> None:
    assert config.setting("organisation_name").env == "ATHAR_ORGANISATION_NAME"
    assert config.setting("organisation_contact").env == "ATHAR_ORGANISATION_CONTACT"
    operators = (Path(__file__).resolve().parents[1] / "docs" / "operators.md").read_text()
    assert "ATHAR_ORGANISATION_NAME" in operators and "ATHAR_ORGANISATION_CONTACT" in operators
    engine = make_engine(db_url)
    try:
        s = settings(
            db_url,
            organisation_name="رابطة عائلات قيصر",
            organisation_contact="contact@example.org",
        )
        client = TestClient(create_app(s, engine=engine, keyring=keyring))
        home = client.get("/?lang=ar")
        footer = home.text.split("<footer>")[1]
        assert "رابطة عائلات قيصر" in footer and "contact@example.org" in footer
        form = {**intake_json(), "csrf_token": csrf(client)}
        done = client.post("/request?lang=en", data=form)
        assert done.status_code == 201 and "Your request is registered" in done.text, done.text
        main = done.text.split("<main>")[1].split("</main>")[0]
        assert "رابطة عائلات قيصر" in main and "contact@example.org" in main
    finally:
        engine.dispose()


def test_language_switch_keeps_the_query_and_a_422_page_names_what_is_missing(web: Web) -> None:  # noqa: F811
    web.add_user("cw", Role.CASE_WORKER)
    web.add_user("rev", Role.REVIEWER)
    worker = web.client()
    api_login(worker, "cw")
    page = worker.get("/requests?status=registered&page=1&lang=ar")
    assert page.status_code == 200
    switch = re.search(r'<a class="lang" href="([^"]*)"', page.text)
    assert switch is not None
    assert switch.group(1).replace("&amp;", "&") == "?status=registered&page=1&lang=en"
    reviewer = web.client()
    api_login(reviewer, "rev")
    # a compare page's switch keeps its pair
    pair = reviewer.get("/review/pair?a=src%3A1&b=src%3A2&lang=en")
    switch = re.search(r'<a class="lang" href="([^"]*)"', pair.text)
    assert switch is not None
    assert switch.group(1).replace("&amp;", "&") == "?a=src%3A1&b=src%3A2&lang=ar"
    # a page without its parameters says which are missing, in the page's language
    bare = reviewer.get("/review/pair?lang=en")
    assert bare.status_code == 422 and bare.headers["content-type"].startswith("text/html")
    assert "the first record" in bare.text and "the second record" in bare.text
    assert "not given" in bare.text and "try again later" not in bare.text
    half = reviewer.get("/review/pair?a=src%3A1&lang=ar")
    assert half.status_code == 422 and 'dir="rtl"' in half.text
    assert "السجل الثاني" in half.text and "السجل الأول" not in half.text
    bad = worker.get("/requests?page=0&lang=en")
    assert bad.status_code == 422 and "the page number" in bad.text and "not valid" in bad.text
    # the API keeps its error shape
    api = worker.get("/api/v1/tracing-requests?limit=0")
    assert api.status_code == 422 and set(api.json()["error"]["fields"][0]) == {"field", "message"}


def test_api_docs_are_served_by_the_app_under_the_pages_csp(web: Web) -> None:  # noqa: F811
    client = web.client()
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert docs.headers["content-security-policy"] == CSP
    # nothing is loaded from elsewhere, and no inline script
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", docs.text), docs.text
    assert "<script>" not in docs.text
    scripts = re.findall(r'<script src="([^"]+)"', docs.text)
    links = re.findall(r'<link[^>]*href="([^"]+)"', docs.text)
    assert scripts and links
    for url in scripts + links:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
    bundle = client.get(next(u for u in scripts if "swagger-ui-bundle" in u))
    assert "SwaggerUIBundle" in bundle.text
    assert client.get("/api/openapi.json").status_code == 200


def test_unidentified_registrations_are_listed_with_filter_paging_and_audit(web: Web) -> None:  # noqa: F811
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from athar.services.actor import CLI
    from athar.services.casework.unidentified import register, validate
    from athar.store.models import AuditEvent

    living = register(web.engine, actor=CLI, values=validate({"kind": "living", "sex": "M"}))
    body = register(web.engine, actor=CLI, values=validate({"kind": "body", "age": "25-35"}))
    web.add_user("cw", Role.CASE_WORKER)
    web.add_user("partner", Role.DATA_PARTNER, source_code="ngo")
    client = web.client()
    api_login(client, "cw")
    home = client.get("/?lang=en")
    assert 'href="/unidentified"' in home.text  # the nav opens the list, not only the form
    page = client.get("/unidentified?lang=en")
    assert page.status_code == 200
    assert living in page.text and body in page.text and "2 registrations" in page.text
    assert 'href="/unidentified/new"' in page.text
    only_bodies = client.get("/unidentified?kind=body&lang=en")
    assert body in only_bodies.text and living not in only_bodies.text
    arabic = client.get("/unidentified?lang=ar")
    assert arabic.status_code == 200 and 'dir="rtl"' in arabic.text
    assert "الأشخاص والجثث مجهولو الهوية" in arabic.text
    assert client.get("/unidentified?page=2&lang=en").status_code == 200
    api = client.get("/api/v1/unidentified?kind=living").json()
    assert api["total"] == 1 and [i["reference"] for i in api["items"]] == [living]
    assert client.get("/unidentified?kind=other").status_code == 422
    with Session(web.engine) as db:
        listed = db.scalars(
            select(AuditEvent).where(AuditEvent.action == "unidentified.list")
        ).all()
    assert len(listed) >= 4 and listed[0].actor.endswith("cw")
    # permission-checked like the API
    partner = web.client()
    api_login(partner, "partner")
    assert partner.get("/unidentified?lang=en").status_code == 403
    assert partner.get("/api/v1/unidentified").status_code == 403
    assert web.client().get("/unidentified?lang=en").status_code == 401
