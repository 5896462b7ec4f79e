"""Back up the whole store to one encrypted archive, and restore it.

Archive layout (``.athar-backup``)::

    b"ATHARBK1" | u32 header length | header (JSON) | chunk* ...
    chunk = u32 length | AES-256-GCM(ciphertext || tag)

The header says how the archive key is made: from a key of the key ring (HKDF-SHA256 with a
random salt; the key id is in the header) or from a passphrase (scrypt, parameters in the
header).  Chunk ``i`` is sealed with nonce ``prefix(7) || i (u32) || last (1 byte)`` and the
whole header as associated data, so an edited header, an edited, dropped, reordered or
duplicated chunk, and a truncated archive all fail authentication.

The plaintext is a zlib-compressed stream of JSON lines: a ``meta`` line (schema revision,
table order), then per table a ``table`` line, one JSON array per row, and an ``end_table``
line with the row count and the SHA-256 of the table's rows; then an ``end`` line.  Values
are copied as stored: encrypted columns stay ciphertext inside the archive, and the audit
chain's rows are copied byte for byte so it still verifies after a restore.

Backup reads one consistent snapshot (one read transaction) and streams it: memory does not
grow with the size of the store.  Restore writes everything in ONE transaction: if any check
fails (authentication, row count, checksum, a missing end), nothing is written.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    Table,
    delete,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeDecorator, TypeEngine

from athar.errors import Failed
from athar.progress import SILENT, Progress
from athar.security.keys import KeyRing
from athar.services.audit import AuditAction
from athar.store import audit_guard
from athar.store import statements as sql
from athar.store.engine import begin_write
from athar.store.keycheck import check_keys

MAGIC = b"ATHARBK1"
FORMAT = 1
CHUNK = 64 * 1024
MAX_CHUNK = CHUNK + 64 * 1024  # what a reader accepts (a hostile length must not OOM us)
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
_INSERT_BATCH = 1000
#: tables Athar never copies: Alembic's bookkeeping is checked, not restored
SKIP_TABLES = frozenset({"alembic_version"})

AuditFn = Callable[[Connection, AuditAction, dict[str, Any]], None]


class BackupError(Failed):
    """The archive is unusable, the key is wrong, or the target store is not acceptable."""

    code = "backup_refused"


# -- archive key -----------------------------------------------------------------------


def _hkdf(ikm: bytes, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"athar backup v1").derive(
        ikm
    )


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _new_key_header(
    ring: KeyRing | None, passphrase: str | None, scrypt_n: int
) -> tuple[bytes, dict[str, Any]]:
    salt = os.urandom(16)
    b64salt = base64.b64encode(salt).decode("ascii")
    if passphrase is not None:
        if len(passphrase) < 12:
            raise BackupError("the backup passphrase must have at least 12 characters")
        kdf = {"type": "scrypt", "salt": b64salt, "n": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P}
        return _scrypt(passphrase, salt, scrypt_n, SCRYPT_R, SCRYPT_P), kdf
    if ring is None:
        raise BackupError("a key ring or a passphrase is needed to encrypt the backup")
    return _hkdf(ring.active_key, salt), {"type": "keyring", "kid": ring.active, "salt": b64salt}


def _key_from_header(kdf: Any, ring: KeyRing | None, passphrase: str | None) -> bytes:
    if not isinstance(kdf, dict):
        raise BackupError("archive header has no key derivation")
    try:
        salt = base64.b64decode(str(kdf["salt"]), validate=True)
        if kdf["type"] == "scrypt":
            n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
            if not (2**14 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 16 and 1 <= p <= 4):
                raise BackupError("archive header has unacceptable scrypt parameters")
            if passphrase is None:
                raise BackupError("this archive is protected by a passphrase; give --passphrase")
            return _scrypt(passphrase, salt, n, r, p)
        if kdf["type"] == "keyring":
            kid = str(kdf["kid"])
            if ring is None or kid not in ring.keys:
                raise BackupError(f"this archive was sealed with key {kid!r}, which is not loaded")
            return _hkdf(ring.key(kid), salt)
    except (KeyError, ValueError, TypeError) as exc:
        raise BackupError(f"archive header is malformed: {exc}") from None
    raise BackupError(f"unknown key derivation {kdf.get('type')!r}")


# -- sealed stream ---------------------------------------------------------------------


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class _SealedWriter:
    """Compress, cut into chunks and seal each one; the final chunk is marked."""

    def __init__(self, fh: IO[bytes], key: bytes, aad: bytes, prefix: bytes) -> None:
        self.fh, self.aead, self.aad, self.prefix = fh, AESGCM(key), aad, prefix
        self.zlib = zlib.compressobj(6)
        self.buf = bytearray()
        self.counter = 0
        self.plain_bytes = 0

    def _emit(self, data: bytes, last: bool) -> None:
        if self.counter >= 2**32 - 1:
            raise BackupError("archive too large")
        sealed = self.aead.encrypt(_nonce(self.prefix, self.counter, last), data, self.aad)
        self.fh.write(struct.pack(">I", len(sealed)))
        self.fh.write(sealed)
        self.counter += 1

    def write(self, data: bytes) -> None:
        self.plain_bytes += len(data)
        self.buf += self.zlib.compress(data)
        while len(self.buf) > CHUNK:
            self._emit(bytes(self.buf[:CHUNK]), last=False)
            del self.buf[:CHUNK]

    def close(self) -> None:
        self.buf += self.zlib.flush()
        while len(self.buf) > CHUNK:
            self._emit(bytes(self.buf[:CHUNK]), last=False)
            del self.buf[:CHUNK]
        self._emit(bytes(self.buf), last=True)
        self.buf.clear()


def _read_exact(fh: IO[bytes], n: int) -> bytes:
    data = fh.read(n)
    if len(data) != n:
        raise BackupError("archive is truncated")
    return data


def _open_chunks(fh: IO[bytes], key: bytes, aad: bytes, prefix: bytes) -> Iterator[bytes]:
    """Yield decompressed plaintext; raise BackupError on any tampering or truncation."""
    aead = AESGCM(key)
    inflate = zlib.decompressobj()
    counter = 0
    while True:
        head = fh.read(4)
        if len(head) < 4:
            raise BackupError("archive is truncated (its final chunk is missing)")
        (length,) = struct.unpack(">I", head)
        if not 16 <= length <= MAX_CHUNK:
            raise BackupError(f"archive chunk {counter} has an impossible length")
        sealed = _read_exact(fh, length)
        plain: bytes | None = None
        last = False
        for flag in (False, True):
            try:
                plain = aead.decrypt(_nonce(prefix, counter, flag), sealed, aad)
                last = flag
                break
            except InvalidTag:
                continue
        if plain is None:
            if counter == 0:
                raise BackupError(
                    "archive does not authenticate: wrong key or passphrase, or it was altered"
                )
            raise BackupError(f"archive chunk {counter} was altered, reordered or replaced")
        try:
            yield inflate.decompress(plain)
            if last:
                yield inflate.flush()
        except zlib.error as exc:
            raise BackupError(f"archive chunk {counter} does not decompress: {exc}") from None
        counter += 1
        if last:
            if fh.read(1):
                raise BackupError("archive has data after its final chunk")
            return


def _lines(chunks: Iterator[bytes]) -> Iterator[Any]:
    buf = b""
    for data in chunks:
        buf += data
        *complete, buf = buf.split(b"\n")
        for line in complete:
            yield json.loads(line)
    if buf:
        yield json.loads(buf)


# -- values ----------------------------------------------------------------------------


def _storage(col_type: TypeEngine[Any]) -> TypeEngine[Any]:
    """The type a column is stored as, skipping decorators (so ciphertext stays ciphertext)."""
    while isinstance(col_type, TypeDecorator):
        col_type = col_type.impl_instance
    return col_type


def _encode(v: Any) -> Any:
    if v is None or isinstance(v, bool | int | str):
        return v
    if isinstance(v, float):
        return v if v == v and v not in (float("inf"), float("-inf")) else {"$f": repr(v)}
    if isinstance(v, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(v)).decode("ascii")}
    if isinstance(v, datetime):
        return {"$dt": v.isoformat()}
    if isinstance(v, date):
        return {"$d": v.isoformat()}
    if isinstance(v, time):
        return {"$t": v.isoformat()}
    if isinstance(v, Decimal):
        return {"$dec": str(v)}
    if isinstance(v, dict | list):
        return {"$j": v}
    raise BackupError(f"cannot back up a value of type {type(v).__name__}")


def _decode(v: Any, col_type: TypeEngine[Any], dialect: str) -> Any:
    if not isinstance(v, dict):
        return v
    ((tag, x),) = v.items()
    if tag == "$b":
        return base64.b64decode(x)
    if tag == "$dt":
        dt = datetime.fromisoformat(x)
        aware_column = isinstance(col_type, DateTime) and col_type.timezone
        if dialect == "sqlite" and dt.tzinfo is not None:
            return dt.astimezone(UTC).replace(tzinfo=None)
        if dialect != "sqlite" and dt.tzinfo is None and aware_column:
            return dt.replace(tzinfo=UTC)  # Athar stores UTC; SQLite forgets the zone
        return dt
    if tag == "$d":
        return date.fromisoformat(x)
    if tag == "$t":
        return time.fromisoformat(x)
    if tag == "$dec":
        return Decimal(x)
    if tag == "$f":
        return float(x)
    if tag == "$j":
        return x
    raise BackupError(f"unknown value tag {tag!r} in archive")


# -- tables ----------------------------------------------------------------------------


def _shadow(table: Table, models: MetaData | None) -> Table:
    """A copy of ``table`` whose columns have their storage types (no decrypting, no JSON)."""
    model = models.tables.get(table.name) if models is not None else None
    shadow = Table(table.name, MetaData())
    for col in table.columns:
        typ: TypeEngine[Any] = col.type
        if model is not None and col.name in model.c:
            typ = _storage(model.c[col.name].type)
        typ = _storage(typ)
        if isinstance(typ, JSON):
            typ = JSON()  # keep JSON so dict values round-trip as values
        shadow.append_column(Column(col.name, typ, primary_key=col.primary_key))
    return shadow


def _reflect(conn: Connection) -> MetaData:
    md = MetaData()
    md.reflect(conn)
    return md


def _ordered(md: MetaData) -> list[Table]:
    return [t for t in md.sorted_tables if t.name not in SKIP_TABLES]


def _self_refs(table: Table) -> list[str]:
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == table.name]


def _revision(conn: Connection) -> str | None:
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    rows = conn.execute(sql.ALEMBIC_VERSION).scalars().all()
    return ",".join(sorted(rows)) or None


def _default_models() -> MetaData:
    from athar.services.safekeeping.key_rotation import store_metadata

    return store_metadata()


# -- backup ----------------------------------------------------------------------------


@dataclass
class BackupReport:
    path: Path
    revision: str | None
    tables: dict[str, int] = field(default_factory=dict)
    archive_bytes: int = 0
    archive_sha256: str = ""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def backup(
    engine: Engine,
    out: Path,
    *,
    ring: KeyRing | None = None,
    passphrase: str | None = None,
    models: MetaData | None = None,
    audit: AuditFn | None = None,
    overwrite: bool = False,
    scrypt_n: int = SCRYPT_N,
    progress: Progress = SILENT,
) -> BackupReport:
    """Write every table of the store to ``out`` as one encrypted archive (mode 0600)."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise BackupError(f"{out} already exists; refusing to overwrite it")
    if ring is not None:  # a wrong key file is refused, not archived beside (issue 18, 8)
        check_keys(engine, ring, doing="back up")
    models = models if models is not None else _default_models()
    key, kdf = _new_key_header(ring, passphrase, scrypt_n)
    prefix = os.urandom(7)
    header = json.dumps(
        {
            "format": FORMAT,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "kdf": kdf,
            "nonce_prefix": base64.b64encode(prefix).decode("ascii"),
            "compression": "zlib",
        },
        sort_keys=True,
    ).encode("utf-8")
    aad = MAGIC + struct.pack(">I", len(header)) + header
    tmp = out.with_name(f".{out.name}.partial")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a stale partial file keeps its old mode through O_CREAT
    report = BackupReport(out, None)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(aad)
            writer = _SealedWriter(fh, key, aad, prefix)

            def emit(obj: Any) -> None:
                writer.write(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode())
                writer.write(b"\n")

            conn_opts: dict[str, Any] = {}
            if engine.dialect.name == "postgresql":
                conn_opts = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
            with engine.connect().execution_options(**conn_opts) as conn, conn.begin():
                report.revision = _revision(conn)
                tables = _ordered(_reflect(conn))
                emit(
                    {
                        "type": "meta",
                        "format": FORMAT,
                        "revision": report.revision,
                        "dialect": engine.dialect.name,
                        "tables": [t.name for t in tables],
                    }
                )
                progress.phase("writing the tables", len(tables), "tables")
                for table in tables:
                    progress.advance()
                    shadow = _shadow(table, models)
                    names = [c.name for c in shadow.columns]
                    emit({"type": "table", "name": table.name, "columns": names})
                    order = list(shadow.primary_key.columns) or list(shadow.columns)
                    digest = hashlib.sha256()
                    count = 0
                    result = conn.execution_options(yield_per=1000).execute(
                        select(*shadow.columns).order_by(*order)
                    )
                    for row in result:
                        line = json.dumps(
                            [_encode(v) for v in row], ensure_ascii=False, separators=(",", ":")
                        ).encode("utf-8")
                        digest.update(line + b"\n")
                        writer.write(line + b"\n")
                        count += 1
                    emit(
                        {
                            "type": "end_table",
                            "name": table.name,
                            "rows": count,
                            "sha256": digest.hexdigest(),
                        }
                    )
                    report.tables[table.name] = count
                emit({"type": "end", "tables": report.tables})
            writer.close()
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        if tmp.exists():
            tmp.unlink()
        raise
    report.archive_bytes = out.stat().st_size
    sha = hashlib.sha256()
    with out.open("rb") as rfh:
        for block in iter(lambda: rfh.read(1 << 20), b""):
            sha.update(block)
    report.archive_sha256 = sha.hexdigest()
    if audit is not None:
        with begin_write(engine) as conn:
            audit(
                conn,
                AuditAction.STORE_BACKUP,
                {
                    "archive": out.name,
                    "sha256": report.archive_sha256,
                    "revision": report.revision,
                    "rows": report.rows,
                    "key": kdf.get("kid", "passphrase"),
                },
            )
    return report


# -- restore ---------------------------------------------------------------------------


@dataclass
class RestoreReport:
    revision: str | None
    tables: dict[str, int] = field(default_factory=dict)
    source_dialect: str = ""
    replaced_rows: int = 0
    #: head (seq, hash) of the audit chain a forced restore replaced
    replaced_chain: dict[str, Any] | None = None

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _read_header(fh: IO[bytes]) -> tuple[bytes, dict[str, Any]]:
    if fh.read(len(MAGIC)) != MAGIC:
        raise BackupError("not an Athar backup archive (bad magic)")
    (n,) = struct.unpack(">I", _read_exact(fh, 4))
    if n > 64 * 1024:
        raise BackupError("archive header is too large")
    raw = _read_exact(fh, n)
    try:
        header = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BackupError("archive header is not JSON") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"unsupported archive format {header.get('format')!r}")
    return MAGIC + struct.pack(">I", n) + raw, header


def _records(path: Path, ring: KeyRing | None, passphrase: str | None) -> Iterator[Any]:
    with Path(path).open("rb") as fh:
        aad, header = _read_header(fh)
        key = _key_from_header(header.get("kdf"), ring, passphrase)
        try:
            prefix = base64.b64decode(str(header["nonce_prefix"]), validate=True)
        except (KeyError, ValueError):
            raise BackupError("archive header has no valid nonce prefix") from None
        if len(prefix) != 7:
            raise BackupError("archive header has no valid nonce prefix")
        yield from _lines(_open_chunks(fh, key, aad, prefix))


def _checked_stream(
    path: Path, ring: KeyRing | None, passphrase: str | None
) -> Iterator[tuple[str, Any]]:
    """Yield ("meta", m), ("table", (name, cols)), ("row", values), ("end_table", name);
    check every count and checksum; raise BackupError if the stream is incomplete."""
    records = _records(path, ring, passphrase)
    try:
        meta = next(records)
    except StopIteration:
        raise BackupError("archive is empty") from None
    if not isinstance(meta, dict) or meta.get("type") != "meta":
        raise BackupError("archive does not start with its description")
    yield "meta", meta
    expected_tables = list(meta.get("tables", []))
    seen: list[str] = []
    current: str | None = None
    digest = hashlib.sha256()
    count = 0
    for rec in records:
        if isinstance(rec, list):
            if current is None:
                raise BackupError("archive has a row outside any table")
            digest.update(json.dumps(rec, ensure_ascii=False, separators=(",", ":")).encode())
            digest.update(b"\n")
            count += 1
            yield "row", rec
            continue
        kind = rec.get("type") if isinstance(rec, dict) else None
        if kind == "table":
            if current is not None:
                raise BackupError(f"table {current} has no end in the archive")
            current, digest, count = str(rec["name"]), hashlib.sha256(), 0
            seen.append(current)
            yield "table", (current, list(rec["columns"]))
        elif kind == "end_table":
            if rec.get("name") != current or rec.get("rows") != count:
                raise BackupError(f"table {current}: row count does not match the archive")
            if rec.get("sha256") != digest.hexdigest():
                raise BackupError(f"table {current}: checksum does not match the archive")
            yield "end_table", current
            current = None
        elif kind == "end":
            if current is not None or seen != expected_tables:
                raise BackupError("archive is incomplete: tables are missing")
            for _ in records:
                raise BackupError("archive has records after its end")
            return
        else:
            raise BackupError(f"archive has an unknown record {str(rec)[:60]!r}")
    raise BackupError("archive is incomplete: its end record is missing")


def verify_archive(
    path: Path, *, ring: KeyRing | None = None, passphrase: str | None = None
) -> RestoreReport:
    """Decrypt and check a whole archive without touching any database."""
    report = RestoreReport(None)
    table = ""
    for kind, value in _checked_stream(path, ring, passphrase):
        if kind == "meta":
            report.revision, report.source_dialect = value.get("revision"), value.get("dialect")
        elif kind == "table":
            table = value[0]
            report.tables[table] = 0
        elif kind == "row":
            report.tables[table] += 1
    return report


def store_rows(conn: Connection) -> dict[str, int]:
    """Rows per table, leaving out Alembic's table and a chain head with no events."""
    counts: dict[str, int] = {}
    for table in _ordered(_reflect(conn)):
        counts[table.name] = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
    if counts.get("audit_event") == 0 and counts.get("audit_head", 0) <= 1:
        counts.pop("audit_head", None)  # the genesis head the first migration writes
    return counts


def restore(
    engine: Engine,
    path: Path,
    *,
    ring: KeyRing | None = None,
    passphrase: str | None = None,
    force: bool = False,
    models: MetaData | None = None,
    audit: AuditFn | None = None,
    migrate: Callable[[Engine, str], None] | None = None,
    progress: Progress = SILENT,
) -> RestoreReport:
    """Load an archive into the store at ``engine`` in one transaction.

    The target must be empty (its schema may exist) unless ``force``, which replaces every
    row.  A target without tables is first migrated to the archive's schema revision with
    ``migrate(engine, revision)`` (default: Athar's Alembic migrations).  The schema
    revision of the target must equal the archive's.
    """
    models = models if models is not None else _default_models()
    stream = _checked_stream(path, ring, passphrase)
    kind, meta = next(stream)
    revision: str | None = meta.get("revision")
    report = RestoreReport(revision, source_dialect=str(meta.get("dialect")))
    dialect = engine.dialect.name

    with engine.connect() as conn:
        has_tables = bool(_ordered(_reflect(conn)))
    if not has_tables and revision is not None:
        if migrate is None:
            from athar.store.migrate import upgrade

            migrate = upgrade
        migrate(engine, revision)

    with begin_write(engine) as conn:
        target_rev = _revision(conn)
        if target_rev != revision:
            raise BackupError(
                f"the archive has schema revision {revision}, the target store {target_rev}: "
                f"restore into an empty database, or bring both to the same revision"
            )
        target = {t.name: t for t in _ordered(_reflect(conn))}
        wanted = list(meta.get("tables", []))
        missing = [t for t in wanted if t not in target]
        if missing:
            raise BackupError(f"the target store has no table(s): {', '.join(missing)}")
        present = store_rows(conn)
        non_empty = {t: n for t, n in present.items() if n}
        if non_empty and not force:
            listing = ", ".join(f"{t} ({n})" for t, n in sorted(non_empty.items()))
            raise BackupError(
                f"the target store is not empty: {listing}; use --force to replace it"
            )
        if non_empty and "audit_head" in target:
            head = conn.execute(sql.AUDIT_HEAD).first()
            if head is not None:  # evidence of the chain being replaced, for the new chain
                report.replaced_chain = {"seq": int(head[0]), "hash": str(head[1])}
        # The audit log is append-only at database level (revision 0103); a restore replaces
        # it as a whole, so it lifts the guard inside this transaction and puts it back
        # before committing.  On PostgreSQL only the tables' owner can do this.
        guarded = audit_guard.installed(conn)
        if guarded:
            try:
                audit_guard.remove(conn)
            except DBAPIError as exc:
                raise BackupError(
                    "a restore replaces the append-only audit log and must run as the owner "
                    f"of the tables: {exc.orig}"
                ) from None
        # Clear the target (children first); a genesis audit head is replaced too.
        for table in reversed(list(target.values())):
            report.replaced_rows += conn.execute(delete(table)).rowcount or 0

        shadow: Table | None = None
        names: list[str] = []
        deferred: list[str] = []
        pending: list[dict[str, Any]] = []
        fixups: list[dict[str, Any]] = []

        def flush() -> None:
            if pending and shadow is not None:
                conn.execute(shadow.insert(), pending)
                pending.clear()

        progress.phase("restoring the tables", len(wanted), "tables")
        for kind, value in stream:
            if kind == "table":
                name, names = value
                shadow = _shadow(target[name], models)
                unknown = [c for c in names if c not in shadow.c]
                if unknown:
                    raise BackupError(f"table {name}: target has no column(s) {unknown}")
                deferred = _self_refs(target[name])
                report.tables[name] = 0
                progress.advance()
            elif kind == "row":
                assert shadow is not None
                row = {
                    c: _decode(v, shadow.c[c].type, dialect)
                    for c, v in zip(names, value, strict=True)
                }
                if deferred:
                    later = {c: row[c] for c in deferred if row.get(c) is not None}
                    if later:
                        pk = {c.name: row[c.name] for c in shadow.primary_key.columns}
                        fixups.append({**pk, **later})
                        row.update(dict.fromkeys(later))
                pending.append(row)
                report.tables[shadow.name] += 1
                if len(pending) >= _INSERT_BATCH:
                    flush()
            elif kind == "end_table":
                flush()
                assert shadow is not None
                for fix in fixups:  # self-references, once every row of the table exists
                    pkc = list(shadow.primary_key.columns)
                    conn.execute(
                        update(shadow)
                        .where(*(c == fix[c.name] for c in pkc))
                        .values({k: v for k, v in fix.items() if k not in {c.name for c in pkc}})
                    )
                fixups.clear()
        if dialect == "postgresql":
            _reset_sequences(conn, list(target.values()))
        if guarded:
            audit_guard.install(conn)
        if audit is not None:
            audit(
                conn,
                AuditAction.STORE_RESTORE,
                {
                    "archive": Path(path).name,
                    "revision": revision,
                    "rows": report.rows,
                    "replaced_rows": report.replaced_rows,
                    "replaced_chain_head": report.replaced_chain,
                    "from": report.source_dialect,
                },
            )
    return report


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """Move PostgreSQL serial/identity sequences past the restored ids."""
    for table in tables:
        for col in table.primary_key.columns:
            seq = conn.execute(sql.SERIAL_SEQUENCE, {"t": table.name, "c": col.name}).scalar()
            if seq:
                conn.execute(sql.setval_past_max(table.name, col.name), {"s": seq})
