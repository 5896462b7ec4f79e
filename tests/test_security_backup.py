"""Encrypted backup and restore of the whole store, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from athar.security import crypto
from athar.security.crypto import EncryptedBytes, EncryptedText
from athar.security.keys import KeyRing
from athar.services.audit import append_event, verify_chain
from athar.services.safekeeping import backup as bk
from athar.services.safekeeping.key_rotation import store_metadata
from athar.store import models as m
from athar.store.casework import TracingRequest
from athar.store.engine import make_engine
from athar.store.migrate import upgrade
from test_security_dump import file_requests

PG_ADMIN = os.environ.get(
    "ATHAR_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PASS = "correct horse battery staple"

# a table with encrypted columns, standing in for the web helper's tracing requests
sec_md = sa.MetaData()
contact = sa.Table(
    "sec_backup_contact",
    sec_md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_id", sa.ForeignKey("source.id")),
    sa.Column("phone", EncryptedText(context="sec_backup_contact.phone")),
    sa.Column("photo", EncryptedBytes(context="sec_backup_contact.photo")),
)
sa.Table("source", sec_md, sa.Column("id", sa.Integer, primary_key=True))


def models() -> sa.MetaData:
    """Athar's models plus the encrypted test table (for storage types)."""
    md = sa.MetaData()
    for t in store_metadata().sorted_tables:
        t.to_metadata(md)
    contact.to_metadata(md)
    return md


MODELS = models()


@pytest.fixture
def new_db(tmp_path: Path) -> Iterator[Callable[[str], sa.Engine]]:
    """Make fresh, empty databases: new_db('sqlite') or new_db('postgresql')."""
    made: list[tuple[sa.Engine, str | None]] = []
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")

    def make(kind: str) -> sa.Engine:
        if kind == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path / f'{uuid.uuid4().hex[:8]}.db'}")
            made.append((engine, None))
            return engine
        name = f"athar_sec_{uuid.uuid4().hex[:12]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        engine = make_engine(make_url(PG_ADMIN).set(database=name).render_as_string(False))
        made.append((engine, name))
        return engine

    yield make
    for engine, name in made:
        engine.dispose()
        if name:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(autouse=True)
def ring() -> Iterator[KeyRing]:
    ring = KeyRing.generate("kb1")
    crypto.configure(ring)
    yield ring
    crypto.configure(None)


def phone(i: int) -> str:
    return f"+963 944 {i:06d}"  # synthetic


def schema(engine: sa.Engine) -> None:
    upgrade(engine)
    contact.create(engine)


def populate(engine: sa.Engine, n: int = 30, requests: int = 3) -> None:
    """Every kind of value the store holds: Arabic text, tz-aware times, JSON, floats,
    booleans, forward self-references, encrypted text and bytes, an audit chain."""
    t0 = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            m.Source.__table__.insert(),
            [
                {"id": 1, "code": "ngo-a", "name": "منظمة أ", "created_at": t0},
                {"id": 2, "code": "register-b", "name": None, "created_at": t0},
            ],
        )
        conn.execute(
            m.ImportBatch.__table__.insert(),
            [
                {
                    "id": 1,
                    "file_name": "list.csv",
                    "file_format": "csv",
                    "encoding": "utf-8",
                    "content_hash": "a" * 64,
                    "options_hash": "b" * 64,
                    "actor": "tester",
                    "imported_at": t0,
                    "rows_total": n,
                    "rows_new": n,
                    "rows_new_version": 0,
                    "rows_unchanged": 0,
                    "rows_quarantined": 1,
                    "warnings": 0,
                }
            ],
        )
        records = []
        for i in range(1, n + 1):
            records.append(
                {
                    "id": i,
                    "source_id": 1 + i % 2,
                    "record_id": f"r{i // 2}",
                    "version": 1 + (i % 2),
                    "is_current": i % 2 == 1 or i == n,
                    # forward self-reference: an old version points at a newer row
                    "superseded_by_id": i + 1 if i % 2 == 0 and i < n else None,
                    "batch_id": 1,
                    "row_number": i,
                    "content_hash": f"{i:064d}",
                    "raw": '{"name": "محمد عبد الله", "n": "' + str(i) + '"}',
                    "full_name": "محمد عبد الله الحلبي" if i % 3 else "Mohammad Abdullah",
                    "sex_code": "M",
                    "birth_year": 1980 + i,
                    "status_code": "detained",
                }
            )
        forward = {r["id"]: r.pop("superseded_by_id") for r in records}
        conn.execute(m.Record.__table__.insert(), records)
        for rid, newer in forward.items():
            if newer is not None:
                conn.execute(
                    m.Record.__table__.update()
                    .where(m.Record.id == rid)
                    .values(superseded_by_id=newer)
                )
        conn.execute(
            m.QuarantineRow.__table__.insert(),
            [
                {
                    "id": 1,
                    "batch_id": 1,
                    "file_name": "list.csv",
                    "row_number": 99,
                    "raw": '{"x": "=HYPERLINK(1)"}',
                    "problems": "[]",
                    "created_at": t0,
                }
            ],
        )
        conn.execute(
            m.LinkRun.__table__.insert(),
            [
                {
                    "id": 1,
                    "engine": "duckdb",
                    "settings": {"blocking": ["a", "b"], "nested": {"x": 0.1 + 0.2}},
                    "model": None,
                    "threshold": 0.1 + 0.2,
                    "actor": "tester",
                    "started_at": t0,
                    "finished_at": t0 + timedelta(seconds=3.5),
                }
            ],
        )
        conn.execute(m.Person.__table__.insert(), [{"id": 1, "created_at": t0, "link_run_id": 1}])
        conn.execute(
            m.PersonRecord.__table__.insert(),
            [{"id": 1, "person_id": 1, "record_id": 1, "link_run_id": 1, "created_at": t0}],
        )
        conn.execute(
            m.LinkDecision.__table__.insert(),
            [
                {
                    "id": 1,
                    "kind": "must_link",
                    "record_a_id": 1,
                    "record_b_id": 2,
                    "actor": "reviewer",
                    "reason": "same mother's name",
                    "decided_at": t0,
                }
            ],
        )
        conn.execute(
            contact.insert(),
            [
                {
                    "id": i,
                    "source_id": 1,
                    "phone": phone(i),
                    "photo": b"\xff\xd8" + bytes([i % 256]) * 99,
                }
                for i in range(1, n + 1)
            ],
        )
        for i in range(5):
            append_event(
                conn,
                actor="tester",
                action="test.event",
                entity_type="record",
                entity_id=i,
                detail={"i": i, "text": "اعتقال"},
            )
        if engine.dialect.name == "postgresql":  # explicit ids above: move sequences on
            bk._reset_sequences(conn, list(m.Base.metadata.sorted_tables))
    # tracing requests, filed through the web app's own service (encrypted contact details)
    file_requests(engine, requests)


def _norm(v: Any) -> Any:
    if isinstance(v, datetime):
        return (v.astimezone(UTC) if v.tzinfo else v.replace(tzinfo=UTC)).replace(tzinfo=None)
    if isinstance(v, memoryview):
        return bytes(v)
    return v


def snapshot(engine: sa.Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, as stored (ciphertext stays ciphertext), in key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in bk._ordered(bk._reflect(conn)):
            shadow = bk._shadow(table, MODELS)
            order = list(shadow.primary_key.columns) or list(shadow.columns)
            rows = conn.execute(sa.select(*shadow.columns).order_by(*order)).all()
            out[table.name] = [tuple(_norm(v) for v in r) for r in rows]
    return out


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_round_trip_is_identical_record_by_record(
    kind: str, new_db: Callable[[str], sa.Engine], ring: KeyRing, tmp_path: Path
) -> None:
    src = new_db(kind)
    schema(src)
    populate(src)
    before = snapshot(src)
    archive = tmp_path / "store.athar-backup"
    report = bk.backup(src, archive, ring=ring, models=MODELS)
    assert archive.stat().st_mode & 0o077 == 0
    assert report.tables["record"] == 30 + 3 and report.tables["audit_event"] == 5 + 3
    assert report.tables["tracing_request"] == 3
    assert report.tables["sec_backup_contact"] == 30

    dst = new_db(kind)
    schema(dst)
    restored = bk.restore(dst, archive, ring=ring, models=MODELS)
    assert restored.tables == report.tables
    after = snapshot(dst)
    assert set(after) == set(before)
    for name in before:
        assert after[name] == before[name], name
    with dst.connect() as conn:
        assert verify_chain(conn).ok
        # ciphertext came back as ciphertext: the column type decrypts it
        phones = conn.execute(sa.select(contact.c.phone).order_by(contact.c.id)).scalars().all()
        assert phones == [phone(i) for i in range(1, 31)]
        contacts = conn.execute(
            sa.select(TracingRequest.contact_phone).order_by(TracingRequest.id)
        ).scalars()
        assert list(contacts) == [phone(i) for i in (1, 2, 3)]
    # new rows get fresh ids after a restore (PostgreSQL sequences were moved on)
    with dst.begin() as conn:
        conn.execute(m.Source.__table__.insert().values(code="new", created_at=datetime.now(UTC)))
        append_event(conn, actor="tester", action="after.restore", entity_type="store")
    with dst.connect() as conn:
        assert conn.execute(sa.select(sa.func.max(m.Source.id))).scalar() == 4
        assert verify_chain(conn).ok


def test_restore_refuses_non_empty_store_unless_forced(
    new_db: Callable[[str], sa.Engine], ring: KeyRing, tmp_path: Path
) -> None:
    src = new_db("sqlite")
    schema(src)
    populate(src)
    archive = tmp_path / "a.athar-backup"
    bk.backup(src, archive, ring=ring, models=MODELS)
    dst = new_db("sqlite")
    schema(dst)
    populate(dst, n=4)
    with dst.begin() as conn:
        conn.execute(contact.update().where(contact.c.id == 1).values(phone="+963 000"))
    with pytest.raises(bk.BackupError, match="not empty: .*record \\(7\\)"):
        bk.restore(dst, archive, ring=ring, models=MODELS)
    assert snapshot(dst)["record"][0][0] == 1 and len(snapshot(dst)["record"]) == 7
    events: list[str] = []
    bk.restore(
        dst,
        archive,
        ring=ring,
        models=MODELS,
        force=True,
        audit=lambda c, a, d: (
            events.append(a),
            append_event(c, actor="operator", action=a, entity_type="store", detail=d),
        ),
    )
    after = snapshot(dst)
    before = snapshot(src)
    assert after["record"] == before["record"]
    assert after["sec_backup_contact"] == before["sec_backup_contact"]
    assert events == ["store.restore"]
    with dst.connect() as conn:  # the restore itself is the next link of the restored chain
        result = verify_chain(conn)
        assert result.ok and result.events == 9


def test_restore_into_a_database_without_tables_migrates_it(
    new_db: Callable[[str], sa.Engine], ring: KeyRing, tmp_path: Path
) -> None:
    src = new_db("sqlite")
    upgrade(src)
    populate_core_only(src)
    archive = tmp_path / "a.athar-backup"
    bk.backup(src, archive, ring=ring)
    dst = new_db("sqlite")
    bk.restore(dst, archive, ring=ring)
    assert snapshot(dst) == snapshot(src)


def populate_core_only(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            m.Source.__table__.insert(),
            [{"id": 1, "code": "x", "created_at": datetime(2026, 1, 1, tzinfo=UTC)}],
        )
        append_event(conn, actor="t", action="a", entity_type="e")


@pytest.mark.parametrize("src_kind, dst_kind", [("sqlite", "postgresql"), ("postgresql", "sqlite")])
def test_restore_across_databases(
    src_kind: str, dst_kind: str, new_db: Callable[[str], sa.Engine], tmp_path: Path
) -> None:
    src = new_db(src_kind)
    schema(src)
    populate(src)
    archive = tmp_path / "x.athar-backup"
    bk.backup(src, archive, passphrase=PASS, models=MODELS, scrypt_n=2**14)
    dst = new_db(dst_kind)
    schema(dst)
    bk.restore(dst, archive, passphrase=PASS, models=MODELS)
    assert snapshot(dst) == snapshot(src)
    with dst.connect() as conn:
        assert verify_chain(conn).ok
        assert conn.execute(sa.select(contact.c.phone).where(contact.c.id == 7)).scalar() == phone(
            7
        )


def test_archive_keeps_encrypted_columns_encrypted(
    new_db: Callable[[str], sa.Engine], ring: KeyRing, tmp_path: Path
) -> None:
    src = new_db("sqlite")
    schema(src)
    populate(src)
    archive = tmp_path / "a.athar-backup"
    bk.backup(src, archive, ring=ring, models=MODELS)
    raw = archive.read_bytes()
    plain = "\n".join(str(r) for r in bk._records(archive, ring, None))
    assert "محمد" in plain  # we really are looking at the decrypted archive stream
    for i in range(1, 31):
        assert phone(i) not in plain
        assert phone(i).encode() not in raw
    assert "athar1:kb1:" in plain


# -- integrity --------------------------------------------------------------------------


@pytest.fixture
def small_archive(new_db: Callable[[str], sa.Engine], ring: KeyRing, tmp_path: Path) -> Path:
    src = new_db("sqlite")
    schema(src)
    populate(src, n=1200)  # several chunks
    archive = tmp_path / "a.athar-backup"
    bk.backup(src, archive, ring=ring, models=MODELS)
    return archive


def test_verify_archive_detects_every_kind_of_damage(small_archive: Path, ring: KeyRing) -> None:
    good = small_archive.read_bytes()
    assert bk.verify_archive(small_archive, ring=ring).tables["record"] == 1200 + 3
    header_end = 8 + 4 + int.from_bytes(good[8:12], "big")
    damaged = {
        "header byte": good[:20] + bytes([good[20] ^ 1]) + good[21:],
        "first chunk byte": good[: header_end + 10]
        + bytes([good[header_end + 10] ^ 1])
        + good[header_end + 11 :],
        "last byte": good[:-1] + bytes([good[-1] ^ 0x40]),
        "truncated": good[: len(good) - 100],
        "final chunk dropped": good[: _chunk_starts(good, header_end)[-1]],
        "appended": good + b"\x00\x00\x00\x20" + b"x" * 32,
        "chunks swapped": _swap_first_two_chunks(good, header_end),
        "not an archive": b"PK\x03\x04" + good[4:],
    }
    for what, data in damaged.items():
        small_archive.write_bytes(data)
        with pytest.raises(bk.BackupError):
            bk.verify_archive(small_archive, ring=ring)
            pytest.fail(f"{what} was not detected")
    small_archive.write_bytes(good)
    with pytest.raises(bk.BackupError, match="not loaded"):
        bk.verify_archive(small_archive, ring=KeyRing.generate("other"))
    with pytest.raises(bk.BackupError, match="wrong key"):
        bk.verify_archive(small_archive, ring=KeyRing.generate("kb1"))


def _chunk_starts(data: bytes, pos: int) -> list[int]:
    starts = []
    while pos < len(data):
        starts.append(pos)
        pos += 4 + int.from_bytes(data[pos : pos + 4], "big")
    return starts


def _swap_first_two_chunks(data: bytes, header_end: int) -> bytes:
    s = _chunk_starts(data, header_end)
    assert len(s) >= 3, "archive should have several chunks"
    return data[: s[0]] + data[s[1] : s[2]] + data[s[0] : s[1]] + data[s[2] :]


def test_damaged_archive_writes_nothing(
    small_archive: Path, ring: KeyRing, new_db: Callable[[str], sa.Engine]
) -> None:
    good = small_archive.read_bytes()
    small_archive.write_bytes(good[: len(good) - 30])  # the end is missing
    dst = new_db("sqlite")
    schema(dst)
    with pytest.raises(bk.BackupError, match="truncated"):
        bk.restore(dst, small_archive, ring=ring, models=MODELS)
    with dst.connect() as conn:
        assert not any(bk.store_rows(conn).values())


def test_passphrase_archive(new_db: Callable[[str], sa.Engine], tmp_path: Path) -> None:
    src = new_db("sqlite")
    upgrade(src)
    populate_core_only(src)
    archive = tmp_path / "p.athar-backup"
    with pytest.raises(bk.BackupError, match="at least 12"):
        bk.backup(src, archive, passphrase="short")
    bk.backup(src, archive, passphrase=PASS, scrypt_n=2**14)
    assert bk.verify_archive(archive, passphrase=PASS).tables["source"] == 1
    with pytest.raises(bk.BackupError, match="wrong key or passphrase"):
        bk.verify_archive(archive, passphrase=PASS + "!")
    with pytest.raises(bk.BackupError, match="passphrase"):
        bk.verify_archive(archive)
    with pytest.raises(bk.BackupError, match="already exists"):
        bk.backup(src, archive, passphrase=PASS, scrypt_n=2**14)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_backup_is_one_consistent_snapshot_under_writes(
    kind: str, new_db: Callable[[str], sa.Engine], ring: KeyRing, tmp_path: Path
) -> None:
    """Audit events keep being appended while the backup runs; the archive must still hold
    a chain whose head matches its last event (tables read at different moments would not)."""
    import threading

    src = new_db(kind)
    schema(src)
    populate(src, n=2000, requests=0)
    stop = threading.Event()
    written = {"n": 0}
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                with src.begin() as conn:
                    append_event(conn, actor="app", action="busy", entity_type="store")
                written["n"] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    try:
        while written["n"] < 3:  # the writer is really running
            stop.wait(0.01)
        archive = tmp_path / "busy.athar-backup"
        bk.backup(src, archive, ring=ring, models=MODELS)
    finally:
        stop.set()
        t.join(timeout=60)
    assert not errors, errors
    dst = new_db(kind)
    schema(dst)
    bk.restore(dst, archive, ring=ring, models=MODELS)
    with dst.connect() as conn:
        result = verify_chain(conn)
    assert result.ok, result.problem
    assert 5 < result.events
