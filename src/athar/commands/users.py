"""``athar users``: add, list, disable and enable users; reset a password (also unlocks)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from athar.security.auth import Role

if TYPE_CHECKING:
    from athar.services.actor import Actor


@contextmanager
def _engine() -> Iterator[Engine]:
    from athar.commands._store import open_store

    with open_store() as engine:
        yield engine


@contextmanager
def _db() -> Iterator[Session]:
    with _engine() as engine, Session(engine, expire_on_commit=False) as db:
        yield db


def _actor(actor: str | None) -> Actor:
    from athar.services.actor import Actor, default_actor

    return Actor(f"cli:{actor or default_actor()}", Role.ADMIN)


actor_option = click.option(
    "--actor", default=None, help="Who is doing this (default: $ATHAR_ACTOR or login)."
)


@click.group("users")
def users() -> None:
    """People who log in to the web app, and their roles."""


@users.command("add")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role] + ["administrator", "case-worker", "partner"]),
    help="admin, case_worker, reviewer, data_partner or researcher.",
)
@click.option("--name", "username", required=True, help="Login name (lower-case).")
@click.option("--display-name", default=None, help="Name shown in the app (default: --name).")
@click.option("--source", "source_code", default=None, help="Data partners: the list they import.")
@actor_option
def add(
    role: str, username: str, display_name: str | None, source_code: str | None, actor: str | None
) -> None:
    """Add a user with a generated password, printed once (Athar keeps only its hash)."""
    from athar.security.auth import parse_role
    from athar.services.access.users import create_user

    acting = _actor(actor)
    with _engine() as engine:
        try:
            user, password = create_user(
                engine,
                actor=acting,
                username=username,
                display_name=display_name or username,
                role=parse_role(role),
                source_code=source_code,
            )
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"user: {user.username} ({user.role})")
    click.echo(f"password: {password}")
    click.echo("The password is shown only now; Athar stores only its argon2 hash.")


@users.command("list")
@actor_option
def list_command(actor: str | None) -> None:
    """List users with their roles."""
    from athar.services.access.users import list_users

    acting = _actor(actor)
    with _db() as db:
        for user in list_users(db, actor=acting):
            state = "active" if user.is_active else "disabled"
            scope = f" source={user.source_code}" if user.source_code else ""
            click.echo(f"{user.username}\t{user.role}\t{state}{scope}\t{user.display_name}")


def _toggle(username: str, active: bool, actor: str | None) -> None:
    from athar.services.access.users import set_active

    acting = _actor(actor)
    with _engine() as engine:
        # NotFound is an AtharError: athar.cli shows its message, exit 1
        set_active(engine, actor=acting, username=username, active=active)
    click.echo(f"{username}: {'enabled' if active else 'disabled'}")


@users.command("disable")
@click.argument("username")
@actor_option
def disable(username: str, actor: str | None) -> None:
    """Disable a user and end their sessions."""
    _toggle(username, False, actor)


@users.command("enable")
@click.argument("username")
@actor_option
def enable(username: str, actor: str | None) -> None:
    """Enable a disabled user."""
    _toggle(username, True, actor)


@users.command("reset-password")
@click.argument("username")
@actor_option
def reset_password_command(username: str, actor: str | None) -> None:
    """Give a user a new generated password (printed once); ends sessions, clears lock-out."""
    from athar.services.access.users import reset_password

    acting = _actor(actor)
    with _engine() as engine:
        password = reset_password(engine, actor=acting, username=username)
    click.echo(f"password: {password}")
