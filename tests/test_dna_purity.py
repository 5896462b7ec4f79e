"""athar.dna is a pure core (src/athar/dna/README.md): no I/O, no environment, no clock.

Checked two ways: statically, no module of the package imports an I/O, OS or clock module or
calls open/print/input (importlib.resources is the one way in for packaged data; csv
parses strings already in memory); and at run
time, importing the whole package loads no database, web or CLI module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "athar" / "dna"
FORBIDDEN_MODULES = {
    "os",
    "sys",
    "io",
    "pathlib",
    "shutil",
    "subprocess",
    "socket",
    "urllib",
    "http",
    "requests",
    "time",
    "datetime",
    "random",
    "tempfile",
    "sqlite3",
    "sqlalchemy",
    "click",
    "logging",
    "json",
    "athar.store",
    "athar.services",
    "athar.web",
    "athar.commands",
}
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval", "breakpoint"}
MODULES = sorted(PACKAGE.glob("*.py"))


def test_package_has_modules():
    assert len(MODULES) >= 5


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_module_does_no_io(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            if any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES):
                bad.append(f"line {node.lineno}: imports {name}")
        if isinstance(node, ast.ImportFrom) and node.module == "importlib":
            if any(a.name != "resources" for a in node.names):
                bad.append(f"line {node.lineno}: importlib other than resources")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                bad.append(f"line {node.lineno}: calls {node.func.id}()")
        if isinstance(node, ast.Attribute) and node.attr in {"read_bytes", "write_text", "open"}:
            bad.append(f"line {node.lineno}: .{node.attr}")
    assert bad == [], f"{path.name} is not pure: {bad}"


def test_the_checker_catches_io(tmp_path: Path):
    # the static check above must be able to fail
    src = "import os\nfrom pathlib import Path\nprint(open('x').read())\n"
    tree = ast.parse(src)
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    calls = [
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in FORBIDDEN_CALLS
    ]
    assert len(imports) == 2 and sorted(calls) == ["open", "print"]


def test_import_loads_no_database_web_or_cli():
    code = (
        "import sys, pkgutil, importlib, athar.dna\n"
        "for m in pkgutil.iter_modules(athar.dna.__path__):\n"
        "    importlib.import_module('athar.dna.' + m.name)\n"
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'click', 'athar.store', 'athar.services',\n"
        "       'athar.commands', 'athar.web') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
