"""The one entry point, ``athar``.

Each capability lives in its own module under :mod:`athar.commands` and is
loaded only when its sub-command runs, so ``athar names keys`` never imports
the web stack or Splink.  To add a sub-command, add one line to ``COMMANDS``.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from athar import __version__

#: sub-command name -> "module:attribute" of a click command or group
COMMANDS: dict[str, str] = {
    "names": "athar.commands.names:names",
    "synth": "athar.commands.synth:synth",
    "import": "athar.commands.importing:import_command",
    "db": "athar.commands.db:db",
    "audit": "athar.commands.audit:audit",
    "link": "athar.commands.link:link",
    "estimate": "athar.commands.estimate:estimate",
    "keys": "athar.commands.keys:keys",
    "backup": "athar.commands.backup:backup_command",
    "restore": "athar.commands.backup:restore_command",
    "serve": "athar.commands.serve:serve",
    "jobs": "athar.commands.jobs:jobs",
    "users": "athar.commands.users:users",
    "export": "athar.commands.export:export",
    "dna": "athar.commands.dna:dna",
    "odk": "athar.commands.odk:odk",
    "pfif": "athar.commands.pfif:pfif",
    "api-keys": "athar.commands.apikeys:api_keys",
}


class LazyGroup(click.Group):
    """A click group whose sub-commands are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; an :class:`athar.errors.AtharError` ends it with one message
        (``Error: ...`` on stderr) and its family's exit code, never a traceback."""
        from athar.errors import AtharError

        try:
            return super().invoke(ctx)
        except AtharError as exc:
            # exactly what click prints for its own errors: one "Error: ..." on stderr
            click.echo(f"Error: {str(exc) or type(exc).__name__}", err=True)
            ctx.exit(exc.exit_code)


EPILOG = """\b
Exit status, the same for every command:
  0  done
  1  refused or failed (the message says why)
  2  bad usage, or an input file that cannot be used
  3  the store is not ready: no database, or its schema is not
     current (run `athar db upgrade`); nothing is created
Settings come from ATHAR_* environment variables (athar/config.py).
"""


@click.group(cls=LazyGroup, lazy=COMMANDS, epilog=EPILOG)
@click.version_option(__version__, prog_name="athar")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Athar: gather, link, trace, identify and count the disappeared."""
    from athar.commands._progress import configure_logging, library_messages_note

    configure_logging()

    def _note() -> None:
        note = library_messages_note()
        if note:
            click.echo(note, err=True)

    ctx.call_on_close(_note)
