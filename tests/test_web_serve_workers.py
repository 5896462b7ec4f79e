"""``athar serve --workers N``: several uvicorn processes serve one store, and a login made
through one worker holds (with its CSRF token) in the others; the job worker that ``athar
serve`` runs beside them takes a newly filed request's job."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.security.crypto import KeyRing
from athar.services.access.users import create_user
from athar.services.actor import CLI
from athar.services.jobs import JobView, latest_for
from athar.store import migrate
from athar.store.engine import make_engine
from web_fixtures import PASSWORD, SECRET, intake_json


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait_for_job(db_url: str, subject: str, timeout: float = 90) -> JobView | None:
    engine = make_engine(db_url)
    try:
        deadline = time.time() + timeout
        while True:
            with Session(engine) as db:
                job = latest_for(db, subject)
            if (job is not None and job.done) or time.time() > deadline:
                return job
            time.sleep(0.3)
    finally:
        engine.dispose()


def test_serve_with_two_workers(tmp_path: Path, db_url: str) -> None:
    import httpx

    engine = make_engine(db_url)
    try:
        migrate.upgrade(engine)
        create_user(
            engine,
            actor=CLI,
            username="amira",
            display_name="Amira",
            role=Role.CASE_WORKER,
            password=PASSWORD,
        )
    finally:
        engine.dispose()
    ring = KeyRing.generate("w")
    env = {
        **os.environ,
        "ATHAR_DATABASE_URL": db_url,
        "ATHAR_ENV": "production",
        "ATHAR_SECRET_KEY": SECRET,
        "ATHAR_COOKIE_SECURE": "false",
        "ATHAR_KEYS": ring.to_env(),
    }
    port = _port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "athar", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            assert proc.poll() is None, "athar serve exited"
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/session").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            token = client.get("/api/v1/session").json()["csrf_token"]
            r = client.post(
                "/api/v1/session",
                json={"username": "amira", "password": PASSWORD},
                headers={"X-CSRF-Token": token},
            )
            assert r.status_code == 200, r.text
            # new connections land on either worker; every one knows the session
            for _ in range(12):
                with httpx.Client(
                    base_url=f"http://127.0.0.1:{port}", cookies=client.cookies, timeout=30
                ) as fresh:
                    assert fresh.get("/api/v1/me").json()["username"] == "amira"
            # the job worker runs beside the servers: a request filed on the public form is
            # scored with no command run (here the job fails: the store was never linked)
            public = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
            with public:
                anon = public.get("/api/v1/session").json()["csrf_token"]
                filed = public.post(
                    "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": anon}
                )
                assert filed.status_code == 201, filed.text
            subject = f"family:{filed.json()['reference']}"
            job = _wait_for_job(db_url, subject)
            assert job is not None and job.done and job.state == "failed", job
            assert "have not been linked yet" in (job.message or "")
        assert len(_children(proc.pid)) >= 2
    finally:
        proc.terminate()
        proc.wait(timeout=30)
