"""``athar audit``: check the tamper-evident audit chain."""

from __future__ import annotations

import click


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def verify() -> None:
    """Walk the audit chain; report the first edited, deleted or reordered event (exit 1)."""
    from athar.commands._store import open_store
    from athar.services.audit import verify_chain

    with open_store() as engine, engine.connect() as conn:
        res = verify_chain(conn)
    if res.problem is not None:
        click.echo(
            f"audit chain BROKEN at event {res.problem.seq} ({res.problem.kind}): "
            f"{res.problem.message}",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"audit chain OK: {res.events} events; head {res.head_seq} {res.head_hash}")
