"""Settings and engines for the store.  Nothing is created at import time.

The store is chosen by ``ATHAR_DATABASE_URL``; the default is ``sqlite:///athar.db`` in the
working directory.  A PostgreSQL URL (``postgresql://`` or ``postgresql+psycopg://``) gives the
production store; Athar uses psycopg 3 for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session

from athar import config
from athar.security.files import create_private

ENV_VAR = config.env_name("database_url")
DEFAULT_URL = config.setting("database_url").default


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The configured database URL (:mod:`athar.config`), normalised to the drivers Athar uses."""
    return normalise_url(config.database_url(environ))


def normalise_url(url: str) -> str:
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    return u.render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


_SQLITE_BEGIN = "athar_sqlite_begin"


@contextmanager
def begin_write(engine: Engine) -> Iterator[Connection]:
    """A transaction that will write.  On SQLite it takes the write lock at once
    (``BEGIN IMMEDIATE``), so reading first and writing later cannot fail with a stale
    snapshot when another process writes in between; elsewhere it is ``engine.begin()``."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{_SQLITE_BEGIN: "IMMEDIATE"})
        with conn.begin():
            yield conn


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """An ORM session on a :func:`begin_write` transaction: the block's changes (and its audit
    event, written on ``session.connection()``) commit together when the block ends, or roll
    back together if it raises.  Objects loaded or added in the block stay usable after it
    (``expire_on_commit=False``), so a write may return them to its caller."""
    with begin_write(engine) as conn:
        session = Session(bind=conn, expire_on_commit=False)
        try:
            yield session
            session.flush()
        finally:
            session.close()


def reads_without_transaction(bind: Engine | Connection) -> dict[str, Any]:
    """Execution options that let a read-only unit of work run without ``BEGIN`` and
    ``ROLLBACK`` on PostgreSQL: pass them to ``Connection.execution_options`` or
    ``Session.connection(execution_options=...)`` before the first statement.

    psycopg opens a transaction with a round trip of its own, and a read ends with another;
    for a lookup of one or two statements that doubles the statements PostgreSQL runs.  Under
    PostgreSQL's default READ COMMITTED every statement takes its own snapshot anyway, so the
    reads see exactly what they would inside a transaction.  SQLite keeps its transaction
    (there it gives one snapshot across statements): no options.
    """
    return {"isolation_level": "AUTOCOMMIT"} if bind.dialect.name == "postgresql" else {}


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (default: :func:`database_url`).

    SQLite gets real transactions (``BEGIN`` is emitted by us, so a failed batch or migration
    rolls back completely), foreign keys, WAL and a busy timeout.
    """
    url = normalise_url(url) if url else database_url()
    if is_sqlite(url):
        database = make_url(url).database
        if database not in (None, "", ":memory:") and not database.startswith("file:"):
            if Path(database).parent.is_dir():
                create_private(database)  # 0600; SQLite gives -wal and -shm the same mode
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" hook decide
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys = ON")
            if make_url(url).database not in (None, "", ":memory:"):
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
            cur.execute("PRAGMA cache_size = -65536")  # 64 MiB of page cache for bulk imports
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            mode = conn.get_execution_options().get(_SQLITE_BEGIN, "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    # Up to 40 connections, kept once opened: the web app runs sync routes on anyio's 40
    # worker threads.  With SQLAlchemy's default 5 + 10 a third of them waited for a
    # connection under load, and "overflow" connections are closed on return, so each burst
    # paid PostgreSQL's connection set-up again (py-spy, bench load).  Connections are opened
    # only as concurrency needs them.
    kwargs.setdefault("pool_size", 40)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine, PING_AFTER_IDLE_S)
    return engine


#: a pooled connection unused for longer than this is tested before it is handed out
PING_AFTER_IDLE_S = 10.0


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Pessimistic disconnect handling, only for connections that sat idle.

    ``pool_pre_ping`` tests every connection at every checkout: a round trip that cost a
    twelfth of a candidate search's server time under load (py-spy).  A connection that was
    used a moment ago is alive; the ones that go stale (a restarted or failed-over server, a
    firewall dropping idle sessions) are those left idle.  So a connection idle for longer than
    ``idle_s`` is pinged, and a dead one is replaced (``DisconnectionError`` makes the pool try
    another), which is SQLAlchemy's documented custom pessimistic pattern.
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["athar_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("athar_idle_since")
        if since is None or time.monotonic() - since < idle_s:
            return  # new, or used a moment ago
        try:
            cur = dbapi_conn.cursor()
            try:
                cur.execute("SELECT 1")
            finally:
                cur.close()
            if dbapi_conn.info.transaction_status != 0:  # psycopg: not IDLE
                dbapi_conn.rollback()
        except Exception as exc:
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc
