"""The audit chain: appends, verification, tampering detection, concurrent writers."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from athar.cli import main
from athar.services.audit import (
    GroupAppender,
    append_event,
    append_events,
    append_read,
    appender,
    verify_chain,
)
from athar.store import audit_guard


def _append(engine: Engine, n: int, actor: str = "tester") -> None:
    for i in range(n):
        with engine.begin() as conn:
            append_event(
                conn,
                actor=actor,
                action="test.event",
                entity_type="thing",
                entity_id=i,
                detail={"i": i, "text": "نص عربي"},
            )


def _verify(engine: Engine):  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return verify_chain(conn)


def _sql(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql))


def _tamper(engine: Engine, sql: str, **params: object) -> None:
    """Edit the log as someone who bypasses the append-only triggers: the tables' owner (or
    whoever can write the SQLite file) drops them, edits, and puts them back."""
    with engine.begin() as conn:
        audit_guard.remove(conn)
        conn.execute(text(sql), params)
        audit_guard.install(conn)


def test_clean_chain_verifies(db_engine: Engine) -> None:
    assert _verify(db_engine).ok  # empty chain
    _append(db_engine, 5)
    res = _verify(db_engine)
    assert res.ok and res.events == 5 and res.head_seq == 5


def test_edit_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _tamper(db_engine, "UPDATE audit_event SET detail = 'changed' WHERE seq = 3")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (3, "edited")


def test_edit_with_recomputed_hash_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _tamper(db_engine, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 2")
    from athar.services.audit import event_hash

    with db_engine.begin() as conn:
        r = conn.execute(text("SELECT * FROM audit_event WHERE seq = 2")).one()
        h = event_hash(
            r.seq, r.ts, r.actor, r.action, r.entity_type, r.entity_id, r.detail, r.prev_hash
        )
    _tamper(db_engine, "UPDATE audit_event SET hash = :h WHERE seq = 2", h=h)
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (2, "edited")


def test_delete_in_the_middle_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _tamper(db_engine, "DELETE FROM audit_event WHERE seq = 2")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (2, "deleted")


def test_delete_at_the_end_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _tamper(db_engine, "DELETE FROM audit_event WHERE seq = 5")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (5, "deleted")


def test_reorder_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _tamper(db_engine, "UPDATE audit_event SET seq = 100 WHERE seq = 3")
    _tamper(db_engine, "UPDATE audit_event SET seq = 3 WHERE seq = 4")
    _tamper(db_engine, "UPDATE audit_event SET seq = 4 WHERE seq = 100")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (3, "reordered")


def test_append_events_is_append_event_in_a_row(db_engine: Engine) -> None:
    """A batch (pipelined on PostgreSQL) makes the same chain as one append after another,
    through the append-only triggers, after events already in the log."""
    _append(db_engine, 2)
    events = [
        {"actor": f"a{i}", "action": "test.view", "entity_type": "thing", "entity_id": i}
        for i in range(7)
    ]
    with db_engine.begin() as conn:
        assert append_events(conn, events) == list(range(3, 10))
    res = _verify(db_engine)
    assert res.ok and res.events == 9 and res.head_seq == 9
    with db_engine.connect() as conn:
        actors = [r[0] for r in conn.execute(text("SELECT actor FROM audit_event ORDER BY seq"))]
    assert actors == ["tester", "tester"] + [f"a{i}" for i in range(7)]


def test_append_events_failing_midway_writes_nothing(db_engine: Engine) -> None:
    _append(db_engine, 1)
    events = [{"actor": "a", "action": "test.view", "entity_type": "thing"} for _ in range(4)]
    events[2]["entity_type"] = None  # NOT NULL: the third insert fails
    with pytest.raises(Exception), db_engine.begin() as conn:  # noqa: B017 - driver's own error
        append_events(conn, events)
    res = _verify(db_engine)
    assert res.ok and res.events == 1 and res.head_seq == 1


def test_group_commit_keeps_one_chain_and_batches(db_engine: Engine) -> None:
    """Concurrent reads' events go into one chain, every caller gets its own sequence number
    back only once its event is committed, and concurrent callers share transactions."""
    group = GroupAppender(db_engine)
    start = threading.Barrier(16)
    seqs: list[int] = []
    errors: list[BaseException] = []
    committed_on_return: list[bool] = []

    def work(k: int) -> None:
        try:
            start.wait()
            for i in range(10):
                seq = group.append(
                    actor=f"reader-{k}", action="test.view", entity_type="thing", entity_id=i
                )
                with db_engine.connect() as conn:  # another connection sees it: committed
                    row = conn.execute(
                        text("SELECT actor FROM audit_event WHERE seq = :s"), {"s": seq}
                    ).one_or_none()
                committed_on_return.append(row is not None and row[0] == f"reader-{k}")
                seqs.append(seq)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(seqs) == list(range(1, 161))
    assert all(committed_on_return)
    res = _verify(db_engine)
    assert res.ok and res.events == 160
    assert group.events == 160
    assert group.batches < 160  # some callers were written together


def test_group_commit_failure_reaches_every_caller_and_the_log_recovers(
    db_engine: Engine,
) -> None:
    group = GroupAppender(db_engine)
    _sql(db_engine, "ALTER TABLE audit_event RENAME TO audit_event_away")
    try:
        with pytest.raises(DBAPIError):
            group.append(actor="a", action="test.view", entity_type="thing")
    finally:
        _sql(db_engine, "ALTER TABLE audit_event_away RENAME TO audit_event")
    assert group.append(actor="a", action="test.view", entity_type="thing") == 1
    assert _verify(db_engine).ok


def test_append_read_uses_one_appender_per_engine(db_engine: Engine) -> None:
    assert appender(db_engine) is appender(db_engine)
    assert append_read(db_engine, actor="a", action="test.view", entity_type="thing") == 1
    assert append_read(db_engine, actor="b", action="test.view", entity_type="thing") == 2
    assert _verify(db_engine).ok


def test_concurrent_writers_keep_one_chain(db_engine: Engine) -> None:
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            _append(db_engine, 15, actor=f"writer-{k}")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    res = _verify(db_engine)
    assert res.ok and res.events == 60 and res.head_seq == 60
    with db_engine.connect() as conn:
        seqs = [r[0] for r in conn.execute(text("SELECT seq FROM audit_event ORDER BY seq"))]
    assert seqs == list(range(1, 61))


def test_cli_verify_exit_codes(
    db_url: str, db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    _append(db_engine, 3)
    ok = CliRunner().invoke(main, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "audit chain OK: 3 events" in ok.output
    _tamper(db_engine, "UPDATE audit_event SET action = 'x' WHERE seq = 2")
    bad = CliRunner().invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "event 2" in bad.output and "edited" in bad.output


# --- the log is append-only at database level (migration 0103) ---------------------------------

APPLICATION_TAMPERING = (
    "UPDATE audit_event SET detail = 'changed' WHERE seq = 2",
    "UPDATE audit_event SET seq = seq + 10",
    "DELETE FROM audit_event WHERE seq = 3",
    "DELETE FROM audit_event",
    "UPDATE audit_head SET hash = '" + "f" * 64 + "'",
    "UPDATE audit_head SET seq = 1",
    "UPDATE audit_head SET seq = seq + 1, hash = '" + "e" * 64 + "'",
    "DELETE FROM audit_head",
    "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, 'x')",
    # an event forged out of place: a gap, and one that does not link to the head
    "INSERT INTO audit_event (seq, ts, actor, action, entity_type, entity_id, detail, prev_hash,"
    " hash) VALUES (9, 't', 'mallory', 'x', 'y', NULL, '{}', 'p', 'h')",
    "INSERT INTO audit_event (seq, ts, actor, action, entity_type, entity_id, detail, prev_hash,"
    " hash) VALUES (5, 't', 'mallory', 'x', 'y', NULL, '{}', 'p', 'h')",
)


def _refused(engine: Engine, sql: str) -> str:
    with pytest.raises(DBAPIError) as info, engine.begin() as conn:
        conn.execute(text(sql))
    return str(info.value.orig)


def test_the_database_refuses_to_change_audit_rows(db_engine: Engine) -> None:
    _append(db_engine, 4)
    with db_engine.connect() as conn:
        assert audit_guard.installed(conn)
        before = conn.execute(text("SELECT * FROM audit_event ORDER BY seq")).all()
    for sql in APPLICATION_TAMPERING:
        message = _refused(db_engine, sql)
        assert "append-only" in message, (sql, message)
    if db_engine.dialect.name == "postgresql":
        assert "append-only" in _refused(db_engine, "TRUNCATE audit_event")
        assert "append-only" in _refused(db_engine, "TRUNCATE audit_head")
    with db_engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM audit_event ORDER BY seq")).all() == before
    res = _verify(db_engine)
    assert res.ok and res.events == 4
    _append(db_engine, 2)  # and the append path still works
    assert _verify(db_engine).head_seq == 6


def test_the_guard_survives_a_migration_downgrade_and_upgrade(db_url: str) -> None:
    from athar.store import migrate
    from athar.store.engine import make_engine

    engine = make_engine(db_url)
    try:
        migrate.downgrade(engine, "0102")
        with engine.connect() as conn:
            assert not audit_guard.installed(conn)
        migrate.upgrade(engine)
        with engine.connect() as conn:
            assert audit_guard.installed(conn)
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_backend", ["postgresql"])  # SQLite has no roles
def test_an_application_role_cannot_tamper_even_with_every_privilege(db_engine: Engine) -> None:
    """A role with SELECT, INSERT, UPDATE, DELETE and TRUNCATE on every table, but not the
    owner, can append events and cannot change, delete or unguard them."""
    _append(db_engine, 3)
    role = f"athar_app_{uuid.uuid4().hex[:10]}"
    with db_engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} NOLOGIN"))
        conn.execute(text(f"GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO {role}"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
    try:
        attempts = [
            *APPLICATION_TAMPERING,
            "TRUNCATE audit_event CASCADE",
            "DROP TRIGGER athar_audit_event_no_change ON audit_event",
            "ALTER TABLE audit_event DISABLE TRIGGER USER",
            "ALTER TABLE audit_event DISABLE TRIGGER athar_audit_event_no_change",
            "DROP FUNCTION athar_audit_refuse() CASCADE",
            "DROP TABLE audit_event CASCADE",
        ]
        for sql in attempts:
            with pytest.raises(DBAPIError) as info, db_engine.begin() as conn:
                conn.execute(text(f"SET LOCAL ROLE {role}"))
                conn.execute(text(sql))
            message = str(info.value.orig)
            assert "append-only" in message or "must be owner" in message, (sql, message)
        with db_engine.begin() as conn:  # the application's own path works under the role
            conn.execute(text(f"SET LOCAL ROLE {role}"))
            append_event(conn, actor="app", action="test.event", entity_type="thing")
        res = _verify(db_engine)
        assert res.ok and res.events == 4
        with db_engine.connect() as conn:
            assert audit_guard.installed(conn)
    finally:
        with db_engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))


def test_forced_restore_replaces_a_guarded_log_and_keeps_the_guard(
    db_engine: Engine, tmp_path: Path
) -> None:
    from athar.security.keys import KeyRing
    from athar.services.safekeeping import backup as bk

    ring = KeyRing.generate("ka1")
    _append(db_engine, 3, actor="before-backup")
    archive = tmp_path / "a.athar-backup"
    bk.backup(db_engine, archive, ring=ring)
    _append(db_engine, 4, actor="after-backup")

    def audit(conn: Any, action: str, detail: dict[str, Any]) -> None:
        append_event(conn, actor="operator", action=action, entity_type="store", detail=detail)

    bk.restore(db_engine, archive, ring=ring, force=True, audit=audit)
    with db_engine.connect() as conn:
        assert audit_guard.installed(conn)
        actors = conn.execute(text("SELECT actor FROM audit_event ORDER BY seq")).scalars().all()
    # the backup's own event is not in its archive (it is appended after the snapshot)
    assert actors[:3] == ["before-backup"] * 3 and actors[-1] == "operator"
    assert "after-backup" not in actors
    assert _verify(db_engine).ok
    assert "append-only" in _refused(db_engine, "DELETE FROM audit_event")


@pytest.mark.parametrize("db_backend", ["postgresql"])  # SQLite has no roles
def test_an_application_role_cannot_replace_the_log_by_restoring(
    db_url: str, db_engine: Engine, tmp_path: Path
) -> None:
    from sqlalchemy.engine import make_url

    from athar.security.keys import KeyRing
    from athar.services.safekeeping import backup as bk
    from athar.store.engine import make_engine

    ring = KeyRing.generate("ka2")
    _append(db_engine, 2)
    archive = tmp_path / "a.athar-backup"
    bk.backup(db_engine, archive, ring=ring)
    _append(db_engine, 1, actor="after-backup")
    role = f"athar_app_{uuid.uuid4().hex[:10]}"
    with db_engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(text(f"GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO {role}"))
    app = make_engine(make_url(db_url).set(username=role).render_as_string(False))
    try:
        with pytest.raises(bk.BackupError, match="must run as the owner"):
            bk.restore(app, archive, ring=ring, force=True)
    finally:
        app.dispose()
        with db_engine.begin() as conn:
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE {role}"))
    res = _verify(db_engine)
    assert res.ok and res.events == 3  # nothing was replaced


def test_appender_does_not_keep_its_engine_alive(tmp_path: Path) -> None:
    import gc
    import weakref

    from athar.store.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    appender(engine)
    gone = weakref.ref(engine)
    engine.dispose()
    del engine
    gc.collect()
    assert gone() is None
