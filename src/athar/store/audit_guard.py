"""Database triggers that keep the audit log append-only (installed by migration 0103).

On both SQLite and PostgreSQL:

* ``audit_event`` refuses every ``UPDATE`` and ``DELETE`` (and ``TRUNCATE`` on PostgreSQL);
  an ``INSERT`` is accepted only at the chain head: its ``seq`` must be the head's sequence
  number and its ``prev_hash`` the head's hash, which is exactly what
  :func:`athar.services.audit.append_event` writes after moving the head on;
* ``audit_head`` refuses ``INSERT``, ``DELETE`` and ``TRUNCATE``, and accepts only the two
  updates of the append path: the sequence number moves on by one with the hash unchanged,
  or the hash becomes that of the event just appended at that sequence number, whose
  ``prev_hash`` is the old hash.

A refusal is an integrity error (SQLSTATE 23000 on PostgreSQL, ``SQLITE_CONSTRAINT`` on
SQLite) whose message starts with ``audit log is append-only``.

What this does and does not stop.  On PostgreSQL only the owner of the tables (or a superuser)
can drop or disable a trigger, so an application that connects as a role without ownership
cannot change or remove an audit event, whatever table privileges it holds.  The owner can:
``athar restore`` is the one command that does, in its own transaction (it replaces the whole
store, audit log included), and a database administrator could too.  Such tampering is still
*evident*: ``athar audit verify`` finds it, and an external copy of the head hash finds even a
consistently rewritten chain.  SQLite has no roles: the triggers stop the application and
anyone using SQL by mistake, but whoever can write the file can drop them.

Results are not audit events and get no trigger: an ``estimate_run`` row (revision 0104) is
inserted once and never updated or deleted by the application, and its ``estimate.run``
audit event holds its SHA-256, so an edited result is evident (the statistics page refuses
it) without a guard of its own.

The SQL below is what revision 0103 installs.  Changing it needs a new migration that calls
:func:`install` again (it replaces what is there).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

PREFIX = "audit log is append-only"

SQLITE_TRIGGERS = {
    "athar_audit_event_no_update": f"""
        CREATE TRIGGER athar_audit_event_no_update BEFORE UPDATE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{PREFIX}: an audit event cannot be changed'); END""",
    "athar_audit_event_no_delete": f"""
        CREATE TRIGGER athar_audit_event_no_delete BEFORE DELETE ON audit_event
        BEGIN SELECT RAISE(ABORT, '{PREFIX}: an audit event cannot be deleted'); END""",
    "athar_audit_event_at_head": f"""
        CREATE TRIGGER athar_audit_event_at_head BEFORE INSERT ON audit_event
        WHEN NEW.seq IS NOT (SELECT seq FROM audit_head WHERE id = 1)
          OR NEW.prev_hash IS NOT (SELECT hash FROM audit_head WHERE id = 1)
        BEGIN SELECT RAISE(ABORT, '{PREFIX}: an event can only be appended at the head'); END""",
    "athar_audit_head_no_insert": f"""
        CREATE TRIGGER athar_audit_head_no_insert BEFORE INSERT ON audit_head
        BEGIN SELECT RAISE(ABORT, '{PREFIX}: the chain head cannot be replaced'); END""",
    "athar_audit_head_no_delete": f"""
        CREATE TRIGGER athar_audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, '{PREFIX}: the chain head cannot be deleted'); END""",
    "athar_audit_head_append_only": f"""
        CREATE TRIGGER athar_audit_head_append_only BEFORE UPDATE ON audit_head
        WHEN NOT (
            NEW.id = OLD.id AND (
                (NEW.seq = OLD.seq + 1 AND NEW.hash = OLD.hash)
                OR (NEW.seq = OLD.seq AND EXISTS (
                    SELECT 1 FROM audit_event e
                    WHERE e.seq = NEW.seq AND e.hash = NEW.hash AND e.prev_hash = OLD.hash))))
        BEGIN SELECT RAISE(ABORT, '{PREFIX}: the chain head only follows appended events');
        END""",
}

PG_FUNCTIONS = {
    "athar_audit_refuse": f"""
        CREATE OR REPLACE FUNCTION athar_audit_refuse() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '{PREFIX}: % on % refused', TG_OP, TG_TABLE_NAME
                USING ERRCODE = '23000';
        END $$""",
    "athar_audit_event_at_head": f"""
        CREATE OR REPLACE FUNCTION athar_audit_event_at_head() RETURNS trigger
        LANGUAGE plpgsql AS $$
        DECLARE head_seq integer; head_hash text;
        BEGIN
            SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1;
            IF NEW.seq IS DISTINCT FROM head_seq OR NEW.prev_hash IS DISTINCT FROM head_hash THEN
                RAISE EXCEPTION '{PREFIX}: an event can only be appended at the head'
                    USING ERRCODE = '23000';
            END IF;
            RETURN NEW;
        END $$""",
    "athar_audit_head_append_only": f"""
        CREATE OR REPLACE FUNCTION athar_audit_head_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.id = OLD.id AND (
                (NEW.seq = OLD.seq + 1 AND NEW.hash = OLD.hash)
                OR (NEW.seq = OLD.seq AND EXISTS (
                    SELECT 1 FROM audit_event e
                    WHERE e.seq = NEW.seq AND e.hash = NEW.hash AND e.prev_hash = OLD.hash)))
            THEN
                RETURN NEW;
            END IF;
            RAISE EXCEPTION '{PREFIX}: the chain head only follows appended events'
                USING ERRCODE = '23000';
        END $$""",
}

#: trigger name -> (table, "BEFORE ... FOR EACH ...", function)
PG_TRIGGERS = {
    "athar_audit_event_no_change": (
        "audit_event",
        "BEFORE UPDATE OR DELETE",
        "FOR EACH ROW",
        "athar_audit_refuse",
    ),
    "athar_audit_event_no_truncate": (
        "audit_event",
        "BEFORE TRUNCATE",
        "FOR EACH STATEMENT",
        "athar_audit_refuse",
    ),
    "athar_audit_event_at_head": (
        "audit_event",
        "BEFORE INSERT",
        "FOR EACH ROW",
        "athar_audit_event_at_head",
    ),
    "athar_audit_head_no_insert_delete": (
        "audit_head",
        "BEFORE INSERT OR DELETE",
        "FOR EACH ROW",
        "athar_audit_refuse",
    ),
    "athar_audit_head_no_truncate": (
        "audit_head",
        "BEFORE TRUNCATE",
        "FOR EACH STATEMENT",
        "athar_audit_refuse",
    ),
    "athar_audit_head_append_only": (
        "audit_head",
        "BEFORE UPDATE",
        "FOR EACH ROW",
        "athar_audit_head_append_only",
    ),
}


def install(conn: Connection) -> None:
    """Create (or replace) the triggers in the caller's transaction."""
    remove(conn)
    if conn.dialect.name == "postgresql":
        for sql in PG_FUNCTIONS.values():
            conn.execute(text(sql))
        for name, (table, when, each, function) in PG_TRIGGERS.items():
            conn.execute(
                text(
                    f"CREATE TRIGGER {name} {when} ON {table} {each} EXECUTE FUNCTION {function}()"
                )
            )
    else:
        for sql in SQLITE_TRIGGERS.values():
            conn.execute(text(sql))


def remove(conn: Connection, *, functions: bool = False) -> None:
    """Drop the triggers (and with ``functions``, PostgreSQL's trigger functions).

    On PostgreSQL only the tables' owner may do this; for anyone else it fails.
    """
    if conn.dialect.name == "postgresql":
        for name, (table, *_) in PG_TRIGGERS.items():
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
        if functions:
            for function in PG_FUNCTIONS:
                conn.execute(text(f"DROP FUNCTION IF EXISTS {function}()"))
    else:
        for name in SQLITE_TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def installed(conn: Connection) -> bool:
    """Are the guard triggers in place (all of them)?"""
    if conn.dialect.name == "postgresql":
        found = conn.execute(
            text(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgname = ANY(:names)"
            ),
            {"names": list(PG_TRIGGERS)},
        ).scalar_one()
        return int(found) == len(PG_TRIGGERS)
    found = conn.execute(
        text(
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' "
            "AND name IN (" + ", ".join(f"'{n}'" for n in SQLITE_TRIGGERS) + ")"
        )
    ).scalar_one()
    return int(found) == len(SQLITE_TRIGGERS)
