"""Run the packaged Alembic migrations programmatically (``athar db upgrade``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from athar.errors import Failed, StoreNotReady


class MigrationError(RuntimeError, Failed):
    """A migration that would break the store's references (nothing was changed)."""

    code = "migration_failed"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("athar.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (default: the newest), in one transaction."""
    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, lambda cfg: command.downgrade(cfg, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run migration steps in one transaction.

    On SQLite, Alembic changes a table by rebuilding it (a copy, ``DROP TABLE``, a rename);
    with foreign keys enforced, the ``DROP`` of a table other rows refer to fails in any store
    that holds data.  So, as SQLite's own documentation prescribes for such changes, foreign
    keys are switched off for the migration (outside the transaction: the pragma is a no-op
    inside one), every reference is checked with ``PRAGMA foreign_key_check`` before the
    transaction commits (a broken one rolls it all back), and they are switched on again."""
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        # the driver's own connection: SQLAlchemy would open a transaction first (our BEGIN)
        raw = conn.connection.dbapi_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise MigrationError(
                            f"the migration would leave {len(broken)} broken reference(s), "
                            f"first in table {broken[0][0]}; nothing was changed"
                        )
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys = ON")


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        return self.current is not None and self.current == self.head


def schema_status(engine: Engine) -> SchemaStatus:
    return SchemaStatus(current_revision(engine), head_revision(engine))


class SchemaNotReady(RuntimeError, StoreNotReady):
    """The database is not at the newest schema revision."""

    code = "schema_not_current"


def require_current(engine: Engine) -> None:
    st = schema_status(engine)
    if not st.up_to_date:
        raise SchemaNotReady(
            f"the database schema is at {st.current or 'nothing (empty database)'}, "
            f"not {st.head}: run `athar db upgrade` first"
        )
