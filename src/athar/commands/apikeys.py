"""``athar api-keys``: partners' keys for the PFIF feed (create, list, revoke; audited)."""

from __future__ import annotations

import click

from athar.services.casework.tracing_intake import CONSENT_SCOPES


@click.group("api-keys")
def api_keys() -> None:
    """API keys for partners' systems (the PFIF feed /api/v1/pfif/feed).

    A key holds one partner, one consent scope and the non-family sources it may read; the
    token is shown once and only its SHA-256 is stored.  Creating and revoking are audited.
    """


@api_keys.command("create")
@click.option("--recipient", required=True, help="The partner the key is for.")
@click.option(
    "--scope",
    required=True,
    type=click.Choice([c for c, _ in CONSENT_SCOPES if c != "research"]),
    help="The consent scope the partner falls under.",
)
@click.option("--source", "sources", multiple=True, metavar="CODE", help="A source it may read.")
@click.option("--all-sources", is_flag=True, help="Every non-family source.")
@click.option("--actor", default=None, help="Who creates it (default: $ATHAR_ACTOR or login).")
def create(
    recipient: str, scope: str, sources: tuple[str, ...], all_sources: bool, actor: str | None
) -> None:
    """Create a key; its token is printed once, on stdout, and never shown again."""
    from athar.commands._store import open_store
    from athar.services.actor import Actor, default_actor
    from athar.services.sharing.api_keys import create_api_key

    with open_store() as engine:
        info, token = create_api_key(
            engine,
            recipient=recipient,
            scope=scope,
            sources=sources,
            all_sources=all_sources,
            actor=Actor(actor or default_actor()),
        )
    shown = ", ".join(info.sources) or "family records only (under consent)"
    click.echo(
        f"key {info.id} for {info.recipient}, scope {info.scope}, sources: {shown}", err=True
    )
    click.echo("the token (shown once; give it to the partner over a safe channel):", err=True)
    click.echo(token)


@api_keys.command("list")
def list_command() -> None:
    """Every key: id, prefix, partner, scope, sources, created, revoked."""
    from sqlalchemy.orm import Session

    from athar.commands._store import open_store
    from athar.services.sharing.api_keys import list_api_keys

    with open_store() as engine, Session(engine) as db:
        keys = list_api_keys(db)
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "live"
        click.echo(
            f"{k.id}\t{k.prefix}…\t{k.recipient}\t{k.scope}\t{','.join(k.sources) or '-'}\t"
            f"created {k.created_at:%Y-%m-%d} by {k.created_by}\t{state}"
        )
    if not keys:
        click.echo("no API keys")


@api_keys.command("revoke")
@click.argument("key_id", type=int)
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--actor", default=None, help="Who revokes it (default: $ATHAR_ACTOR or login).")
def revoke(key_id: int, reason: str, actor: str | None) -> None:
    """Revoke key KEY_ID for good."""
    from athar.commands._store import open_store
    from athar.services.actor import Actor, default_actor
    from athar.services.sharing.api_keys import revoke_api_key

    with open_store() as engine:
        info = revoke_api_key(engine, key_id, actor=Actor(actor or default_actor()), reason=reason)
    click.echo(f"key {info.id} ({info.prefix}…, {info.recipient}) is revoked")
