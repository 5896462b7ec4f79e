"""Browser test: an administrator allows a source's PFIF death claims, in both languages.

Screenshots at 360 px and 1280 px, Arabic and English, go to ``test-artifacts/``; no page is
wider than the screen.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, text

from athar.security.auth import Role
from athar.services.access.users import create_user
from athar.services.actor import CLI, Actor
from athar.services.registry.pfif_sources import set_death_authorised
from test_web_browser import ARTIFACTS, CHROMIUM, server  # noqa: F401
from web_fixtures import PASSWORD

__all__ = ["server"]
pytestmark = pytest.mark.browser


def test_an_administrator_allows_a_source_in_the_browser(server: tuple[str, Any]) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    base, engine = server
    assert isinstance(engine, Engine)
    assert CHROMIUM.exists(), "Chromium is missing: run `make chromium` (part of `make test`)"
    ARTIFACTS.mkdir(exist_ok=True)
    create_user(
        engine, actor=CLI, username="adel", display_name="Adel", role=Role.ADMIN, password=PASSWORD
    )
    set_death_authorised(engine, "registry.example", True, actor=Actor("setup"), reason="setup")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            for width in (360, 1280):
                context = browser.new_context(viewport={"width": width, "height": 800})
                page = context.new_page()
                page.goto(f"{base}/login?lang=en")
                page.fill("#username", "adel")
                page.fill("#password", PASSWORD)
                page.click("form.form button[type=submit]")
                page.wait_for_url(f"{base}/")
                for lang in ("ar", "en"):
                    page.goto(f"{base}/sources?lang={lang}")
                    expected = "rtl" if lang == "ar" else "ltr"
                    assert page.evaluate("document.documentElement.dir") == expected
                    assert "registry.example" in page.inner_text("table")
                    wide = page.evaluate("document.documentElement.scrollWidth")
                    assert wide <= width, f"/sources {lang} at {width}: {wide} px"
                    page.screenshot(
                        path=str(ARTIFACTS / f"sources-{lang}-{width}.png"), full_page=True
                    )
                context.close()
            # allow a partner's domain before its first import, in Arabic
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(f"{base}/login?lang=ar")
            page.fill("#username", "adel")
            page.fill("#password", PASSWORD)
            page.click("form.form button[type=submit]")
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/sources?lang=ar")
            page.fill("#s-source", "partner.example")
            page.select_option("#s-decision", "allow")
            page.fill("#s-reason", "اتفاقية تبادل")
            page.click("form.form button[type=submit]")
            assert "حُفظ" in page.inner_text("[role=status]")
            page.screenshot(path=str(ARTIFACTS / "sources-ar-saved.png"), full_page=True)
        finally:
            browser.close()
    with engine.connect() as c:
        allowed = c.execute(text("SELECT code FROM source WHERE pfif_death_authorised")).scalars()
        assert sorted(allowed) == ["partner.example", "registry.example"]
        who = c.execute(text("SELECT actor FROM audit_event WHERE entity_id = 'partner.example'"))
        assert who.scalars().all() == ["user:adel"]
