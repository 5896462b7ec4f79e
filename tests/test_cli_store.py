"""Every ``athar`` command that uses the store says the same thing when the store is not ready.

The commands are enumerated from the click group itself, so a new command cannot be
forgotten: it must appear below either in ``STORE_COMMANDS`` (with the least arguments it
needs) or in ``NO_STORE`` / ``CREATES_STORE``.  On a store with no schema (a missing SQLite
file, an empty SQLite file, a fresh PostgreSQL database) each store command prints exactly one
line on stderr naming ``athar db upgrade``, exits with ``EXIT_STORE_NOT_READY`` (3, documented
in ``athar --help``), and creates no file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from athar.cli import main
from athar.errors import EXIT_STORE_NOT_READY
from athar.security import crypto
from athar.security.keys import KeyRing

#: commands that never open the store
NO_STORE = {
    "names explain",
    "names keys",
    "synth",
    "keys generate",
    "keys odk",
    "odk form",
    "dna lr",
    "dna fam",
    "dna power",
    "dna import-profiles",
    "pfif validate",
}
#: commands that create the store when it is missing (tested elsewhere)
CREATES_STORE = {"db upgrade", "restore"}
#: every command that needs a ready store, with the least arguments it needs ({tmp}: a
#: directory that must stay as it is)
STORE_COMMANDS: dict[str, list[str]] = {
    "import": ["{tmp}/in/list.csv"],
    "db status": [],
    "audit verify": [],
    "jobs list": [],
    "jobs work": ["--once"],
    "link run": [],
    "link explain": ["a:1", "b:2"],
    "link decide": ["a:1", "b:2", "--must-link", "--who", "tester", "--why", "test"],
    "link review": [],
    "estimate": ["--methods", "loglinear"],
    "keys status": [],
    "keys rotate": [],
    "keys reencrypt": [],
    "keys retire": ["k-old"],
    "backup": ["{tmp}/out/store.athar-backup"],
    "serve": ["--dev"],
    "users add": ["--role", "admin", "--name", "someone"],
    "users list": [],
    "users disable": ["someone"],
    "users enable": ["someone"],
    "users reset-password": ["someone"],
    "export partner": ["{tmp}/out/p.csv", "--scope", "partners", "--recipient", "R"],
    "export research": ["{tmp}/out/r.csv"],
    "odk import": ["--folder", "{tmp}/in"],
    "export pfif": ["{tmp}/out/p.xml", "--scope", "partners", "--recipient", "R"],
    "pfif authorise": ["some-source", "--reason", "test"],
    "api-keys create": ["--recipient", "R", "--scope", "partners"],
    "api-keys list": [],
    "api-keys revoke": ["1", "--reason", "test"],
}


def leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    ctx = click.Context(group)
    names: list[str] = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        path = f"{prefix}{name}"
        if isinstance(cmd, click.Group):
            names += leaf_commands(cmd, f"{path} ")
        else:
            names.append(path)
    return names


def test_every_command_is_classified() -> None:
    leaves = set(leaf_commands(main))
    classified = NO_STORE | CREATES_STORE | set(STORE_COMMANDS)
    assert leaves - classified == set(), "say whether these commands use the store"
    assert classified - leaves == set(), "these commands no longer exist"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory with an input list, an empty output folder and a key file (two keys)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "list.csv").write_text("source,record_id\nz,1\n", encoding="utf-8")
    (tmp_path / "out").mkdir()
    ring = KeyRing.generate("k-old").with_new_active("k-new")
    key_file = tmp_path / "in" / "athar.keys"
    ring.write_file(key_file)
    for var in ("ATHAR_KEYS", "ATHAR_ACTIVE_KEY", "ATHAR_EPHEMERAL_KEY", "ATHAR_SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ATHAR_KEY_FILE", str(key_file))
    monkeypatch.setenv("ATHAR_ACTOR", "cli-store-test")
    crypto.configure(None)
    yield tmp_path
    crypto.configure(None)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def run_not_ready(command: str, url: str, tmp: Path) -> None:
    args = command.split() + [a.replace("{tmp}", str(tmp)) for a in STORE_COMMANDS[command]]
    before = snapshot(tmp)
    result = CliRunner().invoke(main, args, env={"ATHAR_DATABASE_URL": url})
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        command,
        result.exc_info,
    )
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "athar db upgrade" in lines[0], (command, result.stderr)
    assert result.exit_code == EXIT_STORE_NOT_READY, (command, result.exit_code, result.output)
    assert snapshot(tmp) == before, (command, "changed files")


@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_store_command_on_a_store_without_schema(
    command: str, empty_db_url: str, workdir: Path
) -> None:
    """SQLite: the file does not exist (and is not created); PostgreSQL: a fresh database."""
    run_not_ready(command, empty_db_url, workdir)
    if empty_db_url.startswith("sqlite"):
        assert not (workdir / "empty.db").exists()


@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_store_command_on_an_empty_sqlite_file(command: str, workdir: Path) -> None:
    db = workdir / "in" / "empty.db"
    db.write_bytes(b"")
    run_not_ready(command, f"sqlite:///{db}", workdir)


def test_the_exit_code_is_documented() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert f"{EXIT_STORE_NOT_READY}  the store is not ready" in result.output
    assert "athar db upgrade" in result.output
