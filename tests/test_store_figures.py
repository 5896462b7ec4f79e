"""The descriptive figures counted in SQL (:mod:`athar.services.figures.counts` over the
statement of :mod:`athar.store.figures`) equal the Python path they replace (every current
record read into ``registry_view`` and counted by
``person.describe``), on SQLite and PostgreSQL, on a random store built to hit the
rules' corners: dates of mixed precision (``2014`` against ``2014-05``), empty strings,
ties between governorates, codes that sort differently by case, several status claims per
record, records with new versions after the link run, memberships replaced by a later run
and records no run has placed yet."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert, text

from athar.domain import person
from athar.services.figures import statistics
from athar.store.models import (
    ImportBatch,
    LinkRun,
    Person,
    PersonRecord,
    Record,
    Source,
    StatusEvent,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SOURCES = ["ngo_b", "Ngo_a", "family", "morgue", "registry"]
DATES = [None, "", "2011", "2011-03", "2011-03-15", "2012", "2012-01", "2012-01-20", "2013"]
DATES += ["2013-07", "2013-07-02", "2014", "2014-05", "2014-05-30", "2015-12-01", "0999"]
FACILITIES = [None, None, "", "sednaya", "adra", "branch_215", "Branch_215", "tadmur"]
GOVERNORATES = [None, "", "homs", "Homs", "hama", "idlib", "daraa"]
STATUSES = ["missing", "detained", "released", "deceased"]
STATUSES += ["unidentified_body", "unidentified_living"]


def _description(conn: Connection) -> tuple[dict[str, Any], person.Description]:
    """The old path: every current record into Python, persons derived one by one."""
    view = statistics.registry_view(conn)
    basis = {"basis": view.basis, "link_run": view.link_run, "notes": view.notes}
    return basis, person.describe(view.people)


def _random_store(engine: Engine, seed: int, n: int) -> list[int]:
    """``n`` records (and some superseded versions) with random facts and claims; returns
    the ids of the current records."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        src = {}
        for code in SOURCES:
            src[code] = conn.execute(
                insert(Source.__table__).values(code=code, created_at=NOW).returning(Source.id)
            ).scalar_one()
        batch = conn.execute(
            insert(ImportBatch.__table__)
            .values(
                file_name="random.csv",
                file_format="csv",
                content_hash="0" * 64,
                options_hash="0" * 64,
                actor="test",
                imported_at=NOW,
                rows_total=n,
                rows_new=n,
                rows_new_version=0,
                rows_unchanged=0,
                rows_quarantined=0,
                warnings=0,
            )
            .returning(ImportBatch.id)
        ).scalar_one()
        current = []
        for i in range(n):
            code = rng.choice(SOURCES)
            versions = 2 if rng.random() < 0.15 else 1
            for v in range(1, versions + 1):
                # ages on the groups' edges: 17.5, 18, 30, 45, 60 at arrest
                age_min = rng.choice([None, None, 5, 17, 18, 28, 40, 43, 58, 61])
                age_max = None if age_min is None or rng.random() < 0.3 else age_min
                if age_max is not None:
                    age_max += rng.choice([0, 1, 4])
                rid = conn.execute(
                    insert(Record.__table__)
                    .values(
                        source_id=src[code],
                        record_id=f"r{i}",
                        version=v,
                        is_current=v == versions,
                        batch_id=batch,
                        row_number=i,
                        content_hash=f"{i}-{v}",
                        raw="{}",
                        full_name=rng.choice([None, f"name {i}"]),
                        sex_code=rng.choice([None, "M", "F", "M"]),
                        birth_year=rng.choice([None, 1954, 1968, 1981, 1993, 1996, 2015]),
                        age_min=age_min,
                        age_max=age_max,
                        arrest_date=rng.choice(DATES),
                        arrest_place_code=rng.choice(GOVERNORATES),
                        facility_code=rng.choice(FACILITIES),
                        last_seen_date=rng.choice(DATES),
                    )
                    .returning(Record.id)
                ).scalar_one()
                for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
                    conn.execute(
                        insert(StatusEvent.__table__).values(
                            record_id=rid,
                            source_id=src[code],
                            status_code=rng.choice(STATUSES),
                            status_text="x",
                            event_date=rng.choice(DATES),
                            created_at=NOW,
                        )
                    )
            current.append(int(rid))
        return current


def _link_run(engine: Engine, seed: int, incremental: bool) -> None:
    """Persons of 1 to 4 records, memberships on any version of a record, some records
    left out; an incremental run moves some records to other persons (later ids win)."""
    rng = random.Random(seed)
    with engine.begin() as conn:
        run = conn.execute(
            insert(LinkRun.__table__)
            .values(
                engine="test",
                settings={"spec": {"review_low": 0.5}, "incremental": incremental},
                threshold=0.9,
                actor="test",
                started_at=NOW,
                finished_at=NOW,
            )
            .returning(LinkRun.id)
        ).scalar_one()
        rows = conn.execute(text("SELECT id FROM record ORDER BY id")).all()
        ids = [int(r[0]) for r in rows]
        rng.shuffle(ids)
        start = int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM person")).scalar_one())
        pid = start
        i = 0
        while i < len(ids):
            size = rng.choice([1, 1, 2, 2, 3, 4])
            pid += 1
            conn.execute(insert(Person.__table__).values(id=pid, created_at=NOW, link_run_id=run))
            for rid in ids[i : i + size]:
                if rng.random() < (0.5 if incremental else 0.1):
                    continue  # not placed by this run
                conn.execute(
                    insert(PersonRecord.__table__).values(
                        person_id=pid, record_id=rid, link_run_id=run, created_at=NOW
                    )
                )
            i += size


def _assert_same(conn: Connection) -> person.Description:
    basis, new = statistics.describe_store(conn)
    old_basis, old = _description(conn)
    assert basis == old_basis
    for dim in ("persons", *person.Description.DIMENSIONS):
        assert getattr(new, dim) == getattr(old, dim), dim
        if dim != "persons":  # same order too: it is what the page shows
            assert list(getattr(new, dim)) == list(getattr(old, dim)), dim
    for small_cell in (1, 3, 10):
        assert statistics.aggregate_figures(conn, small_cell) == statistics.suppressed_figures(
            old_basis, old, small_cell
        )
    return new


@pytest.mark.parametrize("seed", [1, 2])
def test_sql_figures_equal_the_python_path(db_engine: Engine, seed: int) -> None:
    _random_store(db_engine, seed, 500)
    with db_engine.connect() as conn:
        before = _assert_same(conn)  # no link run: every record a person
    assert before.persons == 500
    _link_run(db_engine, seed, incremental=False)
    with db_engine.connect() as conn:
        linked = _assert_same(conn)
    _link_run(db_engine, seed + 100, incremental=True)
    with db_engine.connect() as conn:
        again = _assert_same(conn)
        basis, _ = statistics.describe_store(conn)
    # the world exercises what it is meant to
    assert linked.persons < 500 and again.persons != linked.persons
    assert any("after the latest link run" in n for n in basis["notes"])
    assert {"conflicting", "released", "deceased", "missing"} <= set(again.by_status)
    assert len(again.status_conflicts) >= 3 and again.unaccounted_by_facility
    assert {"homs", "Homs"} <= set(again.by_governorate)
    assert "conflicting" in again.by_sex and "unknown" in again.by_age_group


def test_sql_figures_on_an_empty_store(db_engine: Engine) -> None:
    with db_engine.connect() as conn:
        new = _assert_same(conn)
    assert new.persons == 0 and new.by_source == {}
