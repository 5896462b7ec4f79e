"""``athar names``: look inside the name engine (explain a comparison, key a list of names)."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import click

from athar.names import align, canonical, compare, normalize, parse_name, phonetic_key
from athar.names.tokens import COMMA, group, split_words


@click.group("names")
def names() -> None:
    """Arabic/Latin name engine: normalise, parse, romanise, compare."""


def _explain_one(label: str, name: str) -> None:
    click.echo(f"{label}: {name}")
    click.echo(f"  normalised : {normalize(name)}")
    words = [w for w in split_words(name) if w.kind != COMMA]
    shown = ", ".join(f"{w.text}{' (al-)' if w.article else ''}[{w.kind}]" for w in words)
    click.echo(f"  words      : {shown}")
    parts = [p for p in group(split_words(name)) if p is not None]
    click.echo(f"  parts      : {' | '.join(' '.join(w.text for w in p.words) for p in parts)}")
    parsed = parse_name(name)
    click.echo(
        f"  parsed     : given={parsed.given} father={parsed.father} "
        f"grandfather={parsed.grandfather} family={parsed.family} "
        f"(confidence {parsed.confidence:.2f}{', inverted' if parsed.inverted else ''})"
    )
    click.echo(f"  canonical  : {canonical(name)}")
    click.echo(f"  key        : {phonetic_key(name)}")


@names.command("explain")
@click.argument("name1")
@click.argument("name2")
def explain(name1: str, name2: str) -> None:
    """Show each step for NAME1 and NAME2: normalised forms, words, parsed parts, canonical
    forms, phonetic keys, the per-part alignment and the comparison level."""
    _explain_one("A", name1)
    _explain_one("B", name2)
    click.echo("alignment:")
    for row in align(name1, name2):
        click.echo(f"  {row.a or '-':<24} {row.b or '-':<24} {row.level.name:<10} {row.score:.3f}")
    result = compare(name1, name2)
    click.echo(f"level: {result.level.name} ({int(result.level)})  score: {result.score:.3f}")


@names.command("keys")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
def keys(file: Path) -> None:
    """Read one name per line from FILE ('-' for standard input) and write CSV with the
    columns name,canonical,key to standard output.  Blank lines are skipped."""
    if str(file) == "-":
        raw = sys.stdin.buffer.read()
        where = "<stdin>"
    else:
        try:
            raw = file.read_bytes()
        except OSError as e:
            raise click.ClickException(f"{file}: cannot read: {e.strerror}") from e
        where = str(file)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "canonical", "key"])
    for line_no, line in enumerate(raw.split(b"\n"), 1):
        try:
            name = line.decode("utf-8-sig" if line_no == 1 else "utf-8").strip()
        except UnicodeDecodeError as e:
            raise click.ClickException(
                f"{where}: line {line_no}: not valid UTF-8 (byte {e.start + 1})"
            ) from e
        if not name:
            continue
        writer.writerow([name, canonical(name), phonetic_key(name)])
        if buf.tell() > 1 << 16:
            click.echo(buf.getvalue(), nl=False)
            buf.seek(0)
            buf.truncate()
    click.echo(buf.getvalue(), nl=False)
