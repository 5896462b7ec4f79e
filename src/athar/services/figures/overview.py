"""The registry's aggregate figures as researchers and staff see them: counts only, small cells
suppressed, and the latest recorded estimate run (never recomputed here).

The person figures read every current record, so they are computed once per change of the
store and kept in a :class:`FiguresCache` (one per web app, or per command), not once per view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from athar.domain.person import suppress
from athar.services.casework import tracing
from athar.services.figures import statistics
from athar.store.summary import summarise


class FiguresCache:
    """The person figures of one store, kept until the store changes: the key is the
    suppression threshold and :func:`statistics.figures_version`."""

    def __init__(self) -> None:
        self._entry: tuple[tuple[Any, ...], dict[str, Any]] | None = None

    def person_figures(self, conn: Connection, small_cell: int) -> dict[str, Any]:
        key = (small_cell, *statistics.figures_version(conn))
        if self._entry is not None and self._entry[0] == key:
            return self._entry[1]
        persons = statistics.aggregate_figures(conn, small_cell)
        self._entry = (key, persons)
        return persons


@dataclass(frozen=True)
class Overview:
    """Counts only; a count below ``suppressed_below`` is ``None``."""

    suppressed_below: int
    current_records_by_source: dict[str, int | None]
    status_claims: dict[str, int | None]
    tracing_requests_by_status: dict[str, int | None]
    #: :func:`statistics.aggregate_figures`
    persons: dict[str, Any]
    #: the latest recorded estimate run, without its posterior curves
    estimate: dict[str, Any] | None


def registry_overview(db: Session, small_cell: int, cache: FiguresCache) -> Overview:
    """Aggregate figures of the store: no names, no records, small cells suppressed."""
    conn = db.connection()
    summary = summarise(conn)
    by_status = tracing.count_by_status(conn)
    persons = cache.person_figures(conn, small_cell)
    latest = statistics.latest_estimate(conn)
    if latest is not None:
        latest.pop("curves", None)
    return Overview(
        suppressed_below=small_cell,
        current_records_by_source=suppress(
            {k: cur for k, (cur, _) in summary.records_per_source.items()},
            small_cell,
            complementary=False,
        ),
        status_claims=suppress(summary.status_claims, small_cell, complementary=False),
        tracing_requests_by_status=suppress(by_status, small_cell, complementary=False),
        persons=persons,
        estimate=latest,
    )
