"""The pure linkage core does no I/O and imports no database, web or Spark, nor the engine
adapter; Splink's internals are patched only in their quarantine (linkage/README.md).

Every module of athar.linkage is pure except the engine adapter (``runner``) and its
quarantined Splink patches (``_splink_patches``); a new module is checked as soon as it
exists.  (Splink itself imports the duckdb module on import; nothing pure executes SQL.)
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import athar.linkage

LINKAGE = Path(athar.linkage.__file__).parent
#: the engine adapter and its quarantined Splink patches: the only impure modules
IMPURE = {"runner", "_splink_patches"}
PURE = sorted(p.stem for p in LINKAGE.glob("*.py") if p.stem not in IMPURE)

#: modules a pure module may not import (top-level package or exact module)
FORBIDDEN = (
    "duckdb",
    "pyspark",
    "sqlalchemy",
    "sqlite3",
    "psycopg",
    "fastapi",
    "starlette",
    "httpx",
    "requests",
    "urllib",
    "http",
    "socket",
    "subprocess",
    "shutil",
    "tempfile",
    "os",
    "pathlib",
    "io",
    "athar.store",
    "athar.services",
    "athar.web",
    "athar.commands",
    "athar.security",
    "athar.linkage.runner",
    "athar.linkage._splink_patches",
)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, except those under ``if TYPE_CHECKING:`` (never executed)."""
    out: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            todo += node.orelse
            continue
        todo += ast.iter_child_nodes(node)
    return out


#: file reads and writes a pure module may not call (packaged data is read through
#: importlib.resources, which the README allows: ``.read_text`` on its files is fine)
FILE_METHODS = {
    "write_text",
    "write_bytes",
    "to_csv",
    "read_csv",
    "to_parquet",
    "read_parquet",
    "to_excel",
    "read_excel",
    "to_json",
    "read_json",
}


def _imports(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    out = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against athar.linkage
                base = "athar.linkage" if module != "__init__" or node.level == 1 else "athar"
                name = f"{base}.{node.module}" if node.module else base
            else:
                name = node.module or ""
            out += [(node.lineno, name)]
            out += [(node.lineno, f"{name}.{a.name}") for a in node.names]
    return out


def _tree(stem: str) -> ast.Module:
    return ast.parse((LINKAGE / f"{stem}.py").read_text(encoding="utf-8"))


def test_the_pure_modules_are_found():
    assert {"clustering", "pipeline", "spec", "features", "comparisons", "threshold"} <= set(PURE)
    assert {"runner", "_splink_patches"} <= {p.stem for p in LINKAGE.glob("*.py")}


@pytest.mark.parametrize("stem", PURE)
def test_pure_module_imports_nothing_that_does_io(stem: str):
    bad = [
        f"line {line}: {name}"
        for line, name in _imports(_tree(stem), stem)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert bad == [], f"athar.linkage.{stem} is pure (linkage/README.md): {bad}"


@pytest.mark.parametrize("stem", PURE)
def test_pure_module_opens_no_file(stem: str):
    calls = [
        node.lineno
        for node in ast.walk(_tree(stem))
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id in {"open", "exec", "eval"})
            or (isinstance(node.func, ast.Attribute) and node.func.attr in FILE_METHODS)
        )
    ]
    assert calls == [], f"athar.linkage.{stem} opens a file at lines {calls}"


def test_only_the_quarantine_reaches_into_splink_state():
    """Splink's private linker state and its m/u validator are touched only in
    _splink_patches; splink.internals is imported elsewhere only to build settings."""
    for path in sorted(LINKAGE.glob("*.py")):
        if path.stem == "_splink_patches":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        private = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and node.attr in {"_settings_obj", "_validate_m_u_probability"}
        ]
        assert private == [], f"{path.name} touches Splink internals at lines {private}"
        internals = [
            name for _, name in _imports(tree, path.stem) if name.startswith("splink.internals")
        ]
        if path.stem != "comparisons":
            assert internals == [], f"{path.name} imports {internals}"
        else:
            assert all("creator" in n or "comparison_library" in n for n in internals), internals


def test_core_imports_no_database_web_or_engine():
    imports = "\n".join(f"import athar.linkage.{stem}" for stem in PURE if stem != "__init__")
    code = (
        "import sys\n"
        f"{imports}\n"
        "bad = [m for m in ('sqlalchemy', 'fastapi', 'pyspark', 'athar.store',\n"
        "       'athar.services', 'athar.web', 'athar.linkage.runner',\n"
        "       'athar.linkage._splink_patches') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
