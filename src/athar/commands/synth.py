"""``athar synth OUTDIR``: write a synthetic world (lists, truth, population) for demos and tests."""

from __future__ import annotations

from pathlib import Path

import click

from athar.synth import SynthError, generate


@click.command("synth")
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--persons", type=int, default=None, help="Size of the true population.")
@click.option(
    "--records",
    type=int,
    default=None,
    help="Aim for about this many records in all lists instead of a population size.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
def synth(outdir: Path, persons: int | None, records: int | None, seed: int, quiet: bool) -> None:
    """Generate a synthetic world of detained persons and the lists documenting them.

    Writes OUTDIR/<source>.csv (interchange CSV) for ngo_ar, ngo_en, family, registry,
    released and morgue, plus truth.csv, persons.csv, contacts.csv and world.json.
    Same parameters and seed give byte-identical files. Default: --persons 1000.
    """
    if persons is not None and records is not None:
        raise click.UsageError("give --persons or --records, not both")
    if persons is None and records is None:
        persons = 1000
    from athar.commands._progress import reporter
    from athar.progress import SILENT

    progress = SILENT if quiet else reporter("athar synth")
    try:
        summary = generate(outdir, persons=persons, records=records, seed=seed, progress=progress)
    except SynthError as e:
        raise click.UsageError(str(e)) from e
    if quiet:
        return
    progress.done()
    click.echo(
        f"{summary['persons_total']} persons ({summary['persons_documented']} on at least one list), "
        f"{summary['records_total']} records, seed {seed} -> {outdir}"
    )
    for src, n in summary["records_per_source"].items():
        unnamed = summary["unnamed_records_per_source"][src]
        dup = summary["duplicates_per_source"][src]
        click.echo(f"  {src:<9} {n:>9} records  ({dup} duplicates, {unnamed} unnamed)")
