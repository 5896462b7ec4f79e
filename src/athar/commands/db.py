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
    from athar.services.registry.vocab import sync_facilities
    from athar.store import migrate
    from athar.store.engine import display_url, make_engine

    engine = make_engine()
    try:
        before = migrate.current_revision(engine)
        migrate.upgrade(engine)
        added = sync_facilities(engine, actor=Actor(actor or default_actor()))
        after = migrate.current_revision(engine)
    finally:
        engine.dispose()
    click.echo(f"database: {display_url(str(engine.url))}")
    click.echo(f"schema: {before or 'empty'} -> {after}")
    click.echo(f"facilities added: {added['facilities']}, aliases added: {added['aliases']}")


@db.command("status")
def status() -> None:
    """Show the schema revision and what the store holds. Exit 1 if the schema is not current."""
    from athar.store import migrate
    from athar.store.engine import display_url, make_engine
    from athar.store.summary import summarise

    engine = make_engine()
    try:
        st = migrate.schema_status(engine)
        click.echo(f"database: {display_url(str(engine.url))}")
        click.echo(f"schema: {st.current or 'empty'} (newest: {st.head})")
        if not st.up_to_date:
            click.echo("run `athar db upgrade` to bring the schema up to date")
            raise SystemExit(1)
        with engine.connect() as conn:
            s = summarise(conn)
    finally:
        engine.dispose()
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
