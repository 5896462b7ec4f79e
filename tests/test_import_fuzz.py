"""Arbitrary bytes given to the importer never crash it and never store a partial batch."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from athar.services.actor import Actor
from athar.services.registry.importer import ImportOptions, import_file

TABLES = ("import_batch", "record", "quarantine_row", "status_event", "audit_event", "source")
_names = itertools.count()

HEADERS = [b"source,record_id,given_name,birth_date,status\n", b"", b"record_id,age\n"]
cell = st.one_of(
    st.binary(max_size=12),
    st.sampled_from([b"", b"1985", b"2012-05", b"=1+1", b"\xd9\x85", b'"', b",", b"\r\n"]),
    st.text(max_size=8).map(lambda s: s.encode("utf-8", "surrogatepass")),
)
body = st.one_of(
    st.binary(max_size=400),
    st.lists(st.lists(cell, max_size=6).map(lambda cs: b",".join(cs)), max_size=8).map(
        lambda lines: b"\n".join(lines)
    ),
)


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as c:
        return {t: c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one() for t in TABLES}


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=st.sampled_from(HEADERS),
    data=body,
    suffix=st.sampled_from([".csv", ".json", ".xlsx"]),
    source=st.sampled_from([None, "fuzz"]),
)
def test_arbitrary_bytes(
    db_engine: Engine, tmp_path: Path, header: bytes, data: bytes, suffix: str, source: Any
) -> None:
    path = tmp_path / f"f{next(_names)}{suffix}"
    path.write_bytes(header + data)
    before = _counts(db_engine)
    r = import_file(
        db_engine, path, ImportOptions(actor=Actor("fuzz"), source=source)
    )  # never raises
    after = _counts(db_engine)
    delta = {t: after[t] - before[t] for t in TABLES}
    assert r.exit_code in (0, 1, 2)
    if r.outcome in ("unusable", "already_imported", "unchanged"):
        assert all(v == 0 for v in delta.values()), (r.outcome, r.message, delta)
        return
    # A stored batch is complete: one batch row, one audit event, and every row accounted for.
    assert delta["import_batch"] == 1 and delta["audit_event"] == 1
    assert delta["record"] == r.rows_new + r.rows_new_version
    assert delta["quarantine_row"] == r.rows_quarantined
    accounted = (
        r.rows_new + r.rows_new_version + r.rows_unchanged + r.rows_duplicate + r.rows_quarantined
    )
    assert accounted == r.rows_total
    assert r.exit_code == (1 if r.rows_quarantined else 0)


json_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=2),
)
json_record = st.dictionaries(
    st.sampled_from(["source", "record_id", "given_name", "birth_date", "age", "sex", "x"]),
    json_value,
    max_size=6,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    records=st.lists(st.one_of(json_record, json_value), max_size=6),
    wrap=st.booleans(),
    keep_extra=st.booleans(),
)
def test_arbitrary_json(
    db_engine: Engine, tmp_path: Path, records: list[Any], wrap: bool, keep_extra: bool
) -> None:
    import json

    path = tmp_path / f"j{next(_names)}.json"
    doc: Any = {"records": records} if wrap else records
    # ensure_ascii=True so lone surrogates from st.text() survive as \\ud800 escapes
    path.write_text(json.dumps(doc), encoding="utf-8")
    before = _counts(db_engine)
    r = import_file(db_engine, path, ImportOptions(actor=Actor("fuzz"), keep_extra=keep_extra))
    after = _counts(db_engine)
    delta = {t: after[t] - before[t] for t in TABLES}
    if r.outcome in ("unusable", "already_imported", "unchanged"):
        assert all(v == 0 for v in delta.values()), (r.outcome, r.message, delta)
        return
    assert delta["import_batch"] == 1
    assert delta["record"] + delta["quarantine_row"] + r.rows_unchanged + r.rows_duplicate == (
        r.rows_total
    )
