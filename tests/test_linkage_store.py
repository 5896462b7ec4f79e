"""Link runs through the store, on SQLite and PostgreSQL: decisions survive re-runs,
a cannot-link splits a would-be cluster, incremental runs score only new records."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from athar import linkage
from athar.linkage import runner
from athar.services.actor import Actor
from athar.services.linking import runs as linking
from athar.services.registry.importer import ImportOptions, import_file

SOURCES = ["ngo_ar", "ngo_en", "family", "registry", "released", "morgue"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from click.testing import CliRunner

    from athar.cli import main

    out = tmp_path_factory.mktemp("world")
    r = CliRunner().invoke(main, ["synth", str(out), "--persons", "300", "--seed", "11", "--quiet"])
    assert r.exit_code == 0, r.output
    return out


def _import(engine, world: Path, sources=SOURCES) -> None:
    for s in sources:
        res = import_file(engine, world / f"{s}.csv", ImportOptions(actor=Actor("test")))
        assert res.exit_code in (0, 1), res.message


def _person_of(engine) -> dict[str, int]:
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT s.code || ':' || r.record_id, pr.person_id FROM person_record pr "
                "JOIN record r ON r.id = pr.record_id JOIN source s ON s.id = r.source_id"
            )
        ).all()
    return {k: int(p) for k, p in rows}


FAST = runner.EngineConfig(memory_limit="1GB", threads=1)


def test_review_decisions_survive_rerun_and_cannot_link_splits(db_engine, world):
    _import(db_engine, world)
    first = linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
    assert first["records"] > 0 and first["persons"] > 0
    members = _person_of(db_engine)
    assert len(members) == first["records"]  # every current record belongs to one person
    # a multi-record person: split two of its records with a cannot-link, and force-merge
    # two records of different persons with a must-link
    by_person: dict[int, list[str]] = {}
    for k, p in members.items():
        by_person.setdefault(p, []).append(k)
    big = next(sorted(v) for v in by_person.values() if len(v) >= 3)
    a, b = big[0], big[1]
    singles = [v[0] for v in by_person.values() if len(v) == 1][:2]
    linking.record_decision(
        db_engine, a, b, must_link=False, actor=Actor("rev1"), reason="different fathers"
    )
    linking.record_decision(
        db_engine,
        singles[0],
        singles[1],
        must_link=True,
        actor=Actor("rev2"),
        reason="same detainee card",
    )
    with db_engine.connect() as c:
        human = c.execute(
            text(
                "SELECT kind, actor, reason, decided_at FROM link_decision WHERE kind <> 'automatic'"
            )
        ).all()
        audit = c.execute(text("SELECT action FROM audit_event ORDER BY seq")).scalars().all()
    assert {(h[0], h[1], h[2]) for h in human} == {
        ("cannot_link", "rev1", "different fathers"),
        ("must_link", "rev2", "same detainee card"),
    }
    assert all(h[3] is not None for h in human)
    assert "link.run" in audit and "link.cannot_link" in audit and "link.must_link" in audit
    for _ in range(2):  # the decisions hold in every later run
        linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
        members = _person_of(db_engine)
        assert members[a] != members[b]
        assert members[singles[0]] == members[singles[1]]


def test_incremental_scores_only_new_records(db_engine, world, monkeypatch):
    first = [s for s in SOURCES if s != "family"]
    _import(db_engine, world, first)
    base = linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
    before = _person_of(db_engine)
    _import(db_engine, world, ["family"])
    seen: dict[str, int] = {}
    real = linkage.score_new  # the public face: what the service calls

    def spy(features, is_new, *args, **kwargs):
        seen["new"] = int(is_new.sum())
        edges = real(features, is_new, *args, **kwargs)
        # every scored pair involves a new record: the world is not re-linked
        assert (is_new[edges.unique_id_l.to_numpy()] | is_new[edges.unique_id_r.to_numpy()]).all()
        seen["pairs"] = len(edges)
        return edges

    monkeypatch.setattr(linkage, "score_new", spy)
    inc = linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"), incremental=True)
    after = _person_of(db_engine)
    fam = pd.read_csv(world / "family.csv", dtype=str)
    assert seen["new"] == len(fam)
    assert inc["records_linked_this_run"] == len(fam)
    # existing memberships untouched; every new record now has a person
    assert all(after[k] == p for k, p in before.items())
    assert len(after) == base["records"] + len(fam)
    # some family records joined existing persons (the lists overlap)
    truth = pd.read_csv(world / "truth.csv", dtype=str)
    tid = dict(zip(truth.source + ":" + truth.record_id, truth.person_id, strict=True))
    joined = [k for k in after if k.startswith("family:") and after[k] in set(before.values())]
    assert joined
    # and mostly correctly: the joined person holds a record of the same true person
    by_person: dict[int, set[str]] = {}
    for k, p in before.items():
        by_person.setdefault(p, set()).add(tid[k])
    good = sum(tid[k] in by_person[after[k]] for k in joined)
    assert good / len(joined) >= 0.9


def test_explain_from_store(db_engine, world):
    _import(db_engine, world, ["ngo_ar", "ngo_en"])
    linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
    with Session(db_engine) as db:
        queue = linking.review_queue(db)
    members = _person_of(db_engine)
    pair = [k for k, p in members.items() if list(members.values()).count(p) == 2][:2]
    if queue:
        pair = [queue[0]["a"], queue[0]["b"]]
    with Session(db_engine) as db:
        expl = linking.explain_store_pair(db, pair[0], pair[1])
    total = expl["prior"] + sum(s["weight"] + s["tf_adjustment"] for s in expl["steps"])
    assert total == pytest.approx(expl["match_weight"], abs=1e-6)


def test_explain_from_store_uses_the_runs_term_frequencies(db_engine, world, monkeypatch):
    _import(db_engine, world, ["ngo_ar", "ngo_en", "family"])
    linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
    members = _person_of(db_engine)
    sizes: dict[int, int] = {}
    for p in members.values():
        sizes[p] = sizes.get(p, 0) + 1
    a, b = [k for k, p in members.items() if sizes[p] >= 2 and p == max(sizes, key=sizes.get)][:2]
    # the whole store, prepared the old way: the reference explanation
    with db_engine.connect() as conn:
        current = linking.load_current(conn)
        model = conn.execute(text("SELECT model FROM link_run ORDER BY id DESC LIMIT 1")).scalar()
    model = json.loads(model) if isinstance(model, str) else model
    spec = linking.load_spec("interchange")
    keys = (current["source"] + ":" + current["record_id"]).tolist()
    full = runner.explain_pairs(
        linking._features(current, spec), spec, model, [(keys.index(a), keys.index(b))]
    )[0]
    # from the store: only the two records are read and prepared
    prepared: list[int] = []
    real = linking._features
    monkeypatch.setattr(
        linking, "_features", lambda cur, sp: prepared.append(len(cur)) or real(cur, sp)
    )
    with Session(db_engine) as db:
        expl = linking.explain_store_pair(db, a, b)
    assert prepared == [2]
    assert expl["match_weight"] == pytest.approx(full["match_weight"], abs=1e-9)
    assert [s["tf_adjustment"] for s in expl["steps"]] == pytest.approx(
        [s["tf_adjustment"] for s in full["steps"]], abs=1e-9
    )
    assert any(abs(s["tf_adjustment"]) > 1e-6 for s in expl["steps"])


def test_review_queue_holds_pairs_above_the_threshold_that_the_run_kept_apart(db_engine, world):
    """A reviewer's cannot-link inside a person keeps some of its model pairs (at or above
    the threshold) apart; those pairs are uncertain and go to the queue with the band."""
    _import(db_engine, world)
    linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
    by_person: dict[int, list[str]] = {}
    for k, p in _person_of(db_engine).items():
        by_person.setdefault(p, []).append(k)
    for group in (sorted(v) for v in by_person.values() if len(v) >= 3):
        linking.record_decision(
            db_engine, group[0], group[1], must_link=False, actor=Actor("rev"), reason="two people"
        )
    run = linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
    person = _person_of(db_engine)
    with db_engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT sa.code || ':' || ra.record_id, sb.code || ':' || rb.record_id, d.score "
                "FROM link_decision d "
                "JOIN record ra ON ra.id = d.record_a_id JOIN source sa ON sa.id = ra.source_id "
                "JOIN record rb ON rb.id = d.record_b_id JOIN source sb ON sb.id = rb.source_id "
                "WHERE d.kind = 'automatic' AND d.link_run_id = :r"
            ),
            {"r": run["link_run"]},
        ).all()
        human = {
            frozenset(x)
            for x in c.execute(
                text(
                    "SELECT sa.code || ':' || ra.record_id, sb.code || ':' || rb.record_id "
                    "FROM link_decision d "
                    "JOIN record ra ON ra.id = d.record_a_id "
                    "JOIN source sa ON sa.id = ra.source_id "
                    "JOIN record rb ON rb.id = d.record_b_id "
                    "JOIN source sb ON sb.id = rb.source_id WHERE d.kind <> 'automatic'"
                )
            ).all()
        }
    t = run["threshold"]
    apart = {
        frozenset((a, b))
        for a, b, s in rows
        if s >= t and person[a] != person[b] and frozenset((a, b)) not in human
    }
    band = {frozenset((a, b)) for a, b, s in rows if s < t and frozenset((a, b)) not in human}
    assert apart, "the cannot-links should keep some model pairs above the threshold apart"
    with Session(db_engine) as db:
        queue = {frozenset((q["a"], q["b"])) for q in linking.review_queue(db, limit=100_000)}
    assert queue == apart | band


def test_the_review_queue_outlives_incremental_runs(db_engine, world):
    """Issue 15, item 4: every `athar link --incremental` (and every new request's scoring,
    which is one) emptied the review queue, because the queue read only the latest run.
    Undecided pairs stay until decided or replaced by a newer full run."""
    _import(db_engine, world, ["ngo_ar", "ngo_en", "registry"])
    linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))

    def queue() -> set[tuple[str, str]]:
        with Session(db_engine) as db:
            return {(i["a"], i["b"]) for i in linking.review_queue(db, limit=100_000)}

    first = queue()
    assert first, "the world should leave some pairs uncertain"
    decided = sorted(first)[0]
    linking.record_decision(
        db_engine, *decided, must_link=False, actor=Actor("reviewer"), reason="different mothers"
    )
    for source in ("family", "released", "morgue"):  # three incremental runs
        _import(db_engine, world, [source])
        linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"), incremental=True)
        now = queue()
        assert first - {decided} <= now, f"pairs lost after the incremental run for {source}"
        assert decided not in now
    with Session(db_engine) as db:
        runs = db.execute(text("SELECT COUNT(*) FROM link_run")).scalar_one()
    assert runs == 4
    # a newer full run replaces the queue with its own
    full = linking.link_store(db_engine, cfg=FAST, actor=Actor("tester"))
    with Session(db_engine) as db:
        own = db.execute(
            text(
                "SELECT COUNT(*) FROM link_decision WHERE kind = 'automatic' "
                "AND link_run_id < :r AND record_a_id IS NOT NULL"
            ),
            {"r": full["link_run"]},
        ).scalar_one()
    assert own > 0
    latest = queue()
    with Session(db_engine) as db:
        runs_of_queue = {
            r
            for (r,) in db.execute(
                text(
                    "SELECT DISTINCT d.link_run_id FROM link_decision d WHERE d.kind = "
                    "'automatic' AND d.link_run_id = :r"
                ),
                {"r": full["link_run"]},
            )
        }
    assert latest and runs_of_queue == {full["link_run"]}
