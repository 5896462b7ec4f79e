"""Published figures: what researchers see of the registry's aggregate figures.

Counts read live move by one with each new record, so a researcher polling them could date
single events (issue 18, finding 23).  Researchers are therefore shown a stored snapshot
(``figures_snapshot``), taken after a link run or an estimate run, or when the last one is older than
``ATHAR_FIGURES_REFRESH_HOURS``, with the time it was taken.  Staff who may read the figures
(administrators, case workers, reviewers) still see them live: they see the records anyway.
Taking a snapshot is a write with its audit event, like any other.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from athar.security.auth import Permission, require
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.services.figures.overview import FiguresCache, Overview, registry_overview
from athar.store import statements as sql
from athar.store.engine import write_session
from athar.store.models import FiguresSnapshot


@dataclass(frozen=True)
class Published:
    overview: Overview
    #: when the figures were taken (UTC)
    as_of: datetime


def _latest(db: Session, small_cell: int) -> FiguresSnapshot | None:
    return db.scalars(
        select(FiguresSnapshot)
        .where(FiguresSnapshot.small_cell == small_cell)
        .order_by(FiguresSnapshot.id.desc())
        .limit(1)
    ).first()


def _latest_runs(db: Session) -> tuple[int | None, int | None]:
    """The latest link run and estimate run (ids), ``None`` for none."""
    link, estimate = db.connection().execute(sql.LATEST_RUNS).one()
    return link, estimate


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _stale(
    snapshot: FiguresSnapshot | None, runs: tuple[int | None, int | None], max_age: timedelta
) -> str | None:
    """Why a new snapshot is due (``first``, ``link_run``, ``estimate_run``, ``age``), or
    ``None``."""
    if snapshot is None:
        return "first"
    if runs[0] != snapshot.link_run_id:
        return "link_run"
    if runs[1] != snapshot.estimate_run_id:
        return "estimate_run"
    if datetime.now(UTC) - _utc(snapshot.taken_at) >= max_age:
        return "age"
    return None


def _published(snapshot: FiguresSnapshot) -> Published:
    return Published(Overview(**snapshot.figures), _utc(snapshot.taken_at))  # type: ignore[arg-type]


def published_figures(
    engine: Engine,
    *,
    actor: Actor,
    small_cell: int,
    refresh_hours: int,
    cache: FiguresCache,
) -> Published:
    """The latest snapshot, after taking a new one if a link run has finished since or it
    is older than ``refresh_hours`` (the new snapshot and its audit event in one
    transaction)."""
    require(actor.role, Permission.READ_AGGREGATES)
    max_age = timedelta(hours=refresh_hours)
    with Session(engine) as db:
        snapshot = _latest(db, small_cell)
        runs = _latest_runs(db)
        reason = _stale(snapshot, runs, max_age)
        if reason is None:
            assert snapshot is not None
            return _published(snapshot)
        # computed outside the write transaction: SQLite's write lock is not held meanwhile
        overview = registry_overview(db, small_cell, cache)
    figures: dict[str, Any] = json.loads(json.dumps(asdict(overview), default=str))
    with write_session(engine) as db:
        snapshot = FiguresSnapshot(
            taken_at=datetime.now(UTC),
            small_cell=small_cell,
            link_run_id=runs[0],
            estimate_run_id=runs[1],
            figures=figures,
        )
        db.add(snapshot)
        db.flush()
        append_event(
            db.connection(),
            actor=actor.label,
            action=AuditAction.FIGURES_SNAPSHOT,
            entity_type="figures_snapshot",
            entity_id=snapshot.id,
            detail={
                "reason": reason,
                "link_run": runs[0],
                "estimate_run": runs[1],
                "small_cell": small_cell,
            },
        )
    return _published(snapshot)
