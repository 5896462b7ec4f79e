"""Fast bulk writes inside a caller's transaction: COPY on PostgreSQL, executemany on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text


def bulk_insert(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``."""
    if not rows:
        return
    cols = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" for _ in columns)
    conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(rows))


class IdAllocator:
    """Hands out primary keys for rows written with :func:`bulk_insert`.

    On PostgreSQL the ids come from the table's own sequence (safe with concurrent
    writers).  On SQLite the caller must already hold the write lock (have written in this
    transaction); ids then continue from the largest one in the table.
    """

    def __init__(self, conn: Connection, table: str) -> None:
        self.conn = conn
        self.table = table
        self._next: int | None = None

    def take(self, n: int) -> list[int]:
        if n <= 0:
            return []
        if self.conn.dialect.name == "postgresql":
            res = self.conn.execute(
                text(
                    f"SELECT nextval(pg_get_serial_sequence('{self.table}', 'id')) "
                    "FROM generate_series(1, :n)"
                ),
                {"n": n},
            )
            return [int(r[0]) for r in res]
        if self._next is None:
            top = self.conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {self.table}"))
            self._next = int(top.scalar_one()) + 1
        start = self._next
        self._next += n
        return list(range(start, start + n))
