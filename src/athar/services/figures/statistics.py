"""Figures from the registry: descriptive statistics, estimation on the store, sensitivity.

* :func:`registry_view` reads the current records, the persons the link runs put them in
  and their status claims, and derives each person's facts
  (:mod:`athar.domain.person` holds the rules).  With no link run yet, each record is
  counted as one person and the view says so (``basis = "records"``).  Records imported
  after the latest run (not in any person yet) are counted as persons of their own and
  reported as ``unlinked_records``.
* :func:`aggregate_figures` is what researchers see: counts only, small cells suppressed.
* :func:`estimate_store` builds the capture-pattern counts of the persons on the chosen
  lists (all sources except ``unidentified`` unless told otherwise), optionally by stratum,
  runs the estimators, optionally the sensitivity to the linkage threshold, and records the
  run: one ``estimate_run`` row holding the result and the posterior curves for the
  statistics page (:func:`latest_estimate` reads it back), and one ``estimate.run`` audit
  event that names the row by id and SHA-256.  Nothing is recomputed when the page is
  viewed.
* :func:`sensitivity` re-clusters the stored pair scores of the latest link run (from the
  latest full run on, plus later incremental runs) at other thresholds, with the reviewers'
  must-link and cannot-link decisions applied exactly as a link run applies them, recounts
  the patterns and re-estimates.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
from sqlalchemy import Connection, Engine, Table, insert, select

from athar.domain import person
from athar.domain.person import Claim, PersonFacts, RecordFacts
from athar.errors import InvalidInput
from athar.estimate import captures
from athar.estimate.report import METHODS, Options, Report, json_safe, posterior_curves, run
from athar.estimate.stratified import StratifiedReport, estimate_strata
from athar.estimate.table import EstimateInputError
from athar.linkage import cluster
from athar.services.actor import Actor
from athar.services.audit import AUDIT, AuditAction, append_event, canonical
from athar.services.figures import counts as figures
from athar.store import statements as sql
from athar.store.engine import begin_write
from athar.store.models import EstimateRun

#: sources that are not lists of the disappeared (intake of unidentified people)
NOT_A_LIST = ("unidentified",)
ACTION = AuditAction.ESTIMATE_RUN
ESTIMATE_RUN = cast(Table, EstimateRun.__table__)


class StatisticsError(InvalidInput):
    """A figure that cannot be computed from the store (the message says why)."""

    code = "statistics_refused"


@dataclass
class StoredRecord:
    db_id: int
    source: str
    record_id: str
    facts: RecordFacts  # ``person`` filled in by the view


@dataclass
class RegistryView:
    """The store's current records grouped into persons."""

    basis: str  # "persons" (a link run exists) or "records"
    link_run: int | None
    link_threshold: float | None
    review_low: float | None
    records: list[StoredRecord]
    people: list[PersonFacts]
    unlinked_records: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def sources(self) -> list[str]:
        return sorted({r.source for r in self.records})

    def info(self) -> dict[str, Any]:
        return {
            "basis": self.basis,
            "link_run": self.link_run,
            "link_threshold": self.link_threshold,
            "records": len(self.records),
            "persons": len(self.people),
            "unlinked_records": self.unlinked_records,
            "notes": list(self.notes),
        }


def _int(v: Any) -> int | None:
    return None if v is None else int(v)


def _current_records(conn: Connection) -> list[StoredRecord]:
    claims: dict[int, list[Claim]] = {}
    for rid, status, date, facility in conn.execute(sql.CURRENT_STATUS_CLAIMS):
        claims.setdefault(int(rid), []).append(Claim(str(status), date, facility))
    out = []
    for row in conn.execute(sql.CURRENT_RECORD_FACTS):
        db_id = int(row[0])
        facts = RecordFacts(
            person=-db_id,
            source=str(row[1]),
            sex=row[3],
            birth_year=_int(row[4]),
            age_min=_int(row[5]),
            age_max=_int(row[6]),
            arrest_date=row[7],
            governorate=row[8],
            facility=row[9],
            last_seen_date=row[10],
            claims=tuple(claims.get(db_id, ())),
            identifiable=bool(row[11]),
        )
        out.append(StoredRecord(db_id, str(row[1]), str(row[2]), facts))
    return out


def _memberships(conn: Connection) -> dict[tuple[str, str], int]:
    """Person of each (source, record id): memberships are keyed so they survive versions."""
    rows = conn.execute(sql.MEMBERSHIPS)
    return {(str(s), str(r)): int(p) for s, r, p in rows}


def _latest_run(conn: Connection) -> tuple[int, float, float] | None:
    row = conn.execute(sql.LATEST_RUN_WITH_SETTINGS).one_or_none()
    if row is None:
        return None
    settings = row[2]
    if isinstance(settings, str):
        settings = json.loads(settings)
    spec = (settings or {}).get("spec") or {}
    low = min(float(spec.get("review_low", 0.5)), float(row[1]))
    return int(row[0]), float(row[1]), low


def with_persons(records: list[StoredRecord], labels: Sequence[int]) -> list[PersonFacts]:
    """The persons when record ``i`` is in group ``labels[i]``."""
    facts = [
        dataclasses.replace(r.facts, person=int(label))
        for r, label in zip(records, labels, strict=True)
    ]
    return person.persons(facts)


NO_RUN_NOTE = (
    "no link run yet: each record is counted as one person, so people on several "
    "lists (or twice on one) are counted more than once; run `athar link` first"
)


def _unlinked_note(unlinked: int) -> str:
    return (
        f"{unlinked} record(s) imported after the latest link run are counted as persons "
        "of their own until the next run"
    )


def registry_view(conn: Connection) -> RegistryView:
    records = _current_records(conn)
    run_info = _latest_run(conn)
    if run_info is None:
        labels = [-r.db_id for r in records]
        view = RegistryView("records", None, None, None, records, with_persons(records, labels))
        view.notes.append(NO_RUN_NOTE)
        return view
    members = _memberships(conn)
    labels = []
    unlinked = 0
    for r in records:
        p = members.get((r.source, r.record_id))
        if p is None:
            unlinked += 1
            labels.append(-r.db_id)  # negative: never collides with a person id
        else:
            labels.append(p)
    view = RegistryView(
        "persons",
        run_info[0],
        run_info[1],
        run_info[2],
        records,
        with_persons(records, labels),
        unlinked,
    )
    if unlinked:
        view.notes.append(_unlinked_note(unlinked))
    return view


# --------------------------------------------------------------------- descriptive figures


def figures_version(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever the figures can: a new record version, status claim, link run or
    membership (ids only grow; a full run replaces every membership with new ids), or a
    request marked as spam or not spam (its ``updated_at``)."""
    return tuple(conn.execute(sql.FIGURES_VERSION).one())


def describe_store(conn: Connection) -> tuple[dict[str, Any], person.Description]:
    """The basis (``basis``, ``link_run``, ``notes``) and the unsuppressed counts of the
    store's persons, as ``person.describe(registry_view(conn).people)`` gives them but
    counted in the database (:mod:`athar.services.figures.counts`): no record is read
    into Python."""
    run_info = _latest_run(conn)
    counted = figures.describe_store(conn, linked=run_info is not None)
    notes = []
    if run_info is None:
        notes.append(NO_RUN_NOTE)
    elif counted.unlinked_records:
        notes.append(_unlinked_note(counted.unlinked_records))
    basis = {
        "basis": "records" if run_info is None else "persons",
        "link_run": None if run_info is None else run_info[0],
        "notes": notes,
    }
    return basis, counted.description


def suppressed_figures(
    basis: dict[str, Any], d: person.Description, small_cell: int
) -> dict[str, Any]:
    """What researchers see: every count below ``small_cell`` hidden (see
    :func:`person.suppress`)."""
    out: dict[str, Any] = {
        "basis": basis["basis"],
        "link_run": basis["link_run"],
        "persons": d.persons if d.persons >= small_cell else None,
        "notes": basis["notes"],
    }
    for dim in person.Description.DIMENSIONS:
        out[dim] = person.suppress(getattr(d, dim), small_cell)
    return out


def aggregate_figures(conn: Connection, small_cell: int) -> dict[str, Any]:
    """Counts of documented persons along every dimension, small cells suppressed."""
    basis, d = describe_store(conn)
    return suppressed_figures(basis, d, small_cell)


# --------------------------------------------------------------------- estimation


def choose_lists(view: RegistryView, lists: Sequence[str] | None) -> tuple[list[str], str]:
    """The sources that count as lists, and a sentence saying which and why."""
    present = view.sources
    if lists:
        unknown = [s for s in lists if s not in present]
        if unknown:
            raise StatisticsError(
                f"no current records from list(s) {', '.join(unknown)}; "
                f"the store has {', '.join(present) or 'none'}"
            )
        chosen = list(dict.fromkeys(lists))
        rule = "the lists named with --lists"
    else:
        chosen = [s for s in present if s not in NOT_A_LIST]
        rule = "every source in the store except " + ", ".join(NOT_A_LIST)
    if len(chosen) < 2:
        raise StatisticsError(
            f"estimation needs at least two lists; got {', '.join(chosen) or 'none'}"
        )
    return chosen, rule


@dataclass
class StoredPairs:
    """The scored pairs a re-clustering needs, as node ids into the current records."""

    left: np.ndarray
    right: np.ndarray
    score: np.ndarray
    must_link: list[tuple[int, int]]
    cannot_link: list[tuple[int, int]]
    runs: list[int]


def stored_pairs(conn: Connection, records: Sequence[StoredRecord]) -> StoredPairs:
    from athar.services.linking.runs import human_decisions

    index = {(r.source, r.record_id): i for i, r in enumerate(records)}
    runs: list[int] = []
    for rid, settings in conn.execute(sql.RUN_SETTINGS):
        s = json.loads(settings) if isinstance(settings, str) else (settings or {})
        if not s.get("incremental"):
            runs = []
        runs.append(int(rid))
    if not runs:
        raise StatisticsError("no link run in the store yet: run `athar link` first")
    best: dict[tuple[int, int], float] = {}
    rows = conn.execute(
        sql.AUTOMATIC_PAIRS_SINCE,
        {"first": runs[0]},
    )
    keep = set(runs)
    for sa, ra, sb, rb, score, run_id in rows:
        if int(run_id) not in keep or score is None:
            continue
        a, b = index.get((sa, ra)), index.get((sb, rb))
        if a is None or b is None or a == b:
            continue
        key = (min(a, b), max(a, b))
        best[key] = max(best.get(key, 0.0), float(score))
    decisions = human_decisions(conn, index)
    decided = {(min(d.left, d.right), max(d.left, d.right)) for d in decisions}
    pairs = [(a, b, p) for (a, b), p in best.items() if (a, b) not in decided]
    arr = np.array(pairs, dtype=np.float64).reshape(-1, 3)
    return StoredPairs(
        arr[:, 0].astype(np.int64),
        arr[:, 1].astype(np.int64),
        arr[:, 2],
        [(d.left, d.right) for d in decisions if d.must_link],
        [(d.left, d.right) for d in decisions if not d.must_link],
        runs,
    )


def recluster(records: Sequence[StoredRecord], pairs: StoredPairs, threshold: float) -> np.ndarray:
    """Cluster labels of the current records at ``threshold`` under the human decisions."""
    return cluster(
        len(records),
        pairs.left,
        pairs.right,
        pairs.score,
        threshold,
        must_link=pairs.must_link,
        cannot_link=pairs.cannot_link,
    ).labels


def default_thresholds(view: RegistryView) -> list[float]:
    """The review band's low end, the run's threshold (its high end) and a stricter 0.99."""
    assert view.link_threshold is not None and view.review_low is not None
    return sorted({round(view.review_low, 6), round(view.link_threshold, 6), 0.99})


def sensitivity(
    conn: Connection,
    view: RegistryView,
    lists: Sequence[str],
    thresholds: Sequence[float],
    methods: Sequence[str],
    options: Options,
) -> dict[str, Any]:
    """Re-estimate at each linkage threshold; how far each method's estimate moves."""
    if view.basis != "persons" or view.review_low is None:
        raise StatisticsError("sensitivity to linkage needs a link run: run `athar link` first")
    low = view.review_low
    bad = [t for t in thresholds if not low <= t < 1]
    if bad:
        raise StatisticsError(
            f"threshold(s) {bad} outside [{low:g}, 1): only pairs scoring at least the "
            f"review band's low end ({low:g}) are stored"
        )
    pairs = stored_pairs(conn, view.records)
    per: dict[str, Any] = {}
    for t in sorted(set(thresholds)):
        people = with_persons(view.records, recluster(view.records, pairs, t).tolist())
        table = captures.capture_counts(people, lists)
        entry: dict[str, Any] = {"persons": len(people), "n_observed": table.n_observed}
        for m in methods:
            try:
                entry[m] = run(table, [m], options).results[m].to_dict()
            except (EstimateInputError, ValueError, np.linalg.LinAlgError) as e:
                entry[m] = {"estimate": None, "error": str(e)}
        per[f"{t:g}"] = entry
    movement: dict[str, Any] = {}
    for m in methods:
        est = {k: float(v[m]["estimate"]) for k, v in per.items() if v[m]["estimate"] is not None}
        if not est:
            movement[m] = {"estimates": {}, "error": "no threshold could be estimated"}
            continue
        lo, hi = min(est.values()), max(est.values())
        movement[m] = {
            "estimates": est,
            "min": lo,
            "max": hi,
            "range": hi - lo,
            "range_percent_of_min": 100.0 * (hi - lo) / lo if lo > 0 else None,
        }
    return {
        "thresholds": [float(t) for t in sorted(set(thresholds))],
        "as_linked": view.link_threshold,
        "pairs": int(pairs.score.size),
        "human_decisions": len(pairs.must_link) + len(pairs.cannot_link),
        "link_runs_used": pairs.runs,
        "persons_as_linked": len(view.people),
        "how": "stored pair scores of the latest link run re-clustered at each threshold, "
        "reviewers' must-link and cannot-link decisions applied first; the model's own "
        "cannot-links inside large groups (split_below) are not stored, so at the run's "
        "threshold the re-clustering can merge a little more than the run did",
        "at": per,
        "movement": movement,
    }


def _public(result: dict[str, Any], report: Report | None) -> dict[str, Any]:
    """What the statistics page may show: estimates and settings, no counts of people below
    the whole table (sparse strata are named, not counted)."""
    keep = ("lists", "lists_rule", "basis", "link_run", "methods", "disagreements")
    out: dict[str, Any] = {k: result[k] for k in keep if k in result}
    out["estimates"] = {
        m: {k: result[m].get(k) for k in ("estimate", "lower", "upper", "model")}
        for m in result.get("methods", ())
    }
    out["n_observed"] = result.get("n_observed")
    if "strata" in result:
        s = result["strata"]
        out["strata"] = {
            "by": s["by"],
            "total": {
                m: {k: t.get(k) for k in ("estimate", "lower", "upper", "strata")}
                for m, t in s["total"].items()
            },
            "estimated": sorted(s["strata"]),
            "too_sparse": sorted(s["too_sparse"]),
        }
    if "sensitivity" in result:
        out["sensitivity"] = {
            "thresholds": result["sensitivity"]["thresholds"],
            "as_linked": result["sensitivity"]["as_linked"],
            "movement": result["sensitivity"]["movement"],
        }
    out["curves"] = posterior_curves(report) if report is not None else {}
    return out


def estimate_store(
    engine: Engine,
    *,
    actor: Actor,
    lists: Sequence[str] | None = None,
    methods: Sequence[str] = METHODS,
    options: Options | None = None,
    strata: str | None = None,
    thresholds: Sequence[float] | None = None,
    seed: int = 0,
    min_list_persons: int = 0,
) -> tuple[dict[str, Any], Report]:
    """Estimate from the store's persons, record the run (audited), return (result, report).

    ``thresholds``: run the sensitivity to linkage at these thresholds (empty = the
    defaults of :func:`default_thresholds`; None = no sensitivity run).
    ``min_list_persons``: when ``lists`` is not given, leave out (with a note) every list
    with fewer persons than this.  Each method that can run reports; one that cannot is
    named under ``not_run`` with the reason.
    """
    opt = options or Options()
    with engine.connect() as conn:
        view = registry_view(conn)
        chosen, rule = choose_lists(view, lists)
        notes: list[str] = []
        if not lists and min_list_persons > 0:
            try:
                chosen, small = captures.leave_out_small_lists(
                    view.people, chosen, min_list_persons
                )
            except EstimateInputError as e:
                raise StatisticsError(str(e)) from None
            if small:
                notes.append(
                    f"left out {len(small)} list(s) of fewer than {min_list_persons} persons: "
                    + ", ".join(f"{s} ({n})" for s, n in small.items())
                )
        on = frozenset(chosen)
        table = captures.capture_counts(view.people, chosen)
        if table.n_observed == 0:
            raise StatisticsError("nobody in the store is on the chosen lists")
        if opt.loglinear_model is None and opt.max_order is None and len(chosen) > 5:
            opt = dataclasses.replace(opt, loglinear_forward=True)
            notes.append(
                f"log-linear model chosen by forward selection of two-way interactions on "
                f"{len(chosen)} lists (the full search would fit too many models)"
            )
        try:
            report = run(table, methods, opt, partial=True)
        except (EstimateInputError, ValueError, np.linalg.LinAlgError) as e:
            raise StatisticsError(f"the capture table cannot be estimated: {e}") from None
        notes += [f"{m} not run: {why}" for m, why in report.not_run.items()]
        result: dict[str, Any] = {
            "source": "store",
            **view.info(),
            "lists": chosen,
            "lists_rule": rule,
            "persons_on_no_chosen_list": sum(1 for p in view.people if not p.sources & on),
            # on a chosen list only through records with neither a name nor a detainee number
            "persons_not_identifiable": sum(
                1 for p in view.people if p.sources & on and not p.captured & on
            ),
            "methods": list(report.results),
            "estimation_notes": notes,
        }
        result.update(report.to_dict())
        result["patterns"] = {
            person.pattern_key([s for s, v in zip(chosen, pat, strict=True) if v], chosen): n
            for pat, n in table.rows()
            if n
        }
        if strata is not None:
            tables = captures.stratified_counts(view.people, chosen, strata)
            strat: StratifiedReport = estimate_strata(tables, methods, opt, seed=seed)
            result["strata"] = {"by": strata, **strat.to_dict()}
        if thresholds is not None:
            ts = list(thresholds)
            if not ts and view.basis == "persons":
                ts = default_thresholds(view)
            result["sensitivity"] = sensitivity(conn, view, chosen, ts, methods, opt)
    stored = canonical(json_safe({"result": result, "public": _public(result, report)}))
    digest = hashlib.sha256(stored).hexdigest()
    with begin_write(engine) as conn:
        run_id = conn.execute(
            insert(ESTIMATE_RUN).returning(ESTIMATE_RUN.c.id),
            {
                "created_at": datetime.now(UTC),
                "actor": actor.label,
                "link_run_id": view.link_run,
                "options": json_safe(
                    {
                        "lists": list(lists) if lists else None,
                        "methods": list(methods),
                        "options": {
                            f.name: (
                                dataclasses.asdict(getattr(opt, f.name))
                                if dataclasses.is_dataclass(getattr(opt, f.name))
                                else getattr(opt, f.name)
                            )
                            for f in dataclasses.fields(opt)
                            if f.name != "progress"  # who listens is not a setting
                        },
                        "strata": strata,
                        "thresholds": None if thresholds is None else list(thresholds),
                        "seed": seed,
                    }
                ),
                "result": stored.decode("utf-8"),
                "sha256": digest,
            },
        ).scalar_one()
        seq = append_event(
            conn,
            actor=actor.label,
            action=ACTION,
            entity_type="estimate",
            entity_id=run_id,
            detail={"estimate_run": run_id, "sha256": digest, "link_run": view.link_run},
        )
    result["recorded_as"] = {"audit_seq": seq, "action": ACTION, "estimate_run": run_id}
    return result, report


def latest_estimate(conn: Connection) -> dict[str, Any] | None:
    """The latest recorded estimate run's public part, with who ran it and when.

    The latest ``estimate.run`` audit event names the run (``estimate_run``) by id and
    hash; an event written before the table existed held the result itself, and its run
    is the one whose hash is that of the event's detail (revision 0104 copied it)."""
    event = conn.execute(
        select(AUDIT.c.seq, AUDIT.c.ts, AUDIT.c.actor, AUDIT.c.detail)
        .where(AUDIT.c.action == ACTION)
        .order_by(AUDIT.c.seq.desc())
        .limit(1)
    ).one_or_none()
    if event is None:
        return None
    detail = json.loads(event.detail)
    if "estimate_run" in detail:
        which = ESTIMATE_RUN.c.id == int(detail["estimate_run"])
        digest = str(detail["sha256"])
    else:
        digest = hashlib.sha256(event.detail.encode("utf-8")).hexdigest()
        which = ESTIMATE_RUN.c.sha256 == digest
    stored = conn.execute(select(ESTIMATE_RUN.c.result).where(which).limit(1)).scalar_one_or_none()
    if stored is None or hashlib.sha256(stored.encode("utf-8")).hexdigest() != digest:
        raise StatisticsError(
            f"the estimate run of audit event {event.seq} is missing or does not match "
            "the hash the event holds"
        )
    public = dict(json.loads(stored).get("public") or {})
    public.update({"audit_seq": int(event.seq), "recorded_at": event.ts, "actor": event.actor})
    return public
