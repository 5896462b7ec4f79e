"""``athar pfif``: check PFIF documents, and say which sources may assert a death through PFIF.

Importing PFIF is ``athar import FILE.xml``; exporting it is ``athar export pfif OUT.xml``.
"""

from __future__ import annotations

from pathlib import Path

import click

SHOWN = 200


@click.group("pfif")
def pfif() -> None:
    """PFIF (People Finder Interchange Format): validate documents, authorise sources."""


@pfif.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--all", "show_all", is_flag=True, help=f"Show every problem (default: {SHOWN}).")
def validate_command(file: Path, show_all: bool) -> None:
    """Check FILE (PFIF 1.1-1.4) against its version's schema and PFIF's rules.

    Every problem is shown with its line.  Exit status: 0 valid (warnings allowed), 1 not
    valid, 2 not readable as PFIF at all (not well-formed XML, a DTD, an unknown version).
    """
    from athar.ingest.pfif_schema import validate

    report = validate(file)  # PfifUnusable is an AtharError: one line, exit 2
    shown = report.problems if show_all else report.problems[:SHOWN]
    for p in shown:
        where = f"{file.name}:{p.line}" if p.line else file.name
        click.echo(f"{where}: {p.severity}: {p.message}")
    if len(shown) < len(report.problems):
        click.echo(f"... and {len(report.problems) - len(shown)} more (--all)")
    verdict = "valid" if report.valid else "NOT valid"
    click.echo(
        f"{file.name}: PFIF {report.version}, {report.persons} persons, {report.notes} notes: "
        f"{verdict} ({report.errors} errors, {report.warnings} warnings)"
    )
    raise SystemExit(0 if report.valid else 1)


@pfif.command("authorise")
@click.argument("source")
@click.option("--reason", required=True, help="Why (recorded in the audit log).")
@click.option("--revoke", is_flag=True, help="Take the authorisation away.")
@click.option("--actor", default=None, help="Who decides (default: $ATHAR_ACTOR or login).")
def authorise_command(source: str, reason: str, revoke: bool, actor: str | None) -> None:
    """Let SOURCE's PFIF believed_dead notes be death claims (or not, with --revoke).

    Without it, a believed_dead note is kept with its record's PFIF and reported, never a
    death claim.  The decision is audited.
    """
    from athar.commands._store import open_store
    from athar.services.actor import Actor, default_actor
    from athar.services.registry.pfif_sources import set_death_authorised

    with open_store() as engine:
        got = set_death_authorised(
            engine, source, not revoke, actor=Actor(actor or default_actor()), reason=reason
        )
    state = "may" if got.authorised else "may not"
    if got.changed:
        click.echo(
            f"source {source} {state} now assert deaths in PFIF; audit event {got.audit_seq}"
        )
    else:
        click.echo(f"source {source} already {state} assert deaths in PFIF; nothing changed")
