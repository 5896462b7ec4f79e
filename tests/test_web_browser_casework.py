"""Browser tests of the case work, in headless Chromium (Playwright), Arabic and English:

* a case worker logs in, sees the candidates for a family's request with explanations, and
  confirms one;
* the person page shows both sources;
* a reviewer clears a review-queue item;
* a case worker adds a sensitive note and records that the family was told (status follows);
* a researcher cannot open a person page.

Screenshots of every page go to ``test-artifacts/`` (``casework-*-ar.png`` / ``-en.png``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from athar.linkage import runner
from athar.security.auth import Role
from athar.services.access.users import create_user
from athar.services.actor import CLI, Actor
from athar.services.linking import runs as linking
from athar.services.registry.importer import ImportOptions, import_file
from test_web_browser import ARTIFACTS, CHROMIUM, server  # noqa: F401
from web_fixtures import PASSWORD, intake_json

__all__ = ["server"]
pytestmark = pytest.mark.browser
FAST = runner.EngineConfig(memory_limit="1GB", threads=1)
ARABIC = re.compile("[\u0600-\u06ff]")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from athar.cli import main

    out = tmp_path_factory.mktemp("world")
    r = CliRunner().invoke(main, ["synth", str(out), "--persons", "300", "--seed", "11", "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def _setup(engine: Engine, world: Path, base: str) -> tuple[str, set[str]]:
    import httpx2

    for source in ("ngo_ar", "ngo_en"):
        assert import_file(
            engine, world / f"{source}.csv", ImportOptions(actor=Actor("t"))
        ).exit_code in (
            0,
            1,
        )
    with (world / "persons.csv").open(encoding="utf-8") as fh:
        person = next(
            p for p in csv.DictReader(fh) if "ngo_ar" in p["on_lists"] and p["birth_date"]
        )
    with (world / "truth.csv").open(encoding="utf-8") as fh:
        expected = {
            f"{t['source']}:{t['record_id']}"
            for t in csv.DictReader(fh)
            if t["person_id"] == person["person_id"] and t["source"] in ("ngo_ar", "ngo_en")
        }
    with httpx2.Client(base_url=base) as client:
        token = client.get("/api/v1/session").json()["csrf_token"]
        body = intake_json(
            given_name=person["given_name"],
            father_name=person["father_name"],
            grandfather_name=person["grandfather_name"],
            family_name=person["family_name"],
            mother_name=person["mother_name"],
            sex=person["sex"],
            birth_date=person["birth_date"],
            arrest_date=person["arrest_date"],
            facility=None,
            arrest_place=None,
        )
        reference = client.post(
            "/api/v1/tracing-requests", json=body, headers={"X-CSRF-Token": token}
        ).json()["reference"]
    linking.link_store(engine, cfg=FAST, actor=Actor("tester"))
    for name, role in (
        ("amira", Role.CASE_WORKER),
        ("rami", Role.REVIEWER),
        ("rana", Role.RESEARCHER),
    ):
        create_user(
            engine, actor=CLI, username=name, display_name=name, role=role, password=PASSWORD
        )
    return reference, expected


def _login(page: Any, base: str, username: str, lang: str) -> None:
    page.goto(f"{base}/login?lang={lang}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form.form button[type=submit]")
    page.wait_for_url(f"{base}/")


def _shot(page: Any, name: str, lang: str) -> None:
    expected = "rtl" if lang == "ar" else "ltr"
    assert page.evaluate("document.documentElement.dir") == expected, (name, lang)
    page.screenshot(path=str(ARTIFACTS / f"casework-{name}-{lang}.png"), full_page=True)


def test_case_work_in_the_browser(server: tuple[str, Any], world: Path) -> None:
    from playwright.sync_api import sync_playwright

    base, engine = server
    assert CHROMIUM.exists(), "Chromium is missing: run `make chromium` (part of `make test`)"
    ARTIFACTS.mkdir(exist_ok=True)
    reference, expected = _setup(engine, world, base)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            # 1. a case worker sees the candidates with explanations and confirms one
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            page = context.new_page()
            _login(page, base, "amira", "ar")
            _shot(page, "home", "ar")
            for lang in ("en", "ar"):
                page.goto(f"{base}/requests/{reference}?lang={lang}")
                _shot(page, "request", lang)
                page.goto(f"{base}/requests/{reference}/candidates?lang={lang}")
                _shot(page, "candidates", lang)
            keys = page.locator("table tbody tr td:first-child").all_inner_texts()
            best = next(k for k in keys if k in expected)
            row = page.locator("table tbody tr", has_text=best)
            row.get_by_role("link").click()
            page.wait_for_selector("table.waterfall")
            assert page.locator("table.waterfall tbody tr").count() >= 3
            # field and level labels come through the catalogue: Arabic on an Arabic page
            cells = page.locator("table.waterfall tbody tr td:nth-child(1)").all_inner_texts()
            assert "الاسم الأول" in cells and not {"given", "family", "birth"} & set(cells)
            levels = page.locator("table.waterfall tbody tr td:nth-child(2)").all_inner_texts()
            assert all(ARABIC.search(t) for t in levels if t.strip()), levels
            _shot(page, "candidate-waterfall", "ar")
            page.check("input[name=decision][value=match]")
            page.fill("#r-reason", "نفس اسم الأم وتاريخ الولادة")
            page.click("form.form button[type=submit]")
            page.wait_for_url(
                re.compile(re.escape(f"{base}/requests/{reference}/candidates?decided=match"))
            )
            assert "الشخص نفسه" in page.locator("table tbody tr", has_text=best).inner_text()
            # the decision is acknowledged where the case worker lands (issue 14, defect 12)
            assert page.locator("p.flash[role=status]").count() == 1
            _shot(page, "candidate-confirmed", "ar")

            # 2. the person page shows both sources (the next link run obeys the decision)
            linking.link_store(engine, cfg=FAST, actor=Actor("tester"))
            page.goto(f"{base}/requests/{reference}?lang=ar")
            page.get_by_role("link", name="صفحة الشخص").click()
            page.wait_for_selector("table.records")
            person_url = page.url.split("?")[0]
            header = page.locator("table.records thead").inner_text()
            assert f"family:{reference}" in header and best in header
            _shot(page, "person", "ar")
            page.goto(f"{person_url}?lang=en")
            _shot(page, "person", "en")

            # 2b. the case worker writes a sensitive note and records that the family was told
            page.goto(f"{base}/requests/{reference}?lang=ar")
            page.fill("#f-text", "الأخت طلبت ألا نتصل بالأم مباشرة")
            page.check("#f-sensitive")
            page.click("form.note-form button[type=submit]")
            page.wait_for_selector("article.note.sensitive")
            assert "الأخت طلبت" in page.locator("article.note").inner_text()
            page.select_option("#f-channel", "in_person")
            page.select_option("#f-outcome", "candidate_found")
            page.fill("#f-details", "أخبرنا الأخت أن سجلاً في قائمة المفرج عنهم قد يكون له")
            page.click("form.notify button[type=submit]")
            page.wait_for_selector("table.notifications tbody tr")
            told = page.locator("table.notifications tbody tr").inner_text()
            assert "حضوريا" in told and "وُجد تطابق محتمل" in told
            assert "أُبلغت العائلة" in page.locator("h1 .badge").inner_text()
            _shot(page, "request-history", "ar")
            page.goto(f"{base}/requests/{reference}?lang=en")
            assert "Family informed" in page.locator("h1 .badge").inner_text()
            assert "In person" in page.locator("table.notifications").inner_text()
            _shot(page, "request-history", "en")
            context.close()

            # 3. a reviewer clears a queue item
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            page = context.new_page()
            _login(page, base, "rami", "en")
            page.goto(f"{base}/review?lang=en")
            _shot(page, "review-queue", "en")
            first_a = page.locator("table tbody tr td:nth-child(1)").first.inner_text()
            first_b = page.locator("table tbody tr td:nth-child(2)").first.inner_text()
            page.locator("table tbody tr").first.get_by_role("link").click()
            page.wait_for_selector("table.pair")
            _shot(page, "review-pair", "en")
            page.goto(
                page.url.replace("lang=en", "lang=ar")
                if "lang=" in page.url
                else page.url + "&lang=ar"
            )
            _shot(page, "review-pair", "ar")
            page.check("input[name=decision][value=no_match]")
            page.fill("#r-reason", "different mothers' names")
            page.click("form.form button[type=submit]")
            page.wait_for_url(re.compile(re.escape(f"{base}/review?decided=no_match")))
            assert page.locator("p.flash[role=status]").count() == 1
            rows = page.locator("table tbody tr").all_inner_texts()
            assert not any(first_a in r and first_b in r for r in rows)
            _shot(page, "review-queue", "ar")
            context.close()

            # 4. a researcher cannot open a person page
            context = browser.new_context(viewport={"width": 1100, "height": 900})
            page = context.new_page()
            _login(page, base, "rana", "ar")
            response = page.goto(f"{person_url}?lang=ar")
            assert response is not None and response.status == 404
            assert page.locator("table.records").count() == 0
            _shot(page, "researcher-person-refused", "ar")
            page.goto(f"{base}/stats?lang=en")
            _shot(page, "researcher-figures", "en")
            context.close()

            # 5. no page is wider than the screen, on a phone and a desktop, in both languages
            pages = {
                "amira": [
                    "/",
                    "/requests",
                    f"/requests/{reference}",
                    f"/requests/{reference}/candidates",
                    f"/requests/{reference}/candidates/pair?b={best}",
                    person_url.removeprefix(base),
                    "/unidentified",
                    "/unidentified/new",
                    "/stats",
                ],
                "rami": ["/review", f"/review/pair?a={first_a}&b={first_b}", "/stats"],
                "rana": ["/stats"],
            }
            too_wide = []
            for width, height in ((360, 740), (1280, 800)):
                for who, paths in pages.items():
                    context = browser.new_context(viewport={"width": width, "height": height})
                    page = context.new_page()
                    _login(page, base, who, "en")
                    for path in paths:
                        for lang in ("ar", "en"):
                            sep = "&" if "?" in path else "?"
                            response = page.goto(f"{base}{path}{sep}lang={lang}")
                            assert response is not None and response.status == 200, path
                            wide = page.evaluate("document.documentElement.scrollWidth")
                            if wide > width:
                                too_wide.append(f"{path} {lang} at {width}: {wide} px")
                    if width == 360:
                        _shot(page, f"phone-{who}", "en")
                    context.close()
            assert not too_wide, too_wide
        finally:
            browser.close()
