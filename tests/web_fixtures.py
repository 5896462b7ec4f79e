"""Fixtures and helpers shared by the ``test_web_*`` modules (imported by name from them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from athar.security.auth import Role
from athar.security.crypto import KeyRing
from athar.services.access.users import create_user
from athar.services.actor import CLI
from athar.store.engine import make_engine
from athar.web.app import create_app
from athar.web.settings import Settings

SECRET = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct horse battery staple"


@dataclass
class Web:
    app: object
    engine: Engine
    settings: Settings

    def client(self, **headers: str) -> TestClient:
        return TestClient(self.app, headers=headers)  # type: ignore[arg-type]

    def add_user(
        self, username: str, role: Role, source_code: str | None = None, password: str = PASSWORD
    ) -> str:
        create_user(
            self.engine,
            actor=CLI,
            username=username,
            display_name=username.title(),
            role=role,
            source_code=source_code,
            password=password,
        )
        return password


def settings(db_url: str, **changes: object) -> Settings:
    # the tests file many requests from one test client: the intake throttle is tested on
    # its own (test_security_hostile_input.py), with its limits set there
    for name in ("intake_per_client_per_hour", "intake_per_minute", "intake_per_hour"):
        changes.setdefault(name, 100_000)
    return Settings.from_env(
        {},
        environment="test",
        database_url=db_url,
        secret_key=SECRET,
        cookie_secure=False,
        **changes,
    )


@pytest.fixture
def keyring() -> KeyRing:
    return KeyRing.generate("test")


@pytest.fixture
def web(db_url: str, keyring: KeyRing) -> Iterator[Web]:
    engine = make_engine(db_url)
    s = settings(db_url)
    app = create_app(s, engine=engine, keyring=keyring)
    try:
        yield Web(app, engine, s)
    finally:
        engine.dispose()


def csrf(client: TestClient) -> str:
    """The CSRF token of the client's current session (or anonymous visit)."""
    response = client.get("/api/v1/session")
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def api_login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the API; returns the session's CSRF token."""
    response = client.post(
        "/api/v1/session",
        json={"username": username, "password": password},
        headers={"X-CSRF-Token": csrf(client)},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


def intake_json(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "requester_name": "Layla Haddad",
        "relationship": "sibling",
        "contact_phone": "+963 944 123 456",
        "given_name": "Omar",
        "father_name": "Khaled",
        "family_name": "Haddad",
        "mother_name": "Samira",
        "sex": "M",
        "birth_date": "1988-04",
        "arrest_date": "2013-02-11",
        "arrest_place": "Daraya",
        "facility": "Saydnaya Prison",
        "consent": ["partners", "humanitarian"],
    }
    body.update(changes)
    return body


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (8, 6), **save: object) -> bytes:
    """A real, small image in ``fmt`` (Pillow), for uploads that must decode."""
    import io

    from PIL import Image

    out = io.BytesIO()
    mode = "RGBA" if fmt == "PNG" and save.pop("alpha", False) else "RGB"
    Image.new(mode, size, (120, 60, 30)).save(out, format=fmt, **save)  # type: ignore[arg-type]
    return out.getvalue()


def stored_photo(upload: bytes) -> bytes:
    """What Athar stores of ``upload``: decoded and re-encoded without metadata."""
    from athar.services.casework.photos import clean_photo

    return clean_photo(upload, max_pixels=16_000_000).data
