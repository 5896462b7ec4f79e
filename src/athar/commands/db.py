"""``athar db``: create or upgrade the store's schema, and show what it holds."""

from __future__ import annotations

import click

from athar.services.actor import Actor, default_actor


@click.group("db")
def db() -> None:
    """The registry store (chosen by ATHAR_DATABASE_URL; default sqlite:///athar.db)."""


@db.command("upgrade")
@click.option("--actor", default=None, help="Who is doing this (default: $ATHAR_ACTOR or login).")
def upgrade(actor: str | None) -> None:
    """Create the schema or bring it to the newest revision; seed the facility vocabulary."""
    from athar.commands._store import open_store
    from athar.services.registry.vocab import sync_facilities
    from athar.store import migrate
    from athar.store.engine import display_url

    with open_store(create=True, schema=False) as engine:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        added = sync_facilities(engine, actor=Actor(actor or default_actor()))
        after = migrate.current_revision(engine)
    click.echo(f"database: {display_url(str(engine.url))}")
    click.echo(f"schema: {before or 'empty'} -> {after}")
    click.echo(f"facilities added: {added['facilities']}, aliases added: {added['aliases']}")


@db.command("status")
def status() -> None:
    """Show the schema revision and what the store holds.

    Exit 3, like every command, if there is no store or its schema is not current (the one
    line says which revision it is at, and to run `athar db upgrade`).
    """
    from athar.commands._store import open_store
    from athar.store import migrate
    from athar.store.engine import display_url
    from athar.store.summary import summarise

    with open_store() as engine:
        st = migrate.schema_status(engine)
        click.echo(f"database: {display_url(str(engine.url))}")
        click.echo(f"schema: {st.current or 'empty'} (newest: {st.head})")
        with engine.connect() as conn:
            s = summarise(conn)
    click.echo(f"import batches: {s.batches}; audit events: {s.audit_events}")
    click.echo("records per source (current versions / all versions):")
    for code, (cur, n) in s.records_per_source.items():
        click.echo(f"  {code:<24} {cur:>9} / {n}")
    click.echo(f"  {'total':<24} {s.current_records:>9}")
    click.echo(f"quarantined rows: {s.quarantined}")
    for f, n in s.quarantined_per_file.items():
        click.echo(f"  {f:<24} {n:>9}")
    if s.status_claims:
        claims = ", ".join(f"{c} {n}" for c, n in s.status_claims.items())
        click.echo(f"status claims on current records (claims, not facts): {claims}")
