"""Migrations run from an empty database on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from athar.store import migrate
from athar.store.engine import database_url, make_engine, normalise_url
from athar.store.models import Base

#: the first migration's registry tables, and estimate_run (other migrations add their own)
MY_TABLES = {
    "source",
    "import_batch",
    "record",
    "record_change",
    "quarantine_row",
    "status_event",
    "person",
    "link_run",
    "person_record",
    "link_decision",
    "facility",
    "facility_alias",
    "audit_event",
    "audit_head",
    "estimate_run",
    "figures_snapshot",
}


def _diff_on_registry_tables(diffs: list[object]) -> list[object]:
    """Differences that concern the registry tables (other migrations may add others)."""
    out = []
    for d in diffs:
        flat = repr(d)
        if any(f"'{t}'" in flat or f"name='{t}'" in flat for t in MY_TABLES):
            out.append(d)
    return out


def test_migrations_run_from_empty_and_match_models(empty_db_url: str) -> None:
    engine = make_engine(empty_db_url)
    try:
        assert migrate.current_revision(engine) is None
        assert not migrate.schema_status(engine).up_to_date
        migrate.upgrade(engine)
        st = migrate.schema_status(engine)
        assert st.up_to_date and st.current == migrate.head_revision(engine)
        tables = set(inspect(engine).get_table_names())
        assert MY_TABLES <= tables
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert _diff_on_registry_tables(list(diffs)) == []
            head = conn.execute(text("SELECT seq, hash FROM audit_head")).one()
            assert tuple(head) == (0, "0" * 64)
        # Upgrading again is a no-op; downgrading to nothing removes every registry table.
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        assert not MY_TABLES & set(inspect(engine).get_table_names())
        assert MY_TABLES <= set(Base.metadata.tables)
        migrate.upgrade(engine)
        assert migrate.schema_status(engine).up_to_date
    finally:
        engine.dispose()


def test_database_url_default_and_env() -> None:
    assert database_url({}) == "sqlite:///athar.db"
    got = database_url({"ATHAR_DATABASE_URL": "postgresql://u@h/db"})
    assert got == "postgresql+psycopg://u@h/db"
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_failed_sqlite_transaction_leaves_nothing(db_engine: object) -> None:
    from sqlalchemy import Engine

    assert isinstance(db_engine, Engine)
    try:
        with db_engine.begin() as conn:
            conn.execute(
                text("INSERT INTO source (code, created_at) VALUES ('x', CURRENT_TIMESTAMP)")
            )
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM source")).scalar_one() == 0


def test_a_link_run_without_a_model_is_sql_null(db_engine: object) -> None:
    """Readers pick the latest run with `model IS NOT NULL`: JSON 'null' must not pass that."""
    from datetime import UTC, datetime

    from sqlalchemy import Engine
    from sqlalchemy.orm import Session

    from athar.store.models import LinkRun

    assert isinstance(db_engine, Engine)
    with Session(db_engine) as session, session.begin():
        session.add(
            LinkRun(
                engine="duckdb",
                settings={},
                model=None,
                threshold=0.9,
                actor="test",
                started_at=datetime.now(UTC),
            )
        )
    with db_engine.connect() as conn:
        assert (
            conn.execute(text("SELECT COUNT(*) FROM link_run WHERE model IS NULL")).scalar_one()
            == 1
        )


def test_estimate_runs_recorded_in_the_audit_log_are_copied(empty_db_url: str) -> None:
    """Revision 0104: a run recorded before it (its result in the audit event's detail) gets
    its row, and the statistics page shows it exactly as before."""
    from athar.services.audit import append_event, verify_chain
    from athar.services.figures import statistics

    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine, "0103")
        public = {"lists": ["a", "b"], "estimates": {"loglinear": {"estimate": 6.25}}}
        with engine.begin() as conn:
            seq = append_event(
                conn,
                actor="analyst",
                action="estimate.run",
                entity_type="estimate",
                detail={
                    "result": {"lists": ["a", "b"], "methods": ["loglinear"]},
                    "public": public,
                },
            )
            ts = conn.execute(text("SELECT ts FROM audit_event WHERE seq = :s"), {"s": seq})
            ts = ts.scalar_one()
        migrate.upgrade(engine)
        with engine.connect() as conn:
            latest = statistics.latest_estimate(conn)
            row = conn.execute(text("SELECT actor, link_run_id FROM estimate_run")).one()
            assert verify_chain(conn).ok
        assert latest == {**public, "audit_seq": seq, "recorded_at": ts, "actor": "analyst"}
        assert tuple(row) == ("analyst", None)
        migrate.downgrade(engine, "0103")
        assert "estimate_run" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_store_with_case_work_migrates_down_and_up(db_url: str) -> None:
    """Tables that other rows refer to are rebuilt on SQLite (Alembic's batch mode); with data
    in them, that failed ('FOREIGN KEY constraint failed' on DROP TABLE).  A store holding a
    tracing request with a note, a notification and records migrates down to 0104 and back."""
    from sqlalchemy import text

    from athar.security import crypto
    from athar.security.auth import Role
    from athar.security.keys import KeyRing
    from athar.services.access.users import create_user
    from athar.services.actor import CLI, PUBLIC, Actor
    from athar.services.casework import casenotes, tracing
    from athar.services.casework.tracing_intake import validate_intake
    from athar.store import migrate
    from athar.store.engine import make_engine

    crypto.configure(KeyRing.generate("k-migrate"))
    engine = make_engine(db_url)
    try:
        raw = {
            "requester_name": "Synthetic Requester",
            "relationship": "sibling",
            "contact_phone": "+963 900 000 001",
            "given_name": "Synthetic",
            "family_name": "Person",
            "other_names": "Abu Synthetic",
        }
        request = tracing.submit_request(
            engine,
            actor=PUBLIC,
            intake=validate_intake(raw, ["partners"], None, photo_max_bytes=1),
            language="en",
        )
        user, _ = create_user(
            engine, actor=CLI, username="amira", display_name="Amira", role=Role.CASE_WORKER
        )
        worker = Actor.of(user)
        casenotes.add_note(
            engine, actor=worker, reference=request.reference, text="synthetic", sensitive=False
        )
        casenotes.record_notification(
            engine,
            actor=worker,
            reference=request.reference,
            channel="phone",
            outcome="no_news",
            details="",
        )

        def counts() -> tuple[int, int, int]:
            with engine.connect() as conn:
                return tuple(  # type: ignore[return-value]
                    int(conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one())
                    for t in ("tracing_request", "request_note", "record")
                )

        before = counts()
        migrate.downgrade(engine, "0104")
        assert counts() == before
        migrate.upgrade(engine)
        assert counts() == before
        assert migrate.current_revision(engine) == migrate.head_revision(engine)
    finally:
        engine.dispose()
