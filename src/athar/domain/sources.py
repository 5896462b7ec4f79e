"""Sources whose records only one of Athar's own services writes (issue 18, finding 6).

``family`` holds the missing person's details from each tracing request (written by
:mod:`athar.services.casework.tracing`), ``unidentified`` the unidentified people and bodies
(written by :mod:`athar.services.casework.unidentified`).  No import, whoever runs it, may
change a record of these sources, no upload may write one, and no data partner may be bound
to one: a row naming one would rewrite a family's request (or tell the uploader which
references exist).  The operator's ``athar import`` may still load a legacy family list (new
records only).
"""

from __future__ import annotations

#: the source of the tracing requests' family records
FAMILY = "family"
#: the source of the unidentified intake
UNIDENTIFIED = "unidentified"
#: source code -> the service that alone writes its records
RESERVED_SOURCES: dict[str, str] = {
    FAMILY: "the tracing-request form",
    UNIDENTIFIED: "the unidentified intake",
}


def is_reserved(source: str | None) -> bool:
    """Is ``source`` written only by its own service?  (Compared as stored: stripped, and
    without regard to case, so ``Family`` is refused too.)"""
    return source is not None and source.strip().lower() in RESERVED_SOURCES


def reserved_message(source: str) -> str:
    """Why a source cannot be imported into or bound to a partner."""
    key = source.strip().lower()
    return (
        f"source {source!r} is reserved: its records are written and changed only by "
        f"{RESERVED_SOURCES.get(key, 'its own service')}"
    )


__all__ = ["FAMILY", "RESERVED_SOURCES", "UNIDENTIFIED", "is_reserved", "reserved_message"]
