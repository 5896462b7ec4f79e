"""Link runs and review decisions: the one write path for persons and link decisions.

* :func:`link_store` links the store's current records (all of them, or only the new
  ones with ``incremental=True``), and records the run: a ``link_run`` row with the spec
  and the trained model (so every link can be reproduced and explained), the persons
  and their records, one automatic ``link_decision`` (with its score) per pair scored at
  or above the bottom of the review band, and an audit event.
* :func:`record_decision` stores a reviewer's must-link / cannot-link with who, when and
  why, and audits it.  Every later run applies these decisions before the model's edges,
  and a cannot-link also stops merges through a third record.
* :func:`review_queue` lists the latest run's uncertain pairs not yet decided.

Decisions and memberships are keyed to ``(source, record_id)``, so they survive a new
version of a record.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from athar import linkage
from athar.domain.fields import linkage_columns
from athar.errors import InvalidInput
from athar.linkage import LinkSpec, attach_new, load_spec, prepare_features
from athar.progress import SILENT, Progress
from athar.services.actor import Actor
from athar.services.audit import AuditAction, append_event
from athar.store import statements as sql
from athar.store.bulk import IdAllocator, bulk_insert
from athar.store.engine import begin_write
from athar.store.summary import review_queue_start

#: interchange column -> record column it is read from
STORE_COLUMNS: dict[str, str] = linkage_columns()


class LinkingError(InvalidInput):
    """A link run or decision that cannot be carried out (the message says why)."""

    code = "linking_refused"


def load_current(conn: Connection, only: list[tuple[str, str]] | None = None) -> pd.DataFrame:
    """The store's current records as interchange string columns, plus ``db_id``.

    ``only``: just these (source, record_id) keys (those that exist).
    """
    rows = conn.execute(*sql.current_records(STORE_COLUMNS, only)).all()
    df = pd.DataFrame(rows, columns=["db_id", "source", "record_id", *STORE_COLUMNS])
    for c in ["source", "record_id", *STORE_COLUMNS]:
        df[c] = df[c].fillna("").astype(str)
    return df


def _features(current: pd.DataFrame, spec: LinkSpec) -> pd.DataFrame:
    # the importer has validated the rows; values it kept but the model cannot read
    # (rare free-text ages, say) are treated as unknown rather than failing the run
    return prepare_features(current, dataclasses.replace(spec, strict=False))


def _key_index(current: pd.DataFrame) -> dict[tuple[str, str], int]:
    return {
        (s, r): i
        for i, (s, r) in enumerate(
            zip(current["source"].tolist(), current["record_id"].tolist(), strict=True)
        )
    }


def human_decisions(
    conn: Connection, index: dict[tuple[str, str], int]
) -> list[linkage.PairDecision]:
    """Reviewers' decisions (``must_link``/``cannot_link``) mapped to the node ids of
    ``index`` (source and record id to node), the latest decision on a pair winning; pairs
    outside ``index`` are left out.  Used by link runs and by the threshold sensitivity of
    :mod:`athar.services.figures.statistics`."""
    rows = conn.execute(sql.HUMAN_DECISIONS).all()
    latest: dict[tuple[int, int], bool] = {}
    for kind, sa, ra, sb, rb in rows:
        a, b = index.get((sa, ra)), index.get((sb, rb))
        if a is None or b is None or a == b:
            continue
        latest[(min(a, b), max(a, b))] = kind == "must_link"
    return [linkage.PairDecision(a, b, m) for (a, b), m in latest.items()]


def _memberships(conn: Connection, index: dict[tuple[str, str], int]) -> np.ndarray:
    """Existing person of each node (by source and record id), -1 if none."""
    out = np.full(len(index), -1, dtype=np.int64)
    rows = conn.execute(sql.MEMBERSHIPS)
    for s, r, p in rows:
        i = index.get((s, r))
        if i is not None:
            out[i] = int(p)
    return out


def _spec_dict(spec: LinkSpec) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(spec), default=list))


def link_store(
    engine: Engine,
    *,
    spec: LinkSpec | None = None,
    cfg: linkage.EngineConfig | None = None,
    actor: Actor,
    threshold: float | None = None,
    incremental: bool = False,
    progress: Progress = SILENT,
) -> dict[str, Any]:
    """Link the store's current records and record the run; return a summary."""
    spec = spec or load_spec("interchange")
    cfg = cfg or linkage.EngineConfig()
    started = datetime.now(UTC)
    progress.phase("reading the current records and reviewers' decisions")
    with engine.connect() as conn:
        current = load_current(conn)
        index = _key_index(current)
        decisions = human_decisions(conn, index)
        existing = _memberships(conn, index)
        last = conn.execute(sql.LAST_MODEL_AND_THRESHOLD).one_or_none()
    last_model, last_threshold = (last[0], float(last[1])) if last is not None else (None, None)
    if current.empty:
        raise LinkingError("the store holds no current records to link")
    if isinstance(last_model, str):
        last_model = json.loads(last_model)
    progress.phase("preparing the records' names, dates and places", len(current), "records")
    features = _features(current, spec)
    progress.update(len(current))
    if incremental:
        if last_model is None or last_threshold is None:
            raise LinkingError("incremental linking needs an earlier full run (its model)")
        # new records join persons on the terms of the full run whose model they use
        thr = last_threshold if threshold is None else threshold
        is_new = existing < 0
        if not is_new.any():
            edges = pd.DataFrame(
                columns=["unique_id_l", "unique_id_r", "match_weight", "match_probability"]
            )
        else:
            progress.phase(f"scoring {int(is_new.sum()):,} new records against the store")
            edges = linkage.score_new(features, is_new, spec, last_model, cfg)
        assigned = attach_new(
            existing,
            edges["unique_id_l"].to_numpy(dtype=np.int64),
            edges["unique_id_r"].to_numpy(dtype=np.int64),
            edges["match_probability"].to_numpy(dtype=np.float64),
            thr,
            must_link=[(d.left, d.right) for d in decisions if d.must_link],
            cannot_link=[(d.left, d.right) for d in decisions if not d.must_link],
        )
        model = last_model
        n_new = int(is_new.sum())
    else:
        result = linkage.link(
            features, spec, cfg, threshold=threshold, decisions=decisions, progress=progress
        )
        edges, model, thr = result.edges, result.model, result.threshold
        assigned = _reuse_persons(result.labels, existing)
        n_new = len(current)
    finished = datetime.now(UTC)
    progress.phase(f"writing persons and {len(edges):,} scored pairs")
    with begin_write(engine) as conn:
        run_id = conn.execute(
            sql.INSERT_LINK_RUN,
            {
                "e": cfg.engine,
                "s": json.dumps(
                    {
                        "spec": _spec_dict(spec),
                        "incremental": incremental,
                        # kept so that a pair is explained from its two records alone
                        "term_frequencies": linkage.term_frequencies(features, spec),
                    },
                    ensure_ascii=False,
                ),
                "m": json.dumps(model),
                "t": thr,
                "a": actor.label,
                "st": started,
                "fi": finished,
            },
        ).scalar_one()
        summary = _write_run(
            conn, int(run_id), current, assigned, existing, edges, incremental, finished
        )
        summary.update(
            {
                "link_run": int(run_id),
                "records": len(current),
                "records_linked_this_run": n_new,
                "threshold": thr,
                "review_band": [min(spec.review_low, thr), thr],
                "human_decisions_applied": len(decisions),
                "incremental": incremental,
            }
        )
        append_event(
            conn,
            actor=actor.label,
            action=AuditAction.LINK_RUN,
            entity_type="link_run",
            entity_id=int(run_id),
            detail={
                **summary,
                "model_sha256": hashlib.sha256(
                    json.dumps(model, sort_keys=True).encode()
                ).hexdigest(),
            },
        )
    return summary


def _reuse_persons(labels: np.ndarray, existing: np.ndarray) -> np.ndarray:
    """Give each new cluster the existing person most of its records had (each once)."""
    out = np.full(labels.size, -1, dtype=np.int64)
    clusters: dict[int, list[int]] = {}
    for i, c in enumerate(labels.tolist()):
        clusters.setdefault(c, []).append(i)
    votes: list[tuple[int, int, int]] = []  # (-count, cluster, person)
    for c, members in clusters.items():
        for person, count in Counter(int(existing[i]) for i in members if existing[i] >= 0).items():
            votes.append((-count, c, person))
    votes.sort()
    given: dict[int, int] = {}
    used: set[int] = set()
    for _, c, person in votes:
        if c in given or person in used:
            continue
        given[c] = person
        used.add(person)
    fresh = 0
    for c, members in sorted(clusters.items()):
        if c in given:
            value = given[c]
        else:
            fresh += 1
            value = -fresh
        out[members] = value
    return out


def _write_run(
    conn: Connection,
    run_id: int,
    current: pd.DataFrame,
    assigned: np.ndarray,
    existing: np.ndarray,
    edges: pd.DataFrame,
    incremental: bool,
    now: datetime,
) -> dict[str, Any]:
    """Persons, memberships and automatic decisions of one run (in the caller's transaction)."""
    new_groups = sorted({int(v) for v in assigned.tolist() if v < 0}, reverse=True)
    person_ids = IdAllocator(conn, "person").take(len(new_groups))
    bulk_insert(
        conn, "person", ["id", "created_at", "link_run_id"], [(p, now, run_id) for p in person_ids]
    )
    new_person = dict(zip(new_groups, person_ids, strict=True))
    final = np.array([new_person.get(int(v), int(v)) for v in assigned.tolist()], dtype=np.int64)
    db_ids = current["db_id"].to_numpy(dtype=np.int64)
    if incremental:
        todo = np.nonzero(existing < 0)[0]
    else:
        # memberships are derived data: this run's clustering replaces the previous one
        conn.execute(sql.DELETE_MEMBERSHIPS)
        todo = np.arange(len(current))
    member_ids = IdAllocator(conn, "person_record").take(int(todo.size))
    bulk_insert(
        conn,
        "person_record",
        ["id", "person_id", "record_id", "link_run_id", "created_at"],
        [
            (mid, int(final[i]), int(db_ids[i]), run_id, now)
            for mid, i in zip(member_ids, todo.tolist(), strict=True)
        ],
    )
    dec_ids = IdAllocator(conn, "link_decision").take(len(edges))
    bulk_insert(
        conn,
        "link_decision",
        ["id", "kind", "record_a_id", "record_b_id", "score", "link_run_id", "decided_at"],
        [
            (did, "automatic", int(db_ids[a]), int(db_ids[b]), float(p), run_id, now)
            for did, a, b, p in zip(
                dec_ids,
                edges["unique_id_l"].tolist(),
                edges["unique_id_r"].tolist(),
                edges["match_probability"].tolist(),
                strict=True,
            )
        ],
    )
    return {
        "persons": int(np.unique(final).size),
        "new_persons": len(person_ids),
        "automatic_decisions": len(edges),
    }


def _resolve(conn: Connection, ref: str | int) -> int:
    """A record given as ``source:record_id`` (current version) or a record row id."""
    if isinstance(ref, int):
        found = conn.execute(sql.RECORD_BY_ID, {"i": ref}).scalar()
    else:
        source, sep, rid = ref.partition(":")
        if not sep:
            raise LinkingError(f"{ref!r}: give a record as source:record_id")
        found = conn.execute(
            sql.CURRENT_RECORD_BY_KEY,
            {"s": source, "r": rid},
        ).scalar()
    if found is None:
        raise LinkingError(f"no such record: {ref}")
    return int(found)


def record_decision(
    engine: Engine,
    a: str | int,
    b: str | int,
    *,
    must_link: bool,
    actor: Actor,
    reason: str,
) -> int:
    """Store a reviewer's decision on a pair (who, when, why) and audit it; return its id."""
    if not actor.label.strip() or not reason.strip():
        raise LinkingError("a review decision needs who (actor) and why (reason)")
    kind = "must_link" if must_link else "cannot_link"
    with begin_write(engine) as conn:
        ra, rb = _resolve(conn, a), _resolve(conn, b)
        if ra == rb:
            raise LinkingError("a decision needs two different records")
        now = datetime.now(UTC)
        did = conn.execute(
            sql.INSERT_LINK_DECISION,
            {"k": kind, "a": ra, "b": rb, "who": actor.label, "why": reason, "t": now},
        ).scalar_one()
        append_event(
            conn,
            actor=actor.label,
            action=AuditAction.LINK_MUST_LINK if must_link else AuditAction.LINK_CANNOT_LINK,
            entity_type="link_decision",
            entity_id=int(did),
            detail={"record_a": ra, "record_b": rb, "reason": reason},
        )
    return int(did)


def latest_run_id(db: Session) -> int | None:
    """The id of the newest link run, or ``None`` when there is none."""
    run = db.connection().execute(sql.LATEST_RUN).one_or_none()
    return None if run is None else int(run[0])


def review_queue(db: Session, limit: int = 100) -> list[dict[str, Any]]:
    """Uncertain pairs that no reviewer has decided yet: those in the review band, and those
    at or above the threshold that the run did not join, of the latest full run and of every
    incremental run since (each new request's or body's scoring is one), so that scoring a
    new subject never empties the queue; a newer full run replaces it (issue 15)."""
    conn = db.connection()
    start = review_queue_start(conn)
    if start is None:
        return []
    rows = conn.execute(sql.REVIEW_QUEUE, {"run": start, "n": limit}).all()
    return [
        {"record_a": a, "record_b": b, "score": float(s), "a": ka, "b": kb}
        for a, b, s, ka, kb in rows
    ]


def explain_store_pair(
    db: Session, a: str, b: str, *, spec: LinkSpec | None = None
) -> dict[str, Any]:
    """The waterfall for records ``a`` and ``b`` (source:record_id) under the latest model."""
    spec = spec or load_spec("interchange")
    refs = [ref.partition(":")[::2] for ref in (a, b)]
    conn = db.connection()
    run = conn.execute(sql.LAST_MODEL_AND_SETTINGS).one_or_none()
    if run is None:
        raise LinkingError("no link run in the store yet: run `athar link` first")
    settings = json.loads(run[1]) if isinstance(run[1], str) else (run[1] or {})
    tf = settings.get("term_frequencies")
    # with the run's term frequencies, the two records are all that is needed
    current = load_current(conn, refs if tf is not None else None)
    model = json.loads(run[0]) if isinstance(run[0], str) else run[0]
    index = _key_index(current)
    pair = []
    for ref, (source, rid) in zip((a, b), refs, strict=True):
        if (source, rid) not in index:
            raise LinkingError(f"no such current record: {ref}")
        pair.append(index[(source, rid)])
    features = _features(current, spec)
    return linkage.explain_pairs(features, spec, model, [(pair[0], pair[1])], tf=tf)[0]
