"""``athar jobs``: the background job queue (scoring new subjects, uploaded imports).

athar jobs list [--state S] [--limit N]   # recent jobs, newest first
athar jobs work [--once]                  # run a worker here (beside `athar serve` with
                                          # ATHAR_JOBS_WORKER=false, on PostgreSQL)
"""

from __future__ import annotations

import click

STATES = click.Choice(["queued", "running", "succeeded", "failed", "timed_out"])


@click.group("jobs")
def jobs() -> None:
    """Background jobs: candidates for new requests and unidentified persons, uploaded imports.

    `athar serve` runs a worker in its own process (unless ATHAR_JOBS_WORKER=false); `athar
    jobs work` runs one on its own, for example on another machine on a PostgreSQL store.
    """


@jobs.command("list")
@click.option("--state", type=STATES, help="only jobs in this state")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
def list_jobs(state: str | None, limit: int) -> None:
    """Recent jobs, newest first: id, kind, state, subject, times, message."""
    from sqlalchemy.orm import Session

    from athar.commands._store import open_store
    from athar.services.jobs import count_by_state, recent_jobs

    with open_store() as engine, Session(engine) as db:
        found = recent_jobs(db, limit, state)
        counts = count_by_state(db)
    for j in found:
        when = j.finished_at or j.started_at or j.created_at
        click.echo(
            f"{j.id}\t{j.kind}\t{j.state}\t{j.subject or '-'}\t{when:%Y-%m-%d %H:%M:%S}"
            + (f"\t{j.message}" if j.message else "")
        )
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no jobs"
    click.echo(f"jobs: {summary}", err=True)


@jobs.command("work")
@click.option("--once", is_flag=True, help="run the queued jobs, then stop")
def work(once: bool) -> None:
    """Run queued jobs as they come (until interrupted), or the queued ones with --once."""
    from athar import config
    from athar.commands._store import open_store
    from athar.services.worker import run_queued, worker

    with open_store() as engine:
        if once:
            click.echo(f"ran {run_queued(engine)} job(s)")
            return
        w = worker(engine, poll_seconds=config.jobs_poll_seconds())
        click.echo("job worker running; stop it with Ctrl-C", err=True)
        try:
            w.run()
        except KeyboardInterrupt:
            click.echo("job worker stopped", err=True)
