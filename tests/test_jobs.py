"""Background jobs (issue 14 defect 1, issue 18 finding 1), on SQLite and PostgreSQL.

* A tracing request or an unidentified person registered through the web gets its candidates
  from the job worker that ``athar serve`` runs, with no command run by anyone; its page shows
  the job's state from the store.
* A job that cannot do its work shows its reason on the page.
* An uploaded import is a job with a time limit: past it, the job is stopped and marked timed
  out, nothing of the file is stored, and case work answers while the import runs.
"""

from __future__ import annotations

import csv
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from athar.linkage import runner
from athar.security.auth import Role
from athar.security.crypto import KeyRing
from athar.services import jobs
from athar.services.actor import Actor
from athar.services.linking import runs as linking
from athar.services.registry.importer import ImportOptions, import_file
from athar.services.worker import worker
from athar.store.engine import make_engine
from athar.store.models import AuditEvent, ImportBatch, Job, Record
from athar.web.app import create_app
from web_fixtures import Web, api_login, csrf, intake_json, keyring, settings, web  # noqa: F401

__all__ = ["keyring", "web"]

jobs_audit = AuditEvent.__table__
FAST = runner.EngineConfig(memory_limit="1GB", threads=1)
WAIT_S = 120  # a link run on a shared 2-core machine


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from athar.cli import main

    out = tmp_path_factory.mktemp("world")
    r = CliRunner().invoke(main, ["synth", str(out), "--persons", "300", "--seed", "11", "--quiet"])
    assert r.exit_code == 0, r.output
    return out


@pytest.fixture
def running_worker(web: Web) -> Iterator[jobs.Worker]:
    """The job worker as `athar serve` starts it, beside the app."""
    w = worker(web.engine, poll_seconds=0.2).start()
    try:
        yield w
    finally:
        w.stop()


def _state(text: str) -> str | None:
    m = re.search(r'data-state="([a-z_]+)"', text)
    return m.group(1) if m else None


def _poll_page(client, url: str, timeout: float = WAIT_S) -> str:  # type: ignore[no-untyped-def]
    """The page once its job has ended (polling, as a person reloading it would)."""
    deadline = time.monotonic() + timeout
    while True:
        page = client.get(url)
        assert page.status_code == 200, page.text
        state = _state(page.text)
        if state in jobs.DONE or time.monotonic() > deadline:
            return str(page.text)
        time.sleep(0.5)


def _first_row(world: Path, source: str) -> dict[str, str]:
    with (world / f"{source}.csv").open(encoding="utf-8") as fh:
        return next(csv.DictReader(fh))


def test_a_registered_request_gets_candidates_with_no_command_run(
    web: Web, world: Path, running_worker: jobs.Worker
) -> None:
    for source in ("ngo_ar", "ngo_en"):
        res = import_file(web.engine, world / f"{source}.csv", ImportOptions(actor=Actor("t")))
        assert res.exit_code in (0, 1), res.message
    linking.link_store(web.engine, cfg=FAST, actor=Actor("tester"))  # the first full run
    known = _first_row(world, "ngo_ar")  # the family asks about a person an NGO listed
    public = web.client()
    token = csrf(public)
    body = intake_json(
        given_name=known["given_name"],
        father_name=known["father_name"],
        family_name=known["family_name"],
        mother_name=known["mother_name"],
        sex="M" if known["sex"] == "ذكر" else "F",
        birth_date=known["birth_date"],
        arrest_date=known["arrest_date"],
        arrest_place=known["arrest_place"],
    )
    answer = public.post("/api/v1/tracing-requests", json=body, headers={"X-CSRF-Token": token})
    assert answer.status_code == 201, answer.text
    reference = answer.json()["reference"]

    web.add_user("amira", Role.CASE_WORKER)
    staff = web.client()
    api_login(staff, "amira")
    first = staff.get(f"/requests/{reference}?lang=en")
    assert _state(first.text) in ("queued", "running", "succeeded")  # the job was queued
    page = _poll_page(staff, f"/requests/{reference}?lang=en")
    assert _state(page) == "succeeded", page
    found = re.search(r"Candidates found: (\d+)", page)
    assert found and int(found.group(1)) >= 1, page
    listed = staff.get(f"/requests/{reference}/candidates?lang=en")
    assert f"ngo_ar:{known['record_id']}" in listed.text  # the NGO's record is a candidate
    ar = staff.get(f"/requests/{reference}?lang=ar").text
    assert "المرشحون الموجودون" in ar or "مرشح" in ar  # in Arabic too
    with Session(web.engine) as db:
        job = jobs.latest_for(db, f"family:{reference}")
        assert job is not None and job.state == jobs.SUCCEEDED and job.actor == "public:web"
        actions = [
            a
            for (a,) in db.execute(
                select(jobs_audit.c.action).where(jobs_audit.c.entity_id == str(job.id))
            )
        ]
    assert "job.start" in actions and "job.finish" in actions


def test_a_failing_job_shows_its_reason(web: Web, running_worker: jobs.Worker) -> None:
    """No full link run yet: the job cannot score, and the page says why."""
    web.add_user("amira", Role.CASE_WORKER)
    staff = web.client()
    token = api_login(staff, "amira")
    made = staff.post(
        "/api/v1/unidentified",
        json={"kind": "living", "sex": "M", "age": "40"},
        headers={"X-CSRF-Token": token},
    )
    assert made.status_code == 201, made.text
    reference = made.json()["reference"]
    page = _poll_page(staff, f"/unidentified/{reference}?lang=en")
    assert _state(page) == "failed", page
    assert "Finding candidates failed" in page and "have not been linked yet" in page
    ar = staff.get(f"/unidentified/{reference}?lang=ar").text
    assert "تعذّر البحث عن المرشحين" in ar and "لم تُربط القوائم بعد" in ar  # in Arabic too
    with Session(web.engine) as db:
        job = jobs.latest_for(db, f"unidentified:{reference}")
    assert job is not None and job.result == {"code": "not_linked_yet"}


def _big_list(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["source", "record_id", "given_name", "father_name", "family_name", "sex"])
        for i in range(rows):
            w.writerow(["ngo_big", f"B-{i}", f"Name{i % 997}", f"Father{i % 89}", f"Fam{i}", "M"])


def _count(engine, model) -> int:  # type: ignore[no-untyped-def]
    with Session(engine) as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_an_import_past_its_time_limit_is_stopped_and_case_work_goes_on(
    db_url: str, keyring: KeyRing, tmp_path: Path
) -> None:
    engine = make_engine(db_url)
    app = create_app(settings(db_url, import_time_limit=2), engine=engine, keyring=keyring)
    w = Web(app, engine, settings(db_url))
    try:
        w.add_user("admin", Role.ADMIN)
        w.add_user("amira", Role.CASE_WORKER)
        big = tmp_path / "big.csv"
        _big_list(big, 150_000)
        uploader = w.client()
        token = api_login(uploader, "admin")
        answers: dict[str, object] = {}

        def upload() -> None:
            with big.open("rb") as fh:
                r = uploader.post(
                    "/api/v1/imports",
                    files={"file": ("big.csv", fh, "text/csv")},
                    headers={"X-CSRF-Token": token},
                )
            answers["status"], answers["body"] = r.status_code, r.json()

        thread = threading.Thread(target=upload)
        thread.start()
        # while the import runs, case work answers
        deadline = time.monotonic() + 60
        while _running(engine) is None:
            assert time.monotonic() < deadline, "the import job never started"
            assert thread.is_alive(), answers
            time.sleep(0.05)
        staff = w.client()
        api_login(staff, "amira")
        started = time.monotonic()
        assert staff.get("/requests").status_code == 200
        assert w.client().get("/").status_code == 200  # the public form
        assert time.monotonic() - started < 5
        thread.join(120)
        assert not thread.is_alive()
        assert answers["status"] == 422, answers
        assert answers["body"]["error"]["code"] == "import_timed_out"  # type: ignore[index]
        with Session(engine) as db:
            job = jobs.recent_jobs(db, 1)[0]
        assert job.kind == jobs.IMPORT_LIST and job.state == jobs.TIMED_OUT
        assert "limit of 2 s" in (job.message or "")
        # nothing of the file was stored, and the store takes writes again
        assert _count(engine, ImportBatch) == 0 and _count(engine, Record) == 0
        assert not Path(str(job.args["spool"])).exists()  # the upload's copy is gone
        page = uploader.get(f"/imports/jobs/{job.id}?lang=en")
        assert page.status_code == 200 and "took longer than its limit of 2" in page.text
        ok = import_file(engine, _small(tmp_path), ImportOptions(actor=Actor("t")))
        assert ok.outcome == "stored" and _count(engine, Record) == 2
    finally:
        engine.dispose()


def _running(engine) -> int | None:  # type: ignore[no-untyped-def]
    with Session(engine) as db:
        return db.scalar(select(Job.id).where(Job.state == jobs.RUNNING))


def _small(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    path.write_text(
        "source,record_id,given_name,family_name\nngo_s,S-1,Omar,Haddad\nngo_s,S-2,Rami,Saleh\n",
        encoding="utf-8",
    )
    return path


def _queue(engine, n: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [
        jobs.enqueue(engine, kind=jobs.SCORE_SUBJECT, args={"n": i}, actor=Actor("test"))
        for i in range(n)
    ]


def test_workers_never_take_the_same_job(db_engine) -> None:  # type: ignore[no-untyped-def]
    queued = _queue(db_engine, 12)
    taken: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        while (job := jobs.claim(db_engine)) is not None:
            with lock:
                taken.append(job.id)

    threads = [threading.Thread(target=take) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(taken) == queued  # each job once, none left behind
    with Session(db_engine) as db:
        assert jobs.count_by_state(db) == {jobs.RUNNING: 12}


def test_how_a_job_ends_is_recorded_and_audited(db_engine) -> None:  # type: ignore[no-untyped-def]
    ok, refused, stopped, crashed = _queue(db_engine, 4)

    def handler(engine, job):  # type: ignore[no-untyped-def]
        n = job.args["n"]
        if n == 1:
            raise jobs.JobFailed("the list names no source")
        if n == 2:
            raise jobs.JobTimedOut("took longer than its limit")
        if n == 3:
            raise RuntimeError("secret detail that must not reach a page")
        return {"candidates": 3}

    for _ in range(4):
        assert jobs.run_one(db_engine, {jobs.SCORE_SUBJECT: handler}) is not None
    assert jobs.run_one(db_engine, {jobs.SCORE_SUBJECT: handler}) is None  # queue empty
    with Session(db_engine) as db:
        got = {j.id: j for j in jobs.recent_jobs(db)}
        audit = db.execute(
            select(jobs_audit.c.action, jobs_audit.c.actor).where(jobs_audit.c.entity_type == "job")
        ).all()
    assert got[ok].state == jobs.SUCCEEDED and got[ok].result == {"candidates": 3}
    assert got[refused].state == jobs.FAILED and got[refused].message == "the list names no source"
    assert got[stopped].state == jobs.TIMED_OUT
    assert got[crashed].state == jobs.FAILED and "secret" not in (got[crashed].message or "")
    assert "RuntimeError" in (got[crashed].message or "")
    assert all(j.started_at and j.finished_at for j in got.values())
    actions = [a for a, _ in audit]
    assert actions.count("job.queue") == 4 and actions.count("job.start") == 4
    assert actions.count("job.finish") == 4
    assert {who for a, who in audit if a != "job.queue"} == {"system:worker"}
