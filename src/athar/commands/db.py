"""``athar db``: create or upgrade the store's schema, and show what it holds."""

from __future__ import annotations

from datetime import datetime

import click

from athar.services.actor import Actor, default_actor


def _utc(value: object) -> str:
    """A stored UTC time (a datetime, or text on SQLite) as ``2026-12-02 14:05 UTC``."""
    if value is None:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


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
    run = s.latest_link_run
    if run is None:
        click.echo("linkage: no link run yet (run `athar link`)")
    else:
        when = _utc(run["finished"]) or "unfinished"
        kind = "incremental" if run["incremental"] else "full"
        click.echo(
            f"latest link run: {run['id']} ({kind}, {when}, by {run['actor']}, "
            f"threshold {run['threshold']:g})"
        )
    click.echo(f"persons: {s.persons}; current records not yet linked: {s.unlinked_records}")
    click.echo(f"review queue: {s.review_queue} pairs waiting for a reviewer")
    est = s.latest_estimate
    if est is None:
        click.echo("estimate: none recorded yet (run `athar estimate`)")
    else:
        when = _utc(est["created"])
        click.echo(
            f"latest estimate: run {est['id']} ({when}, by {est['actor']}, on link run "
            f"{est['link_run']}, {s.latest_estimate_observed} persons observed)"
        )
        for method, v in dict(est["estimates"]).items():  # type: ignore[call-overload]
            lo, hi = v.get("lower"), v.get("upper")
            interval = f" [{lo:,.0f}, {hi:,.0f}]" if lo is not None and hi is not None else ""
            click.echo(f"  {method:<10} {v['estimate']:,.0f}{interval}")
