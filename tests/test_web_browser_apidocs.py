"""``/api/docs`` renders in Chromium from the application's own files, under the pages' CSP
(issue 14: it loaded Swagger UI from a CDN and was blank offline)."""

from __future__ import annotations

from typing import Any

from test_web_browser import CHROMIUM, server  # noqa: F401


def test_api_docs_render_offline_under_the_csp(server: tuple[str, Any]) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    base, _ = server
    assert CHROMIUM.exists(), "Chromium is missing: run `make chromium` (part of `make test`)"
    elsewhere: list[str] = []
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on(
                "request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url)
            )
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.goto(f"{base}/api/docs")
            page.wait_for_selector(".opblock", timeout=20000)
            assert page.locator(".opblock").count() > 10
            assert page.get_by_text("/api/v1/tracing-requests", exact=True).count() > 0
        finally:
            browser.close()
    assert elsewhere == [], elsewhere
    assert not [m for m in problems if "Content Security Policy" in m], problems
