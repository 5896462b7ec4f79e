"""Words for codes: what a page shows where the store keeps a code (issue 14, defect 5).

The store and the figures keep Athar's vocabulary codes (``branch_215``, ``rif_dimashq``,
``unidentified_body``, ``M``) and UTC times.  A person reading a page needs the facility's
name, the governorate's name, the status and the sex in the page's language, and the time
where they are, with its zone.  :class:`Labels` gives them for one language; the templates
reach it as ``label(kind, code)`` and ``when(value)``.  A code the vocabulary does not know
is shown as written, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from markupsafe import Markup

from athar.domain import vocab
from athar.domain.messages import N_

#: status codes of claims, and the keys the figures add (a person's status, a conflict)
STATUS_LABELS: dict[str, str] = {
    "missing": N_("missing"),
    "detained": N_("detained"),
    "released": N_("released"),
    "deceased": N_("deceased"),
    "unidentified_living": N_("unidentified living person"),
    "unidentified_body": N_("unidentified body"),
    "unidentified": N_("unidentified"),
    "conflicting": N_("conflicting claims"),
    "no_claim": N_("no status claimed"),
    "unknown": N_("unknown"),
}
SEX_LABELS: dict[str, str] = {
    "M": N_("male"),
    "F": N_("female"),
    "conflicting": N_("conflicting"),
    "unknown": N_("unknown"),
}
OTHER_LABELS: dict[str, str] = {"unknown": N_("unknown"), "conflicting": N_("conflicting")}
KINDS = ("status", "sex", "facility", "governorate", "conflict", "place", "plain")


@cache
def _facility_names() -> dict[str, tuple[str, str]]:
    return {f.code: (f.name_ar, f.name_en) for f in vocab.facility_list()}


@cache
def _governorate_names() -> dict[str, tuple[str, str]]:
    return {g.code: (g.name_ar, g.name_en) for g in vocab.governorate_list()}


class Labels:
    """The words of one language for codes and times."""

    def __init__(self, language: str, gettext: Callable[[str], str], timezone: str) -> None:
        self.language = language
        self.gettext = gettext
        self.zone = ZoneInfo(timezone)

    def _named(self, names: dict[str, tuple[str, str]], code: str) -> str:
        pair = names.get(code)
        if pair is None:
            return self.gettext(OTHER_LABELS[code]) if code in OTHER_LABELS else code
        return pair[0] if self.language == "ar" else pair[1]

    def label(self, kind: str, code: object) -> str:
        """The word for ``code`` of ``kind`` (``status``, ``sex``, ``facility``,
        ``governorate``, ``place`` (a governorate or a facility), ``conflict``)."""
        if code is None or code == "":
            return "—"
        text = str(code)
        _ = self.gettext
        if kind == "status":
            return _(STATUS_LABELS[text]) if text in STATUS_LABELS else text
        if kind == "sex":
            return _(SEX_LABELS[text]) if text in SEX_LABELS else text
        if kind == "facility":
            return self._named(_facility_names(), text)
        if kind == "governorate":
            return self._named(_governorate_names(), text)
        if kind == "plain":  # a year or an age group: as is, but for the two words
            return _(OTHER_LABELS[text]) if text in OTHER_LABELS else text
        if kind == "place":
            if text in _governorate_names():
                return self._named(_governorate_names(), text)
            return self._named(_facility_names(), text)
        if kind == "conflict":
            # "deceased|released": both claimed; "deceased|detained later": held after the end
            first, _sep, second = text.partition("|")
            if second.endswith(" later"):
                return _("%(end)s, then %(held)s later") % {
                    "end": self.label("status", first),
                    "held": self.label("status", second.removesuffix(" later")),
                }
            parts = [self.label("status", p) for p in text.split("|")]
            return _(" and ").join(parts)
        raise ValueError(f"no labels for {kind!r}; known: {', '.join(KINDS)}")

    def shown(self, field: str, text: object) -> Markup:
        """A record's value as the source wrote it, with the word for it first where the
        vocabulary knows it: ``M`` shows as ``male (M)``, ``معتقلة`` on an English page as
        ``detained (معتقلة)``.  The words as written stay visible: they are evidence."""
        if text is None or text == "":
            return Markup("—")
        value = str(text)
        mapped: vocab.Mapped | None = None
        kind = ""
        if field == "sex_text":
            mapped, kind = vocab.map_sex(value), "sex"
        elif field == "status_text":
            mapped, kind = vocab.map_status(value), "status"
        if mapped is None or mapped.code is None:
            return Markup('<bdi dir="auto">{}</bdi>').format(value)
        word = self.label(kind, mapped.code)
        if word.casefold() == value.strip().casefold():
            return Markup("<bdi>{}</bdi>").format(word)
        return Markup('<bdi>{}</bdi> <small>(<bdi dir="auto">{}</bdi>)</small>').format(word, value)

    def when(self, value: object, *, time: bool = True) -> Markup:
        """A UTC time (a datetime, or ISO text) as local time with its zone, isolated
        left to right: ``2026-12-02 15:04 (UTC+03:00)``.  A date stays a date."""
        if value is None or value == "":
            return Markup("—")
        moment: datetime | date
        if isinstance(value, datetime | date):
            moment = value
        else:
            try:
                moment = datetime.fromisoformat(str(value))
            except ValueError:
                return Markup('<bdi dir="ltr">{}</bdi>').format(value)
        if not isinstance(moment, datetime):
            return Markup('<bdi dir="ltr">{}</bdi>').format(moment.isoformat())
        if moment.tzinfo is None:  # the store keeps UTC
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone)
        if not time:
            return Markup('<bdi dir="ltr">{}</bdi>').format(local.strftime("%Y-%m-%d"))
        offset = local.strftime("%z")
        zone = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
        text = f"{local.strftime('%Y-%m-%d %H:%M')} ({zone})"
        return Markup('<bdi dir="ltr">{}</bdi>').format(text)
