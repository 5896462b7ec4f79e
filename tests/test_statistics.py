"""Figures from the registry (descriptive statistics, estimation on the store, sensitivity
to the linkage threshold), on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, text

from athar.cli import main
from athar.domain import person
from athar.domain.person import Claim, RecordFacts
from athar.estimate import captures
from athar.estimate.report import Options
from athar.linkage import runner
from athar.security.auth import Role
from athar.services.actor import Actor
from athar.services.audit import verify_chain
from athar.services.figures import statistics
from athar.services.linking import runs as linking
from athar.services.registry.importer import ImportOptions, import_file
from web_fixtures import Web, api_login, keyring, web  # noqa: F401

__all__ = ["keyring", "web"]

# ----------------------------------------------------------------------------- pure rules


def test_status_is_a_claim_and_conflicts_are_explicit() -> None:
    s = person.person_status
    assert s([Claim("missing", "2013")]) == ("missing", None)
    assert s([Claim("detained", "2013"), Claim("missing")]) == ("missing", None)
    assert s([Claim("missing", "2013"), Claim("released", "2015")]) == ("released", None)
    assert s([Claim("detained", "2014"), Claim("deceased")]) == ("deceased", None)
    assert s([Claim("released", "2014"), Claim("deceased", "2016")]) == (
        "conflicting",
        "deceased|released",
    )
    # held again after the release claim (at the precision both dates give)
    assert s([Claim("released", "2014-03"), Claim("detained", "2014-05-02")]) == (
        "conflicting",
        "released|detained later",
    )
    assert s([Claim("released", "2014-05"), Claim("detained", "2014")]) == ("released", None)
    assert s([Claim("unidentified_body")]) == ("unidentified", None)
    assert s([]) == ("no_claim", None)


def _rec(person: int, source: str, **kw: object) -> RecordFacts:
    return RecordFacts(person=person, source=source, **kw)  # type: ignore[arg-type]


def test_unaccounted_for_needs_a_later_release_or_death_claim() -> None:
    seen = _rec(1, "a", facility="sednaya", last_seen_date="2014-05", claims=(Claim("detained"),))
    later = _rec(1, "b", claims=(Claim("released", "2016"),))
    earlier = _rec(1, "b", claims=(Claim("released", "2013"),))
    undated = _rec(1, "b", claims=(Claim("deceased"),))
    assert person.person_facts(1, [seen]).unaccounted
    assert not person.person_facts(1, [seen, later]).unaccounted
    assert person.person_facts(1, [seen, earlier]).unaccounted
    assert not person.person_facts(1, [seen, undated]).unaccounted
    # the last facility is the latest-dated sighting; undated ones only when none is dated
    moved = _rec(1, "c", facility="adra", last_seen_date="2015")
    nodate = _rec(1, "c", facility="tadmur")
    p = person.person_facts(1, [nodate, moved, seen])
    assert p.last_facility == "adra" and p.facilities == {"adra", "sednaya", "tadmur"}
    assert person.person_facts(1, [_rec(1, "a", claims=(Claim("missing"),))]).last_facility is None


def test_person_attributes_from_disagreeing_records() -> None:
    a = _rec(1, "a", sex="M", arrest_date="2013-04", governorate="homs", birth_year=1990)
    b = _rec(1, "b", sex="F", arrest_date="2012", governorate="hama")
    c = _rec(1, "c", governorate="homs", age_min=40, age_max=44)
    p = person.person_facts(1, [a, b, c])
    assert (p.sex, p.arrest_year, p.governorate, p.age_group) == (
        "conflicting",
        "2012",
        "homs",
        "18-29",
    )
    q = person.person_facts(2, [_rec(2, "a", age_min=40, age_max=44), _rec(2, "b", sex="F")])
    assert (q.sex, q.arrest_year, q.governorate, q.age_group) == (
        "F",
        "unknown",
        "unknown",
        "30-44",
    )


def test_small_cells_are_suppressed_with_their_complement() -> None:
    assert person.suppress({"a": 7, "b": 2, "c": 0}, 5, complementary=False) == {
        "a": 7,
        "b": None,
    }
    # one small cell next to a published total would be recoverable: the next smallest goes too
    assert person.suppress({"a": 70, "b": 9, "c": 2}, 5) == {"a": 70, "b": None, "c": None}
    assert person.suppress({"a": 70, "b": 3, "c": 2}, 5) == {"a": 70, "b": None, "c": None}
    assert person.suppress({"a": 70, "b": 9}, 5) == {"a": 70, "b": 9}


def test_capture_counts_and_strata() -> None:
    people = person.persons(
        [
            _rec(1, "a", arrest_date="2012"),
            _rec(1, "b"),
            _rec(2, "a", arrest_date="2013"),
            _rec(3, "b", arrest_date="2013"),
            _rec(4, "morgue"),
        ]
    )
    t = captures.capture_counts(people, ["a", "b"])
    assert dict(t.rows()) == {(1, 0): 1, (0, 1): 1, (1, 1): 1}  # person 4 is on neither
    strata = captures.stratified_counts(people, ["a", "b"], "year")
    assert list(strata) == ["2012", "2013", "unknown"]
    assert strata["2013"].n_observed == 2 and strata["unknown"].n_observed == 0
    with pytest.raises(ValueError, match="unknown stratum"):
        captures.stratified_counts(people, ["a", "b"], "colour")


def test_capture_histories_count_only_identifiable_records() -> None:
    people = person.persons(
        [
            _rec(1, "a"),
            _rec(1, "b", identifiable=False),  # linked to person 1, but no name or number
            _rec(2, "b"),
            _rec(3, "b", identifiable=False),  # an unidentified body: a person of its own
        ]
    )
    assert [p.sources for p in people][2] == frozenset({"b"})
    assert [p.captured for p in people] == [frozenset({"a"}), frozenset({"b"}), frozenset()]
    t = captures.capture_counts(people, ["a", "b"])
    assert {k: v for k, v in t.rows() if v} == {(1, 0): 1, (0, 1): 1}
    # descriptive figures still count every record's list
    assert person.describe(people).by_source == {"a": 1, "b": 3}


# ----------------------------------------------------------------------------- the store

HEADER = "source,record_id,full_name,sex,birth_date,arrest_date,arrest_place,facility,last_seen_date,status\n"
LIST_A = [
    "a,a1,Ahmad Saleh,M,1990,2012-03,Homs,Sednaya,2014-05,detained",
    "a,a2,Omar Khalil,M,1985,2013,Aleppo,Branch 215,2013-07,missing",
    "a,a3,Sami Hasan,M,1970,2011,Daraa,Adra,2012,missing",
    "a,a4,Lina Aziz,F,2000,2015,Hama,,,missing",
    "a,a5,Fadi Nour,M,1980,2014,Homs,Branch 215,2016,deceased",
]
LIST_B = [
    "b,b1,Ahmad Saleh,M,1990,2012,Homs,Sednaya,2016-01,released",
    "b,b2,Omar Khalil,M,1985,2013,Aleppo,,2014,deceased",
    "b,b3,Sami Hasan,F,1970,2011,Daraa,,2011,released",
    "b,b5,Fadi Nour,M,1980,2014,Homs,,2016,released",
    "b,b6,Rami Said,M,1995,2016,Idlib,,2017,missing",
]
#: the persons the test's "link run" puts the records in
PERSONS = {
    1: ["a:a1", "b:b1"],
    2: ["a:a2", "b:b2"],
    3: ["a:a3", "b:b3"],
    4: ["a:a4"],
    5: ["a:a5", "b:b5"],
    6: ["b:b6"],
}


def _write(tmp: Path, name: str, rows: list[str]) -> Path:
    p = tmp / f"{name}.csv"
    p.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return p


def _store(engine: Engine, tmp: Path) -> None:
    for name, rows in (("a", LIST_A), ("b", LIST_B)):
        res = import_file(engine, _write(tmp, name, rows), ImportOptions(actor=Actor("test")))
        assert res.exit_code == 0, (res.message, res.problems)


def _ids(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        text(
            "SELECT s.code || ':' || r.record_id, r.id FROM record r "
            "JOIN source s ON s.id = r.source_id WHERE r.is_current"
        )
    )
    return {k: int(i) for k, i in rows}


def _fake_run(engine: Engine, pairs: list[tuple[str, str, float]], threshold: float = 0.9) -> int:
    """A link run written as a link run writes it (persons, memberships, scored pairs)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        ids = _ids(conn)
        run = conn.execute(
            text(
                "INSERT INTO link_run (engine, settings, model, threshold, actor, started_at, "
                "finished_at) VALUES ('test', :s, NULL, :t, 'test', :n, :n) RETURNING id"
            ),
            {
                "s": json.dumps({"spec": {"review_low": 0.5}, "incremental": False}),
                "t": threshold,
                "n": now,
            },
        ).scalar_one()
        for p, members in PERSONS.items():
            conn.execute(
                text("INSERT INTO person (id, created_at, link_run_id) VALUES (:p, :n, :r)"),
                {"p": 100 + p, "n": now, "r": run},
            )
            for m in members:
                conn.execute(
                    text(
                        "INSERT INTO person_record (person_id, record_id, link_run_id, created_at) "
                        "VALUES (:p, :r, :run, :n)"
                    ),
                    {"p": 100 + p, "r": ids[m], "run": run, "n": now},
                )
        for a, b, score in pairs:
            conn.execute(
                text(
                    "INSERT INTO link_decision (kind, record_a_id, record_b_id, score, link_run_id, "
                    "decided_at) VALUES ('automatic', :a, :b, :s, :r, :n)"
                ),
                {"a": ids[a], "b": ids[b], "s": score, "r": run, "n": now},
            )
    return int(run)


def test_figures_without_and_with_a_link_run(db_engine: Engine, tmp_path: Path) -> None:
    _store(db_engine, tmp_path)
    with db_engine.connect() as conn:
        view = statistics.registry_view(conn)
        assert view.basis == "records" and len(view.people) == 10 and view.notes
        fig = statistics.aggregate_figures(conn, 1)
    assert fig["basis"] == "records" and fig["persons"] == 10
    assert fig["by_source"] == {"a": 5, "b": 5}

    _fake_run(db_engine, [])
    with db_engine.connect() as conn:
        fig = statistics.aggregate_figures(conn, 1)
        small = statistics.aggregate_figures(conn, 3)
    assert fig["basis"] == "persons" and fig["persons"] == 6 and fig["link_run"] is not None
    assert fig["by_overlap"] == {"a+b": 4, "a": 1, "b": 1}
    assert fig["by_status"] == {"missing": 2, "released": 1, "deceased": 1, "conflicting": 2}
    assert fig["status_conflicts"] == {"deceased|released": 1, "released|missing later": 1}
    # person 3: last seen in Adra in 2012, released "in 2011": still unaccounted for
    assert fig["unaccounted_by_facility"] == {"adra": 1}
    assert fig["by_facility"] == {"adra": 1, "branch_215": 2, "sednaya": 1}
    assert fig["by_sex"] == {"F": 1, "M": 4, "conflicting": 1}
    years = {"2011": 1, "2012": 1, "2013": 1, "2014": 1, "2015": 1, "2016": 1}
    assert fig["by_arrest_year"] == years
    assert fig["by_governorate"] == {"aleppo": 1, "daraa": 1, "hama": 1, "homs": 2, "idlib": 1}
    assert fig["by_age_group"] == {"0-17": 1, "18-29": 3, "30-44": 2}
    # with a threshold of 3, every count below 3 is hidden; a lone hidden cell takes the
    # next smallest with it
    assert small["by_overlap"] == {"a+b": 4, "a": None, "b": None}
    assert small["unaccounted_by_facility"] == {"adra": None}
    assert small["by_governorate"] == {k: None for k in fig["by_governorate"]}
    assert small["persons"] == 6


def test_recluster_respects_reviewers_and_recounts_patterns(
    db_engine: Engine, tmp_path: Path
) -> None:
    _store(db_engine, tmp_path)
    run_pairs = [
        ("a:a1", "b:b1", 0.97),
        ("a:a2", "b:b2", 0.95),
        ("a:a3", "b:b3", 0.92),
        ("a:a5", "b:b5", 0.93),
        ("a:a4", "b:b1", 0.6),  # merges Lina into Ahmad below 0.6 ...
        ("a:a4", "b:b3", 0.55),
    ]
    _fake_run(db_engine, run_pairs)
    # ... unless a reviewer says no; and a must-link holds at every threshold
    linking.record_decision(
        db_engine, "a:a4", "b:b1", must_link=False, actor=Actor("r"), reason="no"
    )
    linking.record_decision(
        db_engine, "a:a5", "a:a2", must_link=True, actor=Actor("r"), reason="card"
    )
    with db_engine.connect() as conn:
        view = statistics.registry_view(conn)
        pairs = statistics.stored_pairs(conn, view.records)
        assert pairs.score.size == 5  # the decided pair's score is replaced by the decision
        key = [f"{r.source}:{r.record_id}" for r in view.records]

        def groups(t: float) -> set[frozenset[str]]:
            labels = statistics.recluster(view.records, pairs, t)
            out: dict[int, set[str]] = {}
            for k, lab in zip(key, labels.tolist(), strict=True):
                out.setdefault(lab, set()).add(k)
            return {frozenset(v) for v in out.values()}

        both = frozenset({"a:a2", "b:b2", "a:a5", "b:b5"})
        b6 = frozenset({"b:b6"})
        assert groups(0.9) == {
            frozenset({"a:a1", "b:b1"}),
            both,
            frozenset({"a:a3", "b:b3"}),
            frozenset({"a:a4"}),
            b6,
        }
        assert groups(0.5) == {
            frozenset({"a:a1", "b:b1"}),
            both,
            frozenset({"a:a3", "b:b3", "a:a4"}),
            b6,
        }
        # b5 scores 0.93 with a5: out at 0.94, while the must-link keeps a5 with a2
        assert groups(0.94) == {
            frozenset({"a:a1", "b:b1"}),
            frozenset({"a:a2", "b:b2", "a:a5"}),
            frozenset({"b:b5"}),
            frozenset({"a:a3"}),
            frozenset({"b:b3"}),
            frozenset({"a:a4"}),
            b6,
        }
        res = statistics.sensitivity(
            conn, view, ["a", "b"], [0.94, 0.96], ["loglinear"], Options(loglinear_model="[1,2]")
        )
    assert res["at"]["0.94"]["persons"] == 7 and res["at"]["0.96"]["persons"] == 8
    # Lincoln-Petersen, n + n10 n01 / n11: at 0.94 two on both lists, two on a only, three
    # on b only: 7 + 2 x 3 / 2 = 10; at 0.96 one on both, 3 and 4 on one: 8 + 12 = 20
    assert res["at"]["0.94"]["loglinear"]["estimate"] == pytest.approx(10.0, rel=1e-6)
    assert res["at"]["0.96"]["loglinear"]["estimate"] == pytest.approx(20.0, rel=1e-6)
    assert res["movement"]["loglinear"]["range"] == pytest.approx(10.0, rel=1e-6)
    with db_engine.connect() as conn, pytest.raises(statistics.StatisticsError, match="outside"):
        statistics.sensitivity(conn, view, ["a", "b"], [0.3], ["loglinear"], Options())


def test_estimate_store_is_recorded_and_audited(db_engine: Engine, tmp_path: Path) -> None:
    _store(db_engine, tmp_path)
    link_run = _fake_run(db_engine, [("a:a1", "b:b1", 0.97), ("a:a4", "b:b1", 0.6)])
    with db_engine.connect() as conn:
        assert statistics.latest_estimate(conn) is None
    with pytest.raises(statistics.StatisticsError, match="no current records from list"):
        statistics.estimate_store(db_engine, actor=Actor("t"), lists=["a", "zz"])
    result, report = statistics.estimate_store(
        db_engine,
        actor=Actor("analyst"),
        methods=["loglinear"],
        options=Options(loglinear_model="[1,2]"),
        thresholds=[0.5, 0.9],
    )
    assert result["lists"] == ["a", "b"] and result["n_observed"] == 6
    assert result["patterns"] == {"a+b": 4, "a": 1, "b": 1}
    # 6 + 1 x 1 / 4
    assert result["loglinear"]["estimate"] == pytest.approx(6.25, rel=1e-6)
    assert result["sensitivity"]["thresholds"] == [0.5, 0.9]
    assert [result["sensitivity"]["at"][t]["persons"] for t in ("0.5", "0.9")] == [8, 9]
    with db_engine.connect() as conn:
        view = statistics.registry_view(conn)
    assert statistics.default_thresholds(view) == [0.5, 0.9, 0.99]
    with db_engine.connect() as conn:
        latest = statistics.latest_estimate(conn)
        row = conn.execute(
            text("SELECT actor, entity_type FROM audit_event WHERE action = 'estimate.run'")
        ).one()
        assert verify_chain(conn).ok
    assert tuple(row) == ("analyst", "estimate")
    assert latest is not None and latest["audit_seq"] == result["recorded_as"]["audit_seq"]
    # the result is in its own table; the audit event names it by id and hash only
    with db_engine.connect() as conn:
        run_id, stored, digest, options = conn.execute(
            text("SELECT id, result, sha256, options FROM estimate_run")
        ).one()
        detail = conn.execute(
            text("SELECT entity_id, detail FROM audit_event WHERE action = 'estimate.run'")
        ).one()
    assert result["recorded_as"]["estimate_run"] == run_id
    assert hashlib.sha256(stored.encode("utf-8")).hexdigest() == digest
    assert detail[0] == str(run_id)
    assert json.loads(detail[1]) == {"estimate_run": run_id, "sha256": digest, "link_run": link_run}
    assert json.loads(stored)["public"]["curves"] == latest["curves"]
    options = json.loads(options) if isinstance(options, str) else options
    assert options["methods"] == ["loglinear"] and options["thresholds"] == [0.5, 0.9]
    # a result that no longer matches the hash its audit event holds is refused
    with db_engine.begin() as conn:
        conn.execute(text("UPDATE estimate_run SET result = :r"), {"r": stored + " "})
    with db_engine.connect() as conn, pytest.raises(statistics.StatisticsError, match="hash"):
        statistics.latest_estimate(conn)
    assert latest["estimates"]["loglinear"]["estimate"] == pytest.approx(6.25, rel=1e-6)
    assert "patterns" not in latest  # the page shows estimates, not small counts
    assert latest["curves"]["methods"]["loglinear"]["lower"] <= 6.25


def test_records_without_name_or_number_are_left_out_of_estimation(
    db_engine: Engine, tmp_path: Path
) -> None:
    _store(db_engine, tmp_path)
    body = tmp_path / "body.csv"
    body.write_text(
        "source,record_id,sex,age,facility,last_seen_date,detainee_number\n"
        "b,b7,F,30-40,Sednaya,2018,\n"  # neither a name nor a number
        "b,b8,M,20-30,Sednaya,2018,3906/227\n",  # a number: identifiable
        encoding="utf-8",
    )
    assert import_file(db_engine, body, ImportOptions(actor=Actor("test"))).exit_code == 0
    _fake_run(db_engine, [])
    result, _ = statistics.estimate_store(
        db_engine, actor=Actor("t"), methods=["loglinear"], options=Options(loglinear_model="[1,2]")
    )
    assert result["persons"] == 8  # the six linked persons and the two unlinked records
    assert result["persons_not_identifiable"] == 1
    assert result["n_observed"] == 7
    assert result["patterns"] == {"a+b": 4, "a": 1, "b": 2}
    with db_engine.connect() as conn:
        figures = statistics.aggregate_figures(conn, small_cell=1)
    assert figures["persons"] == 8 and figures["by_source"]["b"] == 7  # still counted


def test_estimate_cli_on_the_store(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from athar.store.engine import make_engine

    engine = make_engine(db_url)
    try:
        _store(engine, tmp_path)
        _fake_run(engine, [("a:a1", "b:b1", 0.97)])
    finally:
        engine.dispose()
    monkeypatch.setenv("ATHAR_DATABASE_URL", db_url)
    cli = CliRunner()
    r = cli.invoke(
        main,
        [
            "estimate",
            "--methods",
            "loglinear",
            "--model",
            "[1,2]",
            "--format",
            "json",
            "--sensitivity",
            "0.5,0.95",
            "--min-list-persons",
            "0",  # two lists of five: keep them (the default leaves out lists below 10)
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["loglinear"]["estimate"] == pytest.approx(6.25, rel=1e-6)
    assert set(out["sensitivity"]["at"]) == {"0.5", "0.95"}
    assert out["recorded_as"]["action"] == "estimate.run"
    r = cli.invoke(
        main, ["estimate", "--methods", "loglinear", "--model", "[1,2]", "--lists", "a,b"]
    )
    assert r.exit_code == 0, r.output
    assert "Lists counted: a, b (the lists named with --lists)" in r.output
    r = cli.invoke(main, ["estimate", "--lists", "a"])
    assert r.exit_code == 1 and "at least two lists" in r.output
    r = cli.invoke(main, ["estimate", "--counts", str(tmp_path / "x.csv"), "--strata", "year"])
    assert r.exit_code == 2 and "cannot be used with --counts" in r.output


WORLD_LISTS = ["ngo_ar", "ngo_en", "family", "registry"]


def test_linked_world_sensitivity_and_strata(db_engine: Engine, tmp_path: Path) -> None:
    """A synthetic world through the real linker: re-clustering at the run's threshold gives
    (about) the run's persons; lower thresholds merge, higher ones split."""
    r = CliRunner().invoke(
        main, ["synth", str(tmp_path), "--persons", "300", "--seed", "5", "--quiet"]
    )
    assert r.exit_code == 0, r.output
    for s in WORLD_LISTS:
        assert import_file(
            db_engine, tmp_path / f"{s}.csv", ImportOptions(actor=Actor("t"))
        ).exit_code in (0, 1)
    linked = linking.link_store(
        db_engine, cfg=runner.EngineConfig(memory_limit="1GB", threads=1), actor=Actor("t")
    )
    result, _ = statistics.estimate_store(
        db_engine,
        actor=Actor("t"),
        methods=["loglinear", "dga"],
        strata="year",
        thresholds=[0.5, linked["threshold"], 0.99],
    )
    # the figures counted in SQL equal the Python path on the linker's own persons
    with db_engine.connect() as conn:
        _, counted = statistics.describe_store(conn)
        view = statistics.registry_view(conn)
    assert counted == person.describe(view.people)
    sens = result["sensitivity"]
    persons = [sens["at"][f"{t:g}"]["persons"] for t in sens["thresholds"]]
    assert persons == sorted(persons)
    as_linked = sens["at"][f"{linked['threshold']:g}"]["persons"]
    assert abs(as_linked - linked["persons"]) <= 0.02 * linked["persons"], (as_linked, linked)
    truth = json.loads((tmp_path / "world.json").read_text())["persons_total"]
    for m in ("loglinear", "dga"):
        assert result[m]["lower"] > 0 and np.isfinite(result[m]["estimate"])
        assert result[m]["estimate"] < 5 * truth
    strata = result["strata"]
    assert strata["by"] == "year" and strata["total"]
    assert set(strata["strata"]) | set(strata["too_sparse"]) >= {"unknown"}


# ----------------------------------------------------------------------------- web


def test_figures_and_the_recorded_estimate_on_the_web(web: Web, tmp_path: Path) -> None:
    _store(web.engine, tmp_path)
    _fake_run(web.engine, [("a:a1", "b:b1", 0.97)])
    web.add_user("rana", Role.RESEARCHER)
    researcher = web.client()
    api_login(researcher, "rana")
    stats = researcher.get("/api/v1/stats").json()
    persons = stats["persons"]
    assert persons["basis"] == "persons" and persons["persons"] == 6  # small cell: 5
    assert persons["by_overlap"] == {"a+b": None, "a": None, "b": None}
    assert stats["estimate"] is None
    page = researcher.get("/stats?lang=en")
    assert page.status_code == 200 and "No estimate has been recorded yet" in page.text
    assert "data:image/svg" not in page.text

    with web.engine.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one()
    statistics.estimate_store(
        web.engine,
        actor=Actor("analyst"),
        methods=["loglinear"],
        options=Options(loglinear_model="[1,2]"),
    )
    stats = researcher.get("/api/v1/stats").json()
    est = stats["estimate"]
    assert est["estimates"]["loglinear"]["estimate"] == pytest.approx(6.25, rel=1e-6)
    assert est["actor"] == "analyst" and "curves" not in est and "patterns" not in est
    page = researcher.get("/stats?lang=ar")
    assert page.status_code == 200 and "data:image/svg+xml;base64," in page.text
    assert "كم عدد المفقودين" in page.text and "Lina" not in page.text
    again = researcher.get("/stats?lang=en")
    assert again.text.count("data:image/svg+xml;base64,") == 1
    # the estimate run was one audited event, and the researcher's figures were taken
    # again after it (issue 18, finding 23: researchers see published snapshots)
    with web.engine.connect() as conn:
        after = conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one()
    assert after == before + 2
    # staff see live figures, cached per state of the store: a new record shows at once
    web.add_user("adam", Role.ADMIN)
    staff = web.client()
    api_login(staff, "adam")
    res = import_file(
        web.engine,
        _write(tmp_path, "c", ["c,c1,Nour Haddad,F,1990,2013,Homs,,,missing"]),
        ImportOptions(actor=Actor("test")),
    )
    assert res.exit_code == 0
    persons = staff.get("/api/v1/stats").json()["persons"]
    assert persons["persons"] == 7 and persons["by_source"]["c"] is None
    assert researcher.get("/api/v1/stats").json()["persons"]["persons"] == 6
    assert any("after the latest link run" in n for n in persons["notes"])


def test_estimate_store_leaves_out_tiny_lists_with_a_note(
    db_engine: Engine, tmp_path: Path
) -> None:
    """Issue 14: two tiny lists imported by a data officer made `athar estimate` fail."""
    _store(db_engine, tmp_path)
    tiny = _write(tmp_path, "c", ["c,c1,Ali Hamdan,M,1980,2012,Homs,Sednaya,2013,missing"])
    assert import_file(db_engine, tiny, ImportOptions(actor=Actor("test"))).exit_code == 0
    _fake_run(db_engine, [("a:a1", "b:b1", 0.97)])
    result, _ = statistics.estimate_store(
        db_engine,
        actor=Actor("t"),
        methods=["loglinear"],
        options=Options(loglinear_model="[1,2]"),
        min_list_persons=2,
    )
    assert result["lists"] == ["a", "b"]
    assert "left out 1 list(s) of fewer than 2 persons: c (1)" in result["estimation_notes"]
    # named lists are taken as named; the default keeps every list
    named, _ = statistics.estimate_store(
        db_engine,
        actor=Actor("t"),
        lists=["a", "b", "c"],
        methods=["loglinear"],
        options=Options(loglinear_model="[1,2,3]"),
        min_list_persons=2,
    )
    assert named["lists"] == ["a", "b", "c"]
    with pytest.raises(statistics.StatisticsError, match="at least two lists of 50 persons"):
        statistics.estimate_store(
            db_engine, actor=Actor("t"), methods=["loglinear"], min_list_persons=50
        )
