"""Shared test fixtures: a fresh database per test, on SQLite and on PostgreSQL.

Use ``db_url`` in any test that touches the store.  It is parametrised over
``["sqlite", "postgresql"]``, so the test body runs once on each, and gives a FRESH
database already migrated to the newest schema (nothing seeded: call
``athar.services.registry.vocab.sync_facilities`` if the test needs facilities).  ``empty_db_url``
gives a fresh database with no tables at all (for migration tests).  ``db_engine`` is an
engine on ``db_url``, disposed after the test.

How: each session migrates one template database per backend (a SQLite file; a
PostgreSQL database ``athar_tpl_<random>``); each test gets a copy (a file copy; ``CREATE
DATABASE ... TEMPLATE``) that is dropped afterwards.  Names are random, so several test
sessions can share the PostgreSQL server.

PostgreSQL is expected at 127.0.0.1:5432 with trust auth (``scripts/ensure-postgres.sh``
starts it); set ``ATHAR_TEST_PG_ADMIN_URL`` to use another server.  When it cannot be
reached, the PostgreSQL half of each test FAILS with a message saying so: it is never
skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

# commands append library messages to a log file (athar.commands._progress): keep the
# tests' out of the home directory
os.environ.setdefault(
    "ATHAR_LOG_FILE", str(Path(tempfile.gettempdir()) / f"athar-tests-{os.getpid()}.log")
)

PG_ADMIN_URL = os.environ.get(
    "ATHAR_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _pg_create(name: str, template: str | None = None) -> str:
    eng = _pg_admin()
    try:
        with eng.connect() as c:
            tpl = f' TEMPLATE "{template}"' if template else ""
            c.exec_driver_sql(f'CREATE DATABASE "{name}"{tpl}')
    except Exception as e:  # any failure to reach the server must fail loudly
        pytest.fail(
            f"PostgreSQL is not reachable at {make_url(PG_ADMIN_URL).render_as_string()} "
            f"({type(e).__name__}: {e}). The suite runs every database test on PostgreSQL "
            "too and never skips it: start it with `bash scripts/ensure-postgres.sh`.",
            pytrace=False,
        )
    finally:
        eng.dispose()
    return _pg_url(name)


def _pg_drop(name: str) -> None:
    eng = _pg_admin()
    try:
        with eng.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        eng.dispose()


def _migrate(url: str) -> None:
    from athar.store import migrate
    from athar.store.engine import make_engine

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("athar-template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    name = f"athar_tpl_{uuid.uuid4().hex[:12]}"
    url = _pg_create(name)
    try:
        _migrate(url)
        yield name
    finally:
        _pg_drop(name)


@pytest.fixture(params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgresql"``: the backend this run of the test uses."""
    return str(request.param)


@pytest.fixture
def empty_db_url(db_backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database (no tables) on the current backend."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"athar_test_{uuid.uuid4().hex[:12]}"
    url = _pg_create(name)
    try:
        yield url
    finally:
        _pg_drop(name)


@pytest.fixture
def db_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database migrated to the newest schema, on the current backend."""
    if db_backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "athar.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("_pg_template")
    name = f"athar_test_{uuid.uuid4().hex[:12]}"
    url = _pg_create(name, template=template_name)
    try:
        yield url
    finally:
        _pg_drop(name)


@pytest.fixture
def db_engine(db_url: str) -> Iterator[Engine]:
    """An engine on ``db_url`` (Athar's own factory), disposed after the test."""
    from athar.store.engine import make_engine

    engine = make_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()
