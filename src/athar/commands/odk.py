"""``athar odk``: ODK forms for offline, encrypted intake, and importing their submissions."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import click

from athar.commands.keys import key_file_option
from athar.security.keys import KeyConfigError, KeyRing

KIND_CHOICE = click.Choice(["request", "antemortem", "unidentified"])


def _ring(key_file: Path | None) -> KeyRing:
    return KeyRing.from_file(key_file) if key_file else KeyRing.from_env()


def _odk_public_key(ring: KeyRing) -> str:
    from athar.security.odk import public_key_b64

    if ring.odk_active is None:
        raise KeyConfigError(
            f"the key ring ({ring.source}) holds no ODK key: run `athar keys odk` first"
        )
    return public_key_b64(ring.odk[ring.odk_active])


@click.group("odk")
def odk() -> None:
    """Offline intake with ODK Collect: forms encrypted to Athar's key, and their import."""


@odk.command("form")
@click.argument("kind", type=KIND_CHOICE)
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@key_file_option
def form(kind: str, out: Path, key_file: Path | None) -> None:
    """Write the XLSForm OUT (.xlsx) of form KIND, and its XForm beside it (.xml).

    Labels are in Arabic and English; the form carries Athar's ODK public key, so ODK Collect
    encrypts every submission on the phone.  Upload either file to ODK Central.
    """
    from athar.services.casework.odk_forms import build_xlsform, form_definition, to_xform
    from athar.web.i18n import load_languages

    if out.suffix.lower() != ".xlsx":
        raise click.UsageError(f"{out}: the XLSForm must end in .xlsx")
    languages = load_languages()
    definition = form_definition(kind)
    xlsx = build_xlsform(
        definition,
        public_key=_odk_public_key(_ring(key_file)),
        translate=lambda code, msgid: languages[code].gettext(msgid),
    )
    xform = to_xform(xlsx)
    xml_path = out.with_suffix(".xml")
    out.write_bytes(xlsx)
    xml_path.write_text(xform, encoding="utf-8")
    click.echo(
        f"wrote {out} and {xml_path}: form {definition.form_id}, version {definition.version}, "
        f"{len(definition.questions)} questions, encrypted to Athar's ODK key"
    )


@odk.command("import")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A folder of submissions (one folder per submission: submission.xml and .enc files).",
)
@click.option(
    "--central",
    "central_config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="pyodk configuration (TOML, [central] base_url/username/password) to read Central.",
)
@click.option("--project", type=int, default=None, help="Central project id (with --central).")
@click.option(
    "--form",
    "kinds",
    type=KIND_CHOICE,
    multiple=True,
    help="Forms to read from Central (default: all three).",
)
@click.option(
    "--language",
    type=click.Choice(["ar", "en"]),
    default="ar",
    show_default=True,
    help="Language recorded on tracing requests (the family's).",
)
@key_file_option
@click.option("--actor", default=None, help="Who imports (default: $ATHAR_ACTOR or login).")
def import_command(
    folder: Path | None,
    central_config: Path | None,
    project: int | None,
    kinds: tuple[str, ...],
    language: str,
    key_file: Path | None,
    actor: str | None,
) -> None:
    """Decrypt and import ODK submissions from a folder or from ODK Central.

    Each one goes through the web forms' own checks, services and audit, with its instance
    id as provenance; one imported before is skipped (a re-import changes nothing).  A
    tampered submission, one encrypted to another key, or one whose fields no longer match
    Athar's forms is refused with the reason.  Exit status 0: nothing refused; 1: some
    refused (listed); 3: the store is not ready.
    """
    from athar import config
    from athar.commands._store import open_store
    from athar.ingest.odk import EncryptedSubmission, read_central, read_folder
    from athar.security.auth import Role
    from athar.services.actor import Actor, default_actor
    from athar.services.casework.odk_forms import KINDS, form_definition
    from athar.services.casework.odk_import import import_submissions

    if (folder is None) == (central_config is None):
        raise click.UsageError("give either --folder or --central")
    if central_config is not None and project is None:
        raise click.UsageError("--central needs --project")
    with open_store() as engine:
        ring = _ring(key_file)
        if not ring.odk:
            raise KeyConfigError(
                f"the key ring ({ring.source}) holds no ODK key: nothing could be decrypted"
            )
        source: Iterable[EncryptedSubmission]
        if folder is not None:
            source = read_folder(folder)
        else:
            assert central_config is not None and project is not None
            ids = [form_definition(k).form_id for k in (kinds or tuple(KINDS))]
            source = read_central(central_config, project, ids)
        report = import_submissions(
            engine,
            actor=Actor(f"cli:{actor or default_actor()}", Role.CASE_WORKER),
            submissions=source,
            odk_keys=ring.odk,
            photo_max_bytes=config.as_int("photo_max_bytes"),
            language=language,
        )
    for o in report.outcomes:
        if o.status == "imported":
            click.echo(f"imported {o.instance_id} ({o.form}) as {o.reference}")
        elif o.status == "already":
            click.echo(f"already imported {o.instance_id} ({o.form}) as {o.reference}: unchanged")
        else:
            click.echo(f"refused: {o.message}", err=True)
    click.echo(
        f"{report.count('imported')} imported, {report.count('already')} already imported, "
        f"{report.count('refused')} refused"
    )
    raise SystemExit(1 if report.refused else 0)
