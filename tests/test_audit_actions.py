"""Audit actions are one declared set (:class:`athar.services.audit.AuditAction`).

The stored strings are hashed into the chain, so they are pinned here exactly; the code uses
every declared action, passes no action as a bare string or f-string, and names none that
is not declared (checked on the source: an action written as a string could otherwise hide
in any module).
"""

from __future__ import annotations

import ast
from pathlib import Path

from athar.services.audit import AuditAction

SRC = Path(__file__).resolve().parents[1] / "src" / "athar"
DECLARED_IN = SRC / "services" / "audit.py"

#: the strings stored in ``audit_event.action`` before the set was declared: never change one
STORED = {
    "user.create",
    "user.enable",
    "user.disable",
    "user.reset_password",
    "login.success",
    "login.failure",
    "login.locked",
    "login.rate_limited",
    "logout",
    "import.batch",
    "person.view",
    "vocab.facilities.sync",
    "estimate.run",
    "figures.snapshot",
    "link.run",
    "link.must_link",
    "link.cannot_link",
    "review.queue_view",
    "review.pair_view",
    "tracing_request.create",
    "tracing_request.list",
    "tracing_request.view",
    "tracing_request.contact_view",
    "tracing_request.contact_refused",
    "tracing_request.photo_view",
    "tracing_request.status",
    "tracing_request.consent",
    "tracing_request.note_add",
    "tracing_request.notes_view",
    "tracing_request.notifications_view",
    "tracing_request.history_view",
    "tracing_request.family_informed",
    "tracing_request.candidates_view",
    "tracing_request.spam",
    "tracing_request.not_spam",
    "unidentified.create",
    "unidentified.list",
    "unidentified.view",
    "unidentified.candidates_view",
    "antemortem.create",
    "antemortem.view",
    "odk.import",
    "export.partner",
    "export.research",
    "store.backup",
    "store.restore",
    "keys.reencrypt.start",
    "keys.reencrypt.done",
    "source.pfif_death_authorise",
    "export.pfif",
    "export.pfif_feed",
    "api_key.create",
    "api_key.revoke",
    "job.queue",
    "job.start",
    "job.finish",
}


def _trees() -> list[tuple[Path, ast.AST]]:
    return [
        (p, ast.parse(p.read_text(encoding="utf-8"), str(p))) for p in sorted(SRC.rglob("*.py"))
    ]


def test_the_stored_strings_are_unchanged() -> None:
    assert {a.value for a in AuditAction} == STORED
    assert len(list(AuditAction)) == len(STORED)  # no two names for one action


def test_every_declared_action_is_used_and_only_declared_ones() -> None:
    used: set[str] = set()
    for path, tree in _trees():
        if path == DECLARED_IN:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "AuditAction"
            ):
                used.add(node.attr)
    declared = {a.name for a in AuditAction}
    assert used - declared == set(), "undeclared actions"
    assert declared - used == set(), "declared actions no code uses"


def test_no_action_is_written_as_a_string() -> None:
    found = []
    for path, tree in _trees():
        docstrings = {
            id(n.body[0].value)
            for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and n.body
            and isinstance(n.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.keyword) and node.arg == "action":
                if isinstance(node.value, ast.Constant | ast.JoinedStr):
                    found.append(f"{where} action= a string")
            elif (
                isinstance(node, ast.Constant)
                and node.value in STORED
                and id(node) not in docstrings
                and path != DECLARED_IN
            ):
                found.append(f"{where} {node.value!r}")
    assert found == []
