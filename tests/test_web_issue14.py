"""Defects of issue 14 in the web app, each pinned by a test that failed before its fix."""

from __future__ import annotations

import re

from athar.security.auth import Role
from web_fixtures import Web, api_login, csrf, keyring, web  # noqa: F401


def test_add_user_form_has_no_default_role_and_refuses_a_missing_one(web: Web) -> None:
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
