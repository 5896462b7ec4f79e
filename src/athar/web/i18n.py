"""Languages: Arabic (right-to-left) and English, from Babel catalogues.

The catalogues live in ``translations/<locale>/LC_MESSAGES/messages.po`` (source) and ``.mo``
(compiled, committed; ``make translations`` re-extracts and recompiles them, and
``tests/test_web_i18n.py`` fails when a ``.mo`` is older than its ``.po``).

The language of a request is, in order: ``?lang=`` in the URL, the ``athar_lang`` cookie, the
browser's ``Accept-Language``, then the configured default.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES = ("ar", "en")
RTL_LOCALES = frozenset({"ar"})
LANG_COOKIE = "athar_lang"
DOMAIN = "messages"


@dataclass(frozen=True)
class Language:
    code: str
    translations: NullTranslations

    @property
    def direction(self) -> str:
        return "rtl" if self.code in RTL_LOCALES else "ltr"

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)


def translations_dir() -> Path:
    return Path(str(resources.files("athar.web") / "translations"))


def load_languages() -> dict[str, Language]:
    """Every supported language with its compiled catalogue."""
    directory = translations_dir()
    languages: dict[str, Language] = {}
    for code in LOCALES:
        mo = directory / code / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not mo.is_file():
            raise FileNotFoundError(f"{mo}: compiled catalogue missing; run `make translations`")
        languages[code] = Language(code, Translations.load(str(directory), [code], DOMAIN))
    return languages


def parse_accept_language(header: str | None) -> list[str]:
    """Language codes from an Accept-Language header, best first (q=0 dropped)."""
    if not header:
        return []
    weighted: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            weighted.append((-quality, index, tag.strip().lower()))
    return [tag for _, _, tag in sorted(weighted)]


def negotiate(
    query: str | None, cookie: str | None, accept_language: str | None, default: str
) -> str:
    """The language to answer in."""
    for choice in (query, cookie):
        if choice and choice.lower() in LOCALES:
            return choice.lower()
    for tag in parse_accept_language(accept_language):
        primary = tag.split("-")[0]
        if primary in LOCALES:
            return primary
    return default
