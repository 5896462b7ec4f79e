"""The services' convention (``src/athar/services/README.md``), checked on their source.

What a test can check of it: a write takes the engine first and owns its transaction (no
``Session`` or ``Connection`` passed in, no ``commit`` anywhere in the services); the actor is
never a bare string; no module imports another's private name; no raw SQL in the services.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[1] / "src" / "athar" / "services"
#: the ground: the audit log appends on the caller's connection and records the actor's label
GROUND = {"audit.py"}
#: calls that write: the audit append, the write transactions, a commit
WRITE_CALLS = {"append_event", "append_events", "begin_write", "write_session"}
SQL = re.compile(r"^\s*(SELECT|INSERT\s+INTO|UPDATE|DELETE\s+FROM|CREATE|DROP|ALTER|PRAGMA)\s")


def _modules() -> list[tuple[str, ast.Module]]:
    return [
        (str(p.relative_to(SERVICES)), ast.parse(p.read_text(encoding="utf-8")))
        for p in sorted(SERVICES.rglob("*.py"))
    ]


def _called(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            f = call.func
            names.add(
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
    return names


def _public_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]


def _params(fn: ast.FunctionDef) -> list[ast.arg]:
    a = fn.args
    return [*a.posonlyargs, *a.args, *a.kwonlyargs]


def _annotation(arg: ast.arg) -> str:
    return ast.unparse(arg.annotation) if arg.annotation is not None else ""


def writes_taking_a_transaction(tree: ast.Module) -> list[str]:
    """Public functions that write but do not take ``engine: Engine`` first, or take a
    ``Session``/``Connection`` besides."""
    bad = []
    for fn in _public_functions(tree):
        if not _called(fn) & WRITE_CALLS:
            continue
        params = _params(fn)
        first = params[0] if params else None
        if first is None or first.arg != "engine" or _annotation(first) != "Engine":
            bad.append(f"{fn.name}: first parameter must be engine: Engine")
        for p in params:
            if re.search(r"\b(Session|Connection)\b", _annotation(p)):
                bad.append(f"{fn.name}: takes {p.arg}: {_annotation(p)}")
    return bad


def commits(tree: ast.Module) -> list[int]:
    return [
        n.lineno
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "commit"
    ]


def string_actors(tree: ast.Module) -> list[str]:
    return [
        f"{fn.name}({p.arg}: {_annotation(p)})"
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef)
        for p in _params(fn)
        if p.arg == "actor" and re.search(r"\bstr\b", _annotation(p))
    ]


def private_imports(tree: ast.Module) -> list[str]:
    return [
        f"{n.module}.{a.name}"
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom)
        for a in n.names
        if a.name.startswith("_") and not a.name.startswith("__")
    ]


def raw_sql(tree: ast.Module) -> list[str]:
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Call):
            f = n.func
            name = (
                f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            )
            if name in ("text", "exec_driver_sql"):
                found.append(f"line {n.lineno}: {name}(...)")
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and SQL.match(n.value):
            found.append(f"line {n.lineno}: {n.value[:40]!r}")
        elif isinstance(n, ast.JoinedStr):
            head = n.values[0] if n.values else None
            if (
                isinstance(head, ast.Constant)
                and isinstance(head.value, str)
                and SQL.match(head.value)
            ):
                found.append(f"line {n.lineno}: f-string SQL")
    return found


MODULES = _modules()


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[m[0] for m in MODULES])
def test_writes_take_the_engine_and_own_their_transaction(name: str, tree: ast.Module) -> None:
    if name in GROUND:
        return
    assert writes_taking_a_transaction(tree) == []
    assert commits(tree) == [], "a service never commits: write_session/begin_write do"


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[m[0] for m in MODULES])
def test_the_actor_is_an_actor(name: str, tree: ast.Module) -> None:
    if name in GROUND:
        return
    assert string_actors(tree) == []


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[m[0] for m in MODULES])
def test_no_private_names_across_modules(name: str, tree: ast.Module) -> None:
    assert private_imports(tree) == []


@pytest.mark.parametrize(("name", "tree"), MODULES, ids=[m[0] for m in MODULES])
def test_no_raw_sql_in_services(name: str, tree: ast.Module) -> None:
    assert raw_sql(tree) == [], "raw SQL belongs in athar.store (athar/store/statements.py)"


# --- the checks themselves catch what they are for --------------------------------------------


def _tree(src: str) -> ast.Module:
    return ast.parse(src)


def test_the_checks_catch_each_breach() -> None:
    old_write = _tree(
        "def set_status(db: Session, *, actor: Actor, reference: str) -> str:\n"
        "    append_event(db.connection(), actor=actor.label, action='x', entity_type='y')\n"
        "    db.commit()\n"
    )
    assert writes_taking_a_transaction(old_write) == [
        "set_status: first parameter must be engine: Engine",
        "set_status: takes db: Session",
    ]
    assert commits(old_write) == [3]
    conn_write = _tree(
        "def sync(conn: Connection, actor: str) -> None:\n"
        "    append_event(conn, actor=actor, action='x', entity_type='y')\n"
    )
    assert len(writes_taking_a_transaction(conn_write)) == 2
    assert string_actors(conn_write) == ["sync(actor: str)"]
    assert private_imports(_tree("from athar.services.linking.runs import _decisions")) == [
        "athar.services.linking.runs._decisions"
    ]
    assert len(raw_sql(_tree("q = text('SELECT id FROM source WHERE code = :c')"))) == 2
    assert raw_sql(_tree("q = f'SELECT {cols} FROM record'")) != []
    good = _tree(
        "def set_status(engine: Engine, *, actor: Actor, reference: str) -> str:\n"
        "    with write_session(engine) as db:\n"
        "        append_event(db.connection(), actor=actor.label, action='x', entity_type='y')\n"
    )
    assert writes_taking_a_transaction(good) == [] and commits(good) == []
