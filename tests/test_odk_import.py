"""Importing encrypted ODK submissions (athar.services.casework.odk_import, ``athar odk``),
on SQLite and PostgreSQL: through the web forms' services and audit, with the instance id as
provenance, idempotent, refusing what cannot be trusted or no longer matches; from a folder and
from an ODK Central exchange replayed on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.orm import Session

from athar.cli import main
from athar.ingest.odk import CentralUnavailable, EncryptedSubmission, read_central, read_folder
from athar.security import crypto
from athar.security.auth import Role
from athar.security.keys import KeyRing
from athar.security.odk import generate_private_key, public_key_b64
from athar.services.actor import PUBLIC, Actor
from athar.services.casework import antemortem
from athar.services.casework.odk_forms import form_definition
from athar.services.casework.odk_import import import_submissions
from athar.services.casework.tracing import submit_request
from athar.services.casework.tracing_intake import validate_intake
from athar.store.casework import AntemortemRecord, OdkSubmission, RequestPhoto, TracingRequest
from athar.store.engine import make_engine
from athar.store.models import AuditEvent, Record
from odk_collect import encrypt, submission_xml

FIXTURES = Path(__file__).parent / "fixtures" / "odk_central"
CASE_WORKER = Actor("user:cw", Role.CASE_WORKER)


def _jpeg() -> bytes:
    """A real (synthetic, 8 x 8) JPEG: photos are decoded and re-encoded on intake."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (120, 80, 40)).save(out, "JPEG")
    return out.getvalue()


PHOTO = _jpeg()
PHONE = "+963 944 555 017"


@pytest.fixture
def ring() -> Iterator[KeyRing]:
    ring = KeyRing.generate("k1").with_new_odk_key("o1")
    crypto.configure(ring)
    yield ring
    crypto.configure(None)


@pytest.fixture
def engine(db_url: str, ring: KeyRing) -> Iterator[sa.Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def _public(ring: KeyRing) -> str:
    assert ring.odk_active is not None
    return public_key_b64(ring.odk[ring.odk_active])


def request_answers(name: str = "سمير خالد الحمصي", *, birth: str = "1984-03") -> str:
    return (
        "<requester_name>Synthetic Relative Hala</requester_name>"
        "<relationship>sibling</relationship>"
        f"<contact_phone>{PHONE}</contact_phone><contact_email/><contact_other/>"
        f"<full_name>{name}</full_name><given_name/><father_name/><grandfather_name/>"
        f"<family_name/><mother_name/><other_names/><sex>M</sex><birth_date>{birth}</birth_date>"
        "<age/><birth_place>Homs</birth_place><residence_place/><arrest_date>2013-05</arrest_date>"
        "<arrest_place/><facility/><last_seen_date/>"
        "<circumstances>Taken at a checkpoint (synthetic)</circumstances>"
        "<consent>partners research</consent><photo>photo.jpg</photo>"
    )


def submission(
    ring_or_key: KeyRing | str,
    kind: str,
    iid: str,
    answers: str,
    media: dict[str, bytes] | None = None,
) -> EncryptedSubmission:
    form = form_definition(kind)
    key = _public(ring_or_key) if isinstance(ring_or_key, KeyRing) else ring_or_key
    xml = submission_xml(form.form_id, form.version, iid, answers)
    enc = encrypt(key, form.form_id, form.version, iid, xml, media)
    return EncryptedSubmission(f"export/{iid}/submission.xml", enc.manifest, enc.files)


def write_folder(root: Path, subs: list[EncryptedSubmission]) -> Path:
    for i, s in enumerate(subs):
        folder = root / "instances" / f"sub{i:02d}"
        folder.mkdir(parents=True)
        (folder / "submission.xml").write_bytes(s.manifest)
        for name, data in s.files.items():
            (folder / name).write_bytes(data)
    return root


def run(engine: sa.Engine, ring: KeyRing, subs: Any) -> Any:
    return import_submissions(
        engine, actor=CASE_WORKER, submissions=subs, odk_keys=ring.odk, photo_max_bytes=1_000_000
    )


def counts(engine: sa.Engine) -> dict[str, int]:
    with Session(engine) as db:
        return {
            t.__tablename__: db.scalar(sa.select(sa.func.count()).select_from(t)) or 0
            for t in (TracingRequest, Record, AntemortemRecord, OdkSubmission)
        }


def events(engine: sa.Engine, action: str) -> list[dict[str, Any]]:
    with Session(engine) as db:
        rows = db.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        ).all()
        return [{"entity_id": r.entity_id, **json.loads(r.detail)} for r in rows]


def filed_request(engine: sa.Engine) -> str:
    intake = validate_intake(
        {"requester_name": "Synthetic Mother Rima", "relationship": "parent",
         "contact_phone": "+963 933 000 001", "full_name": "يوسف عمر الديري"},
        [], None, photo_max_bytes=1_000_000,
    )  # fmt: skip
    return submit_request(engine, actor=PUBLIC, intake=intake, language="ar").reference


# -- through the services, with provenance, once ------------------------------------------------


def test_submissions_become_requests_and_registrations_once(
    engine: sa.Engine, ring: KeyRing
) -> None:
    subs = [
        submission(ring, "request", "uuid:r1", request_answers(), {"photo.jpg": PHOTO}),
        submission(
            ring,
            "unidentified",
            "uuid:u1",
            "<kind>body</kind><sex>M</sex><age>30-35</age><height_cm>172</height_cm>"
            "<marks>scar on left forearm</marks><found_place>Damascus</found_place>"
            "<found_date>2014-02</found_date><facility/><detainee_number>4471</detainee_number>"
            "<notes/>",
        ),  # fmt: skip
    ]
    report = run(engine, ring, subs)
    assert [o.status for o in report.outcomes] == ["imported", "imported"], report.outcomes
    ref_t, ref_u = (o.reference for o in report.outcomes)
    assert ref_t.startswith("T-") and ref_u.startswith("U-")
    with Session(engine) as db:
        req = db.scalar(sa.select(TracingRequest).where(TracingRequest.reference == ref_t))
        assert req is not None
        assert req.contact_phone == PHONE and req.language == "ar"
        photo = db.get(RequestPhoto, req.photo_id)  # re-encoded without metadata
        assert photo is not None and photo.data.startswith(b"\xff\xd8\xff")
        assert req.consent == ["partners", "research"]
        record = db.get(Record, req.record_id)
        assert record is not None and record.full_name == "سمير خالد الحمصي"
        assert record.birth_date == "1984-03"
        prov = {p.instance_id: (p.form, p.reference, p.key_id, p.imported_by)
                for p in db.scalars(sa.select(OdkSubmission))}  # fmt: skip
    assert prov == {
        "uuid:r1": ("tracing_request", ref_t, "o1", "user:cw"),
        "uuid:u1": ("unidentified", ref_u, "o1", "user:cw"),
    }
    created = events(engine, "tracing_request.create")
    assert created[-1]["entity_id"] == ref_t and created[-1]["odk_instance_id"] == "uuid:r1"
    assert events(engine, "unidentified.create")[-1]["odk_instance_id"] == "uuid:u1"
    assert events(engine, "odk.import")[-1]["imported"] == ["uuid:r1", "uuid:u1"]

    before = counts(engine)
    n_created = len(events(engine, "tracing_request.create"))
    again = run(engine, ring, subs)
    assert [(o.status, o.reference) for o in again.outcomes] == [
        ("already", ref_t), ("already", ref_u),
    ]  # fmt: skip
    assert counts(engine) == before
    assert len(events(engine, "tracing_request.create")) == n_created
    assert events(engine, "odk.import")[-1]["already"] == 2


def test_an_antemortem_interview_is_stored_encrypted_and_read_with_an_audit(
    engine: sa.Engine, ring: KeyRing, db_url: str
) -> None:
    reference = filed_request(engine)
    sub = submission(
        ring, "antemortem", "uuid:a1",
        f"<request_reference>{reference}</request_reference>"
        "<informant_relationship>parent</informant_relationship><height>175</height>"
        "<dental_history>سن ذهبي في الفك العلوي</dental_history>"
        "<dentist>Synthetic Dr. Sami, Daraya, 2010</dentist>"
        "<fractures>left femur, 2005</fractures>"
        "<clothing_at_arrest>blue jacket</clothing_at_arrest>"
        "<donors><donor_name>Synthetic Mother Rima</donor_name>"
        "<donor_relationship>parent</donor_relationship></donors>"
        "<donors><donor_name>Synthetic Brother Adel</donor_name>"
        "<donor_relationship>sibling</donor_relationship></donors>",
    )  # fmt: skip
    report = run(engine, ring, [sub])
    assert report.outcomes[0].status == "imported", report.outcomes
    assert report.outcomes[0].reference.startswith(f"{reference}/antemortem/")
    with Session(engine) as db:
        views = antemortem.records_for(db, CASE_WORKER, reference)
    assert len(views) == 1
    view = views[0]
    assert view.channel == "odk" and view.created_by == "user:cw"
    assert view.answers["dental_history"] == "سن ذهبي في الفك العلوي"
    assert view.answers["fractures"] == "left femur, 2005" and view.answers["hair"] is None
    assert view.donors == [
        {"donor_name": "Synthetic Mother Rima", "donor_relationship": "parent"},
        {"donor_name": "Synthetic Brother Adel", "donor_relationship": "sibling"},
    ]
    assert events(engine, "antemortem.create")[-1]["odk_instance_id"] == "uuid:a1"
    viewed = events(engine, "antemortem.view")
    assert viewed[-1]["entity_id"] == reference and viewed[-1]["records"] == [view.id]
    # the content is sealed in the database, under the column's own name
    with engine.connect() as conn:
        raw = conn.execute(sa.text("SELECT content FROM antemortem_record")).scalar_one()
    assert "femur" not in raw and "Rima" not in raw and raw.startswith("athar1:k1:")
    # a reader without the permission sees nothing
    with Session(engine) as db, pytest.raises(Exception, match="read_requests"):
        antemortem.records_for(db, Actor("user:r", Role.RESEARCHER), reference)


def test_what_cannot_be_trusted_or_no_longer_matches_is_refused_and_the_rest_imported(
    engine: sa.Engine, ring: KeyRing
) -> None:
    good = submission(ring, "request", "uuid:ok", request_answers(), {"photo.jpg": PHOTO})
    tampered = submission(ring, "request", "uuid:t", request_answers("Synthetic Tampered"))
    data = bytearray(tampered.files["submission.xml.enc"])
    data[60] ^= 0x20
    tampered.files["submission.xml.enc"] = bytes(data)
    stranger = submission(public_key_b64(generate_private_key()), "request", "uuid:x",
                          request_answers("Synthetic Stranger"))  # fmt: skip
    stale = submission(ring, "unidentified", "uuid:s",
                       "<kind>body</kind><blood_group>O+</blood_group>")  # fmt: skip
    # a bad date, and its photo missing: both problems are named
    bad_values = submission(ring, "request", "uuid:b",
                            request_answers("Synthetic Baddate", birth="1984-13-45"))  # fmt: skip
    no_request = submission(
        ring, "antemortem", "uuid:n", "<request_reference>T-NOPE</request_reference><hair>x</hair>"
    )
    report = run(engine, ring, [tampered, stranger, good, stale, bad_values, no_request])
    by = {o.where.split("/")[1]: o for o in report.outcomes}
    assert by["uuid:ok"].status == "imported"
    reasons = {k: o.message for k, o in by.items() if o.status == "refused"}
    assert set(reasons) == {"uuid:t", "uuid:x", "uuid:s", "uuid:b", "uuid:n"}
    assert "fails its signature check" in reasons["uuid:t"]
    assert "encrypted to a key Athar does not hold" in reasons["uuid:x"]
    assert "<blood_group>" in reasons["uuid:s"] and "no longer matches" in reasons["uuid:s"]
    assert "field birth_date: This is not a valid date" in reasons["uuid:b"]
    assert "field photo: the photo file photo.jpg is missing" in reasons["uuid:b"]
    assert "no tracing request with this reference" in reasons["uuid:n"]
    assert all(r.startswith("export/uuid:") for r in reasons.values())
    assert counts(engine)["tracing_request"] == 1 and counts(engine)["odk_submission"] == 1
    refused = events(engine, "odk.import")[-1]["refused"]
    assert {r["where"].split("/")[1] for r in refused} == set(reasons)
    with Session(engine) as db:
        names = set(db.scalars(sa.select(Record.full_name)))
    assert not names & {"Synthetic Tampered", "Synthetic Stranger", "Synthetic Baddate"}


def test_a_submission_is_decrypted_with_a_rotated_out_key(engine: sa.Engine, ring: KeyRing) -> None:
    old = submission(ring, "request", "uuid:old", request_answers(), {"photo.jpg": PHOTO})
    rotated = ring.with_new_active("k2")  # `athar keys rotate`: new ODK key, old one kept
    assert rotated.odk_active == "k2"
    report = import_submissions(engine, actor=CASE_WORKER, submissions=[old],
                                odk_keys=rotated.odk, photo_max_bytes=1_000_000)  # fmt: skip
    assert report.outcomes[0].status == "imported"
    with Session(engine) as db:
        assert db.scalar(sa.select(OdkSubmission.key_id)) == "o1"


# -- the folder and the command line ------------------------------------------------------------


def test_the_commands_make_keys_forms_and_import_a_folder(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "athar.keys"
    KeyRing.generate("k1").write_file(key_file)
    for var in ("ATHAR_KEYS", "ATHAR_ACTIVE_KEY", "ATHAR_EPHEMERAL_KEY"):
        monkeypatch.delenv(var, raising=False)
    env = {
        "ATHAR_DATABASE_URL": db_url,
        "ATHAR_KEY_FILE": str(key_file),
        "ATHAR_ACTOR": "fieldlead",
    }
    crypto.configure(None)
    cli = CliRunner()
    try:
        out = cli.invoke(main, ["odk", "form", "request", str(tmp_path / "request.xlsx")], env=env)
        assert out.exit_code == 1 and "athar keys odk" in out.output
        made = cli.invoke(main, ["keys", "odk"], env=env)
        assert made.exit_code == 0, made.output
        public = made.stdout.strip().splitlines()[-1]
        assert KeyRing.from_file(key_file).odk_active is not None
        assert cli.invoke(main, ["keys", "odk"], env=env).stdout.strip() == public  # stable
        for kind in ("request", "antemortem", "unidentified"):
            res = cli.invoke(main, ["odk", "form", kind, str(tmp_path / f"{kind}.xlsx")], env=env)
            assert res.exit_code == 0, res.output
            assert public in (tmp_path / f"{kind}.xml").read_text(encoding="utf-8")
        folder = write_folder(tmp_path / "export", [
            submission(public, "request", "uuid:c1", request_answers(), {"photo.jpg": PHOTO}),
        ])  # fmt: skip
        res = cli.invoke(main, ["odk", "import", "--folder", str(folder)], env=env)
        assert res.exit_code == 0, res.output
        assert "imported uuid:c1 (athar_tracing_request) as T-" in res.output
        again = cli.invoke(main, ["odk", "import", "--folder", str(folder)], env=env)
        assert again.exit_code == 0 and "already imported uuid:c1" in again.output
        assert "0 imported, 1 already imported, 0 refused" in again.output
        broken = write_folder(tmp_path / "broken", [
            submission(public_key_b64(generate_private_key()), "request", "uuid:c2",
                       request_answers()),
        ])  # fmt: skip
        res = cli.invoke(main, ["odk", "import", "--folder", str(broken)], env=env)
        assert res.exit_code == 1
        assert "refused: " in res.stderr and "uuid:c2" in res.stderr
        assert "encrypted to a key Athar does not hold" in res.stderr
        empty = tmp_path / "empty"
        empty.mkdir()
        res = cli.invoke(main, ["odk", "import", "--folder", str(empty)], env=env)
        assert res.exit_code == 2 and "no submission.xml found" in res.output
        assert cli.invoke(main, ["odk", "import"], env=env).exit_code == 2
        engine = make_engine(db_url)
        assert events(engine, "tracing_request.create")[-1]["odk_instance_id"] == "uuid:c1"
        assert events(engine, "odk.import")[0]["imported"] == ["uuid:c1"]
        engine.dispose()

        # an antemortem interview for that request, then a key rotation
        reference = res_reference(cli.invoke(main, ["odk", "import", "--folder", str(folder)],
                                             env=env).output)  # fmt: skip
        interview = write_folder(tmp_path / "am", [
            submission(public, "antemortem", "uuid:c3",
                       f"<request_reference>{reference}</request_reference>"
                       "<scars_marks>synthetic scar, right hand</scars_marks>"),
        ])  # fmt: skip
        res = cli.invoke(main, ["odk", "import", "--folder", str(interview)], env=env)
        assert res.exit_code == 0 and f"as {reference}/antemortem/" in res.output, res.output
        rotated = cli.invoke(main, ["keys", "rotate", "--kid", "k2"], env=env)
        assert rotated.exit_code == 0, rotated.output
        status = cli.invoke(main, ["keys", "status"], env=env)
        assert "antemortem_record.content: k2: 1" in status.output, status.output
        new_public = cli.invoke(main, ["keys", "odk"], env=env).stdout.strip()
        assert new_public != public  # the forms must be made again...
        late = write_folder(tmp_path / "late", [  # ...but an interview on an old form still opens
            submission(public, "unidentified", "uuid:c4", "<kind>living</kind><sex>F</sex>"),
            submission(new_public, "unidentified", "uuid:c5", "<kind>body</kind>"),
        ])  # fmt: skip
        res = cli.invoke(main, ["odk", "import", "--folder", str(late)], env=env)
        assert res.exit_code == 0 and "2 imported" in res.output, res.output
    finally:
        crypto.configure(None)


def res_reference(output: str) -> str:
    """The tracing request reference an ``already imported ... as T-...`` line names."""
    line = next(x for x in output.splitlines() if x.startswith("already imported"))
    return line.split(" as ")[1].split(":")[0]


# -- ODK Central, replayed on loopback -----------------------------------------------------------


class Replay(BaseHTTPRequestHandler):
    """Answers exactly the recorded exchange; anything else is a 404 and noted."""

    recording: dict[str, Any]
    bodies: Path
    seen: list[str]
    unexpected: list[str]

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self, method: str) -> None:
        path = unquote(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        sent = self.rfile.read(length) if length else b""
        for entry in self.recording["exchange"]:
            if entry["method"] != method or entry["path"] != path:
                continue
            if path == "/v1/sessions":
                if json.loads(sent or b"{}") != entry["request_json"]:
                    bad = self.recording["refusals"]["bad_login"]
                    return self._answer(
                        bad["status"], json.dumps(bad["json"]).encode(), "application/json"
                    )
            elif self.headers.get("Authorization") != f"Bearer {self.recording['token']}":
                bad = self.recording["refusals"]["no_token"]
                return self._answer(
                    bad["status"], json.dumps(bad["json"]).encode(), "application/json"
                )
            self.seen.append(f"{method} {path}")
            if "body_file" in entry:
                body = (self.bodies / entry["body_file"]).read_bytes()
                return self._answer(entry["status"], body, entry["content_type"])
            return self._answer(
                entry["status"], json.dumps(entry["json"]).encode(), "application/json"
            )
        self.unexpected.append(f"{method} {path}")
        self._answer(404, b'{"code":404.1}', "application/json")

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")


@pytest.fixture
def central(tmp_path: Path, ring: KeyRing) -> Iterator[tuple[str, Replay]]:
    recording = json.loads((FIXTURES / "exchange.json").read_text(encoding="utf-8"))
    iid = "uuid:0d5c1a34-5b1e-4c0e-9d55-3f1c2b7a9e01"
    sub = submission(ring, "request", iid, request_answers(), {"photo.jpg": PHOTO})
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    (bodies / "submission.xml").write_bytes(sub.manifest)
    for name, data in sub.files.items():
        (bodies / name).write_bytes(data)
    handler = type("R", (Replay,), {"recording": recording, "bodies": bodies, "seen": [],
                                    "unexpected": []})  # fmt: skip
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler  # type: ignore[misc]
    finally:
        server.shutdown()
        server.server_close()


def _config(tmp_path: Path, url: str, password: str = "synthetic-password") -> Path:
    path = tmp_path / "pyodk_config.toml"
    path.write_text(
        f'[central]\nbase_url = "{url}"\nusername = "field.team@example.org"\n'
        f'password = "{password}"\ndefault_project_id = 7\n',
        encoding="utf-8",
    )
    return path


def test_submissions_are_read_from_central_with_pyodk(
    engine: sa.Engine, ring: KeyRing, central: tuple[str, Any], tmp_path: Path
) -> None:
    url, handler = central
    subs = list(read_central(_config(tmp_path, url), 7,
                             ["athar_tracing_request", "athar_unidentified"]))  # fmt: skip
    assert handler.unexpected == []
    assert handler.seen[0] == "POST /v1/sessions" and len(handler.seen) == 7
    assert [s.where for s in subs] == [
        "central project 7 form athar_tracing_request uuid:0d5c1a34-5b1e-4c0e-9d55-3f1c2b7a9e01"
    ]
    assert set(subs[0].files) == {"photo.jpg.enc", "submission.xml.enc"}
    report = run(engine, ring, subs)
    assert report.outcomes[0].status == "imported", report.outcomes
    assert run(engine, ring, subs).outcomes[0].status == "already"
    assert not (tmp_path / ".pyodk_cache.toml").exists()


def test_a_refused_central_login_is_a_clear_error(central: tuple[str, Any], tmp_path: Path) -> None:
    url, _ = central
    with pytest.raises(CentralUnavailable, match="ODK Central: The login request failed"):
        list(read_central(_config(tmp_path, url, "wrong"), 7, ["athar_tracing_request"]))
    with pytest.raises(CentralUnavailable, match="could not be reached"):
        list(read_central(_config(tmp_path, "http://127.0.0.1:9"), 7, ["athar_tracing_request"]))


def test_a_folder_export_is_read_one_submission_per_folder(tmp_path: Path, ring: KeyRing) -> None:
    subs = [submission(ring, "request", f"uuid:f{i}", request_answers()) for i in range(3)]
    got = list(read_folder(write_folder(tmp_path / "x", subs)))
    assert [g.manifest for g in got] == [s.manifest for s in subs]
    assert [g.files for g in got] == [s.files for s in subs]


def test_the_command_imports_from_central(
    db_url: str, ring: KeyRing, central: tuple[str, Any], tmp_path: Path
) -> None:
    url, handler = central
    key_file = tmp_path / "athar.keys"
    ring.write_file(key_file)
    env = {"ATHAR_DATABASE_URL": db_url, "ATHAR_KEY_FILE": str(key_file), "ATHAR_ACTOR": "lead",
           "ATHAR_KEYS": "", "ATHAR_EPHEMERAL_KEY": ""}  # fmt: skip
    args = ["odk", "import", "--central", str(_config(tmp_path, url)), "--project", "7"]
    res = CliRunner().invoke(main, [*args, "--form", "request"], env=env)
    assert res.exit_code == 0, res.output
    assert "imported uuid:0d5c1a34-5b1e-4c0e-9d55-3f1c2b7a9e01 (athar_tracing_request)" in (
        res.output
    )
    assert handler.unexpected == []
    # all three forms: the one Central does not have is skipped, the rest already imported
    res = CliRunner().invoke(main, args, env=env)
    assert "0 imported, 1 already imported, 0 refused" in res.output, res.output
    assert handler.unexpected == ["GET /v1/projects/7/forms/athar_antemortem/submissions"]
    res = CliRunner().invoke(main, ["odk", "import", "--central", "x.toml"], env=env)
    assert res.exit_code == 2 and "--central needs --project" in res.output
