"""Hostile input (issue 18): small files that cost the server a great deal (findings 1 and 2),
and the public intake (findings 3, 12, 13 and 21).

The classes of attack, each kept closed by a test here: a workbook with an inflated
shared-strings table, a zip-bomb part, rows or columns past any list, many identical bad rows
(quarantined under the write lock), YAML with anchors and aliases ("billion laughs"), YAML and
JSON nested or widened past reason, and huge values quoted whole in messages.  The hostile
files are built on the fly (``bench/hostile.py``), never committed.  The longer fuzz run with
these cases is ``.venv/bin/python -m bench fuzz`` (see docs/security.md).

The intake: tracing requests throttled per address and for everyone (429 with Retry-After, a
page in both languages); photos decoded within a pixel limit and re-encoded without EXIF or
appended payloads; a list of requests that decrypts nothing; a reviewed "spam" status that
takes a request out of linkage and the figures; other names and residence encrypted, with
the migration of existing rows; the research extract without the person pseudonym unless
asked for.  Each test failed on the code before the fix.
"""

from __future__ import annotations

import base64
import json
import sys
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import hostile  # noqa: E402

from athar.errors import ConfigError
from athar.ingest.limits import InputLimits, current_limits, quote  # noqa: E402
from athar.ingest.mapping import MappingError, load_mapping  # noqa: E402
from athar.ingest.readers import UnusableInput, open_table  # noqa: E402
from athar.security.auth import Role  # noqa: E402
from athar.services.actor import Actor
from athar.services.registry import importer  # noqa: E402
from athar.services.registry.importer import ImportOptions, Problem, import_file  # noqa: E402
from athar.store.engine import make_engine  # noqa: E402
from web_fixtures import Web, api_login, keyring, web  # noqa: E402, F401

__all__ = ["keyring", "web"]

HEADER = "source,record_id,full_name,sex,birth_date\n"


def _stored(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        return tuple(  # type: ignore[return-value]
            c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
            for t in ("import_batch", "record", "quarantine_row")
        )


def _timed_import(engine: Engine, path: Path, **opts: Any) -> tuple[importer.FileResult, float]:
    start = time.monotonic()
    result = import_file(engine, path, ImportOptions(actor=Actor("test"), **opts))
    return result, time.monotonic() - start


# -- finding 1: workbooks ---------------------------------------------------------------------


def test_an_inflated_shared_strings_table_is_refused_before_parsing(
    db_engine: Engine, tmp_path: Path
) -> None:
    """3 million shared strings in 125 KB: before the fix, an import of over 10 minutes."""
    path = tmp_path / "strings.xlsx"
    path.write_bytes(hostile.inflated_shared_strings(3_000_000))
    assert path.stat().st_size < 130_000
    result, took = _timed_import(db_engine, path)
    assert result.outcome == "unusable" and result.exit_code == 2
    assert result.message is not None
    assert "strings.xlsx" in result.message and "shared-strings" in result.message
    assert str(current_limits().max_shared_strings) in result.message
    assert took < 10
    assert _stored(db_engine) == (0, 0, 0)


def test_a_shared_strings_table_that_understates_its_size_is_counted(tmp_path: Path) -> None:
    """The declared count is only a first look: the strings are counted as they stream."""
    path = tmp_path / "liar.xlsx"
    path.write_bytes(hostile.inflated_shared_strings(5_000, declared=3))
    with pytest.raises(UnusableInput, match="more than 1000"):
        open_table(path, limits=InputLimits(max_shared_strings=1000))
    table = open_table(path, limits=InputLimits(max_shared_strings=10_000))  # within: read
    table.close()


def test_a_zip_bomb_part_is_refused_before_parsing(db_engine: Engine, tmp_path: Path) -> None:
    """64 MiB of padding zipped to 64 KB; past the ratio, or past the size of one part."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(hostile.zip_bomb_member(64 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    result, took = _timed_import(db_engine, path)
    assert result.outcome == "unusable" and result.message is not None
    assert "xl/worksheets/sheet1.xml" in result.message and "zip bomb" in result.message
    assert took < 10
    result, _ = _timed_import(
        db_engine, path, limits=InputLimits(max_member_bytes=16 * 1024 * 1024, max_zip_ratio=2000)
    )
    assert result.outcome == "unusable" and result.message is not None
    assert f"limit of {16 * 1024 * 1024} bytes per part" in result.message
    assert _stored(db_engine) == (0, 0, 0)


def test_rows_and_columns_past_the_limits_are_refused(tmp_path: Path) -> None:
    """A row far down the sheet (or far to the right) makes openpyxl pad every row between."""
    down = tmp_path / "down.xlsx"
    down.write_bytes(hostile.far_cell(row=5_000_000))
    with pytest.raises(UnusableInput, match="more than 1000 rows"):
        open_table(down, limits=InputLimits(max_rows=1000))
    right = tmp_path / "right.xlsx"
    right.write_bytes(hostile.far_cell(column="XFD"))
    with pytest.raises(UnusableInput, match="16384 cells, more than the limit of 1000"):
        open_table(right)
    csv = tmp_path / "long.csv"
    csv.write_text(HEADER + "s,1,x,,\n" * 50, encoding="utf-8")
    table = open_table(csv, limits=InputLimits(max_rows=10))
    with pytest.raises(UnusableInput, match="more than 10 rows"):
        list(table.rows())


@contextmanager
def _watch_the_write_lock(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """Record how long the write transaction lasts, and fail if a row is parsed inside it."""
    seen: dict[str, Any] = {"inside": False, "seconds": [], "parsed": 0}
    real_begin, real_prepare = importer.begin_write, importer._prepare

    @contextmanager
    def begin_write(engine: Engine) -> Iterator[Any]:
        start = time.monotonic()
        seen["inside"] = True
        try:
            with real_begin(engine) as conn:
                yield conn
        finally:
            seen["inside"] = False
            seen["seconds"].append(time.monotonic() - start)

    def prepare(*args: Any) -> Any:
        assert not seen["inside"], "a row was parsed while the write lock was held"
        seen["parsed"] += 1
        return real_prepare(*args)

    monkeypatch.setattr(importer, "begin_write", begin_write)
    monkeypatch.setattr(importer, "_prepare", prepare)
    yield seen


def test_many_identical_bad_rows_are_all_reported_but_not_all_stored(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the fix every bad row was stored under the write lock, and parsed inside it."""
    path = tmp_path / "same.xlsx"
    path.write_bytes(hostile.identical_bad_rows(3_000))
    reported: list[Problem] = []
    with _watch_the_write_lock(monkeypatch) as lock:
        result, _ = _timed_import(
            db_engine,
            path,
            limits=InputLimits(quarantine_per_problem=100),
            on_problem=reported.append,
        )
    assert lock["parsed"] == 3_000 and len(lock["seconds"]) == 1
    assert result.outcome == "quarantined" and result.exit_code == 1
    assert result.rows_total == result.rows_quarantined == 3_000
    assert result.rows_quarantine_summarised == 2_900 and result.quarantine_summaries == 1
    # every bad row is reported ...
    assert sorted(p.row for p in reported if p.column == "record_id") == list(range(2, 3_002))
    # ... but only the first 100, and one summary for the rest, are stored
    assert _stored(db_engine) == (1, 0, 101)
    with db_engine.connect() as c:
        row_number, problems = c.execute(
            text("SELECT row_number, problems FROM quarantine_row ORDER BY id DESC LIMIT 1")
        ).one()
        stored_total = c.execute(text("SELECT rows_quarantined FROM import_batch")).scalar_one()
    assert row_number == 102 and stored_total == 3_000
    assert "2900 rows from row 102 to row 3001 have exactly the problems" in problems
    assert result.message is not None
    assert "2900 quarantined rows have the same problems as the first 100" in result.message


def test_the_100k_row_workbook_holds_the_write_lock_briefly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The finding's own case, on SQLite (the store it locked): 100,000 identical rows in a
    small workbook; before the fix, 100,000 quarantine rows were written under the lock."""
    from athar.store.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'athar.db'}")
    upgrade(engine)
    path = tmp_path / "same.xlsx"
    path.write_bytes(hostile.identical_bad_rows(100_000))
    assert path.stat().st_size < 60_000
    with _watch_the_write_lock(monkeypatch) as lock:
        result, _ = _timed_import(engine, path)
    per_problem = current_limits().quarantine_per_problem
    assert result.rows_quarantined == 100_000
    assert _stored(engine) == (1, 0, per_problem + 1)
    assert lock["seconds"][0] < 5, lock["seconds"]
    engine.dispose()


def test_an_upload_that_takes_too_long_to_read_is_refused(
    db_engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "slow.xlsx"
    path.write_bytes(hostile.identical_bad_rows(3_000))
    result, _ = _timed_import(db_engine, path, time_limit=1e-6)
    assert result.outcome == "unusable" and result.message is not None
    assert "took longer than the limit" in result.message
    csv = tmp_path / "slow.csv"
    csv.write_text(HEADER + "s,1,x,,\n", encoding="utf-8")
    result, _ = _timed_import(db_engine, csv, time_limit=1e-6)
    assert result.outcome == "unusable"
    assert _stored(db_engine) == (0, 0, 0)


# -- finding 2: YAML and JSON -----------------------------------------------------------------


def _mapping(tmp_path: Path, body: bytes | str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return path


def test_a_billion_laughs_mapping_is_refused_fast_in_bounded_memory(tmp_path: Path) -> None:
    """448 bytes; before the fix, formatting the expanded value took minutes and gigabytes."""
    path = _mapping(tmp_path, hostile.yaml_billion_laughs())
    assert path.stat().st_size < 500
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(MappingError, match=r"anchors \(&name\) are not allowed"):
            load_mapping(path)
        took = time.monotonic() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert took < 2 and peak < 20 * 1024 * 1024


def test_yaml_anchors_aliases_and_bombs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="anchors"):
        load_mapping(_mapping(tmp_path, "constants: &c {status: missing}\nsplit: *c\n"))
    with pytest.raises(MappingError, match="more than 10000 values"):
        load_mapping(_mapping(tmp_path, "ignore: [" + ",".join(["a"] * 20_000) + "]\n"))
    with pytest.raises(MappingError, match="nested more than 16 deep"):
        load_mapping(_mapping(tmp_path, "ignore: " + "[" * 40 + "]" * 40 + "\n"))
    with pytest.raises(MappingError, match="larger than"):
        load_mapping(_mapping(tmp_path, "# " + "x" * (2 * 1024 * 1024) + "\n"))
    # an ordinary mapping still loads
    m = load_mapping(_mapping(tmp_path, "columns:\n  Case No: record_id\ndate_order: dmy\n"))
    assert m.columns == {"case no": "record_id"} and m.date_order == "dmy"


def test_values_quoted_in_messages_are_cut_short(db_engine: Engine, tmp_path: Path) -> None:
    """Before the fix each message quoted the whole value (here 100,000 characters)."""
    huge = "x" * 100_000
    with pytest.raises(MappingError) as got:
        load_mapping(_mapping(tmp_path, f"date_order: {huge}\nsheet: [1, 2]\n"))
    assert len(str(got.value)) < 600 and "(100000 characters)" in str(got.value)
    path = tmp_path / "long.csv"
    rows = [f"s,{i},x,{huge},{huge}" for i in range(3)]
    rows.append("s,dup,a,,")
    rows += ["s,dup,b,,"] * 200  # one key on 201 rows with different content
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    reported: list[Problem] = []
    result, _ = _timed_import(db_engine, path, on_problem=reported.append)
    assert result.outcome == "quarantined"
    assert {p.column for p in reported} >= {"sex", "birth_date", "record_id"}
    assert max(len(p.reason) for p in reported) < 300
    assert quote(huge).endswith("... (100000 characters)") and len(quote(huge)) < 120
    assert quote(list(range(10**6))) == "<a list of 1000000 items>"
    assert "bits" in quote(10**100_000)  # str() of this would raise (and take long)


def test_json_depth_width_and_size_bombs_are_refused(db_engine: Engine, tmp_path: Path) -> None:
    cases = [
        ("deep.json", hostile.json_depth_bomb(100_000), None, "not valid JSON"),
        (
            "nested.json",
            b'[{"source":"s","record_id":"1","notes":' + b"[" * 200 + b"]" * 200 + b"}]",
            None,
            "nested more than 32 deep",
        ),
        ("wide.json", hostile.json_wide_record(5_000), None, "more than 1000 different fields"),
        ("long.json", hostile.json_width_bomb(5_000), InputLimits(max_rows=1000), "1000 rows"),
        ("big.json", hostile.json_width_bomb(5_000), InputLimits(max_json_bytes=1000), "bytes"),
        (
            "many.json",
            hostile.json_width_bomb(5_000),
            InputLimits(max_json_containers=1000),
            "more than 1000 objects and lists",
        ),
    ]
    for name, data, limits, message in cases:
        path = tmp_path / name
        path.write_bytes(data)
        result, took = _timed_import(db_engine, path, limits=limits)
        assert result.outcome == "unusable", name
        assert result.message is not None and message in result.message, result.message
        assert len(result.message) < 400 and took < 10
    assert _stored(db_engine) == (0, 0, 0)


def test_limits_can_be_tuned_from_the_environment() -> None:
    got = current_limits(
        {"ATHAR_LIMIT_MAX_ROWS": "5000", "ATHAR_LIMIT_UPLOAD_PARSE_SECONDS": "9.5"}
    )
    assert got.max_rows == 5000 and got.upload_parse_seconds == 9.5
    assert current_limits({}) == InputLimits()
    with pytest.raises(ConfigError, match="ATHAR_LIMIT_MAX_CELLS"):
        current_limits({"ATHAR_LIMIT_MAX_CELLS": "many"})
    with pytest.raises(ConfigError, match="ATHAR_LIMIT_MAX_CELS"):  # a typo is not ignored
        current_limits({"ATHAR_LIMIT_MAX_CELS": "10"})


# -- the web upload ---------------------------------------------------------------------------


def test_a_hostile_upload_is_refused_by_the_api_quickly(web: Web) -> None:
    """The upload route reads within the same limits (and under a time limit)."""
    web.add_user("partner", Role.DATA_PARTNER, source_code="ngo_x")
    client = web.client()
    token = api_login(client, "partner")
    cases = [
        ("list.xlsx", hostile.inflated_shared_strings(3_000_000), None, "shared-strings"),
        ("list.csv", b"source,record_id\nngo_x,1\n", hostile.yaml_billion_laughs(), "anchors"),
    ]
    for name, data, mapping, message in cases:
        files = {"file": (name, data, "application/octet-stream")}
        if mapping is not None:
            files["mapping"] = ("mapping.yaml", mapping, "application/yaml")
        start = time.monotonic()
        response = client.post("/api/v1/imports", files=files, headers={"X-CSRF-Token": token})
        assert time.monotonic() - start < 10
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "unusable_file" and message in error["message"]
    assert _stored(web.engine) == (0, 0, 0)


# -- issue 18, finding 13: the research extract's person pseudonym ---------------------------


def _linked_store(engine: Engine, tmp_path: Path) -> None:
    """Two lists of six people each, every person linked across both (a two-row person)."""
    from datetime import UTC, datetime

    from sqlalchemy.orm import Session

    from athar.store.models import Person, PersonRecord, Record

    for code in ("ngo_a", "ngo_b"):
        path = tmp_path / f"{code}.csv"
        body = "".join(f"{code},{code}-{i},Person {i},M,1980\n" for i in range(6))
        path.write_text(HEADER + body, encoding="utf-8")
        assert import_file(engine, path, ImportOptions(actor=Actor("t"))).outcome == "stored"
    now = datetime.now(UTC)
    with Session(engine) as db:
        ids = db.scalars(select(Record.id).order_by(Record.id)).all()
        assert len(ids) == 12
        for a, b in zip(ids[:6], ids[6:], strict=True):
            person = Person(created_at=now)
            db.add(person)
            db.flush()
            db.add_all(
                PersonRecord(person_id=person.id, record_id=r, created_at=now) for r in (a, b)
            )
        db.commit()


def test_the_research_extract_leaves_the_person_pseudonym_out_unless_asked(
    db_url: str, db_engine: Engine, tmp_path: Path
) -> None:
    """Before the fix the person column was in every extract unless ``--no-person``."""
    import csv

    from click.testing import CliRunner

    from athar.cli import main
    from athar.services.sharing.export_research import export_research

    _linked_store(db_engine, tmp_path)

    def header(path: Path) -> list[str]:
        with path.open(encoding="utf-8", newline="") as fh:
            return next(csv.reader(fh))

    default, asked = tmp_path / "default.csv", tmp_path / "asked.csv"
    export_research(db_engine, default, actor=Actor("op"), all_sources=True, k=2)
    assert "person" not in header(default)
    export_research(db_engine, asked, actor=Actor("op"), all_sources=True, k=2, with_person=True)
    assert header(asked)[:2] == ["record", "person"]
    env = {"ATHAR_DATABASE_URL": db_url, "ATHAR_ACTOR": "cli-operator"}
    for flags, has_person in (([], False), (["--with-person"], True), (["--no-person"], False)):
        out = tmp_path / f"cli{len(flags)}{has_person}.csv"
        result = CliRunner().invoke(
            main, ["export", "research", str(out), "--all-sources", *flags], env=env
        )
        assert result.exit_code == 0, result.output
        assert ("person" in header(out)) is has_person, flags
    from athar.store.models import AuditEvent

    with db_engine.connect() as conn:
        details = [
            json.loads(d)
            for d in conn.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.action == "export.research")
                .order_by(AuditEvent.seq)
            )
        ]
    assert [d["with_person"] for d in details] == [False, True, False, True, False]


# -- issue 18, finding 12: photos -------------------------------------------------------------


def _exif_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    """A JPEG carrying what a phone writes: its model and the GPS position, and a comment."""
    import io

    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "SyntheticMaker"  # Make
    exif[0x0110] = "SyntheticPhone X9"  # Model
    exif[0x8825] = {1: "N", 2: (33.0, 30.0, 15.0), 3: "E", 4: (36.0, 17.0, 42.0)}  # GPSInfo
    out = io.BytesIO()
    Image.new("RGB", size, (90, 140, 200)).save(
        out, format="JPEG", exif=exif.tobytes(), icc_profile=b"SyntheticICC" * 8, comment=b"GPS"
    )
    return out.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` pixels in a few hundred bytes."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 65536, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _file(client: Any, token: str, photo: bytes, lang: str = "en") -> Any:
    from web_fixtures import intake_json

    form = {k: v for k, v in intake_json().items() if isinstance(v, str)}
    return client.post(
        f"/request?lang={lang}",
        data={**form, "csrf_token": token},
        files={"photo": ("photo.jpg", photo, "image/jpeg")},
    )


def test_a_photo_loses_its_exif_and_anything_hidden_after_it(web: Web) -> None:
    """Before the fix the phone model and GPS position came back unchanged, and a polyglot's
    payload was stored and served with the photo."""
    import io
    import re

    from PIL import Image
    from sqlalchemy.orm import Session

    from athar.store.casework import RequestPhoto
    from web_fixtures import csrf

    web.add_user("amira", Role.CASE_WORKER)
    sent = _exif_jpeg() + b"PK\x03\x04polyglot<script>alert(1)</script>"
    assert b"SyntheticPhone X9" in sent and Image.open(io.BytesIO(sent)).getexif()
    client = web.client()
    response = _file(client, csrf(client), sent)
    assert response.status_code == 201, response.text
    reference = re.search(r'class="reference" dir="ltr">(T-[^<]+)<', response.text)
    assert reference is not None
    staff = web.client()
    api_login(staff, "amira")
    served = staff.get(f"/api/v1/tracing-requests/{reference.group(1)}/photo")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    with Session(web.engine) as db:
        stored = db.scalars(select(RequestPhoto.data)).one()
    for photo in (served.content, stored):
        assert photo is not None
        for leak in (b"SyntheticPhone", b"SyntheticMaker", b"Exif", b"SyntheticICC", b"PK\x03"):
            assert leak not in photo, leak
        assert b"<script>" not in photo
        image = Image.open(io.BytesIO(photo))
        assert not image.getexif() and "icc_profile" not in image.info
        assert image.size == (64, 48)


def test_a_huge_png_is_refused_before_it_is_decoded_in_both_languages(web: Web) -> None:
    """A 100,000 x 100,000 PNG of a few KiB was accepted before the fix."""
    from sqlalchemy.orm import Session

    from athar.store.models import Record
    from web_fixtures import csrf, intake_json

    bomb = _png_header_only(100_000, 100_000)
    assert len(bomb) < 4096
    client = web.client()
    token = csrf(client)
    start = time.monotonic()
    english = _file(client, token, bomb, "en")
    arabic = _file(client, token, bomb, "ar")
    assert time.monotonic() - start < 5
    assert english.status_code == arabic.status_code == 422
    assert "The photo has too many pixels" in english.text
    assert "عدد نقاط الصورة كبير جدًا" in arabic.text
    for refused, message in (
        (b"GIF89a" + b"\0" * 64, "The photo must be a JPEG, PNG or WebP image."),
        (b"\xff\xd8\xff" + b"\0" * 64, "The photo cannot be read"),
    ):
        answer = _file(client, token, refused, "en")
        assert answer.status_code == 422 and message in answer.text
    api = client.post(
        "/api/v1/tracing-requests",
        json={
            **intake_json(),
            "photo_base64": base64.b64encode(bomb).decode(),
        },
        headers={"X-CSRF-Token": token},
    )
    assert api.status_code == 422
    assert api.json()["error"]["fields"] == [
        {"field": "photo", "message": "The photo has too many pixels; send a smaller picture."}
    ]
    with Session(web.engine) as db:
        assert db.scalar(select(func.count()).select_from(Record)) == 0


def test_the_pixel_limit_is_a_setting() -> None:
    from athar.services.casework.photos import PhotoRefused, clean_photo
    from athar.web.settings import Settings
    from web_fixtures import image_bytes

    photo = image_bytes("PNG", size=(100, 100))
    assert clean_photo(photo, max_pixels=10_000).content_type == "image/png"
    with pytest.raises(PhotoRefused, match="too many pixels"):
        clean_photo(photo, max_pixels=9_999)
    env = {"ATHAR_PHOTO_MAX_PIXELS": "1234", "ATHAR_ENV": "test", "ATHAR_SECRET_KEY": "x" * 40}
    assert Settings.from_env(env).photo_max_pixels == 1234


# -- issue 18, finding 3: intake throttle -----------------------------------------------------


@pytest.fixture
def throttled(db_url: str, keyring: Any) -> Iterator[Web]:
    """Two requests per address per hour, three a minute from everyone."""
    from athar.web.app import create_app
    from web_fixtures import settings

    engine = make_engine(db_url)
    s = settings(db_url, intake_per_client_per_hour=2, intake_per_minute=3, intake_per_hour=50)
    try:
        yield Web(create_app(s, engine=engine, keyring=keyring), engine, s)
    finally:
        engine.dispose()


def test_intake_is_throttled_per_address_and_for_everyone(throttled: Web) -> None:
    """Before the fix 40 anonymous requests went through in 3.8 s."""
    from fastapi.testclient import TestClient
    from sqlalchemy.orm import Session

    from athar.store.casework import TracingRequest
    from web_fixtures import csrf, intake_json

    def client(address: str) -> TestClient:
        return TestClient(throttled.app, client=(address, 40000))  # type: ignore[arg-type]

    def api(c: TestClient, token: str) -> Any:
        return c.post(
            "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
        )

    one = client("192.0.2.1")
    token = csrf(one)
    form = {k: v for k, v in intake_json().items() if isinstance(v, str)}
    first = one.post("/request", data={**form, "csrf_token": token})
    second = api(one, token)
    assert (first.status_code, second.status_code) == (201, 201)
    # the third from the same address: refused, by the API and by the page, both languages
    refused = api(one, token)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 3500 < int(refused.headers["Retry-After"]) <= 3600
    for lang, words in (("en", "Your request was not sent"), ("ar", "لم يُرسَل طلبك")):
        page = one.post(f"/request?lang={lang}", data={**form, "csrf_token": token})
        assert page.status_code == 429 and words in page.text, lang
        assert int(page.headers["Retry-After"]) > 0
        assert ">60</bdi>" in page.text  # minutes to wait
    # another address has its own budget, until everyone's budget for the minute is spent
    two = client("192.0.2.2")
    assert api(two, csrf(two)).status_code == 201
    three = client("192.0.2.3")
    busy = api(three, csrf(three))
    assert busy.status_code == 429 and 0 < int(busy.headers["Retry-After"]) <= 60
    with Session(throttled.engine) as db:
        assert db.scalar(select(func.count()).select_from(TracingRequest)) == 3


# -- issue 18, finding 21 (and the photo's own table, finding 3): sealed at rest -------------


def _file_request(engine: Engine, photo: bytes | None) -> str:
    from athar.services.actor import PUBLIC
    from athar.services.casework.tracing import submit_request
    from athar.services.casework.tracing_intake import validate_intake

    intake = validate_intake(
        {
            "requester_name": "Synthetic Relative Huda",
            "relationship": "sibling",
            "contact_phone": "+963 944 000 321",
            "given_name": "Omar",
            "family_name": "Haddad",
            "other_names": "Abu Synthetic Alias",
            "residence_place": "Synthetictown Quarter",
        },
        ["partners"],
        photo,
        photo_max_bytes=1_000_000,
    )
    return submit_request(engine, actor=PUBLIC, intake=intake, language="en").reference


def test_other_names_and_residence_are_encrypted_and_migrated(
    empty_db_url: str, tmp_path: Path
) -> None:
    """Before the fix both were plaintext in ``tracing_request``, and the photo sat in the
    row.  Revision 0106 encrypts existing values and moves existing photos (and 0104 is
    restored by the downgrade); the case worker's view shows the values as given."""
    import hashlib

    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    from athar.security import crypto
    from athar.security.keys import KeyRing
    from athar.services.actor import Actor
    from athar.services.casework.tracing import get_request_for
    from athar.store import migrate
    from web_fixtures import image_bytes, stored_photo

    crypto.configure(KeyRing.generate("k-test"))
    engine = make_engine(empty_db_url)
    try:
        migrate.upgrade(engine)
        photo = image_bytes("JPEG", size=(40, 30))
        reference = _file_request(engine, photo)
        secrets = ("Abu Synthetic Alias", "Synthetictown Quarter")

        def raw_request() -> dict[str, Any]:
            with engine.connect() as conn:
                row = conn.execute(text("SELECT * FROM tracing_request")).mappings().one()
            return dict(row)

        def check_sealed() -> None:
            row = raw_request()
            assert "photo" not in row and row["photo_id"] is not None
            for secret in secrets:
                assert secret not in " ".join(repr(v) for v in row.values())
            assert str(row["other_names"]).startswith("athar1:")
            with engine.connect() as conn:
                data, size, digest = conn.execute(
                    text("SELECT data, size, sha256 FROM request_photo")
                ).one()
            plain = crypto.decrypt_bytes(bytes(data), "request_photo.data")
            assert plain == stored_photo(photo) and size == len(plain)
            assert digest == hashlib.sha256(plain).hexdigest()
            with Session(engine) as db:
                view = get_request_for(db, Actor("amira", role=Role.CASE_WORKER), reference)
            assert (view.other_names, view.residence_place) == secrets and view.has_photo

        check_sealed()
        migrate.downgrade(engine, "0104")  # the old layout: plaintext, the photo in the row
        old = raw_request()
        assert (old["other_names"], old["residence_place"]) == secrets
        assert crypto.decrypt_bytes(bytes(old["photo"]), "tracing_request.photo") == (
            stored_photo(photo)
        )
        assert "request_photo" not in inspect(engine).get_table_names()
        migrate.upgrade(engine)  # revision 0106 on a store with requests
        check_sealed()
    finally:
        engine.dispose()
        crypto.configure(None)


# -- issue 18, finding 3: a list of requests decrypts nothing ----------------------------------


def test_the_request_list_decrypts_no_photo_and_no_contact(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before the fix a list decrypted every listed row's photo, contacts and account."""
    from sqlalchemy.orm import Session

    from athar.security import crypto
    from athar.security.keys import KeyRing
    from athar.services.actor import Actor
    from athar.services.casework.tracing import get_contact_for, list_requests
    from web_fixtures import image_bytes

    crypto.configure(KeyRing.generate("k-test"))
    try:
        references = [_file_request(db_engine, image_bytes("JPEG")) for _ in range(3)]
        opened: list[str] = []
        real_open = crypto._open

        def counting(kid: str, body: bytes, context: str, ring: Any) -> bytes:
            opened.append(context)
            return real_open(kid, body, context, ring)

        monkeypatch.setattr(crypto, "_open", counting)
        worker = Actor("amira", role=Role.CASE_WORKER)
        with Session(db_engine) as db:
            items, total = list_requests(db, actor=worker)
        assert total == 3 and sorted(i.reference for i in items) == sorted(references)
        assert [i.name for i in items] == ["Omar Haddad"] * 3
        assert opened == []  # nothing decrypted for a list
        with Session(db_engine) as db:
            contact = get_contact_for(db, worker, references[0])
        assert contact.phone == "+963 944 000 321"
        assert "tracing_request.contact_phone" in opened  # the counter counts
        assert not any(c.startswith("request_photo") for c in opened)
    finally:
        crypto.configure(None)


# -- issue 18, finding 3: a reviewed way to mark a request as spam ----------------------------


def test_spam_is_marked_by_an_administrator_and_leaves_linkage_and_figures(web: Web) -> None:
    """Before the fix nothing could take a fake request out of linkage, candidates, the
    figures and the estimates' captures; now an administrator marks it as spam (audited, with
    a reason), and marks it as not spam again the same way."""
    from sqlalchemy.orm import Session

    from athar.services.casework.tracing import count_by_status
    from athar.services.figures.statistics import registry_view
    from athar.services.linking.runs import load_current
    from athar.store.models import AuditEvent
    from web_fixtures import csrf, intake_json

    web.add_user("admin", Role.ADMIN)
    web.add_user("amira", Role.CASE_WORKER)
    public = web.client()
    token = csrf(public)
    filed = [
        public.post(
            "/api/v1/tracing-requests", json=intake_json(), headers={"X-CSRF-Token": token}
        ).json()["reference"]
        for _ in range(2)
    ]
    real, fake = filed
    admin, worker = web.client(), web.client()
    admin_token, worker_token = api_login(admin, "admin"), api_login(worker, "amira")

    def state() -> tuple[set[str], set[str], dict[str, int], set[str]]:
        with Session(web.engine) as db:
            conn = db.connection()
            linked = set(load_current(conn)["record_id"])
            counted = {r.record_id for r in registry_view(conn).records}
            by_status = count_by_status(conn)
        listed = worker.get("/api/v1/tracing-requests").json()
        return linked, counted, by_status, {i["reference"] for i in listed["items"]}

    before = state()
    # link runs (and so candidates) and the figures and estimates read these records
    assert fake in before[0] and fake in before[1]
    assert before[2] == {"registered": 2} and before[3] == {real, fake}

    url = f"/api/v1/tracing-requests/{fake}/spam"
    body = {"spam": True, "reason": "the same text sent forty times"}
    # a case worker may not; without a reason, nobody may
    refused = worker.put(url, json=body, headers={"X-CSRF-Token": worker_token})
    assert refused.status_code == 404
    empty = admin.put(url, json={**body, "reason": " "}, headers={"X-CSRF-Token": admin_token})
    assert empty.status_code == 422 and empty.json()["error"]["fields"][0]["field"] == "reason"
    marked = admin.put(url, json=body, headers={"X-CSRF-Token": admin_token})
    assert marked.status_code == 200 and marked.json() == {"spam": True, "status": "spam"}

    linked, counted, by_status, listed = state()
    assert fake not in linked and fake not in counted and real in linked
    assert by_status == {"registered": 1} and listed == {real}
    spam_list = worker.get("/api/v1/tracing-requests?status=spam").json()
    assert [i["reference"] for i in spam_list["items"]] == [fake]
    assert worker.get(f"/api/v1/tracing-requests/{fake}").json()["status"] == "spam"
    status = worker.put(
        f"/api/v1/tracing-requests/{fake}/status",
        json={"status": "in_progress"},
        headers={"X-CSRF-Token": worker_token},
    )
    assert status.status_code == 422  # only "not spam" takes it back
    for lang, words in (("en", "This request is marked as spam"), ("ar", "معلَّم كطلب مزعج")):
        page = admin.get(f"/requests/{fake}?lang={lang}")
        assert words in page.text and 'name="spam" value="no"' in page.text
    assert 'value="spam"' in worker.get("/requests?status=spam").text  # the list's filter

    back = admin.post(
        f"/requests/{fake}/spam",
        data={"spam": "no", "reason": "a second request by the sister", "csrf_token": admin_token},
        follow_redirects=False,
    )
    assert back.status_code == 303
    assert state() == before
    with Session(web.engine) as db:
        events = db.scalars(
            select(AuditEvent).where(AuditEvent.action.like("tracing_request.%spam"))
        ).all()
    assert [(e.action, e.actor, e.entity_id) for e in events] == [
        ("tracing_request.spam", "user:admin", fake),
        ("tracing_request.not_spam", "user:admin", fake),
    ]
    assert [json.loads(e.detail)["reason"] for e in events] == [
        "the same text sent forty times",
        "a second request by the sister",
    ]
