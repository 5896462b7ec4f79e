"""``athar audit``: check the tamper-evident audit chain."""

from __future__ import annotations

import click


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def verify() -> None:
    """Walk the audit chain; report the first edited, deleted or reordered event (exit 1)."""
    from athar.services.audit import verify_chain
    from athar.store.engine import make_engine
    from athar.store.migrate import require_current

    engine = make_engine()
    try:
        require_current(engine)
        with engine.connect() as conn:
            res = verify_chain(conn)
    finally:
        engine.dispose()
    if res.problem is not None:
        click.echo(
            f"audit chain BROKEN at event {res.problem.seq} ({res.problem.kind}): "
            f"{res.problem.message}",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"audit chain OK: {res.events} events; head {res.head_seq} {res.head_hash}")
