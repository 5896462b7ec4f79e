"""The connection pool: a connection left idle is tested before use and replaced if dead;
one used a moment ago is handed out without a round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from athar.store import engine as store_engine
from athar.store.engine import make_engine


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _kill(url: str, pid: int) -> None:
    other = make_engine(url)
    try:
        with other.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    finally:
        other.dispose()


# SQLite has no server connection to lose: the pool's ping is for PostgreSQL
@pytest.mark.parametrize("db_backend", ["postgresql"])
def test_idle_connection_is_pinged_and_replaced(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_engine, "PING_AFTER_IDLE_S", 0.0)  # every checkout counts as idle
    engine = make_engine(db_url)
    try:
        pid = _backend_pid(engine)
        _kill(db_url, pid)
        # the pooled connection is dead; the checkout ping finds it and the pool reconnects
        assert _backend_pid(engine) != pid
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_backend", ["postgresql"])
def test_busy_connection_is_not_pinged(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side: within the idle window there is no ping, so a connection killed under
    it fails on first use (which is what the ping exists to catch).  Proves the ping above is
    what replaced the connection."""
    monkeypatch.setattr(store_engine, "PING_AFTER_IDLE_S", 3600.0)
    engine = make_engine(db_url)
    try:
        pid = _backend_pid(engine)
        _kill(db_url, pid)
        with pytest.raises(DBAPIError):
            _backend_pid(engine)
        assert _backend_pid(engine) != pid  # and the pool then recovers by itself
    finally:
        engine.dispose()
