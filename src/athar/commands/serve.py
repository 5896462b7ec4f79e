"""``athar serve``: run the web app on the store."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--dev",
    is_flag=True,
    help="Development: ATHAR_ENV=development, cookies over plain HTTP, a random secret key.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (uvicorn workers); rate limits then count per process.",
)
def serve(host: str, port: int, dev: bool, workers: int) -> None:
    """Serve the web app and JSON API (settings from ATHAR_* variables; see docs/operators.md)."""
    import os
    import secrets

    import uvicorn

    from athar.commands._store import open_store
    from athar.web.app import create_app
    from athar.web.settings import Settings

    # A SettingsError, KeyConfigError or SchemaNotReady is an AtharError: athar.cli shows
    # it as one line with its exit code (3 for a store that is not ready).
    overrides: dict[str, object] = (
        {"environment": "development", "cookie_secure": False} if dev else {}
    )
    settings = Settings.from_env(None, **overrides)
    with open_store():  # refuses a store that is not ready before anything creates a file
        pass
    app = create_app(settings)
    click.echo(f"Athar on http://{host}:{port}/  (API docs: http://{host}:{port}/api/docs)")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False)
        return
    # Each worker builds its own app from the environment (checked above): hand it the same
    # settings, and in development one shared secret key, so CSRF tokens hold across workers.
    if dev:
        os.environ["ATHAR_ENV"] = "development"
        os.environ["ATHAR_COOKIE_SECURE"] = "false"
        os.environ.setdefault("ATHAR_SECRET_KEY", secrets.token_urlsafe(32))
    del app
    uvicorn.run(
        "athar.web.app:create_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
    )
