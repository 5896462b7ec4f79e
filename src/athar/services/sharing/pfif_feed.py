"""The PFIF 1.4 Atom person feed a partner syncs with (``GET /api/v1/pfif/feed``).

A partner holds an API key (:mod:`athar.services.sharing.api_keys`) that names its consent
scope and the sources it may read; the feed gives exactly what ``athar export pfif`` would give
that partner (the same rules, :mod:`athar.services.sharing.export_common`), as Atom entries each
holding one ``pfif:person`` with its status note.

Sync: entries come in order of ``entry_date`` (the time Athar stored the record's current
version; it only increases, a new version gets a later one), then of record.  A partner asks
for ``min_entry_date`` = the last ``entry_date`` it saw and ``skip`` = how many entries with
that very ``entry_date`` it already has, ``max_results`` at a time (at most
:data:`MAX_RESULTS`), until a page comes back short.  Every request is audited
(``export.pfif_feed``: the key, the partner, the parameters, the entries given and the SHA-256
of the body).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from lxml import etree
from sqlalchemy import Engine, Table, select

from athar.errors import InvalidInput
from athar.ingest.pfif import format_datetime, parse_datetime
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.services.casework.tracing_intake import FAMILY_SOURCE
from athar.services.sharing.api_keys import KeyInfo
from athar.services.sharing.export_common import consent_by_record
from athar.services.sharing.export_pfif import NS, person_element
from athar.store.engine import begin_write
from athar.store.models import ImportBatch, Record, Source

ATOM = "http://www.w3.org/2005/Atom"
MAX_RESULTS = 1000


class FeedRefused(ValueError, InvalidInput):
    code = "feed_refused"


@dataclass(frozen=True)
class Feed:
    body: bytes
    entries: int
    audit_seq: int


def parse_min_entry_date(text: str | None) -> datetime | None:
    if text is None or text == "":
        return None
    when = parse_datetime(text)
    if when is None:
        raise FeedRefused(
            f"min_entry_date {text[:40]!r} is not a UTC date-time YYYY-MM-DDThh:mm:ssZ"
        )
    return when


def _when(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _a(tag: str) -> str:
    return f"{{{ATOM}}}{tag}"


def pfif_feed(
    engine: Engine,
    key: KeyInfo,
    *,
    min_entry_date: datetime | None,
    skip: int,
    max_results: int,
    feed_url: str,
    actor: Actor,
    family_domain: str,
) -> Feed:
    """One page of the feed for ``key``'s partner; the request is audited."""
    if not 1 <= max_results <= MAX_RESULTS:
        raise FeedRefused(f"max_results must be from 1 to {MAX_RESULTS}, not {max_results}")
    if skip < 0:
        raise FeedRefused(f"skip must be 0 or more, not {skip}")
    table = cast(Table, Record.__table__)
    codes = [FAMILY_SOURCE, *key.sources]
    query = (
        select(Source.code.label("source_code"), ImportBatch.imported_at.label("stored_at"), table)
        .join(Source, Source.id == table.c.source_id)
        .join(ImportBatch, ImportBatch.id == table.c.batch_id)
        .where(table.c.is_current.is_(True), Source.code.in_(codes))
        .order_by(ImportBatch.imported_at, table.c.id)
    )
    if min_entry_date is not None:
        query = query.where(ImportBatch.imported_at >= min_entry_date)
    root = etree.Element(_a("feed"), nsmap={None: ATOM, "pfif": NS})
    etree.SubElement(root, _a("id")).text = feed_url
    etree.SubElement(root, _a("title")).text = f"Athar PFIF 1.4 person feed for {key.recipient}"
    updated = etree.SubElement(root, _a("updated"))
    etree.SubElement(root, _a("link"), rel="self", href=feed_url)
    given = seen = 0
    last = None
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            consent = consent_by_record(conn)
            for rec in conn.execute(query).yield_per(500):
                code = str(rec.source_code)
                if code == FAMILY_SOURCE and key.scope not in consent.get(
                    (rec.source_id, rec.record_id), []
                ):
                    continue
                seen += 1
                if seen <= skip:
                    continue
                stamp = format_datetime(_when(rec.stored_at))
                person = person_element(code, rec, stamp, family_domain)
                entry = etree.SubElement(root, _a("entry"))
                entry.append(person)
                pid = person.findtext(f"{{{NS}}}person_record_id")
                name = person.findtext(f"{{{NS}}}full_name")
                etree.SubElement(entry, _a("id")).text = f"pfif:{pid}"
                etree.SubElement(entry, _a("title")).text = name
                author = etree.SubElement(entry, _a("author"))
                etree.SubElement(author, _a("name")).text = code
                etree.SubElement(entry, _a("updated")).text = stamp
                src = etree.SubElement(entry, _a("source"))
                etree.SubElement(src, _a("title")).text = code
                etree.SubElement(entry, _a("content")).text = name
                last = stamp
                given += 1
                if given >= max_results:
                    break
    updated.text = last or format_datetime(datetime.now(UTC))
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    with begin_write(engine) as wconn:
        seq = append_event(
            wconn,
            actor=actor.label,
            action=AuditAction.EXPORT_PFIF_FEED,
            entity_type="export",
            entity_id=key.scope,
            detail={
                "api_key": key.id,
                "recipient": key.recipient,
                "scope": key.scope,
                "sources": list(key.sources),
                "min_entry_date": format_datetime(min_entry_date) if min_entry_date else None,
                "skip": skip,
                "max_results": max_results,
                "entries": given,
                "sha256": hashlib.sha256(body).hexdigest(),
            },
        )
    return Feed(body, given, seq)


def key_actor(key: KeyInfo) -> Actor:
    """Who reads the feed: the key (its id and prefix; never the token)."""
    return Actor(f"api_key:{key.id}:{key.prefix}")
