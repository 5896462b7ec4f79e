"""The audit chain: appends, verification, tampering detection, concurrent writers."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from athar.cli import main
from athar.services.audit import append_event, verify_chain


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


def test_clean_chain_verifies(db_engine: Engine) -> None:
    assert _verify(db_engine).ok  # empty chain
    _append(db_engine, 5)
    res = _verify(db_engine)
    assert res.ok and res.events == 5 and res.head_seq == 5


def test_edit_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _sql(db_engine, "UPDATE audit_event SET detail = 'changed' WHERE seq = 3")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (3, "edited")


def test_edit_with_recomputed_hash_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _sql(db_engine, "UPDATE audit_event SET actor = 'mallory' WHERE seq = 2")
    from athar.services.audit import event_hash

    with db_engine.begin() as conn:
        r = conn.execute(text("SELECT * FROM audit_event WHERE seq = 2")).one()
        h = event_hash(
            r.seq, r.ts, r.actor, r.action, r.entity_type, r.entity_id, r.detail, r.prev_hash
        )
        conn.execute(text("UPDATE audit_event SET hash = :h WHERE seq = 2"), {"h": h})
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (2, "edited")


def test_delete_in_the_middle_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _sql(db_engine, "DELETE FROM audit_event WHERE seq = 2")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (2, "deleted")


def test_delete_at_the_end_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _sql(db_engine, "DELETE FROM audit_event WHERE seq = 5")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (5, "deleted")


def test_reorder_is_caught(db_engine: Engine) -> None:
    _append(db_engine, 5)
    _sql(db_engine, "UPDATE audit_event SET seq = 100 WHERE seq = 3")
    _sql(db_engine, "UPDATE audit_event SET seq = 3 WHERE seq = 4")
    _sql(db_engine, "UPDATE audit_event SET seq = 4 WHERE seq = 100")
    p = _verify(db_engine).problem
    assert p is not None and (p.seq, p.kind) == (3, "reordered")


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
    _sql(db_engine, "UPDATE audit_event SET action = 'x' WHERE seq = 2")
    bad = CliRunner().invoke(main, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "event 2" in bad.output and "edited" in bad.output
