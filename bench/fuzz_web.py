"""The web app under hostile requests (issue 18): a real server, real HTTP, for a given time.

Part of ``bench fuzz`` (:mod:`bench.bench_fuzz`).  One uvicorn process serves the app on a
fresh, migrated SQLite store (an administrator made beforehand); this process sends it, in a
seeded random order until the time is up:

``upload``
    hostile lists through ``POST /api/v1/imports`` with a valid session and CSRF token: XLSX
    with an inflated shared-strings table, a row or cell far past the sheet's end and many
    identical bad rows; a zip-bomb part; JSON nested, widened and lengthened past reason; a
    YAML column mapping with anchors and aliases ("billion laughs").
``json``
    JSON depth and width bombs, and YAML-ish aliases, as the *body* of every JSON route.
``oversized``
    a body past the route's limit on **every** state-changing route of the app, declared
    (``Content-Length``) or streamed (chunked), without a CSRF token: a declared one must be
    answered 413 before it is read; a streamed one 413 once it passes the limit, or refused
    (4xx) before it is read at all (a JSON route's missing token is refused without reading
    the body).
``random``
    random bytes with a random content type to a random route.

A crash is an answer of 500 or more, a dropped connection or a timeout; an oversized body
accepted (or, declared, answered anything but 413) is a violation.  The server's peak memory is its ``VmHWM`` (from
``/proc``), and every request is timed: both are checked against :data:`WEB_BOUNDS`.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import hostile

#: what the server must stay within while fuzzed
WEB_BOUNDS = {
    "slowest_seconds": 15.0,  # an upload's parse is cut at 10 s (ATHAR_LIMIT_UPLOAD_PARSE_SECONDS)
    "peak_rss_mib": 1024.0,
}
#: the server's limits for the run (small list limit: an oversized upload is cheap to send)
SERVER_ENV = {
    "ATHAR_IMPORT_MAX_BYTES": str(8 * 1024 * 1024),
    "ATHAR_MAX_BODY_BYTES": str(256 * 1024),
    "ATHAR_PHOTO_MAX_BYTES": str(2 * 1024 * 1024),
    "ATHAR_LOGIN_RATE_PER_IP": "1000000",
    "ATHAR_SEARCH_RATE_PER_MINUTE": "1000000",
}
PASSWORD = "fuzz password that is long enough"
#: routes that start or end a session: sent by the anonymous client only
SESSION_ROUTES = frozenset({"/api/v1/session", "/login", "/logout"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mib(pid: int, field: str = "VmHWM") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every state-changing route, path parameters filled in."""
    import re

    from athar.web.app import routers

    out = []
    for router in routers():
        for route in router.routes:
            for method in sorted(getattr(route, "methods", None) or ()):
                if method in {"POST", "PUT", "PATCH", "DELETE"}:
                    out.append((method, re.sub(r"\{[^}]+\}", "T-2026-0001", route.path)))  # type: ignore[attr-defined]
    return sorted(set(out))


def _limit(path: str) -> int:
    from athar.web.bodylimit import limit_for
    from athar.web.settings import Settings

    s = Settings(
        environment="development",
        import_max_bytes=int(SERVER_ENV["ATHAR_IMPORT_MAX_BYTES"]),
        max_body_bytes=int(SERVER_ENV["ATHAR_MAX_BODY_BYTES"]),
        photo_max_bytes=int(SERVER_ENV["ATHAR_PHOTO_MAX_BYTES"]),
    )
    return limit_for(s, path)


def _refused(status: int, streamed: bool) -> bool:
    """Was an oversized body refused as it should be?"""
    return status == 413 or (streamed and 400 <= status < 500)


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b"{" * min(size, total - sent)
        sent += size


class Server:
    """``athar`` served by uvicorn in a child process on a fresh store."""

    def __init__(self, workdir: Path) -> None:
        from athar.security.auth import Role
        from athar.services.access.users import create_user
        from athar.services.actor import CLI
        from athar.store.engine import make_engine
        from athar.store.migrate import upgrade

        self.url_db = f"sqlite:///{workdir / 'web.db'}"
        engine = make_engine(self.url_db)
        upgrade(engine)
        create_user(
            engine,
            actor=CLI,
            username="fuzzadmin",
            display_name="Fuzz",
            role=Role.ADMIN,
            password=PASSWORD,
        )
        engine.dispose()
        self.port = _free_port()
        env = {
            **os.environ,
            **SERVER_ENV,
            "ATHAR_ENV": "test",
            "ATHAR_DATABASE_URL": self.url_db,
            "ATHAR_SECRET_KEY": "fuzz-secret-key-that-is-long-enough-0123456789",
            "ATHAR_EPHEMERAL_KEY": "1",
            "ATHAR_COOKIE_SECURE": "false",
        }
        env.pop("ATHAR_KEY_FILE", None)
        env.pop("ATHAR_KEYS", None)
        self.log = (workdir / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "athar.web.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[1],
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    log = workdir / "server.log"
                    raise RuntimeError(f"the server did not start: see {log}") from None
                time.sleep(0.2)
        raise RuntimeError("the server did not start within 60 s")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def peak_mib(self) -> float:
        return _rss_mib(self.proc.pid)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _uploads(rnd: random.Random) -> list[tuple[str, str, Callable[[], bytes], bytes | None]]:
    """(case, file name, builder, mapping) of the hostile uploads, sized at random."""
    return [
        ("xlsx inflated shared strings", "list.xlsx",
         lambda: hostile.inflated_shared_strings(rnd.choice([10**5, 10**6, 3 * 10**6])), None),
        ("xlsx identical bad rows", "list.xlsx",
         lambda: hostile.identical_bad_rows(rnd.choice([1000, 20_000])), None),
        ("xlsx zip bomb", "list.xlsx",
         lambda: hostile.zip_bomb_member(rnd.choice([50, 200]) * 1024 * 1024), None),
        ("xlsx far cell (inflated rows)", "list.xlsx",
         lambda: hostile.far_cell(rnd.choice([2, 1_048_576]), rnd.choice(["A", "XFD"])), None),
        ("json depth bomb", "list.json",
         lambda: hostile.json_depth_bomb(rnd.choice([1000, 100_000])), None),
        ("json width bomb", "list.json",
         lambda: hostile.json_width_bomb(rnd.choice([10**5, 10**6])), None),
        ("json wide record", "list.json",
         lambda: hostile.json_wide_record(rnd.choice([10**4, 2 * 10**5])), None),
        ("yaml aliases mapping", "list.csv",
         lambda: b"source,record_id\nngo_x,1\n", hostile.yaml_billion_laughs()),
    ]  # fmt: skip


def run_web(seconds: float, seed: int, workdir: Path) -> dict[str, Any]:
    """Fuzz a live server for ``seconds``; return the counters, crashes and timings."""
    import httpx

    rnd = random.Random(seed)
    server = Server(workdir)
    counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    crashes: list[dict[str, Any]] = []
    violations: list[dict[str, Any]] = []
    slowest: dict[str, Any] = {"seconds": 0.0}
    routes = _routes()
    json_routes = [r for r in routes if r[1].startswith("/api/")]
    try:
        client = httpx.Client(base_url=server.base, timeout=60)
        anon = httpx.Client(base_url=server.base, timeout=60)
        token = client.get("/api/v1/session").json()["csrf_token"]
        r = client.post(
            "/api/v1/session",
            json={"username": "fuzzadmin", "password": PASSWORD},
            headers={"X-CSRF-Token": token},
        )
        r.raise_for_status()
        token = r.json()["csrf_token"]

        def send(kind: str, what: str, c: httpx.Client, method: str, path: str, **kw: Any) -> Any:
            counts[kind] += 1
            start = time.monotonic()
            try:
                resp = c.request(method, path, **kw)
                status: int | str = resp.status_code
            except httpx.HTTPError as exc:
                resp, status = None, f"{type(exc).__name__}"
            took = time.monotonic() - start
            statuses[f"{kind} {status}"] += 1
            if took > slowest["seconds"]:
                slowest.update(
                    seconds=round(took, 2), kind=kind, case=what, route=f"{method} {path}"
                )
            if not isinstance(status, int) or status >= 500:
                crashes.append({"kind": kind, "case": what, "route": f"{method} {path}",
                                "status": status, "seconds": round(took, 2)})  # fmt: skip
            return resp

        def upload() -> None:
            what, name, build, mapping = rnd.choice(_uploads(rnd))
            files: dict[str, Any] = {"file": (name, build(), "application/octet-stream")}
            if mapping is not None:
                files["mapping"] = ("mapping.yaml", mapping, "application/yaml")
            send("upload", what, client, "POST", "/api/v1/imports", files=files,
                 headers={"X-CSRF-Token": token})  # fmt: skip

        def session_of(path: str) -> httpx.Client:
            """The anonymous client for the routes that log in or out (the administrator's
            session must last the run)."""
            return anon if path in SESSION_ROUTES else client

        def json_bomb() -> None:
            method, path = rnd.choice(json_routes)
            limit = _limit(path)
            body, what = rnd.choice(
                [
                    (b"[" * min(limit - 1, 200_000), "depth bomb"),
                    (b"[" + b"{}," * (limit // 3 - 1) + b"{}]", "width bomb"),
                    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested objects"),
                    (b'{"given_name": "' + b"\\u0645" * (limit // 7) + b'"}', "long escaped text"),
                ]
            )
            send("json", what, session_of(path), method, path, content=body[:limit],
                 headers={"X-CSRF-Token": token, "content-type": "application/json"})  # fmt: skip

        def oversized() -> None:
            method, path = rnd.choice(routes)
            limit = _limit(path)
            streamed = rnd.random() < 0.5
            body: Any = _chunks(limit + 1) if streamed else b"{" * (limit + 1)
            what = f"{'streamed' if streamed else 'declared'} {limit + 1} bytes"
            resp = send("oversized", what, anon, method, path, content=body,
                        headers={"content-type": rnd.choice(["application/json",
                                 "multipart/form-data; boundary=x",
                                 "application/x-www-form-urlencoded"])})  # fmt: skip
            if resp is not None and not _refused(resp.status_code, streamed):
                violations.append({"kind": "oversized", "case": what, "route": f"{method} {path}",
                                   "status": resp.status_code})  # fmt: skip

        def random_body() -> None:
            method, path = rnd.choice(routes)
            body = rnd.randbytes(rnd.choice([0, 10, 1000, 100_000]))
            ctype = rnd.choice(["application/json", "multipart/form-data; boundary=--x",
                                "application/x-www-form-urlencoded", "text/csv", ""])  # fmt: skip
            send("random", f"{len(body)} random bytes as {ctype or 'nothing'}", session_of(path), method,
                 path, content=body, headers={"X-CSRF-Token": token, "content-type": ctype})  # fmt: skip

        # every route gets an oversized body at least once, both ways
        for method, path in routes:
            for streamed in (False, True):
                limit = _limit(path)
                body: Any = _chunks(limit + 1) if streamed else b"{" * (limit + 1)
                what = f"{'streamed' if streamed else 'declared'} {limit + 1} bytes"
                resp = send("oversized", what, anon, method, path, content=body,
                            headers={"content-type": "application/json"})  # fmt: skip
                if resp is not None and not _refused(resp.status_code, streamed):
                    violations.append({"kind": "oversized", "case": what,
                                       "route": f"{method} {path}", "status": resp.status_code})  # fmt: skip
        actions = [upload, upload, json_bomb, oversized, random_body]
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and server.alive():
            rnd.choice(actions)()
        client.close()
        anon.close()
    finally:
        alive = server.alive()
        peak = server.peak_mib()
        server.stop()
    if not alive:
        crashes.append({"kind": "server", "case": "the server process died", "route": "",
                        "status": "exited", "seconds": 0})  # fmt: skip
    problems = []
    if crashes:
        problems.append(f"{len(crashes)} crash(es)")
    if violations:
        problems.append(f"{len(violations)} oversized bodies not refused with 413")
    if slowest["seconds"] > WEB_BOUNDS["slowest_seconds"]:
        problems.append(f"slowest request over {WEB_BOUNDS['slowest_seconds']:g} s")
    if peak > WEB_BOUNDS["peak_rss_mib"]:
        problems.append(f"server peak memory over {WEB_BOUNDS['peak_rss_mib']:g} MiB")
    return {
        "seconds": seconds,
        "requests": dict(counts),
        "routes_with_a_body": len(routes),
        "statuses": dict(sorted(statuses.items())),
        "crashes": crashes[:50],
        "violations": violations[:50],
        "slowest": slowest,
        "server_peak_rss_mib": round(peak, 1),
        "bounds": WEB_BOUNDS,
        "within_bounds": not problems,
        "problems": problems,
    }
