"""Defects of issue 14 in the web app, each pinned by a test that failed before its fix."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from athar import config
from athar.security.auth import Role
from athar.security.crypto import KeyRing
from athar.store.engine import make_engine
from athar.web.app import create_app
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
    db_url: str, keyring: KeyRing  # noqa: F811
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
