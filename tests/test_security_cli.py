"""The operator's commands end to end: athar keys, athar backup, athar restore, audit verify."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from athar.cli import main
from athar.security import crypto
from athar.security.keys import KeyRing
from athar.services.safekeeping.key_rotation import key_usage, store_metadata
from athar.store.casework import TracingRequest
from athar.store.engine import make_engine
from test_security_dump import file_requests, phone

EXAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "examples" / "records.csv"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    key_file = tmp_path / "athar.keys"
    for var in ("ATHAR_KEYS", "ATHAR_ACTIVE_KEY", "ATHAR_EPHEMERAL_KEY", "ATHAR_BACKUP_PASSPHRASE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ATHAR_KEY_FILE", str(key_file))
    monkeypatch.setenv("ATHAR_ACTOR", "operator-test")
    crypto.configure(None)
    yield {"ATHAR_KEY_FILE": str(key_file)}
    crypto.configure(None)


def athar(*args: str, db: str | None = None, input: str | None = None) -> Result:
    env = {"ATHAR_DATABASE_URL": db} if db else {}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def test_keys_generate(env: dict[str, str], tmp_path: Path) -> None:
    path = Path(env["ATHAR_KEY_FILE"])
    res = athar("keys", "generate", str(path), "--kid", "k-first")
    assert res.exit_code == 0, res.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert KeyRing.from_file(path).active == "k-first"
    again = athar("keys", "generate", str(path))
    assert again.exit_code == 1 and "refusing to overwrite" in again.output
    printed = athar("keys", "generate", "--env", "--kid", "k-env")
    assert printed.output.startswith("ATHAR_KEYS=k-env:")
    ring = KeyRing.from_env({"ATHAR_KEYS": printed.output.strip().split("=", 1)[1]})
    assert ring.active == "k-env"


def test_keys_rotate_status_retire_on_tracing_requests(env: dict[str, str], db_url: str) -> None:
    key_file = Path(env["ATHAR_KEY_FILE"])
    assert athar("keys", "generate", str(key_file), "--kid", "k-old").exit_code == 0
    engine = make_engine(db_url)
    file_requests(engine, 12)
    md = store_metadata()
    assert key_usage(engine, md)["tracing_request.contact_phone"] == {"k-old": 12}

    res = athar("keys", "rotate", "--kid", "k-new", "--batch-size", "5", db=db_url)
    assert res.exit_code == 0, res.output
    assert "new active key k-new" in res.output
    assert "every encrypted value is sealed by k-new" in res.output
    usage = key_usage(engine, md)
    assert usage["tracing_request.contact_phone"] == {"k-new": 12}
    assert usage["request_photo.data"] == {"k-new": 12}
    status = athar("keys", "status", db=db_url)
    assert "tracing_request.contact_phone: k-new: 12" in status.output

    # a fresh process (empty key cache) with only the new key reads everything
    res = athar("keys", "retire", "k-old", db=db_url)
    assert res.exit_code == 0, res.output
    assert set(KeyRing.from_file(key_file).keys) == {"k-new"}
    crypto.configure(None)
    with engine.connect() as conn:
        phones = conn.execute(
            sa.select(TracingRequest.contact_phone).order_by(TracingRequest.id)
        ).scalars()
        assert list(phones) == [phone(i) for i in range(1, 13)]
    # rotation and retirement are in the audit chain, which still verifies
    verify = athar("audit", "verify", db=db_url)
    assert verify.exit_code == 0, verify.output
    with engine.connect() as conn:
        actions = conn.execute(sa.text("SELECT action FROM audit_event ORDER BY seq")).scalars()
        assert [a for a in actions if a.startswith("keys.")] == [
            "keys.reencrypt.start",
            "keys.reencrypt.done",
            "keys.retire",
        ]
    engine.dispose()


def test_retire_refuses_a_key_still_in_use(env: dict[str, str], db_url: str) -> None:
    key_file = Path(env["ATHAR_KEY_FILE"])
    KeyRing.generate("k-a").with_new_active("k-b").write_file(key_file)
    engine = make_engine(db_url)
    # requests sealed under k-a (as if filed before k-b was added)
    crypto.configure(KeyRing(KeyRing.from_file(key_file).keys, "k-a"))
    file_requests(engine, 2, photo=False)
    crypto.configure(None)
    res = athar("keys", "retire", "k-a", db=db_url)
    assert res.exit_code == 1 and "still seals values" in res.output
    assert "k-a" in KeyRing.from_file(key_file).keys
    engine.dispose()


def test_backup_restore_commands(
    env: dict[str, str], db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    assert athar("keys", "generate", env["ATHAR_KEY_FILE"]).exit_code == 0
    res = athar("import", str(EXAMPLES), db=db_url)
    assert res.exit_code in (0, 1), res.output
    engine = make_engine(db_url)
    file_requests(engine, 3)
    engine.dispose()
    archive = tmp_path / "store.athar-backup"

    res = athar("backup", str(archive), db=db_url)
    assert res.exit_code == 0, res.output
    assert "backed up" in res.output and archive.exists()
    check = athar("restore", "--check", str(archive))
    assert check.exit_code == 0 and "archive OK" in check.output, check.output

    res = athar("restore", str(archive), db=empty_db_url)
    assert res.exit_code == 0, res.output
    verify = athar("audit", "verify", db=empty_db_url)
    assert verify.exit_code == 0, verify.output
    restored = make_engine(empty_db_url)
    with restored.connect() as conn:
        phones = conn.execute(sa.select(TracingRequest.contact_phone)).scalars().all()
        assert sorted(phones) == [phone(i) for i in (1, 2, 3)]
        last = conn.execute(sa.text("SELECT action FROM audit_event ORDER BY seq DESC")).first()
        assert last is not None and last[0] == "store.restore"
    restored.dispose()

    again = athar("restore", str(archive), db=empty_db_url)
    assert again.exit_code == 1 and "not empty" in again.output
    forced = athar("restore", "--force", str(archive), db=empty_db_url)
    assert forced.exit_code == 0, forced.output
    assert athar("audit", "verify", db=empty_db_url).exit_code == 0


def test_backup_with_passphrase_file(
    env: dict[str, str], db_url: str, empty_db_url: str, tmp_path: Path
) -> None:
    assert athar("keys", "generate", env["ATHAR_KEY_FILE"]).exit_code == 0
    engine = make_engine(db_url)
    file_requests(engine, 1)
    engine.dispose()
    pfile = tmp_path / "pass"
    pfile.write_text("a long enough passphrase\n")
    archive = tmp_path / "p.athar-backup"
    assert athar("backup", str(archive), "--passphrase-file", str(pfile), db=db_url).exit_code == 0
    wrong = athar("restore", "--check", str(archive))
    assert wrong.exit_code == 1 and "passphrase" in wrong.output
    ok = athar("restore", str(archive), "--passphrase-file", str(pfile), db=empty_db_url)
    assert ok.exit_code == 0, ok.output


def test_commands_on_a_database_without_schema_say_so(
    env: dict[str, str], empty_db_url: str, tmp_path: Path
) -> None:
    assert athar("keys", "generate", env["ATHAR_KEY_FILE"]).exit_code == 0
    for args in (["backup", str(tmp_path / "x.athar-backup")], ["keys", "reencrypt"]):
        res = athar(*args, db=empty_db_url)
        assert res.exit_code == 3 and "athar db upgrade" in res.output, (args, res.output)
