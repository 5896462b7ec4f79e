"""``athar serve``: run the web app on the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from athar.web.settings import Settings


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
    """Serve the web app and JSON API, and run the job worker (settings from ATHAR_* variables;
    see docs/operators.md)."""
    from athar import config
    from athar.commands._store import open_store
    from athar.services.worker import worker
    from athar.store.engine import make_engine
    from athar.web.settings import Settings

    # A SettingsError, KeyConfigError or SchemaNotReady is an AtharError: athar.cli shows
    # it as one line with its exit code (3 for a store that is not ready).
    overrides: dict[str, object] = (
        {"environment": "development", "cookie_secure": False} if dev else {}
    )
    settings = Settings.from_env(None, **overrides)
    with open_store():  # refuses a store that is not ready before anything creates a file
        pass
    # the job worker (candidates for new subjects, uploaded imports) runs in this process,
    # beside the server's: one per `athar serve`, however many server processes it starts
    job_worker = None
    if config.jobs_worker():
        job_worker = worker(
            make_engine(settings.database_url), poll_seconds=config.jobs_poll_seconds()
        )
        job_worker.start()
    try:
        _run(settings, host, port, dev, workers)
    finally:
        if job_worker is not None:
            job_worker.stop()


def _run(settings: Settings, host: str, port: int, dev: bool, workers: int) -> None:
    import os
    import secrets

    import uvicorn

    from athar.web.app import create_app

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
