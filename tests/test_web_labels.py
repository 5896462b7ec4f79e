"""Codes shown to people are words of the page's language, and times are local with their zone
(issue 14, defect 5): the figures page showed ``branch_215``, ``rif_dimashq``,
``deceased|detained later`` and ``unidentified_body``; sex showed as ``M``; the timeline read
``missing (missing (tracing request))``; times were UTC only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from athar.security.auth import Role
from athar.services.actor import Actor
from athar.services.registry.importer import ImportOptions, import_file
from athar.store.engine import make_engine
from athar.web.app import create_app
from athar.web.labels import Labels
from athar.web.settings import Settings, SettingsError
from web_fixtures import SECRET, Web, api_login, keyring  # noqa: F401

__all__ = ["keyring"]

AR = {
    " and ": " و",
    "%(end)s, then %(held)s later": "%(end)s، ثم %(held)s لاحقاً",
    "deceased": "متوفى",
    "detained": "معتقل",
    "released": "مُفرج عنه",
    "male": "ذكر",
    "unidentified body": "جثة مجهولة الهوية",
    "unknown": "غير معروف",
}


def test_codes_become_words_in_each_language() -> None:
    en = Labels("en", lambda s: s, "Asia/Damascus")
    ar = Labels("ar", lambda s: AR.get(s, s), "Asia/Damascus")
    assert en.label("facility", "branch_215") == "Military Intelligence Branch 215"
    assert ar.label("facility", "branch_215").startswith("الفرع 215")
    assert en.label("governorate", "rif_dimashq") == "Rif Dimashq"
    assert ar.label("governorate", "rif_dimashq") == "ريف دمشق"
    assert en.label("status", "unidentified_body") == "unidentified body"
    assert ar.label("status", "unidentified_body") == "جثة مجهولة الهوية"
    assert en.label("sex", "M") == "male" and ar.label("sex", "M") == "ذكر"
    assert en.label("conflict", "deceased|detained later") == "deceased, then detained later"
    assert ar.label("conflict", "deceased|detained later") == "متوفى، ثم معتقل لاحقاً"
    assert en.label("conflict", "deceased|released") == "deceased and released"
    assert ar.label("governorate", "unknown") == "غير معروف"
    # a code the vocabulary does not know is shown as written, never dropped
    assert en.label("facility", "branch_999") == "branch_999"
    with pytest.raises(ValueError, match="no labels for 'colour'"):
        en.label("colour", "red")


def test_a_record_value_shows_its_word_and_keeps_what_was_written() -> None:
    en = Labels("en", lambda s: s, "Asia/Damascus")
    assert (
        str(en.shown("sex_text", "M")) == '<bdi>male</bdi> <small>(<bdi dir="auto">M</bdi>)</small>'
    )
    assert str(en.shown("sex_text", "male")) == "<bdi>male</bdi>"
    assert "detained" in str(en.shown("status_text", "معتقلة"))
    assert "معتقلة" in str(en.shown("status_text", "معتقلة"))
    assert str(en.shown("given_name", "<b>")) == '<bdi dir="auto">&lt;b&gt;</bdi>'


def test_times_are_local_with_their_zone() -> None:
    en = Labels("en", lambda s: s, "Asia/Damascus")
    noon_utc = datetime(2026, 3, 1, 12, 0, 5, 123456, tzinfo=UTC)
    assert str(en.when(noon_utc)) == '<bdi dir="ltr">2026-03-01 15:00 (UTC+03:00)</bdi>'
    # the store's naive datetimes are UTC; ISO text (with microseconds) is read too
    assert "15:00 (UTC+03:00)" in str(en.when(datetime(2026, 3, 1, 12, 0)))
    assert "15:00 (UTC+03:00)" in str(en.when("2026-03-01T12:00:05.123456+00:00"))
    assert str(en.when(noon_utc, time=False)) == '<bdi dir="ltr">2026-03-01</bdi>'
    assert (
        str(Labels("en", str, "UTC").when(noon_utc))
        == '<bdi dir="ltr">2026-03-01 12:00 (UTC+00:00)</bdi>'
    )


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(SettingsError, match="ATHAR_TIMEZONE must be an IANA time zone"):
        Settings.from_env({}, environment="test", secret_key=SECRET, timezone="Mars/Olympus")


LIST = "source,record_id,given_name,family_name,sex,facility,arrest_place,status\n" + "".join(
    f"ngo_x,X-{i},Omar{i},Haddad,M,Branch 215,Rif Dimashq,{status}\n"
    for i, status in enumerate(["معتقلة"] * 6 + ["unidentified body"] * 6)
)


@pytest.fixture
def figures_web(db_url: str, keyring, tmp_path: Path):  # type: ignore[no-untyped-def]  # noqa: F811
    engine = make_engine(db_url)
    path = tmp_path / "list.csv"
    path.write_text(LIST, encoding="utf-8")
    result = import_file(engine, path, ImportOptions(actor=Actor("test")))
    assert result.exit_code == 0, result.message
    s = Settings.from_env(
        {}, environment="test", database_url=db_url, secret_key=SECRET, cookie_secure=False
    )
    try:
        yield Web(create_app(s, engine=engine, keyring=keyring), engine, s)
    finally:
        engine.dispose()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_figures_page_shows_words_not_codes(figures_web: Web, lang: str) -> None:
    figures_web.add_user("rana", Role.RESEARCHER)
    client = figures_web.client()
    api_login(client, "rana")
    page = client.get(f"/stats?lang={lang}")
    assert page.status_code == 200
    for code in ("branch_215", "rif_dimashq", "unidentified_body", ">M<"):
        assert code not in page.text, code
    if lang == "en":
        for word in ("Military Intelligence Branch 215", "Rif Dimashq", "unidentified body"):
            assert word in page.text, word
        assert "<th>male</th>" in page.text
    else:
        for word in ("الفرع 215", "ريف دمشق", "جثة مجهولة الهوية", "معتقل"):
            assert word in page.text, word
        assert "<th>ذكر</th>" in page.text


def test_the_arabic_catalogue_has_a_word_for_every_status_and_sex() -> None:
    """With the shipped catalogue: each status and sex has its own Arabic word (the status
    'missing' once shared a msgid with the 422 page's 'value missing')."""
    from athar.web.i18n import load_languages
    from athar.web.labels import SEX_LABELS, STATUS_LABELS

    ar = Labels("ar", load_languages()["ar"].translations.gettext, "Asia/Damascus")
    assert ar.label("status", "missing") == "مفقود"
    words = {ar.label("status", c) for c in STATUS_LABELS} | {
        ar.label("sex", c) for c in SEX_LABELS
    }
    assert all(any("\u0600" <= ch <= "\u06ff" for ch in w) for w in words), words


def test_the_request_page_says_male_not_m(db_url: str, keyring) -> None:  # noqa: F811
    from web_fixtures import csrf, intake_json

    engine = make_engine(db_url)
    s = Settings.from_env(
        {},
        environment="test",
        database_url=db_url,
        secret_key=SECRET,
        cookie_secure=False,
        intake_per_client_per_hour=1000,
    )
    web = Web(create_app(s, engine=engine, keyring=keyring), engine, s)
    try:
        public = web.client()
        r = public.post(
            "/api/v1/tracing-requests",
            json=intake_json(),
            headers={"X-CSRF-Token": csrf(public)},
        )
        assert r.status_code == 201, r.text
        web.add_user("amira", Role.CASE_WORKER)
        client = web.client()
        api_login(client, "amira")
        page = client.get(f"/requests/{r.json()['reference']}?lang=en")
        facts = page.text.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
        assert "<dd>male</dd>" in facts and '<dd dir="auto">M</dd>' not in facts
        assert '<bdi dir="ltr">2013-02-11</bdi>' in facts  # dates isolated left to right
    finally:
        engine.dispose()
