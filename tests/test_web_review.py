"""A reviewer clears a queue item: both records side by side with the waterfall, then a
decision that the linking service stores and later runs obey.  On both stores."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from athar.linkage import runner
from athar.security.auth import Role
from athar.services.actor import Actor
from athar.services.linking import runs as linking
from athar.services.registry.importer import ImportOptions, import_file
from athar.store.models import AuditEvent, LinkDecision
from web_fixtures import Web, api_login, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]

FAST = runner.EngineConfig(memory_limit="1GB", threads=1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from athar.cli import main

    out = tmp_path_factory.mktemp("world")
    r = CliRunner().invoke(main, ["synth", str(out), "--persons", "300", "--seed", "11", "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def test_a_reviewer_clears_a_queue_item(web: Web, world: Path) -> None:
    for source in ("ngo_ar", "ngo_en"):
        assert import_file(
            web.engine, world / f"{source}.csv", ImportOptions(actor=Actor("t"))
        ).exit_code in (0, 1)
    linking.link_store(web.engine, cfg=FAST, actor=Actor("tester"))
    web.add_user("rami", Role.REVIEWER)
    client = web.client()
    token = api_login(client, "rami")

    queue = client.get("/api/v1/review/queue").json()
    assert queue, "the synthetic world should leave uncertain pairs to review"
    first = queue[0]
    pair = client.get("/api/v1/review/pair", params={"a": first["a"], "b": first["b"]}).json()
    assert pair["a"]["key"] == first["a"] and pair["b"]["source"] in ("ngo_ar", "ngo_en")
    explanation = pair["explanation"]
    total = explanation["prior"] + sum(
        s["weight"] + s["tf_adjustment"] for s in explanation["steps"]
    )
    assert total == pytest.approx(explanation["match_weight"], abs=1e-6)

    page = client.get("/review/pair", params={"a": first["a"], "b": first["b"], "lang": "ar"})
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert "لماذا أعطى النموذج هذا الزوج هذه الدرجة" in page.text
    form_token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert form_token
    # no reason: sent back to the pair with a message, nothing stored
    back = client.post(
        "/review/decisions",
        data={
            "a": first["a"],
            "b": first["b"],
            "decision": "match",
            "reason": "",
            "csrf_token": form_token.group(1),
        },
        follow_redirects=False,
    )
    # back to the form itself (issue 14, defect 12: the message sat 1,500 px below the top)
    assert back.status_code == 303 and "missing=1" in back.headers["location"]
    assert back.headers["location"].endswith("#decide")
    again = client.get(back.headers["location"].split("#")[0] + "&lang=en")
    assert 'id="decide"' in again.text and "Choose a decision and say why." in again.text
    done = client.post(
        "/review/decisions",
        data={
            "a": first["a"],
            "b": first["b"],
            "decision": "no_match",
            "reason": "different mothers' names",
            "csrf_token": form_token.group(1),
        },
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"] == "/review?decided=no_match"
    listed = client.get(done.headers["location"] + "&lang=en")
    assert "Recorded: not the same person." in listed.text  # the decision is acknowledged
    after = client.get("/api/v1/review/queue").json()
    assert [first["a"], first["b"]] not in [[i["a"], i["b"]] for i in after]

    if len(after) > 0:
        second = after[0]
        r = client.post(
            "/api/v1/review/decisions",
            json={
                "a": second["a"],
                "b": second["b"],
                "decision": "match",
                "reason": "same register number",
            },
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 201
    missing = client.get("/api/v1/review/pair", params={"a": "ngo_ar:NOPE", "b": first["b"]})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"

    with Session(web.engine) as db:
        human = db.scalars(select(LinkDecision).where(LinkDecision.kind != "automatic")).all()
        assert {d.actor for d in human} == {"user:rami"}
        assert any(
            d.kind == "cannot_link" and d.reason == "different mothers' names" for d in human
        )
        views = [
            json.loads(e.detail)
            for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "review.pair_view"))
        ]
    assert {"a": first["a"], "b": first["b"]} in views


def test_a_case_worker_sees_candidates_with_explanations_and_confirms_one(
    web: Web, world: Path
) -> None:
    import csv

    from web_fixtures import csrf, intake_json

    with (world / "persons.csv").open(encoding="utf-8") as fh:
        persons = [p for p in csv.DictReader(fh) if "ngo_ar" in p["on_lists"] and p["birth_date"]]
    with (world / "truth.csv").open(encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    person = persons[0]
    expected = {
        f"{t['source']}:{t['record_id']}"
        for t in truth
        if t["person_id"] == person["person_id"] and t["source"] in ("ngo_ar", "ngo_en")
    }
    for source in ("ngo_ar", "ngo_en"):
        assert import_file(
            web.engine, world / f"{source}.csv", ImportOptions(actor=Actor("t"))
        ).exit_code in (0, 1)
    public = web.client()
    body = intake_json(
        given_name=person["given_name"],
        father_name=person["father_name"],
        grandfather_name=person["grandfather_name"],
        family_name=person["family_name"],
        mother_name=person["mother_name"],
        sex=person["sex"],
        birth_date=person["birth_date"],
        arrest_date=person["arrest_date"],
        facility=None,
        arrest_place=None,
    )
    reference = public.post(
        "/api/v1/tracing-requests", json=body, headers={"X-CSRF-Token": csrf(public)}
    ).json()["reference"]
    linking.link_store(web.engine, cfg=FAST, actor=Actor("tester"))

    web.add_user("amira", Role.CASE_WORKER)
    client = web.client()
    token = api_login(client, "amira")
    found = client.get(f"/api/v1/tracing-requests/{reference}/candidates").json()
    keys = [c["key"] for c in found]
    assert expected & set(keys), (expected, keys[:5])
    best = next(c for c in found if c["key"] in expected)
    pair = client.get(
        f"/api/v1/tracing-requests/{reference}/candidates/pair", params={"b": best["key"]}
    ).json()
    assert pair["a"]["key"] == f"family:{reference}" and pair["b"]["key"] == best["key"]
    assert pair["explanation"] and pair["explanation"]["steps"]
    page = client.get(
        f"/requests/{reference}/candidates/pair", params={"b": best["key"], "lang": "ar"}
    )
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    listing = client.get(f"/requests/{reference}/candidates?lang=en")
    assert best["key"] in listing.text
    r = client.post(
        f"/api/v1/tracing-requests/{reference}/candidates/decisions",
        json={"b": best["key"], "decision": "match", "reason": "same mother and birth date"},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 201
    after = client.get(f"/api/v1/tracing-requests/{reference}/candidates").json()
    assert after[0]["key"] == best["key"] and after[0]["decision"] == "must_link"
    with Session(web.engine) as db:
        decision = db.scalars(select(LinkDecision).where(LinkDecision.kind == "must_link")).one()
        assert decision.actor == "user:amira" and decision.reason == "same mother and birth date"
        actions = {e.action for e in db.scalars(select(AuditEvent))}
    assert {"tracing_request.candidates_view", "review.pair_view", "link.must_link"} <= actions
