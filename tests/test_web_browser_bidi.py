"""Bidirectional text on Arabic pages (issue 14): left-to-right fragments keep their order.

Chromium lays out the Arabic pages; for each fragment (a date, an age range, a suppressed
count) the test reads where its first and last characters are drawn: left to right, the
first must be left of the last.  Without the isolation ``1985-03-12`` was drawn as
``12-03-1985`` and ``25-35`` as ``35-25``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from athar.security.auth import Role
from athar.services.access.users import create_user
from athar.services.actor import CLI, Actor
from athar.services.registry.importer import ImportOptions, import_file
from test_web_browser import ARTIFACTS, CHROMIUM, server  # noqa: F401
from web_fixtures import PASSWORD

#: x of the first and of the last character of the first text node holding ``text``
_EDGES = """(text) => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(text);
    if (at < 0) continue;
    const box = (i) => {
      const r = document.createRange();
      r.setStart(node, i); r.setEnd(node, i + 1);
      return r.getBoundingClientRect().x;
    };
    return [box(at), box(at + text.length - 1)];
  }
  return null;
}"""


def _left_to_right(page: Any, text: str) -> bool:
    edges = page.evaluate(_EDGES, text)
    assert edges is not None, f"{text!r} is not on the page"
    return bool(edges[0] < edges[1])


def test_ltr_fragments_keep_their_order_on_arabic_pages(
    server: tuple[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    base, engine = server
    assert CHROMIUM.exists(), "Chromium is missing: run `make chromium` (part of `make test`)"
    small = tmp_path / "small.csv"  # two records: their count is shown as "< 5"
    small.write_text("source,record_id,given_name\nngo,1,Ali\nngo,2,Omar\n", encoding="utf-8")
    assert import_file(engine, small, ImportOptions(actor=Actor("test"))).exit_code == 0
    create_user(
        engine,
        actor=CLI,
        username="cw",
        display_name="Cw",
        role=Role.CASE_WORKER,
        source_code=None,
        password=PASSWORD,
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(locale="ar-SY", viewport={"width": 360, "height": 740})
            page.goto(f"{base}/request?lang=ar")
            assert page.evaluate("document.documentElement.dir") == "rtl"
            for fragment in ("1985-03-12", "1985-03", "2012-05-14", "Mohammad Ahmad Al-Halabi"):
                assert _left_to_right(page, fragment), fragment
            page.goto(f"{base}/login?lang=ar")
            page.fill("input[name=username]", "cw")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{base}/unidentified/new?lang=ar")
            for fragment in ("25-35", "2024-12-08"):
                assert _left_to_right(page, fragment), fragment
            page.goto(f"{base}/stats?lang=ar")
            assert _left_to_right(page, "< 5")
        finally:
            browser.close()


def test_a_researchers_figures_show_when_they_were_taken(
    server: tuple[str, Any],  # noqa: F811
) -> None:
    """Issue 18, finding 23: the published figures' time, left to right on the Arabic page,
    and no page wider than the screen; screenshots in both languages at 360 and 1280 px."""
    from playwright.sync_api import sync_playwright

    base, engine = server
    create_user(
        engine,
        actor=CLI,
        username="rita",
        display_name="Rita",
        role=Role.RESEARCHER,
        source_code=None,
        password=PASSWORD,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            for width in (360, 1280):
                page = browser.new_page(viewport={"width": width, "height": 800})
                page.goto(f"{base}/login?lang=ar")
                page.fill("input[name=username]", "rita")
                page.fill("input[name=password]", PASSWORD)
                page.click("button[type=submit]")
                page.wait_for_load_state()
                for lang in ("ar", "en"):
                    page.goto(f"{base}/stats?lang={lang}")
                    hint = page.locator("p.hint").first.inner_text()
                    stamp = re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", hint)
                    assert stamp is not None, hint
                    assert _left_to_right(page, stamp.group()), (lang, hint)
                    assert page.evaluate("document.documentElement.scrollWidth") <= width
                    page.screenshot(
                        path=str(ARTIFACTS / f"stats-as-of-{lang}-{width}.png"), full_page=True
                    )
                page.close()
        finally:
            browser.close()
