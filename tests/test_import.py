"""The import service on SQLite and PostgreSQL: every behaviour the issue asks for."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, text

from athar.services.actor import Actor
from athar.services.audit import verify_chain
from athar.services.registry import importer
from athar.services.registry.importer import ImportOptions, import_file

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
TODAY = date(2025, 6, 1)
HEADER = "source,record_id,given_name,father_name,family_name,sex,birth_date,status,facility"
TABLES = (
    "source",
    "import_batch",
    "record",
    "record_change",
    "quarantine_row",
    "status_event",
    "audit_event",
)


def opts(**kw: Any) -> ImportOptions:
    kw.setdefault("actor", Actor("tester"))
    kw.setdefault("today", TODAY)
    return ImportOptions(**kw)


def write(path: Path, lines: list[str], encoding: str = "utf-8", eol: str = "\n") -> Path:
    path.write_bytes(eol.join(lines).encode(encoding) + eol.encode(encoding))
    return path


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


def rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(text(sql), params))


def chain_ok(engine: Engine) -> bool:
    with engine.connect() as c:
        return verify_chain(c).ok


def test_shared_example_imports_cleanly(db_engine: Engine) -> None:
    r = import_file(db_engine, SHARED / "examples" / "records.csv", opts())
    assert (r.outcome, r.exit_code, r.rows_new, r.rows_quarantined) == ("stored", 0, 6, 0)
    c = counts(db_engine)
    assert c["record"] == 6 and c["source"] == 5 and c["import_batch"] == 1
    assert c["status_event"] == 6 and c["audit_event"] == 1
    rec = rows(db_engine, "SELECT * FROM record WHERE record_id = 'R-3906'")[0]
    assert rec.facility_code == "sednaya" and rec.facility == "سجن صيدنايا العسكري"
    assert rec.status_code == "detained" and rec.status_text == "موقوف"
    assert rec.detainee_number == "3906/227" and rec.birth_place_code == "homs"
    raw = json.loads(rec.raw)
    assert raw["family_name"] == "حلبي" and raw["sex"] == ""  # exactly as received
    assert list(raw)[:2] == ["source", "record_id"]
    batch = rows(db_engine, "SELECT * FROM import_batch")[0]
    assert batch.actor == "tester" and len(batch.content_hash) == 64
    assert batch.file_name == "records.csv" and batch.rows_new == 6
    assert chain_ok(db_engine)


def test_status_is_a_claim_with_its_record(db_engine: Engine, tmp_path: Path) -> None:
    f = write(
        tmp_path / "l.csv",
        [
            "source,record_id,status,last_seen_date,arrest_date",
            "a,1,deceased,2014-02,2012",
            "b,9,detained,,2013-05",
        ],
    )
    assert import_file(db_engine, f, opts()).exit_code == 0
    ev = rows(
        db_engine,
        "SELECT e.status_code, e.status_text, e.event_date, r.record_id, s.code "
        "FROM status_event e JOIN record r ON r.id = e.record_id "
        "JOIN source s ON s.id = e.source_id ORDER BY r.record_id",
    )
    assert [tuple(e) for e in ev] == [
        ("deceased", "deceased", "2014-02", "1", "a"),
        ("detained", "detained", "2013-05", "9", "b"),
    ]
    # Nothing about persons is concluded from a claim.
    assert rows(db_engine, "SELECT COUNT(*) FROM person")[0][0] == 0


def test_invalid_rows_are_quarantined_with_every_problem(db_engine: Engine, tmp_path: Path) -> None:
    f = write(
        tmp_path / "bad.csv",
        [
            HEADER,
            "ngo,1,محمد,أحمد,الحلبي,ذكر,1985,مختفي قسريا,صيدنايا",
            "ngo,2,Ali,,,M,1985-02-30,missing,",
            "ngo,,Omar,,,M,1985,missing,",
            "ngo,4,Sara,,,X,2099,gone,",
            ",5,Huda,,,F,1980,missing,",
        ],
    )
    r = import_file(db_engine, f, opts())
    assert (r.outcome, r.exit_code) == ("quarantined", 1)
    assert (r.rows_new, r.rows_quarantined) == (1, 4)
    c = counts(db_engine)
    assert c["record"] == 1 and c["quarantine_row"] == 4
    q = {x.row_number: x for x in rows(db_engine, "SELECT * FROM quarantine_row")}
    assert set(q) == {3, 4, 5, 6}
    p3 = json.loads(q[3].problems)
    assert p3 == [
        {
            "file": "bad.csv",
            "row": 3,
            "column": "birth_date",
            "reason": "day 30 does not exist in 1985-02",
            "severity": "error",
        }
    ]
    assert [p["column"] for p in json.loads(q[4].problems)] == ["record_id"]
    # Every problem of row 5 is listed: the bad date and the unknown words (warnings).
    cols5 = {(p["column"], p["severity"]) for p in json.loads(q[5].problems)}
    assert cols5 == {("sex", "warning"), ("status", "warning"), ("birth_date", "error")}
    assert json.loads(q[5].raw)["given_name"] == "Sara"
    assert q[6].source_code is None and json.loads(q[6].problems)[0]["column"] == "source"
    # The report carries file, row, column and reason for each.
    assert any(p.row == 3 and p.column == "birth_date" for p in r.problems)
    assert all(p.file == "bad.csv" for p in r.problems)


def test_warnings_alone_store_the_row(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "w.csv", ["source,record_id,sex,status", "s,1,unknownsex,strange status"])
    r = import_file(db_engine, f, opts())
    assert (r.exit_code, r.rows_new, r.warnings) == (0, 1, 2)
    rec = rows(db_engine, "SELECT sex_text, sex_code, status_text, status_code FROM record")[0]
    assert tuple(rec) == ("unknownsex", None, "strange status", None)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("noid.csv", "source,given_name\ns,Ali\n", "no record_id column"),
        ("nosrc.csv", "record_id,given_name\n1,Ali\n", "no source column"),
        ("unknown.csv", "source,record_id,shoe_size\ns,1,42\n", "'shoe_size'"),
        ("empty.csv", "", "empty"),
        ("dup-header.csv", "source,record_id,Source\ns,1,s\n", "more than once"),
    ],
)
def test_unusable_input_stores_nothing(
    db_engine: Engine, tmp_path: Path, name: str, content: str, reason: str
) -> None:
    before = counts(db_engine)
    f = tmp_path / name
    f.write_text(content, encoding="utf-8")
    r = import_file(db_engine, f, opts())
    assert (r.outcome, r.exit_code) == ("unusable", 2)
    assert r.message is not None and reason in r.message and name in r.message
    assert counts(db_engine) == before


def test_wrong_encoding_is_unusable(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "latin1.csv", ["source,record_id,given_name", "s,1,Hélène"], "latin-1")
    r = import_file(db_engine, f, opts())
    assert r.exit_code == 2 and "UTF-8" in (r.message or "")
    assert counts(db_engine)["record"] == 0
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"source,record_id\n\x00\x01\x02")
    assert import_file(db_engine, binary, opts()).exit_code == 2
    assert import_file(db_engine, tmp_path / "missing.csv", opts()).exit_code == 2


def test_source_option(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "ids.csv", ["record_id,given_name", "1,Ali", "2,Omar"])
    r = import_file(db_engine, f, opts(source="family"))
    assert (r.exit_code, r.rows_new) == (0, 2)
    assert (
        rows(db_engine, "SELECT DISTINCT s.code FROM record r JOIN source s ON s.id = r.source_id")[
            0
        ][0]
        == "family"
    )
    g = write(tmp_path / "both.csv", ["source,record_id", "family,3", "other,4", ",5"])
    r = import_file(db_engine, g, opts(source="family"))
    assert (r.rows_new, r.rows_quarantined) == (2, 1)
    assert r.problems[0].row == 3 and "--source" in r.problems[0].reason


def test_keep_extra(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", ["source,record_id,Shoe Size,tribe", "s,1,42,", "s,2,,x"])
    assert import_file(db_engine, f, opts()).exit_code == 2
    r = import_file(db_engine, f, opts(keep_extra=True))
    assert (r.exit_code, r.rows_new) == (0, 2)
    extra = {x.record_id: x.extra for x in rows(db_engine, "SELECT record_id, extra FROM record")}
    assert json.loads(extra["1"]) == {"Shoe Size": "42"} and json.loads(extra["2"]) == {
        "tribe": "x"
    }


def test_reimport_changes_nothing(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "l.csv", [HEADER, "ngo,1,محمد,أحمد,الحلبي,ذكر,1985,مختفي قسريا,"])
    assert import_file(db_engine, f, opts()).outcome == "stored"
    before = counts(db_engine)
    r = import_file(db_engine, f, opts())
    assert (r.outcome, r.exit_code) == ("already_imported", 0)
    # The same content under another name, and the same rows in another layout: no change.
    copy = tmp_path / "copy.csv"
    copy.write_bytes(f.read_bytes())
    assert import_file(db_engine, copy, opts()).outcome == "already_imported"
    crlf = write(
        tmp_path / "crlf.csv",
        ["record_id,source,given_name,father_name,family_name,sex,birth_date,status,facility",
         "1,ngo, محمد ,أحمد,الحلبي,ذكر,1985,مختفي قسريا,"],
        eol="\r\n",
    )  # fmt: skip
    r = import_file(db_engine, crlf, opts())
    assert (r.outcome, r.exit_code, r.rows_unchanged) == ("unchanged", 0, 1)
    assert counts(db_engine) == before


def test_reimport_of_quarantined_rows_adds_nothing(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "q.csv", ["source,record_id,birth_date", "s,1,1985-13"])
    assert import_file(db_engine, f, opts()).exit_code == 1
    before = counts(db_engine)
    assert import_file(db_engine, f, opts()).outcome == "already_imported"
    assert counts(db_engine) == before


def test_new_version_keeps_both(db_engine: Engine, tmp_path: Path) -> None:
    v1 = write(
        tmp_path / "v1.csv",
        ["source,record_id,given_name,status", "ngo,1,Ali,missing", "ngo,2,Omar,missing"],
    )
    v2 = write(
        tmp_path / "v2.csv",
        [
            "source,record_id,given_name,status",
            "ngo,1,Ali,released",
            "ngo,2,Omar,missing",
            "ngo,3,Huda,detained",
        ],
    )
    import_file(db_engine, v1, opts())
    r = import_file(db_engine, v2, opts())
    assert (r.rows_new, r.rows_new_version, r.rows_unchanged) == (1, 1, 1)
    recs = rows(
        db_engine,
        "SELECT id, record_id, version, is_current, superseded_by_id, status_code "
        "FROM record ORDER BY record_id, version",
    )
    assert [(x.record_id, x.version, x.is_current, x.status_code) for x in recs] == [
        ("1", 1, False, "missing"),
        ("1", 2, True, "released"),
        ("2", 1, True, "missing"),
        ("3", 1, True, "detained"),
    ]
    assert recs[0].superseded_by_id == recs[1].id
    ch = rows(db_engine, "SELECT * FROM record_change")
    assert len(ch) == 1 and (ch[0].old_record_id, ch[0].new_record_id) == (recs[0].id, recs[1].id)
    changes = json.loads(ch[0].changes)
    assert changes == {
        "status_text": ["missing", "released"],
        "status_code": ["missing", "released"],
    }
    # Both claims are kept, each with its own record.
    assert counts(db_engine)["status_event"] == 4
    # A third version.
    v3 = write(tmp_path / "v3.csv", ["source,record_id,given_name,status", "ngo,1,Aly,released"])
    assert import_file(db_engine, v3, opts()).rows_new_version == 1
    cur = rows(db_engine, "SELECT version FROM record WHERE record_id = '1' AND is_current")
    assert [x.version for x in cur] == [3]
    assert chain_ok(db_engine)


def test_duplicate_ids_within_one_file(db_engine: Engine, tmp_path: Path) -> None:
    f = write(
        tmp_path / "d.csv",
        [
            "source,record_id,given_name",
            "s,1,Ali",
            "s,2,Omar",
            "s,1,Alia",
            "s,3,Huda",
            "s,3,Huda",
            "t,1,Other source same id",
        ],
    )
    r = import_file(db_engine, f, opts())
    assert r.exit_code == 1
    assert (r.rows_new, r.rows_quarantined, r.rows_duplicate) == (3, 2, 1)
    q = rows(db_engine, "SELECT row_number, problems FROM quarantine_row ORDER BY row_number")
    assert [x.row_number for x in q] == [2, 4]
    assert "rows 2, 4" in json.loads(q[0].problems)[0]["reason"]
    assert any(p.row == 6 and p.severity == "warning" for p in r.problems)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1256", "utf-16"])
@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_encodings_and_line_ends(
    db_engine: Engine, tmp_path: Path, encoding: str, eol: str
) -> None:
    f = write(
        tmp_path / "enc.csv",
        [
            "source,record_id,given_name,family_name,status,notes",
            'ngo,1,محمد,الحلبي,مختفي قسريا,"two' + eol + 'lines"',
            "ngo,2,فاطمة,الخطيب,معتقل,",
        ],
        encoding,
        eol,
    )
    r = import_file(db_engine, f, opts())
    assert (r.exit_code, r.rows_new) == (0, 2), r.message
    recs = rows(db_engine, "SELECT * FROM record ORDER BY record_id")
    assert recs[0].given_name == "محمد" and recs[0].family_name == "الحلبي"
    assert recs[0].status_code == "missing" and recs[1].status_code == "detained"
    assert "\r" not in recs[1].family_name
    assert json.loads(recs[0].raw)["notes"] == "two" + eol + "lines"
    batch = rows(db_engine, "SELECT encoding FROM import_batch")[0]
    assert batch.encoding == encoding if encoding != "utf-16" else batch.encoding == "utf-16"


def test_xlsx(db_engine: Engine, tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["source", "record_id", "given_name", "birth_date", "age", "status"])
    ws.append(["ngo", 17, "محمد", datetime(1985, 3, 12), 34, "missing"])
    ws.append(["ngo", "18", "=1+1", "1990", None, "مفرج عنه"])
    ws.append([None, None, None, None, None, None])
    ws.append(["ngo", "19", "Ali", "1990-13", None, None])
    p = tmp_path / "list.xlsx"
    wb.save(p)
    r = import_file(db_engine, p, opts())
    assert (r.exit_code, r.rows_new, r.rows_quarantined) == (1, 2, 1)
    recs = {x.record_id: x for x in rows(db_engine, "SELECT * FROM record")}
    assert recs["17"].birth_date == "1985-03-12" and recs["17"].age_min == 34
    assert json.loads(recs["17"].raw)["record_id"] == 17  # raw keeps the cell's type
    assert recs["18"].status_code == "released"
    # A formula written without a saved value (as programs write them) is kept as its text.
    assert recs["18"].given_name == "=1+1"
    assert any(p.row == 3 and p.severity == "warning" and "formula" in p.reason for p in r.problems)
    q = rows(db_engine, "SELECT row_number FROM quarantine_row")
    assert [x.row_number for x in q] == [5]  # the sheet's own row number


def test_formula_text_is_stored_unchanged(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "f.csv", ["source,record_id,given_name,notes", 's,1,=1+1,"@SUM(A1)"'])
    assert import_file(db_engine, f, opts()).exit_code == 0
    rec = rows(db_engine, "SELECT given_name, notes, raw FROM record")[0]
    assert (rec.given_name, rec.notes) == ("=1+1", "@SUM(A1)")
    assert json.loads(rec.raw)["given_name"] == "=1+1"


def test_json_list_and_records_object(db_engine: Engine, tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    a.write_text(
        json.dumps(
            [
                {"source": "j", "record_id": "1", "given_name": "علي", "age": 30},
                {"source": "j", "record_id": "2", "given_name": ["nested"]},
                "not an object",
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    r = import_file(db_engine, a, opts())
    assert (r.exit_code, r.rows_new, r.rows_quarantined) == (1, 1, 2)
    b = tmp_path / "b.json"
    b.write_text(json.dumps({"records": [{"source": "j", "record_id": "3"}]}), encoding="utf-8")
    assert import_file(db_engine, b, opts()).rows_new == 1
    bad = tmp_path / "bad.json"
    bad.write_text('{"records": [', encoding="utf-8")
    assert import_file(db_engine, bad, opts()).exit_code == 2
    other = tmp_path / "other.json"
    other.write_text('{"people": []}', encoding="utf-8")
    assert import_file(db_engine, other, opts()).exit_code == 2


def test_mapping_renames_splits_and_sets_constants(db_engine: Engine, tmp_path: Path) -> None:
    m = tmp_path / "ngo_x.yaml"
    m.write_text(
        "source: ngo_x\n"
        "constants: {status: missing}\n"
        "columns: {Case No: record_id, Mother: mother_name, Born: birth_date}\n"
        "split:\n"
        "  Name: {into: [given_name, father_name, family_name]}\n"
        "ignore: [Row]\n"
        "date_order: dmy\n",
        encoding="utf-8",
    )
    f = write(
        tmp_path / "x.csv",
        [
            "Row,Case No,Name,Mother,Born",
            "1,X-1,محمد أحمد عبد الله,فاطمة,12/03/1985",
            "2,X-2,Ali,,1990",
        ],
    )
    r = import_file(db_engine, f, opts(mapping=m))
    assert (r.exit_code, r.rows_new) == (0, 2), r.problems
    recs = {x.record_id: x for x in rows(db_engine, "SELECT * FROM record")}
    x1 = recs["X-1"]
    assert (x1.given_name, x1.father_name, x1.family_name) == ("محمد", "أحمد", "عبد الله")
    assert x1.mother_name == "فاطمة" and x1.birth_date == "1985-03-12"
    assert x1.status_code == "missing"
    assert json.loads(x1.raw) == {
        "Row": "1",
        "Case No": "X-1",
        "Name": "محمد أحمد عبد الله",
        "Mother": "فاطمة",
        "Born": "12/03/1985",
    }
    assert recs["X-2"].father_name is None
    src = rows(db_engine, "SELECT code FROM source")
    assert [s.code for s in src] == ["ngo_x"]


def test_bad_mapping_is_unusable(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "x.csv", ["ID,Name", "1,Ali"])
    for body, reason in [
        ("columns: {ID: record_ident}\n", "record_ident"),
        ("colums: {ID: record_id}\n", "colums"),
        ("source: s\ncolumns: {ID: record_id, Name: record_id}\n", "record_id"),
        ("[unclosed\n", "cannot read"),
    ]:
        m = tmp_path / "m.yaml"
        m.write_text(body, encoding="utf-8")
        r = import_file(db_engine, f, opts(mapping=m))
        assert r.exit_code == 2 and reason in (r.message or ""), (body, r.message)
    assert counts(db_engine)["record"] == 0


def test_failure_mid_batch_leaves_nothing(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["source,record_id,given_name"] + [f"s,{i},n{i}" for i in range(50)]
    f = write(tmp_path / "big.csv", lines)
    real = importer._Batch.flush_records
    calls = {"n": 0}

    def failing(self: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        real(self)

    monkeypatch.setattr(importer._Batch, "flush_records", failing)
    with pytest.raises(RuntimeError):
        import_file(db_engine, f, opts(chunk_size=10))
    assert calls["n"] == 3
    assert all(v == 0 for v in counts(db_engine).values())
    monkeypatch.setattr(importer._Batch, "flush_records", real)
    assert import_file(db_engine, f, opts(chunk_size=10)).rows_new == 50


def test_chunked_import_with_versions_across_chunks(db_engine: Engine, tmp_path: Path) -> None:
    v1 = write(
        tmp_path / "a.csv", ["source,record_id,age"] + [f"s,{i},{i % 90}" for i in range(120)]
    )
    v2 = write(
        tmp_path / "b.csv",
        ["source,record_id,age"] + [f"s,{i},{(i + (i % 7 == 0)) % 90}" for i in range(130)],
    )
    assert import_file(db_engine, v1, opts(chunk_size=16)).rows_new == 120
    r = import_file(db_engine, v2, opts(chunk_size=16))
    changed = sum(1 for i in range(120) if i % 7 == 0)
    assert (r.rows_new, r.rows_new_version, r.rows_unchanged) == (10, changed, 120 - changed)
    cur = rows(db_engine, "SELECT COUNT(*) FROM record WHERE is_current")[0][0]
    assert cur == 130
    assert counts(db_engine)["record_change"] == changed


def test_concurrent_imports(db_engine: Engine, tmp_path: Path) -> None:
    import threading

    files = []
    for k in range(3):
        files.append(
            write(
                tmp_path / f"c{k}.csv",
                ["source,record_id,given_name"]
                + [f"shared,{k}-{i},n{i}" for i in range(40)]
                + [f"own{k},{i},n{i}" for i in range(20)],
            )
        )
    files.append(files[0])  # the same file twice at once: stored once
    results: list[Any] = [None] * len(files)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            results[i] = import_file(db_engine, files[i], opts())
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(files))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["already_imported", "stored", "stored", "stored"]
    c = counts(db_engine)
    assert c["record"] == 180 and c["source"] == 4 and c["import_batch"] == 3
    assert chain_ok(db_engine)


def test_broken_xlsx_is_unusable(db_engine: Engine, tmp_path: Path) -> None:
    import zipfile

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["source", "record_id"])
    ws.append(["s", "1"])
    good = tmp_path / "good.xlsx"
    wb.save(good)
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = data[: len(data) // 2]  # truncated XML
            zout.writestr(item, data)
    r = import_file(db_engine, bad, opts())
    assert r.exit_code == 2 and "bad.xlsx" in (r.message or "")
    assert counts(db_engine)["record"] == 0
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    assert import_file(db_engine, tmp_path / "fake.xlsx", opts()).exit_code == 2


def test_overlong_ids_are_quarantined(db_engine: Engine, tmp_path: Path) -> None:
    f = write(tmp_path / "long.csv", ["source,record_id", "s," + "x" * 5000, "s,ok"])
    r = import_file(db_engine, f, opts())
    assert (r.exit_code, r.rows_new, r.rows_quarantined) == (1, 1, 1)
    assert "longer than 200" in r.problems[0].reason


def test_feminine_and_plural_status_words_are_claims(db_engine: Engine, tmp_path: Path) -> None:
    f = write(
        tmp_path / "women.csv",
        [
            "source,record_id,sex,status",
            "a,1,أنثى,معتقلة",
            "a,2,أنثى,مفقودة",
            "a,3,أنثى,مفرج عنها",
            "a,4,أنثى,متوفاة",
            "a,5,,معتقلون",
        ],
    )
    r = import_file(db_engine, f, opts())
    assert (r.exit_code, r.rows_new, r.warnings) == (0, 5, 0)
    ev = rows(db_engine, "SELECT e.status_code FROM status_event e ORDER BY e.record_id")
    assert [e[0] for e in ev] == ["detained", "missing", "released", "deceased", "detained"]
