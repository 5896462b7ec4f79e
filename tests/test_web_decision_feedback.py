"""After a decision the case worker is told what was recorded, and a confirmed match moves a
request out of "Registered" (issue 14, defect 12)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import null, select
from sqlalchemy.orm import Session

from athar.security.auth import Role
from athar.services.actor import Actor
from athar.services.registry.importer import ImportOptions, import_file
from athar.store.models import AuditEvent, LinkDecision, LinkRun, Record
from web_fixtures import Web, api_login, csrf, intake_json, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]


def _token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


def test_confirming_a_candidate_says_so_and_moves_the_request_on(web: Web, tmp_path: Path) -> None:
    public = web.client()
    r = public.post(
        "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": csrf(public)}
    )
    assert r.status_code == 201, r.text
    reference = r.json()["reference"]
    lists = tmp_path / "lists.csv"
    lists.write_text(
        "source,record_id,given_name,family_name,sex,status\nngo_ar,A-1,عمر,حداد,M,detained\n",
        encoding="utf-8",
    )
    assert import_file(web.engine, lists, ImportOptions(actor=Actor("t"))).exit_code == 0
    with Session(web.engine) as db:
        ids = {r.record_id: r.id for r in db.scalars(select(Record))}
        run = LinkRun(
            engine="test",
            settings={},
            model=null(),
            threshold=0.5,
            actor="t",
            started_at=datetime.now(UTC),
        )
        db.add(run)
        db.flush()
        db.add(
            LinkDecision(
                kind="automatic",
                record_a_id=ids[reference],
                record_b_id=ids["A-1"],
                score=4.0,
                link_run_id=run.id,
                decided_at=datetime.now(UTC),
            )
        )
        db.commit()
    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    api_login(client, "amira")
    assert client.get(f"/api/v1/tracing-requests/{reference}").json()["status"] == "registered"
    base = f"/requests/{reference}/candidates"
    pair = client.get(f"{base}/pair", params={"b": "ngo_ar:A-1", "lang": "en"})
    assert pair.status_code == 200, pair.text
    form = {"b": "ngo_ar:A-1", "csrf_token": _token(pair.text)}
    # no reason: back to the form itself, where the message is
    back = client.post(
        f"{base}/decisions", data={**form, "decision": "match"}, follow_redirects=False
    )
    assert back.status_code == 303 and back.headers["location"].endswith("#decide")
    done = client.post(
        f"{base}/decisions",
        data={**form, "decision": "match", "reason": "same mother, same village"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == f"{base}?decided=match"
    listed = client.get(done.headers["location"] + "&lang=en")
    assert "Recorded: the same person." in listed.text
    arabic = client.get(done.headers["location"] + "&lang=ar")
    assert 'role="status"' in arabic.text and "Recorded: the same person." not in arabic.text
    assert client.get(f"/api/v1/tracing-requests/{reference}").json()["status"] == "in_progress"
    with Session(web.engine) as db:
        changes = [
            json.loads(e.detail) if isinstance(e.detail, str) else e.detail
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.action == "tracing_request.status")
            )
        ]
    assert {"from": "registered", "to": "in_progress"} in changes
