"""``athar dna``: DNA kinship likelihood ratios for missing persons.

This module reads and writes files; the computations are in the pure core :mod:`athar.dna`.
Bad input exits with status 2 and one line per problem, naming the file and the field.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from athar.dna import CaseError, default_table, missing_person_lr, parse_case
from athar.dna.case import Case


@click.group("dna")
def dna() -> None:
    """DNA kinship: likelihood ratios for a missing person, Familias export, lab profiles."""


def _fail(where: str, problems: list[tuple[str, str]]) -> NoReturn:
    for field, message in problems:
        click.echo(f"{where}: {field}: {message}", err=True)
    sys.exit(2)


def _read_case(path: Path) -> Case:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        _fail(where, [("file", f"cannot read: {e.strerror}")])
    except UnicodeDecodeError as e:
        _fail(where, [("file", f"not valid UTF-8 (byte {e.start + 1})")])
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        _fail(where, [("json", f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}")])
    try:
        return parse_case(data)
    except CaseError as e:
        _fail(where, e.problems)


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:.6g}"


@dna.command("lr")
@click.argument("case_file", metavar="CASE.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def lr_command(case_file: Path, fmt: str) -> None:
    """Likelihood ratio that the person of interest (POI) is the case's missing person rather
    than unrelated to the family: per marker and the product over markers.  Frequencies are
    used exactly as given."""
    case = _read_case(case_file)
    try:
        result = missing_person_lr(case)
    except CaseError as e:
        _fail(str(case_file), e.problems)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict()))
        return
    poi = case.poi_genotypes()
    click.echo(f"case {case_file}: missing person {case.missing}, mutation {case.mutation.kind}")
    click.echo(f"{'marker':<14} {'POI':<12} {'LR':>14} {'log10 LR':>10}")
    for marker, value in result.markers.items():
        g = "/".join(poi[marker]) if marker in poi else "-"
        lg = f"{math.log10(value):10.3f}" if value > 0 else f"{'-inf':>10}"
        click.echo(f"{marker:<14} {g:<12} {_fmt(value):>14} {lg}")
    total_log = "-inf" if result.log10_lr is None else f"{result.log10_lr:.3f}"
    click.echo(f"{'total':<14} {'':<12} {_fmt(result.lr):>14} {total_log:>10}")


@dna.command("fam")
@click.argument("case_file", metavar="CASE.json", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("out", metavar="OUT.fam", type=click.Path(dir_okay=False, path_type=Path))
def fam_command(case_file: Path, out: Path) -> None:
    """Write the case as a Familias .fam file (pedigrees H1 and H2, genotypes, database and
    mutation model) so that a laboratory can reproduce the LR in Familias."""
    from athar.dna.familias import write_fam
    from athar.security.files import open_private

    case = _read_case(case_file)
    try:
        text = write_fam(case)
        with open_private(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        _fail(str(out), [("file", f"cannot write: {e.strerror}")])
    except ValueError as e:
        _fail(str(case_file), [("labels", str(e))])
    click.echo(f"wrote {out}")


@dna.command("import-profiles")
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--table",
    "table_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="frequency table (marker, allele, frequency TSV) whose markers are recognised; "
    "default: the packaged West Asia table",
)
def import_profiles(csv_file: Path, table_file: Path | None) -> None:
    """Read genotypes from a laboratory CSV in the long layout (sample, marker, allele 1,
    allele 2) and print them as JSON keyed by sample label.  Problems are listed by row and
    column on standard error, and the exit status is 1 if any row was rejected."""
    from athar.dna.frequencies import FrequencyTableError, parse_table
    from athar.dna.profiles import parse_profiles

    markers: list[str]
    if table_file is None:
        markers = list(default_table())
    else:
        try:
            markers = list(parse_table(table_file.read_text(encoding="utf-8")))
        except OSError as e:
            _fail(str(table_file), [("file", f"cannot read: {e.strerror}")])
        except FrequencyTableError as e:
            _fail(str(table_file), [(f"line {n}", m) for n, m in e.problems])
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except OSError as e:
        _fail(str(csv_file), [("file", f"cannot read: {e.strerror}")])
    except UnicodeDecodeError as e:
        _fail(str(csv_file), [("file", f"not valid UTF-8 (byte {e.start + 1})")])
    profiles, problems = parse_profiles(text, markers)
    out: dict[str, Any] = {s: {m: list(g) for m, g in p.items()} for s, p in profiles.items()}
    click.echo(json.dumps(out, indent=1, ensure_ascii=False))
    for p in problems:
        click.echo(f"{csv_file}: row {p.row}: {p.column}: {p.message}", err=True)
    if problems:
        sys.exit(1)


@dna.command("power")
@click.argument("case_file", metavar="CASE.json", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
def power_command(case_file: Path, fmt: str) -> None:
    """Whom to ask for a sample: the family's exclusion power (the chance that an unrelated
    person is excluded) and the expected log10 LR of the true missing person, now and if each
    untyped relative were typed (exact expectations; the POI's genotypes are ignored)."""
    from athar.dna.power import candidates, exclusion_and_expected_lr

    case = _read_case(case_file)
    now = exclusion_and_expected_lr(case)
    cands = candidates(case)
    if fmt == "json":
        out = {
            "ep": now.ep,
            "ep_markers": now.ep_markers,
            "expected_mismatches": now.expected_mismatches,
            "expected_lr": now.expected_lr,
            "expected_log10_lr": now.expected_log10_lr,
            "expected_log10_lr_markers": now.expected_log10_lr_markers,
            "mutation_disabled_markers": now.mutation_disabled,
            "if_typed": [
                {
                    "person": c.person,
                    "ep": c.ep,
                    "expected_log10_lr": c.expected_log10_lr,
                    "expected_lr": c.expected_lr,
                }
                for c in cands
            ],
        }
        click.echo(json.dumps(out))
        return
    click.echo(f"case {case_file}: missing person {case.missing}")
    click.echo(
        f"now: exclusion power {now.ep:.6f}, expected log10 LR {now.expected_log10_lr:.3f}"
        f" ({now.expected_mismatches:.2f} excluding markers expected for an unrelated person)"
    )
    if now.mutation_disabled:
        click.echo(
            f"(mutation model dropped where the data need none: {len(now.mutation_disabled)} markers)"
        )
    if not cands:
        click.echo("every relative in the pedigree is typed")
        return
    click.echo(f"{'if typed':<16} {'exclusion power':>16} {'E[log10 LR]':>12}")
    for c in cands:
        click.echo(f"{c.person:<16} {c.ep:16.6f} {c.expected_log10_lr:12.3f}")
