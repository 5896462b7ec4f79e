"""What pages and the JSON API show of a service's answer, written once for both.

A route calls a service and hands the result to a function here: a JSON model from
:mod:`athar.web.schemas`, or a page rendered with its template.  Routes never import one
another; what two of them share lives here (or in :mod:`athar.web.deps`).
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from athar.domain.messages import N_
from athar.security.auth import Role
from athar.services.casework import casenotes, tracing, tracing_intake
from athar.services.casework.tracing import Contact
from athar.services.figures import snapshot, statistics
from athar.services.figures.overview import Overview, registry_overview
from athar.services.jobs import SUCCEEDED, JobView
from athar.services.linking import review
from athar.services.linking.candidates import REQUEST, UNIDENTIFIED, Candidate, Subject
from athar.services.linking.scoring import scoring_job_for
from athar.services.registry.importer import FileResult
from athar.web.deps import WebUser
from athar.web.render import render
from athar.web.schemas import (
    CandidateOut,
    ImportOut,
    PairOut,
    ProblemOut,
    StatsOut,
)

ROLE_LABELS = {
    "admin": N_("administrator"),
    "case_worker": N_("case worker"),
    "reviewer": N_("reviewer"),
    "data_partner": N_("data partner"),
    "researcher": N_("researcher"),
}

# --- candidates, for any subject ---------------------------------------------------------------

#: where a subject's candidates are listed (pages); its pair page is ``…/pair`` and its
#: decisions are posted to ``…/decisions`` below it
CANDIDATE_PAGES = {
    REQUEST.kind: "/requests/{reference}/candidates",
    UNIDENTIFIED.kind: "/unidentified/{reference}",
}


def candidates_page(subject: Subject, reference: str) -> str:
    """The page that lists the subject's candidates."""
    return CANDIDATE_PAGES[subject.kind].format(reference=quote(reference))


def candidate_rows(
    subject: Subject, reference: str, found: list[Candidate]
) -> list[tuple[Candidate, str]]:
    """Each candidate with the link to its side-by-side page."""
    base = candidates_page(subject, reference) + "/pair?"
    return [(c, base + urlencode({"b": c.key})) for c in found]


def candidates_out(found: list[Candidate]) -> list[CandidateOut]:
    return [CandidateOut(**asdict(c)) for c in found]


def pair_out(view: review.PairView) -> PairOut:
    return PairOut.model_validate(asdict(view))


def render_pair(
    request: Request, view: review.PairView, action: str | None, hidden: dict[str, str]
) -> Response:
    """Two records side by side with the waterfall (running totals) and a decision form."""
    running = []
    if view.explanation:
        total = view.explanation["prior"]
        for step in view.explanation["steps"]:
            total += step["weight"] + step["tf_adjustment"]
            running.append((step, step["weight"] + step["tf_adjustment"], total))
    return render(
        request,
        "review_pair.html",
        view=view,
        steps=running,
        fields=review.PAIR_FIELDS,
        decision_action=action,
        hidden=hidden,
    )


# --- tracing requests --------------------------------------------------------------------------


def render_request(
    request: Request,
    db: Session,
    user: WebUser,
    reference: str,
    *,
    contact: Contact | None = None,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """The request page: the request, its case history and the forms to add to it."""
    view = tracing.get_request_for(db, user.actor, reference)
    history = casenotes.history(db, user.actor, reference)
    scoring = scoring_job_for(db, user.actor, REQUEST, reference)
    return render(
        request,
        "request.html",
        status_code=status_code,
        view=view,
        statuses=tracing.STATUSES,
        status_labels={**dict(tracing.STATUSES), tracing.SPAM: tracing.SPAM_LABEL},
        spam=tracing.SPAM,
        relationship_labels=dict(tracing_intake.RELATIONSHIPS),
        consent_labels=dict(tracing_intake.CONSENT_SCOPES),
        consent_scopes=tracing_intake.CONSENT_SCOPES,
        contact=contact,
        history=history,
        channels=casenotes.CHANNELS,
        outcomes=casenotes.OUTCOMES,
        channel_labels=dict(casenotes.CHANNELS),
        outcome_labels=dict(casenotes.OUTCOMES),
        errors=errors or {},
        form=form or {},
        scoring=scoring,
    )


# --- the registry ------------------------------------------------------------------------------

#: problems of an import shown at the most
MAX_PROBLEMS_SHOWN = 200


def import_out(result: FileResult, file_name: str, source: str | None) -> ImportOut:
    return ImportOut(
        outcome=result.outcome,
        file_name=file_name,
        source=source,
        batch_id=result.batch_id,
        rows_total=result.rows_total,
        rows_new=result.rows_new,
        rows_new_version=result.rows_new_version,
        rows_unchanged=result.rows_unchanged,
        rows_duplicate=result.rows_duplicate,
        rows_quarantined=result.rows_quarantined,
        warnings=result.warnings,
        errors=result.errors,
        message=result.message,
        problems=[
            ProblemOut(row=p.row, column=p.column, reason=p.reason, severity=p.severity)
            for p in result.problems[:MAX_PROBLEMS_SHOWN]
        ],
    )


def import_job_out(job: JobView) -> ImportOut:
    """The result of a finished import job, as the API shows an import."""
    r = job.result or {}
    return ImportOut(
        outcome=str(r.get("outcome", job.state)),
        file_name=str(r.get("file_name") or job.args.get("file_name") or ""),
        source=r.get("source", job.args.get("source")),
        batch_id=r.get("batch_id"),
        rows_total=int(r.get("rows_total", 0)),
        rows_new=int(r.get("rows_new", 0)),
        rows_new_version=int(r.get("rows_new_version", 0)),
        rows_unchanged=int(r.get("rows_unchanged", 0)),
        rows_duplicate=int(r.get("rows_duplicate", 0)),
        rows_quarantined=int(r.get("rows_quarantined", 0)),
        warnings=int(r.get("warnings", 0)),
        errors=int(r.get("errors", 0)),
        message=r.get("message"),
        problems=[ProblemOut(**p) for p in r.get("problems", [])[:MAX_PROBLEMS_SHOWN]],
        job_id=job.id,
    )


def import_job_view(job: JobView) -> dict[str, Any]:
    """An import job for its page: its state, and its result once it has succeeded."""
    return {
        "id": job.id,
        "state": job.state,
        "done": job.done,
        "file_name": job.args.get("file_name") or "",
        "message": job.message,
        "time_limit": job.time_limit,
        "result": import_job_out(job) if job.state == SUCCEEDED else None,
    }


def stats_out(overview: Overview, as_of: datetime | None = None) -> StatsOut:
    return StatsOut.model_validate(asdict(overview) | {"as_of": as_of})


def stats_for(request: Request, db: Session, user: WebUser) -> StatsOut:
    """The figures ``user`` sees: a researcher the published snapshot (with its time), staff
    the live figures (issue 18, finding 23)."""
    state = request.app.state
    settings = state.settings
    if user.role is Role.RESEARCHER:
        published = snapshot.published_figures(
            state.engine,
            actor=user.actor,
            small_cell=settings.small_cell,
            refresh_hours=settings.figures_refresh_hours,
            cache=state.figures_cache,
        )
        return stats_out(published.overview, as_of=published.as_of)
    return stats_out(registry_overview(db, settings.small_cell, state.figures_cache))


#: rendered posterior plots of recorded estimate runs, by audit sequence number
_PLOTS: dict[int, str] = {}


def estimate_plot(db: Session, seq: int) -> str | None:
    """The posterior plot of the recorded estimate run ``seq`` as a data: URI (drawn from
    the curves stored with the run, once per run and process)."""
    if seq not in _PLOTS:
        from athar.estimate.plot import curves_svg

        latest = statistics.latest_estimate(db.connection())
        if latest is None or latest["audit_seq"] != seq or not latest.get("curves"):
            return None
        svg = curves_svg(latest["curves"], title="N")
        if len(_PLOTS) >= 8:
            _PLOTS.clear()
        _PLOTS[seq] = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return _PLOTS[seq]
