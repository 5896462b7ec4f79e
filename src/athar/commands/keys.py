"""``athar keys``: make encryption keys, rotate them, see which key sealed what."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from sqlalchemy import Engine

from athar.security.keys import KeyRing

key_file_option = click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Key file to use (default: $ATHAR_KEY_FILE).",
)


def _load(key_file: Path | None) -> KeyRing:
    """The key ring; a KeyConfigError is an AtharError (athar.cli: one message, exit 1)."""
    return KeyRing.from_file(key_file) if key_file else KeyRing.from_env()


def _audit_fn(actor: str) -> Any:
    from athar.services.audit import AuditAction, append_event

    def audit(conn: Any, action: AuditAction, detail: dict[str, Any]) -> None:
        append_event(conn, actor=actor, action=action, entity_type="keys", detail=detail)

    return audit


def _actor(actor: str | None) -> str:
    from athar.services.actor import default_actor

    return actor or default_actor()


@click.group("keys")
def keys() -> None:
    """Field-encryption keys (kept outside the database)."""


@keys.command("generate")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--kid", default=None, help="Key id (default: k<UTC time>-<random>).")
@click.option("--env", "as_env", is_flag=True, help="Print an ATHAR_KEYS value instead.")
def generate(out: Path | None, kid: str | None, as_env: bool) -> None:
    """Write a new key file OUT (mode 0600; never overwrites), or print it with --env."""
    ring = KeyRing.generate(kid)  # a KeyConfigError is an AtharError: one message, exit 1
    if as_env:
        click.echo(f"ATHAR_KEYS={ring.to_env()}")
        return
    if out is None:
        raise click.UsageError("give the key file to write (OUT), or --env")
    ring.write_file(out)
    click.echo(f"wrote key file {out} (mode 0600) with active key {ring.active}")
    click.echo(f"use it with: export ATHAR_KEY_FILE={out.resolve()}")
    click.echo("keep a copy offline: without it, encrypted fields and backups cannot be read")


@keys.command("odk")
@key_file_option
@click.option("--new", "new", is_flag=True, help="Add a new ODK key even if one exists.")
def odk_key(key_file: Path | None, new: bool) -> None:
    """Print the public key ODK forms carry, adding an ODK key pair to the key file first if
    it has none (or with --new).

    The private key stays in the key file (mode 0600) beside the other keys, and `athar keys
    rotate` adds a new one; old ones are kept, so submissions from older forms still decrypt.
    After a new key, make the forms again with `athar odk form`.
    """
    from athar.security.odk import public_key_b64

    ring = _load(key_file)
    if ring.odk_active is None or new:
        path = ring.path
        if path is None:
            raise click.ClickException(
                "keys come from ATHAR_KEYS, not a key file: ODK keys live in a key file "
                "(`athar keys generate`, then ATHAR_KEY_FILE)"
            )
        ring = ring.with_new_odk_key()
        ring.write_file(path, overwrite=True)
        click.echo(f"key file {ring.path}: new ODK key {ring.odk_active}", err=True)
    assert ring.odk_active is not None
    click.echo(public_key_b64(ring.odk[ring.odk_active]))


@keys.command("status")
@key_file_option
def status(key_file: Path | None) -> None:
    """Show the keys loaded and how many stored values each key sealed, per column."""
    from athar.commands._store import open_store
    from athar.services.safekeeping.key_rotation import key_usage, store_metadata

    ring = _load(key_file)
    click.echo(
        f"key ring: {ring.source}; active {ring.active}; keys {', '.join(sorted(ring.keys))}"
    )
    with open_store() as engine:
        usage = key_usage(engine, store_metadata())
    for column, counts in usage.items():
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())) or "empty"
        click.echo(f"  {column}: {shown}")
    stale = sorted({k for c in usage.values() for k in c} - {ring.active})
    if stale:
        click.echo(f"values still sealed by other keys: {', '.join(stale)}")


def _run_reencrypt(engine: Engine, ring: KeyRing, batch_size: int, passes: int, actor: str) -> int:
    from athar.services.safekeeping.key_rotation import key_usage, reencrypt_all, store_metadata

    md = store_metadata()
    unreadable = 0
    for n in range(1, passes + 1):
        report = reencrypt_all(engine, md, ring, batch_size=batch_size, audit=_audit_fn(actor))
        unreadable = report.unreadable
        click.echo(
            f"pass {n}: re-encrypted {report.reencrypted} values in {report.batches} "
            f"batches; {report.changed_meanwhile} changed meanwhile; "
            f"{report.unreadable} unreadable"
        )
        for col in report.columns:
            if col.unreadable:
                click.echo(
                    f"  {col.column}: cannot decrypt rows {', '.join(col.unreadable[:20])}",
                    err=True,
                )
        usage = key_usage(engine, md)
        stale = sum(n for c in usage.values() for k, n in c.items() if k != ring.active)
        if stale == unreadable:
            break
    if unreadable:
        click.echo(
            f"{unreadable} values could not be decrypted; they were left untouched", err=True
        )
        return 1
    click.echo(f"every encrypted value is sealed by {ring.active}")
    return 0


@keys.command("rotate")
@key_file_option
@click.option("--kid", default=None, help="Id for the new key.")
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
@click.option("--passes", default=3, show_default=True, help="Re-encryption passes at most.")
@click.option("--actor", default=None, help="Who rotates (default: $ATHAR_ACTOR or login).")
def rotate(
    key_file: Path | None, kid: str | None, batch_size: int, passes: int, actor: str | None
) -> None:
    """Add a new active key to the key file and re-encrypt every encrypted column with it.

    The store stays online: the key file is rewritten first (running Athar processes re-read
    it), old keys keep decrypting, and each batch commits on its own.  Re-run
    `athar keys reencrypt` to resume an interrupted rotation.
    """
    from athar.commands._store import open_store
    from athar.security import crypto

    ring = _load(key_file)
    if ring.path is None:
        raise click.ClickException(
            "keys come from ATHAR_KEYS, not a key file: add a key there yourself "
            "(`athar keys generate --env`), make it active with ATHAR_ACTIVE_KEY in every "
            "process, then run `athar keys reencrypt`"
        )
    # the store is checked before the key file is rewritten
    with open_store() as engine:
        new = ring.with_new_active(kid)
        new.write_file(ring.path, overwrite=True)
        click.echo(f"key file {ring.path}: new active key {new.active} (old keys kept)")
        crypto.configure(new)
        code = _run_reencrypt(engine, new, batch_size, passes, _actor(actor))
    raise SystemExit(code)


@keys.command("reencrypt")
@key_file_option
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
@click.option("--passes", default=3, show_default=True, help="Re-encryption passes at most.")
@click.option("--actor", default=None, help="Who runs it (default: $ATHAR_ACTOR or login).")
def reencrypt(key_file: Path | None, batch_size: int, passes: int, actor: str | None) -> None:
    """Re-encrypt every value not sealed by the active key (resumes a rotation)."""
    from athar.commands._store import open_store

    ring = _load(key_file)
    with open_store() as engine:
        code = _run_reencrypt(engine, ring, batch_size, passes, _actor(actor))
    raise SystemExit(code)


@keys.command("retire")
@click.argument("kid")
@key_file_option
@click.option("--actor", default=None, help="Who retires it (default: $ATHAR_ACTOR or login).")
def retire(kid: str, key_file: Path | None, actor: str | None) -> None:
    """Remove key KID from the key file, once no stored value uses it any more.

    Backups sealed by KID (or holding values sealed by it) need KID to be restored: keep an
    offline copy of the old key file for as long as you keep those backups.
    """
    from athar.commands._store import open_store
    from athar.services.safekeeping.key_rotation import key_usage, store_metadata

    ring = _load(key_file)
    if ring.path is None:
        raise click.ClickException("keys come from ATHAR_KEYS: remove the key there yourself")
    if kid not in ring.keys:
        raise click.ClickException(f"key {kid!r} is not in {ring.path}")
    with open_store() as engine:
        usage = key_usage(engine, store_metadata())
        still = {col: c[kid] for col, c in usage.items() if c.get(kid)}
        if still:
            listing = ", ".join(f"{col} ({n})" for col, n in still.items())
            raise click.ClickException(
                f"key {kid} still seals values in {listing}: run `athar keys reencrypt` first"
            )
        ring.without([kid]).write_file(ring.path, overwrite=True)
        with engine.begin() as conn:
            _audit_fn(_actor(actor))(conn, "keys.retire", {"kid": kid, "key_file": str(ring.path)})
    click.echo(f"key {kid} removed from {ring.path}")
