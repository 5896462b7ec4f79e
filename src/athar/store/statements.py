"""The SQL statements the services run, in one place (``athar/services/README.md``: raw SQL
stays in ``athar.store``).  Each is the statement the service used inline before; the
services import this module as ``sql``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import TextClause, bindparam, text

# --- athar.services.linking.runs -------------------------------------


def current_records(
    columns: Mapping[str, str], only: Sequence[tuple[str, str]] | None = None
) -> tuple[TextClause, dict[str, str]]:
    """The current records with ``db_id``, ``source``, ``record_id`` and each record column
    ``c`` of ``columns`` as its key; ``only``: just these (source, record_id) keys.  Returns
    the statement and its parameters."""
    cols = ", ".join(f"r.{c} AS {k}" for k, c in columns.items())
    params: dict[str, str] = {}
    where = ""
    if only is not None:
        conds = []
        for i, (source, rid) in enumerate(only):
            conds.append(f"(s.code = :s{i} AND r.record_id = :r{i})")
            params[f"s{i}"], params[f"r{i}"] = source, rid
        where = " AND (" + (" OR ".join(conds) or "1 = 0") + ")"
    statement = text(
        f"SELECT r.id AS db_id, s.code AS source, r.record_id AS record_id, {cols} "
        f"FROM record r JOIN source s ON s.id = r.source_id WHERE r.is_current{where} "
        "ORDER BY r.id"
    )
    return statement, params


MEMBERSHIPS = text(
    "SELECT s.code, r.record_id, pr.person_id FROM person_record pr JOIN record r ON "
    "r.id = pr.record_id JOIN source s ON s.id = r.source_id ORDER BY pr.id"
)
DELETE_MEMBERSHIPS = text("DELETE FROM person_record")
HUMAN_DECISIONS = text(
    "SELECT d.kind, sa.code, ra.record_id, sb.code, rb.record_id FROM link_decision d "
    "JOIN record ra ON ra.id = d.record_a_id JOIN source sa ON sa.id = ra.source_id "
    "JOIN record rb ON rb.id = d.record_b_id JOIN source sb ON sb.id = rb.source_id "
    "WHERE d.kind <> 'automatic' ORDER BY d.decided_at, d.id"
)
LAST_MODEL_AND_THRESHOLD = text(
    "SELECT model, threshold FROM link_run WHERE model IS NOT NULL ORDER BY id DESC LIMIT 1"
)
INSERT_LINK_RUN = text(
    "INSERT INTO link_run (engine, settings, model, threshold, actor, started_at, "
    "finished_at) VALUES (:e, :s, :m, :t, :a, :st, :fi) RETURNING id"
)
RECORD_BY_ID = text("SELECT id FROM record WHERE id = :i")
CURRENT_RECORD_BY_KEY = text(
    "SELECT r.id FROM record r JOIN source s ON s.id = r.source_id WHERE s.code = :s "
    "AND r.record_id = :r AND r.is_current"
)
INSERT_LINK_DECISION = text(
    "INSERT INTO link_decision (kind, record_a_id, record_b_id, actor, reason, "
    "decided_at) VALUES (:k, :a, :b, :who, :why, :t) RETURNING id"
)
LATEST_RUN = text("SELECT id, threshold FROM link_run ORDER BY id DESC LIMIT 1")
#: the link runs, newest first, with whether each was incremental (in its settings)
RUNS_NEWEST_FIRST = text("SELECT id, settings FROM link_run ORDER BY id DESC")
#: undecided uncertain pairs of the runs from ``:run`` (the latest full run) on: the full run's
#: and those of the incremental runs after it, each judged by its own run's threshold
REVIEW_QUEUE = text(
    "SELECT d.record_a_id, d.record_b_id, d.score, sa.code || ':' || ra.record_id, "
    "sb.code || ':' || rb.record_id FROM link_decision d JOIN link_run lr ON lr.id = "
    "d.link_run_id JOIN record ra ON ra.id = "
    "d.record_a_id JOIN source sa ON sa.id = ra.source_id JOIN record rb ON rb.id = "
    "d.record_b_id JOIN source sb ON sb.id = rb.source_id WHERE d.kind = 'automatic' "
    "AND d.link_run_id >= :run AND (d.score < lr.threshold OR NOT EXISTS (SELECT 1 FROM "
    "person_record pa JOIN person_record pb ON pb.person_id = pa.person_id WHERE "
    "pa.record_id = d.record_a_id AND pb.record_id = d.record_b_id)) AND NOT EXISTS "
    "(SELECT 1 FROM link_decision h WHERE h.kind <> 'automatic' AND ((h.record_a_id = "
    "d.record_a_id AND h.record_b_id = d.record_b_id) OR (h.record_a_id = "
    "d.record_b_id AND h.record_b_id = d.record_a_id))) ORDER BY d.score DESC LIMIT "
    ":n"
)
#: is the pair (``:sa:ra``, ``:sb:rb``, any version of each record, either order) named by a
#: link decision: scored by a link run or decided by a person?
_RECORD_IDS = (
    "(SELECT r.id FROM record r JOIN source s ON s.id = r.source_id "
    "WHERE s.code = :s{x} AND r.record_id = :r{x})"
)
PAIR_KNOWN = text(
    "SELECT 1 FROM link_decision d WHERE (d.record_a_id IN "
    + _RECORD_IDS.format(x="a")
    + " AND d.record_b_id IN "
    + _RECORD_IDS.format(x="b")
    + ") OR (d.record_a_id IN "
    + _RECORD_IDS.format(x="b")
    + " AND d.record_b_id IN "
    + _RECORD_IDS.format(x="a")
    + ") LIMIT 1"
)
LATEST_RUNS = text("SELECT (SELECT MAX(id) FROM link_run), (SELECT MAX(id) FROM estimate_run)")
LATEST_MODEL_RUN = text("SELECT id FROM link_run WHERE model IS NOT NULL ORDER BY id DESC LIMIT 1")
LAST_MODEL_AND_SETTINGS = text(
    "SELECT model, settings FROM link_run WHERE model IS NOT NULL ORDER BY id DESC LIMIT 1"
)

# --- athar.services.figures.statistics ------------------------------

CURRENT_STATUS_CLAIMS = text(
    "SELECT e.record_id, e.status_code, e.event_date, e.facility_code FROM "
    "status_event e JOIN record r ON r.id = e.record_id WHERE r.is_current ORDER BY "
    "e.id"
)
RUN_SETTINGS = text("SELECT id, settings FROM link_run ORDER BY id")
AUTOMATIC_PAIRS_SINCE = text(
    "SELECT sa.code, ra.record_id, sb.code, rb.record_id, d.score, d.link_run_id FROM "
    "link_decision d JOIN record ra ON ra.id = d.record_a_id JOIN source sa ON sa.id "
    "= ra.source_id JOIN record rb ON rb.id = d.record_b_id JOIN source sb ON sb.id = "
    "rb.source_id WHERE d.kind = 'automatic' AND d.link_run_id >= :first"
)
LATEST_RUN_WITH_SETTINGS = text(
    "SELECT id, threshold, settings FROM link_run ORDER BY id DESC LIMIT 1"
)
LATEST_EVENT_OF_ACTION = text(
    "SELECT seq, ts, actor, detail FROM audit_event WHERE action = :a ORDER BY seq DESC LIMIT 1"
)
FIGURES_VERSION = text(
    "SELECT (SELECT MAX(id) FROM record), (SELECT COUNT(*) FROM record), (SELECT "
    "MAX(id) FROM status_event), (SELECT MAX(id) FROM person_record), (SELECT "
    "COUNT(*) FROM person_record), (SELECT MAX(id) FROM link_run), "
    # a request marked as spam (or not) withdraws (or restores) its record without a new one
    "(SELECT MAX(updated_at) FROM tracing_request)"
)

#: SQL: the record carries a name or a detainee number (what linkage can match on)
_IDENTIFIABLE = (
    "CASE WHEN "
    + " OR ".join(
        f"COALESCE(r.{c}, '') <> ''"
        for c in (
            "full_name",
            "given_name",
            "father_name",
            "grandfather_name",
            "family_name",
            "detainee_number",
        )
    )
    + " THEN 1 ELSE 0 END"
)
CURRENT_RECORD_FACTS = text(
    "SELECT r.id, s.code, r.record_id, r.sex_code, r.birth_year, r.age_min, r.age_max, "
    "r.arrest_date, r.arrest_place_code, r.facility_code, r.last_seen_date, "
    f"{_IDENTIFIABLE} "
    "FROM record r JOIN source s ON s.id = r.source_id WHERE r.is_current ORDER BY r.id"
)

# --- athar.services.registry.importer --------------------------------

PRIOR_BATCH = text("SELECT id FROM import_batch WHERE content_hash = :h AND options_hash = :o")
CURRENT_VERSIONS = text(
    "SELECT id, source_id, record_id, version, content_hash FROM record WHERE "
    "source_id = :s AND is_current AND record_id IN :ids"
)
SET_IS_CURRENT = text("UPDATE record SET is_current = :f WHERE id = :old")
SET_SUPERSEDED_BY = text("UPDATE record SET superseded_by_id = :new WHERE id = :old")
SET_BATCH_COUNTS = text(
    "UPDATE import_batch SET rows_total = :t, rows_new = :n, rows_new_version = :v, "
    "rows_unchanged = :u, rows_quarantined = :q, warnings = :w WHERE id = :id"
)
SOURCE_ID_BY_CODE = text("SELECT id FROM source WHERE code = :c")
TAKE_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
#: a session-level advisory lock (PostgreSQL), held across several transactions
TAKE_SESSION_LOCK = text("SELECT pg_advisory_lock(:k)")
RELEASE_SESSION_LOCK = text("SELECT pg_advisory_unlock(:k)")
INSERT_SOURCE = text(
    "INSERT INTO source (code, created_at) VALUES (:c, :t) ON CONFLICT (code) DO "
    "NOTHING RETURNING id"
)
SOURCE_HAS_RECORDS = text("SELECT 1 FROM record WHERE source_id = :s LIMIT 1")
INSERT_IMPORT_BATCH = text(
    "INSERT INTO import_batch (file_name, file_format, encoding, content_hash, "
    "options_hash, source_option, mapping, actor, imported_at, rows_total, rows_new, "
    "rows_new_version, rows_unchanged, rows_quarantined, warnings) VALUES (:f, :fmt, "
    ":enc, :h, :o, :s, :m, :a, :t, 0, 0, 0, 0, 0, 0) RETURNING id"
)


def records_by_id(cols: str) -> TextClause:
    """``cols`` (SQL, comma-separated) of the records whose ids are in ``:ids`` (a list)."""
    return text(f"SELECT {cols} FROM record WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )


# --- athar.services.safekeeping.backup -------------------------------

ALEMBIC_VERSION = text("SELECT version_num FROM alembic_version")
AUDIT_HEAD = text("SELECT seq, hash FROM audit_head WHERE id = 1")
SERIAL_SEQUENCE = text("SELECT pg_get_serial_sequence(:t, :c)")


def setval_past_max(table: str, column: str) -> TextClause:
    """PostgreSQL: set the sequence ``:s`` past ``table.column``'s largest value."""
    return text(
        f'SELECT setval(:s, COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)'
    )


# --- athar.services.audit --------------------------------------------

BUMP_AUDIT_HEAD = text("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
SET_AUDIT_HEAD_HASH = text("UPDATE audit_head SET hash = :h WHERE id = 1")

#: psycopg's own statements for the pipelined :func:`athar.services.audit.append_events`
PG_BUMP_AUDIT_HEAD = "UPDATE audit_head SET seq = seq + 1 WHERE id = 1"
PG_INSERT_AUDIT_EVENT = (
    "INSERT INTO audit_event (seq, ts, actor, action, entity_type, entity_id, detail, "
    "prev_hash, hash) VALUES (%(seq)s, %(ts)s, %(actor)s, %(action)s, %(entity_type)s, "
    "%(entity_id)s, %(detail)s, %(prev_hash)s, %(hash)s)"
)
PG_SET_AUDIT_HEAD_HASH = "UPDATE audit_head SET hash = %(hash)s WHERE id = 1"

PFIF_AUTHORISED_SOURCES = text("SELECT code FROM source WHERE pfif_death_authorised")
SET_PFIF_AUTHORISED = text("UPDATE source SET pfif_death_authorised = :a WHERE id = :s")
