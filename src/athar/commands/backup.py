"""``athar backup OUT`` and ``athar restore IN``: the whole store as one encrypted archive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from athar import config
from athar.security.keys import KeyConfigError, KeyRing

PASS_ENV = config.env_name("backup_passphrase")


def _passphrase(flag: bool, pfile: Path | None, confirm: bool) -> str | None:
    if pfile is not None:
        text = pfile.read_text(encoding="utf-8").rstrip("\r\n")
        if not text:
            raise click.ClickException(f"passphrase file {pfile} is empty")
        return text
    if flag:
        value: str = click.prompt(
            "Backup passphrase", hide_input=True, confirmation_prompt=confirm, err=True
        )
        return value
    return config.backup_passphrase()


def _ring(required: bool) -> KeyRing | None:
    try:
        return KeyRing.from_env()
    except KeyConfigError as exc:
        if required:
            raise click.ClickException(str(exc)) from None
        return None


def _audit_fn(actor: str | None) -> Any:
    from athar.services.actor import default_actor
    from athar.services.audit import AuditAction, append_event

    who = actor or default_actor()

    def audit(conn: Any, action: AuditAction, detail: dict[str, Any]) -> None:
        append_event(conn, actor=who, action=action, entity_type="store", detail=detail)

    return audit


passphrase_options = [
    click.option(
        "--passphrase",
        "ask",
        is_flag=True,
        help=f"Use a passphrase (asked for; or set ${PASS_ENV}) instead of the key ring.",
    ),
    click.option(
        "--passphrase-file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Read the passphrase from this file.",
    ),
    click.option("--actor", default=None, help="Who does it (default: $ATHAR_ACTOR or login)."),
]


def _with_options(fn: Any) -> Any:
    for opt in reversed(passphrase_options):
        fn = opt(fn)
    return fn


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@_with_options
def backup_command(out: Path, ask: bool, passphrase_file: Path | None, actor: str | None) -> None:
    """Write the whole store to OUT as one encrypted, integrity-checked archive.

    The archive key comes from the active key of the key ring ($ATHAR_KEY_FILE), or from a
    passphrase (scrypt).  Encrypted fields stay encrypted inside: restoring them also needs
    the key ring, so keep the key file safe, apart from the backups.
    """
    from athar.commands._progress import reporter
    from athar.commands._store import open_store
    from athar.services.safekeeping.backup import backup
    from athar.store.engine import display_url

    passphrase = _passphrase(ask, passphrase_file, confirm=True)
    ring = _ring(required=passphrase is None)
    # a BackupError is an AtharError: athar.cli shows it as one message, exit 1
    with open_store() as engine:
        progress = reporter("athar backup")
        report = backup(
            engine,
            out,
            ring=ring,
            passphrase=passphrase,
            audit=_audit_fn(actor),
            progress=progress,
        )
        progress.done()
    click.echo(
        f"backed up {display_url(str(engine.url))}: {report.rows} rows in "
        f"{len(report.tables)} tables, schema {report.revision}"
    )
    click.echo(f"archive {out}: {report.archive_bytes} bytes, sha256 {report.archive_sha256}")


@click.command("restore")
@click.argument("src", metavar="IN", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a store that is not empty.")
@click.option("--check", is_flag=True, help="Only decrypt and check the archive; write nothing.")
@_with_options
def restore_command(
    src: Path,
    force: bool,
    check: bool,
    ask: bool,
    passphrase_file: Path | None,
    actor: str | None,
) -> None:
    """Restore the store from archive IN (made by `athar backup`), in one transaction.

    Refuses a store that already holds data unless --force.  A database without tables is
    first migrated to the archive's schema.  Nothing is written if any check fails.
    """
    from athar.commands._progress import reporter
    from athar.commands._store import open_store
    from athar.services.safekeeping.backup import restore, verify_archive
    from athar.store.engine import display_url

    passphrase = _passphrase(ask, passphrase_file, confirm=False)
    ring = _ring(required=False)
    # a BackupError is an AtharError: athar.cli shows it as one message, exit 1
    if check:
        report = verify_archive(src, ring=ring, passphrase=passphrase)
        click.echo(
            f"archive OK: {report.rows} rows in {len(report.tables)} tables, "
            f"schema {report.revision}, from {report.source_dialect}"
        )
        return
    # restoring creates the store if need be (a database without tables is migrated first)
    with open_store(create=True, schema=False) as engine:
        progress = reporter("athar restore")
        report = restore(
            engine,
            src,
            ring=ring,
            passphrase=passphrase,
            force=force,
            audit=_audit_fn(actor),
            progress=progress,
        )
        progress.done()
    click.echo(
        f"restored {report.rows} rows in {len(report.tables)} tables into "
        f"{display_url(str(engine.url))} (schema {report.revision}, from {report.source_dialect})"
    )
    if report.replaced_rows:
        click.echo(f"replaced {report.replaced_rows} rows that were there before (--force)")
    click.echo("check it with: athar audit verify")
