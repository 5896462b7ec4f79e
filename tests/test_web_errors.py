"""The one JSON error shape, pinned; 'may not see' answers exactly like 'does not exist'."""

from __future__ import annotations

from typing import Any

from athar.security.auth import Role
from web_fixtures import Web, api_login, csrf, intake_json, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]

#: the stable codes of the API (part of its contract)
CODES = {
    "bad_request",
    "not_authenticated",
    "forbidden",
    "csrf_failed",
    "invalid_credentials",
    "locked_out",
    "rate_limited",
    "not_found",
    "method_not_allowed",
    "too_large",
    "unsupported_media_type",
    "invalid_input",
    "unusable_file",
    "import_timed_out",
    "import_failed",
    "internal_error",
}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"} and {"code", "message"} <= set(error)
    assert error["code"] == code and code in CODES
    assert isinstance(error["message"], str) and error["message"]
    for field in error.get("fields", []):
        assert set(field) == {"field", "message"}
    return dict(body)


def test_error_shape_for_every_kind_of_failure(web: Web) -> None:
    web.add_user("rana", Role.RESEARCHER)
    client = web.client()
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.patch("/api/v1/session"), 405, "method_not_allowed")
    assert_error(client.get("/api/v1/me"), 401, "not_authenticated")
    assert_error(client.get("/api/v1/tracing-requests"), 401, "not_authenticated")
    assert_error(client.post("/api/v1/tracing-requests", json=intake_json()), 403, "csrf_failed")
    token = csrf(client)
    body = assert_error(
        client.post(
            "/api/v1/tracing-requests",
            json={"requester_name": 5, "surprise": "x"},
            headers={"X-CSRF-Token": token},
        ),
        422,
        "invalid_input",
    )
    assert {f["field"] for f in body["error"]["fields"]} >= {"relationship", "surprise"}
    body = assert_error(
        client.post(
            "/api/v1/tracing-requests",
            json=intake_json(requester_name="", birth_date="1985-13"),
            headers={"X-CSRF-Token": token},
        ),
        422,
        "invalid_input",
    )
    assert {f["field"] for f in body["error"]["fields"]} == {"requester_name", "birth_date"}
    assert_error(
        client.post(
            "/api/v1/session",
            json={"username": "rana", "password": "wrong wrong wrong"},
            headers={"X-CSRF-Token": token},
        ),
        401,
        "invalid_credentials",
    )
    api_login(client, "rana")
    assert_error(client.get("/api/v1/users"), 403, "forbidden")
    assert_error(client.get("/api/v1/tracing-requests"), 403, "forbidden")


def test_a_request_you_may_not_see_answers_like_one_that_does_not_exist(web: Web) -> None:
    public = web.client()
    reference = public.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": csrf(public)}
    ).json()["reference"]
    web.add_user("rami", Role.REVIEWER)
    web.add_user("amira", Role.CASE_WORKER)
    reviewer = web.client()
    token = api_login(reviewer, "rami")
    caseworker = web.client()
    api_login(caseworker, "amira")
    missing = reference[:-1] + ("A" if reference[-1] != "A" else "B")
    for suffix in ("", "/contact", "/photo"):
        hidden = reviewer.get(f"/api/v1/tracing-requests/{reference}{suffix}")
        absent = reviewer.get(f"/api/v1/tracing-requests/{missing}{suffix}")
        absent_for_staff = caseworker.get(f"/api/v1/tracing-requests/{missing}{suffix}")
        assert assert_error(hidden, 404, "not_found") == assert_error(absent, 404, "not_found")
        assert hidden.json() == assert_error(absent_for_staff, 404, "not_found")
    put = reviewer.put(
        f"/api/v1/tracing-requests/{reference}/status",
        json={"status": "closed"},
        headers={"X-CSRF-Token": token},
    )
    assert (
        assert_error(put, 404, "not_found")
        == reviewer.put(
            f"/api/v1/tracing-requests/{missing}/status",
            json={"status": "closed"},
            headers={"X-CSRF-Token": token},
        ).json()
    )
    # the pages behave the same way
    hidden_page = reviewer.get(f"/requests/{reference}?lang=en")
    absent_page = reviewer.get(f"/requests/{missing}?lang=en")
    assert hidden_page.status_code == absent_page.status_code == 404
    assert hidden_page.text == absent_page.text


def test_page_errors_are_pages_in_the_users_language(web: Web) -> None:
    client = web.client()
    r = client.get("/requests?lang=ar")
    assert r.status_code == 401 and r.headers["content-type"].startswith("text/html")
    assert 'dir="rtl"' in r.text and "يُرجى تسجيل الدخول أولًا." in r.text
    r = client.get("/nothing-here?lang=en")
    assert r.status_code == 404 and "There is nothing here" in r.text


def test_openapi_documents_the_api_and_its_error_shape(web: Web) -> None:
    schema = web.client().get("/api/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/tracing-requests",
        "/api/v1/tracing-requests/{reference}",
        "/api/v1/tracing-requests/{reference}/contact",
        "/api/v1/tracing-requests/{reference}/photo",
        "/api/v1/tracing-requests/{reference}/status",
    } <= paths
    assert all(p.startswith("/api/") for p in paths), "pages must stay out of the API schema"
    assert "ErrorOut" in schema["components"]["schemas"]
    detail = schema["paths"]["/api/v1/tracing-requests/{reference}"]["get"]["responses"]["404"]
    assert detail["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
