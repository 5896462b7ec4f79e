"""Read-only summaries of what the store holds (for ``athar db status`` and the demo)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, text


@dataclass
class StoreSummary:
    records_per_source: dict[str, tuple[int, int]] = field(default_factory=dict)  # current, all
    quarantined_per_file: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    status_claims: dict[str, int] = field(default_factory=dict)
    audit_events: int = 0

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
    return s
