"""``athar export partner`` and ``athar export research``: data leaving Athar, under consent."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click

from athar import config
from athar.services.casework.tracing_intake import CONSENT_SCOPES

SMALL_CELL_ENV = config.env_name("small_cell")


@click.group("export")
def export() -> None:
    """Export data for a partner (consent-filtered) or for research (pseudonymised).

    Family records go out only under each tracing request's current consent.  Records of
    other sources go out only when named with --source (or --all-sources): you vouch that the
    source's own sharing terms allow it, and the audit log records that you did.  Contact
    details, the family's account and photos never go out.  Every export is audited (who,
    scope, recipient, sources, row counts, SHA-256 of the file).
    """


source_options = [
    click.option(
        "--source",
        "sources",
        multiple=True,
        metavar="CODE",
        help="Also export this (non-family) source's records; repeatable.",
    ),
    click.option(
        "--all-sources", is_flag=True, help="Also export every non-family source's records."
    ),
    click.option("--actor", default=None, help="Who exports (default: $ATHAR_ACTOR or login)."),
]


def _with_sources(fn: Any) -> Any:
    for opt in reversed(source_options):
        fn = opt(fn)
    return fn


#: OUT, the consent scope, the recipient and the lists: what every export to a partner takes
recipient_options = [
    click.argument("out", type=click.Path(dir_okay=False, path_type=Path)),
    click.option(
        "--scope",
        required=True,
        type=click.Choice([c for c, _ in CONSENT_SCOPES if c != "research"]),
        help="The consent scope the recipient falls under.",
    ),
    click.option(
        "--recipient", required=True, help="Who receives the file (recorded in the audit)."
    ),
]


def _for_recipient(fn: Any) -> Any:
    # applied innermost first, as stacked decorators would be: the lists, then these
    return functools.reduce(lambda f, opt: opt(f), reversed(recipient_options), _with_sources(fn))


def _run(call: Callable[[Any, str], Any]) -> Any:
    from athar.commands._store import open_store
    from athar.services.actor import default_actor

    # an ExportError is an AtharError: athar.cli shows it as one message, exit 1
    with open_store() as engine:
        return call(engine, default_actor())


def _summary(report: Any) -> None:
    by_source = ", ".join(f"{k} {v}" for k, v in sorted(report.source_rows.items())) or "none"
    click.echo(
        f"exported {report.rows} rows to {report.path} (scope {report.scope}): "
        f"family {report.family_rows} (withheld without consent: {report.family_withheld}); "
        f"other sources: {by_source}"
    )
    click.echo(f"sha256 {report.sha256}; audit event {report.audit_seq}")


@export.command("partner")
@_for_recipient
def partner(
    out: Path,
    scope: str,
    recipient: str,
    sources: tuple[str, ...],
    all_sources: bool,
    actor: str | None,
) -> None:
    """Write interchange CSV (or XLSX, for OUT named *.xlsx) for RECIPIENT: only what each
    family's consent allows."""
    from athar.services.actor import Actor
    from athar.services.sharing.export_partner import export_partner

    report = _run(
        lambda engine, who: export_partner(
            engine,
            out,
            scope=scope,
            recipient=recipient,
            actor=Actor(actor or who),
            sources=sources,
            all_sources=all_sources,
        )
    )
    _summary(report)
    if report.rows == 0:
        _explain_empty(report)


@export.command("pfif")
@_for_recipient
def pfif(
    out: Path,
    scope: str,
    recipient: str,
    sources: tuple[str, ...],
    all_sources: bool,
    actor: str | None,
) -> None:
    """Write PFIF 1.4 XML OUT for RECIPIENT: the partner export's records, as PFIF persons."""
    from athar.services.actor import Actor
    from athar.services.sharing.export_pfif import export_pfif

    report = _run(
        lambda engine, who: export_pfif(
            engine,
            out,
            scope=scope,
            recipient=recipient,
            actor=Actor(actor or who),
            sources=sources,
            all_sources=all_sources,
            family_domain=config.pfif_domain(),
        )
    )
    _summary(report)


@export.command("research")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dates",
    type=click.Choice(["month", "year"]),
    default="month",
    show_default=True,
    help="Precision of arrest and last-seen dates (birth is always the year only).",
)
@click.option(
    "--small-cell",
    "k",
    type=click.IntRange(min=2),
    default=None,
    help=f"Smallest group shown (default: ${SMALL_CELL_ENV} or 5).",
)
@click.option(
    "--columns",
    default=None,
    metavar="A,B,...",
    help="Only these quasi-identifiers (default: all): sex, birth_year, age_band, "
    "birth_governorate, arrest_governorate, arrest_period, facility, last_seen_period, status. "
    "Fewer columns, less suppression.",
)
@click.option(
    "--with-person/--no-person",
    default=False,
    show_default=True,
    help="Add the person pseudonym. It joins one person's rows across sources, and that "
    "combination can make a person unique although every row is in a large enough group: "
    "leave it out (the default) unless the study needs capture histories.",
)
@_with_sources
def research(
    out: Path,
    dates: str,
    k: int | None,
    columns: str | None,
    with_person: bool,
    sources: tuple[str, ...],
    all_sources: bool,
    actor: str | None,
) -> None:
    """Write a pseudonymised extract OUT (.csv or .xlsx): no names, contacts, notes or numbers."""
    from athar.services.actor import Actor
    from athar.services.sharing.export_research import export_research

    threshold = config.small_cell() if k is None else k
    report = _run(
        lambda engine, who: export_research(
            engine,
            out,
            actor=Actor(actor or who),
            sources=sources,
            all_sources=all_sources,
            dates=dates,
            k=threshold,
            columns=None if columns is None else [c.strip() for c in columns.split(",")],
            with_person=with_person,
        )
    )
    _summary(report)
    counts = report.detail.get("counts", {})
    click.echo(
        f"small cells: groups under {threshold} rows made coarser or suppressed "
        f"({counts.get('generalised_cells', 0)} cells coarser, "
        f"{counts.get('suppressed_cells', 0)} suppressed)"
    )
    per_column = counts.get("by_column", {})
    if per_column and report.rows:
        click.echo(f"  {'column':<20} {'coarser':>9} {'suppressed':>11}  of {report.rows} rows")
        for column, n in per_column.items():
            click.echo(f"  {column:<20} {n['generalised']:>9} {n['suppressed']:>11}")
    if report.rows == 0:
        _explain_empty(report)


def _explain_empty(report: Any) -> NoReturn:
    """An export with no row: say why, and how to get rows (exit 1, not a silent success)."""
    why = []
    if report.family_withheld:
        why.append(
            f"the {report.family_withheld} family requests are withheld: none of those "
            f"families agreed to share with {report.scope}"
        )
    if not report.source_rows:
        why.append(
            "no other list was chosen: name the lists with --source CODE (repeatable) "
            "or take every list with --all-sources"
        )
    elif not why:
        why.append("the chosen lists hold no current records")
    click.echo(f"Error: no row was exported: {'; '.join(why)}", err=True)
    raise SystemExit(1)
