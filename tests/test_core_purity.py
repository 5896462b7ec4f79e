"""The domain and the estimation core are pure (src/athar/domain/README.md,
src/athar/estimate/README.md): no database, web, CLI or service code, no file or network I/O.

Checked two ways: statically, no module of either package imports an I/O, database, web or
CLI module or calls ``open``/``print`` (packaged data is read through
``importlib.resources``); and at run time, importing them loads no database or web module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "athar"
PACKAGES = ("domain", "estimate")
FORBIDDEN = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "sqlite3",
    "duckdb",
    "splink",
    "pyspark",
    "fastapi",
    "starlette",
    "jinja2",
    "click",
    "os",
    "pathlib",
    "shutil",
    "subprocess",
    "socket",
    "tempfile",
    "urllib",
    "http",
    "requests",
    "athar.store",
    "athar.services",
    "athar.web",
    "athar.commands",
    "athar.ingest",
    "athar.security",
    "athar.linkage",
)
FORBIDDEN_CALLS = ("open", "print", "input")


def _forbidden(module: str) -> bool:
    return any(module == f or module.startswith(f + ".") for f in FORBIDDEN)


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    out = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        out += [f"{path.name}:{node.lineno} imports {n}" for n in names if _forbidden(n)]
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in FORBIDDEN_CALLS
        ):
            out.append(f"{path.name}:{node.lineno} calls {node.func.id}()")
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_no_io_database_or_web_import(package: str) -> None:
    files = sorted((SRC / package).glob("*.py"))
    assert files
    problems = [p for f in files for p in _problems(f)]
    assert problems == []


def test_importing_the_cores_loads_no_database_or_web() -> None:
    code = (
        "import sys, athar.domain.person, athar.domain.record, athar.estimate,"
        " athar.estimate.captures, athar.estimate.plot\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'fastapi',"
        " 'starlette', 'psycopg', 'duckdb', 'splink', 'click')"
        " or m.startswith(('athar.store', 'athar.services', 'athar.web', 'athar.commands'))]\n"
        "print(','.join(sorted(bad)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_store_imports_no_core() -> None:
    """The store persists; the rules it counts in SQL come in as values (store/figures.py),
    so no module under athar/store (migrations included) imports a pure core."""
    cores = ("athar.domain", "athar.estimate", "athar.names", "athar.linkage")
    found = []
    for path in sorted((SRC / "store").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            found += [
                f"{path.relative_to(SRC)}:{node.lineno} {n}"
                for n in names
                if any(n == c or n.startswith(c + ".") for c in cores)
            ]
    assert found == []
