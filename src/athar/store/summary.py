"""Read-only summaries of what the store holds (for ``athar db status`` and the demo)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

from athar.store.statements import REVIEW_QUEUE, RUNS_NEWEST_FIRST


@dataclass
class StoreSummary:
    records_per_source: dict[str, tuple[int, int]] = field(default_factory=dict)  # current, all
    quarantined_per_file: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    status_claims: dict[str, int] = field(default_factory=dict)
    audit_events: int = 0
    #: the newest link run: id, finished (UTC), threshold, incremental, actor
    latest_link_run: dict[str, object] | None = None
    persons: int = 0
    #: current records that no link run has placed in a person yet
    unlinked_records: int = 0
    review_queue: int = 0
    #: the newest recorded estimate run: id, created (UTC), actor, link run, estimates
    latest_estimate: dict[str, object] | None = None
    latest_estimate_observed: object = None

    @property
    def current_records(self) -> int:
        return sum(c for c, _ in self.records_per_source.values())

    @property
    def quarantined(self) -> int:
        return sum(self.quarantined_per_file.values())


def summarise(conn: Connection) -> StoreSummary:
    s = StoreSummary()
    rows = conn.execute(
        text(
            "SELECT s.code, SUM(CASE WHEN r.is_current THEN 1 ELSE 0 END), COUNT(r.id) "
            "FROM source s LEFT JOIN record r ON r.source_id = s.id "
            "GROUP BY s.code ORDER BY s.code"
        )
    )
    s.records_per_source = {code: (int(cur or 0), int(n)) for code, cur, n in rows}
    rows = conn.execute(
        text("SELECT file_name, COUNT(*) FROM quarantine_row GROUP BY file_name ORDER BY file_name")
    )
    s.quarantined_per_file = {f: int(n) for f, n in rows}
    s.batches = int(conn.execute(text("SELECT COUNT(*) FROM import_batch")).scalar_one())
    rows = conn.execute(
        text(
            "SELECT e.status_code, COUNT(*) FROM status_event e JOIN record r "
            "ON r.id = e.record_id WHERE r.is_current GROUP BY e.status_code "
            "ORDER BY e.status_code"
        )
    )
    s.status_claims = {c: int(n) for c, n in rows}
    s.audit_events = int(conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one())
    _linkage(conn, s)
    _estimate(conn, s)
    return s


def review_queue_start(conn: Connection) -> int | None:
    """The link run the review queue starts at: the latest full run (incremental runs after
    it add their pairs to its queue; a newer full run replaces it), or ``None``."""
    for run_id, settings in conn.execute(RUNS_NEWEST_FIRST):
        parsed = json.loads(settings) if isinstance(settings, str) else settings
        if not (isinstance(parsed, dict) and parsed.get("incremental")):
            return int(run_id)
    return None


def _linkage(conn: Connection, s: StoreSummary) -> None:
    run = conn.execute(
        text(
            "SELECT id, finished_at, threshold, settings, actor FROM link_run "
            "ORDER BY id DESC LIMIT 1"
        )
    ).one_or_none()
    s.persons = int(
        conn.execute(
            text(
                "SELECT COUNT(DISTINCT pr.person_id) FROM person_record pr "
                "JOIN record r ON r.id = pr.record_id WHERE r.is_current"
            )
        ).scalar_one()
    )
    s.unlinked_records = int(
        conn.execute(
            text(
                "SELECT COUNT(*) FROM record r WHERE r.is_current AND NOT EXISTS "
                "(SELECT 1 FROM person_record pr WHERE pr.record_id = r.id)"
            )
        ).scalar_one()
    )
    if run is None:
        return
    settings = run.settings if not isinstance(run.settings, str) else json.loads(run.settings)
    s.latest_link_run = {
        "id": int(run.id),
        "finished": run.finished_at,
        "threshold": float(run.threshold),
        "incremental": bool((settings or {}).get("incremental", False)),
        "actor": run.actor,
    }
    start = review_queue_start(conn)
    if start is not None:
        s.review_queue = len(conn.execute(REVIEW_QUEUE, {"run": start, "n": 10_000_000}).all())


def _estimate(conn: Connection, s: StoreSummary) -> None:
    row = conn.execute(
        text(
            "SELECT id, created_at, actor, link_run_id, result FROM estimate_run "
            "ORDER BY id DESC LIMIT 1"
        )
    ).one_or_none()
    if row is None:
        return
    estimates: dict[str, object] = {}
    try:
        result = json.loads(row.result)
    except ValueError:
        result = {}
    inner = result.get("result") if isinstance(result, dict) else None
    if isinstance(inner, dict):
        for method in inner.get("methods") or ():
            value = inner.get(method)
            if isinstance(value, dict) and "estimate" in value:
                estimates[str(method)] = {k: value.get(k) for k in ("estimate", "lower", "upper")}
        s.latest_estimate_observed = inner.get("n_observed")
    s.latest_estimate = {
        "id": int(row.id),
        "created": row.created_at,
        "actor": row.actor,
        "link_run": row.link_run_id,
        "estimates": estimates,
    }
