"""``athar import``: bring lists into the registry, with a validation report."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from athar.services.registry.importer import FileResult, ImportOptions, Problem

SHOWN_PROBLEMS = 50


def _render(r: FileResult) -> None:
    if r.outcome == "unusable":
        click.echo(f"{r.path}: UNUSABLE, nothing stored: {r.message}", err=True)
        return
    if r.outcome in ("already_imported", "unchanged"):
        click.echo(f"{r.path}: {r.message}")
        return
    click.echo(
        f"{r.path}: batch {r.batch_id}: {r.rows_total} rows: {r.rows_new} new, "
        f"{r.rows_new_version} new versions, {r.rows_unchanged} unchanged, "
        f"{r.rows_duplicate} exact repeats, {r.rows_quarantined} quarantined; "
        f"{r.errors} errors, {r.warnings} warnings"
    )
    if r.rows_quarantine_summarised:
        click.echo(f"  {r.message}")
    if r.problem_counts:
        for (severity, column), n in sorted(r.problem_counts.items()):
            click.echo(f"  {severity:<7} {column:<18} {n}")
    for p in r.problems[:SHOWN_PROBLEMS]:
        where = f"{p.file}:{p.row}" if p.row is not None else p.file
        click.echo(f"  {where}: {p.column or '(row)'}: {p.reason} [{p.severity}]")
    hidden = r.errors + r.warnings - min(len(r.problems), SHOWN_PROBLEMS)
    if hidden > 0:
        click.echo(f"  ... and {hidden} more (all of them: --report FILE.csv)")


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", default=None, help="Source id for rows that do not name one.")
@click.option(
    "--mapping",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="YAML column mapping for lists not in the interchange layout.",
)
@click.option("--actor", default=None, help="Who imports (default: $ATHAR_ACTOR or login).")
@click.option("--keep-extra", is_flag=True, help="Keep unknown columns as extra attributes.")
@click.option(
    "--report",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write every problem found (file, row, column, reason, severity) to this CSV.",
)
def import_command(
    files: tuple[Path, ...],
    source: str | None,
    mapping: Path | None,
    actor: str | None,
    keep_extra: bool,
    report: Path | None,
) -> None:
    """Import lists (interchange CSV, XLSX, JSON, PFIF 1.1-1.4 XML, or any layout with --mapping).

    Each file is one batch in one transaction. Exit status: 0 every row stored (or already
    stored), 1 some rows quarantined, 2 a file was unusable (unreadable, wrong encoding, no
    source/record_id column, unknown column) and nothing from it was stored, 3 the store
    is not ready (run `athar db upgrade`).
    """
    from athar.commands._progress import reporter
    from athar.commands._store import open_store
    from athar.ingest.safe_export import write_csv
    from athar.services.actor import Actor, default_actor
    from athar.services.registry.importer import import_file

    collected: list[Problem] = []
    opts = ImportOptions(
        source=source,
        mapping=mapping,
        actor=Actor(actor or default_actor()),
        keep_extra=keep_extra,
        on_problem=collected.append if report else None,
        progress=reporter("athar import"),
    )
    results: list[FileResult] = []
    with open_store() as engine:
        for f in files:
            r = import_file(engine, f, opts)
            _render(r)
            results.append(r)
    opts.progress.done()
    if report is not None:
        write_csv(
            report,
            ["file", "row", "column", "reason", "severity"],
            ([p.file, p.row, p.column, p.reason, p.severity] for p in collected),
        )
        click.echo(f"problem report: {report} ({len(collected)} problems)")
    per_source: Counter[str] = Counter()
    for r in results:
        per_source.update(r.sources)
    if len(results) > 1:
        q = sum(r.rows_quarantined for r in results)
        click.echo(
            f"total: {sum(r.rows_new + r.rows_new_version for r in results)} records stored, "
            f"{q} rows quarantined, {sum(r.outcome == 'unusable' for r in results)} files unusable"
        )
    raise SystemExit(max((r.exit_code for r in results), default=0))
