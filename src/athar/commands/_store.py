"""The one way an ``athar`` command opens the store.

:func:`open_store` resolves the URL from :mod:`athar.config`, refuses a store that is not
ready (no SQLite file, a database that cannot be reached, a schema that is not current)
*before* anything could create a file, and disposes of the engine when the command is done.
Every refusal is a :class:`athar.errors.StoreNotReady`: :mod:`athar.cli` prints it as one line
naming ``athar db upgrade`` and exits with :data:`athar.errors.EXIT_STORE_NOT_READY` (3), the
same for every command.

Only ``athar db upgrade`` and ``athar restore`` may create the store (``create=True``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from athar.errors import StoreNotReady
from athar.store.engine import database_url, display_url, is_sqlite, make_engine
from athar.store.migrate import require_current


class StoreMissing(StoreNotReady):
    """The SQLite file the URL names does not exist."""

    code = "store_missing"


class StoreUnreachable(StoreNotReady):
    """The database server refused the connection, or the database does not exist."""

    code = "store_unreachable"


def sqlite_file(url: str) -> Path | None:
    """The file an SQLite URL names (``None`` for in-memory or another backend)."""
    if not is_sqlite(url):
        return None
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def check_exists(url: str) -> None:
    """Refuse an SQLite URL whose file is missing (connecting would create it)."""
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise StoreMissing(f"no store at {path}: run `athar db upgrade` to create it")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@contextmanager
def open_store(*, create: bool = False, schema: bool = True) -> Iterator[Engine]:
    """An engine on the configured store, disposed at the end.

    Unless ``create``, a missing SQLite file is refused without creating it.  With ``schema``
    (the default) the schema must be at the newest revision.
    """
    url = database_url()
    if not create:
        check_exists(url)
    if schema:
        check_schema(url)
    elif not (create and sqlite_file(url) is not None):
        check_schema(url, require=False)  # the server can be reached, at least
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def check_schema(url: str, *, require: bool = True) -> None:
    """Refuse a store that cannot be reached or (with ``require``) whose schema is not
    current, reading only.

    The check uses a plain engine: :func:`athar.store.engine.make_engine` switches SQLite to
    WAL on connect, which would write to an empty file that is being refused.
    """
    probe = create_engine(url, poolclass=NullPool)
    try:
        if require:
            require_current(probe)
        else:
            probe.connect().close()
    except OperationalError as exc:
        raise StoreUnreachable(
            f"cannot open the store {display_url(url)} ({_first_line(exc)}): "
            "check ATHAR_DATABASE_URL, then run `athar db upgrade`"
        ) from None
    finally:
        probe.dispose()


@contextmanager
def store_session() -> Iterator[Session]:
    """One ORM session on the configured store (schema checked), for one command."""
    with open_store() as engine, Session(engine, expire_on_commit=False) as db:
        yield db
