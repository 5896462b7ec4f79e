"""Translations: language negotiation, complete Arabic catalogue, compiled .mo up to date."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from athar.web.i18n import LOCALES, negotiate, parse_accept_language, translations_dir

ROOT = Path(__file__).resolve().parents[1]


def test_accept_language_order_and_quality() -> None:
    assert parse_accept_language("en;q=0.5, ar-SY, fr;q=0") == ["ar-sy", "en"]
    assert parse_accept_language("") == []
    assert parse_accept_language("de;q=bad, en") == ["en"]


def test_negotiation_precedence() -> None:
    assert negotiate("en", "ar", "ar", "ar") == "en"  # the URL wins
    assert negotiate(None, "en", "ar", "ar") == "en"  # then the cookie
    assert negotiate(None, None, "fr, en-GB;q=0.8", "ar") == "en"  # then the browser
    assert negotiate("xx", None, "fr", "ar") == "ar"  # then the default


def _po(locale: str):  # type: ignore[no-untyped-def]
    path = translations_dir() / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def test_every_message_has_an_arabic_translation() -> None:
    catalogue = _po("ar")
    untranslated = [m.id for m in catalogue if m.id and not m.string]
    untranslated += [
        m.id for m in catalogue if m.id and isinstance(m.string, tuple) and not all(m.string)
    ]
    assert not untranslated
    assert not [m.id for m in catalogue if m.id and m.fuzzy]


def test_compiled_catalogues_match_their_sources() -> None:
    """Each committed .mo is exactly what compiling its .po gives (``make translations``)."""
    for locale in LOCALES:
        expected = io.BytesIO()
        write_mo(expected, _po(locale))
        mo = translations_dir() / locale / "LC_MESSAGES" / "messages.mo"
        assert mo.read_bytes() == expected.getvalue(), f"{mo} is stale: run `make translations`"


def test_catalogues_hold_every_message_in_the_code(tmp_path: Path) -> None:
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "src/athar/web/babel.cfg",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    for locale in LOCALES:
        have = {m.id for m in _po(locale) if m.id}
        assert wanted <= have, (
            f"{locale}: run `make translations`; missing {sorted(map(str, wanted - have))[:5]}"
        )
