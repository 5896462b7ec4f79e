"""Browser test: a family files a tracing request in Arabic, in headless Chromium.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, installed by ``make test``'s
``chromium`` step).  Screenshots of each page, in Arabic and English, are saved under
``test-artifacts/`` at the repository root.  A missing browser fails the test: it is never
skipped.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.orm import Session

from athar.security.crypto import KeyRing
from athar.store import migrate
from athar.store.casework import RequestPhoto, TracingRequest
from athar.store.engine import make_engine
from athar.web.app import create_app
from test_web_intake import png_bytes
from web_fixtures import settings, stored_photo

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, object]]:
    url = f"sqlite:///{tmp_path / 'athar.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    app = create_app(settings(url), engine=engine, keyring=KeyRing.generate("browser"))
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", engine
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        engine.dispose()


def test_family_files_a_request_in_arabic(server: tuple[str, object], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, engine = server
    assert CHROMIUM.exists(), "Chromium is missing: run `make chromium` (part of `make test`)"
    ARTIFACTS.mkdir(exist_ok=True)
    photo = tmp_path / "photo.png"
    photo.write_bytes(png_bytes())
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(locale="ar-SY", viewport={"width": 412, "height": 915})
            page.goto(f"{base}/request")
            assert page.evaluate("document.documentElement.dir") == "rtl"
            assert page.evaluate("document.documentElement.lang") == "ar"
            assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            # right-to-left layout: the label of a field starts at the right edge of the form
            label = page.locator("label[for=f-requester_name]").bounding_box()
            field = page.locator("#f-requester_name").bounding_box()
            assert label and field
            assert abs((label["x"] + label["width"]) - (field["x"] + field["width"])) < 2
            page.screenshot(path=str(ARTIFACTS / "intake-ar.png"), full_page=True)

            page.fill("#f-requester_name", "ليلى حداد")
            page.select_option("#f-relationship", "sibling")
            page.fill("#f-contact_phone", "+963 944 555 012")
            page.fill("#f-full_name", "عمر خالد حداد")
            page.fill("#f-mother_name", "سميرة")
            page.select_option("#f-sex", "M")
            page.fill("#f-birth_date", "1988")
            page.fill("#f-arrest_date", "2013-02")
            page.fill("#f-arrest_place", "داريا")
            page.fill("#f-facility", "سجن صيدنايا العسكري")
            page.check("input[name=consent][value=humanitarian]")
            page.set_input_files("#f-photo", str(photo))
            page.click("button[type=submit]")
            page.wait_for_selector(".reference")
            assert page.evaluate("document.documentElement.dir") == "rtl"
            assert "تم تسجيل طلبك" in page.inner_text("h1")
            reference = page.inner_text(".reference").strip()
            assert re.fullmatch(r"T-\d{4}-[0-9A-Z]{8}", reference)
            assert "عمر" not in page.content()  # the reply never echoes the person
            page.screenshot(path=str(ARTIFACTS / "intake-done-ar.png"), full_page=True)

            # the same pages in English, left to right
            page.goto(f"{base}/request?lang=en")
            assert page.evaluate("document.documentElement.dir") == "ltr"
            page.screenshot(path=str(ARTIFACTS / "intake-en.png"), full_page=True)
            page.click("button[type=submit]")  # empty form: every problem is shown
            assert page.locator(".field.has-error").count() >= 3
            page.screenshot(path=str(ARTIFACTS / "intake-errors-en.png"), full_page=True)
        finally:
            browser.close()
    with Session(engine) as db:  # type: ignore[call-overload]
        stored = db.query(TracingRequest).one()
        assert stored.reference == reference and stored.language == "ar"
        assert stored.contact_phone == "+963 944 555 012" and stored.photo_id is not None
        photo = db.get(RequestPhoto, stored.photo_id)
        assert photo is not None and photo.data == stored_photo(png_bytes())
