"""Server-rendered pages: one Jinja2 environment per language, autoescaped."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from athar.domain.fields import labels
from athar.domain.messages import N_
from athar.web.i18n import LOCALES, Language
from athar.web.labels import Labels
from athar.web.waterfall import field_label

#: record column or field name -> its label's msgid (:mod:`athar.domain.fields`)
FIELD_LABELS = labels()


def templates_dir() -> Path:
    return Path(str(resources.files("athar.web") / "templates"))


def ltr(text: object) -> Markup:
    """``text`` isolated as a left-to-right fragment (a date, a range, a reference, ``< 5``):
    in an Arabic sentence ``1985-03-12`` would otherwise show as ``12-03-1985``."""
    return Markup('<bdi dir="ltr">{}</bdi>').format(text)


def build_environments(
    languages: dict[str, Language], timezone: str = "Asia/Damascus"
) -> dict[str, Environment]:
    environments: dict[str, Environment] = {}
    for code, language in languages.items():
        env = Environment(
            loader=FileSystemLoader(str(templates_dir())),
            autoescape=select_autoescape(["html"]),
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(language.translations, newstyle=True)  # type: ignore[attr-defined]
        # waterfall labels are data (from the link run's model): translated, then escaped
        gettext = language.translations.gettext
        env.globals["waterfall_field"] = lambda name, _g=gettext: _g(field_label(name))
        env.globals["waterfall_level"] = gettext
        # a record column's (or a field's) label, from the field declarations, translated
        env.globals["field_label"] = lambda name, _g=gettext: _g(FIELD_LABELS.get(name, name))
        env.globals["ltr"] = ltr
        # codes as words of the page's language, UTC times as local times with their zone
        words = Labels(code, gettext, timezone)
        env.globals["label"] = words.label
        env.globals["when"] = words.when
        env.globals["shown"] = words.shown
        environments[code] = env
    return environments


def language_of(request: Request) -> Language:
    languages: dict[str, Language] = request.app.state.languages
    code = getattr(request.state, "lang", None) or request.app.state.settings.default_locale
    return languages[code]


def _declared_query(request: Request) -> list[tuple[str, str]]:
    """The query parameters the page's route declares (a filter, a page, a pair), as sent;
    anything else (``?q=name`` on a public page) is not echoed into the page."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return []
    names: set[str] = set()
    todo = [dependant]
    while todo:  # the route's own parameters and those of its dependencies
        d = todo.pop()
        names.update(p.alias for p in d.query_params)
        todo.extend(d.dependencies)
    return [(k, v) for k, v in request.query_params.multi_items() if k in names]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render ``template`` in the request's language with the common context."""
    language = language_of(request)
    env: Environment = request.app.state.jinja[language.code]
    user = getattr(request.state, "user", None)
    params = _declared_query(request)
    settings = request.app.state.settings
    base = {
        "organisation_name": settings.organisation_name,
        "organisation_contact": settings.organisation_contact,
        "timezone": settings.timezone,
        "request": request,
        "lang": language.code,
        "dir": language.direction,
        "other_locales": [code for code in LOCALES if code != language.code],
        "user": user,
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "path": request.url.path,
        # the language switch keeps every other query parameter (filters, paging, a pair)
        "lang_links": {
            code: "?" + urlencode([*((k, v) for k, v in params if k != "lang"), ("lang", code)])
            for code in LOCALES
            if code != language.code
        },
    }
    base.update(context)
    html = env.get_template(template).render(base)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


#: what a page's query or path parameter is, for the 422 page (others are shown by name)
PARAMETER_LABELS = {
    "a": N_("the first record"),
    "b": N_("the second record"),
    "page": N_("the page number"),
    "status": N_("Status"),
    "kind": N_("Kind"),
    "reference": N_("Reference"),
    "person_id": N_("the person"),
}


def render_error(
    request: Request, status: int, code: str, fields: list[dict[str, str]] | None = None
) -> HTMLResponse:
    """The error page; for invalid input (422) it names each missing or invalid parameter, in
    the page's language."""
    gettext = language_of(request).gettext
    problems = [
        (
            gettext(PARAMETER_LABELS[name])
            if (name := f.get("field", "")) in PARAMETER_LABELS
            else name,
            f.get("type") == "missing",
        )
        for f in fields or []
    ]
    return render(
        request, "error.html", status_code=status, status=status, code=code, problems=problems
    )
