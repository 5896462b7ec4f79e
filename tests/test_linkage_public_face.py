"""Code outside athar.linkage imports only its public face (linkage/README.md).

The CLI, the services, the web app (all of ``src/athar`` outside ``linkage/``) import the
names of ``athar.linkage.__all__`` and nothing else from the package; the benchmarks may
also import ``athar.linkage.runner``, whose engine steps they time and take apart.
Checked on the source (AST), so a lazy import inside a function counts too.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import athar.linkage

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "athar.linkage"
PUBLIC = frozenset(athar.linkage.__all__)
#: submodules of athar.linkage that callers under each tree may import besides the face
CALLERS = {
    ROOT / "src" / "athar": frozenset(),
    ROOT / "bench": frozenset({"runner"}),
}


def violations(source: str, allowed: frozenset[str], where: str = "<source>") -> list[str]:
    """Each import of athar.linkage in ``source`` that goes past the public face."""
    out: list[str] = []
    tree = ast.parse(source)
    # names bound to the package itself: `from athar import linkage [as x]`, `import athar.linkage`
    bound: set[str] = set()

    def bad(node: ast.AST, what: str) -> None:
        out.append(f"{where}:{getattr(node, 'lineno', '?')}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == PACKAGE:
                for a in node.names:
                    if a.name not in PUBLIC and a.name not in allowed:
                        bad(node, f"from {PACKAGE} import {a.name} (not public)")
            elif node.module.startswith(PACKAGE + "."):
                sub = node.module.removeprefix(PACKAGE + ".").split(".")[0]
                if sub not in allowed:
                    bad(node, f"from {node.module} import ... (an internal module)")
            elif node.module == "athar":
                bound |= {a.asname or a.name for a in node.names if a.name == "linkage"}
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith(PACKAGE + "."):
                    sub = a.name.removeprefix(PACKAGE + ".").split(".")[0]
                    if sub not in allowed:
                        bad(node, f"import {a.name} (an internal module)")
                elif a.name == PACKAGE and a.asname:
                    bound.add(a.asname)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        base = node.value
        via_name = isinstance(base, ast.Name) and base.id in bound
        via_path = (
            isinstance(base, ast.Attribute)
            and base.attr == "linkage"
            and isinstance(base.value, ast.Name)
            and base.value.id == "athar"
        )
        if (via_name or via_path) and node.attr not in PUBLIC and node.attr not in allowed:
            bad(node, f"{PACKAGE}.{node.attr} (not public)")
    return out


def _callers() -> list[tuple[Path, frozenset[str]]]:
    files = []
    for tree, allowed in CALLERS.items():
        for path in sorted(tree.rglob("*.py")):
            if (ROOT / "src" / "athar" / "linkage") in path.parents:
                continue
            files.append((path, allowed))
    return files


def test_callers_import_only_the_public_face():
    files = _callers()
    assert len(files) > 50  # the trees were found
    found = []
    for path, allowed in files:
        where = str(path.relative_to(ROOT))
        found += violations(path.read_text(encoding="utf-8"), allowed, where)
    assert found == [], "import these through athar.linkage (its __all__):\n" + "\n".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "from athar.linkage.runner import link",
        "from athar.linkage.clustering import cluster",
        "from athar.linkage import runner",
        "from athar.linkage import comparisons as comp",
        "import athar.linkage.spec",
        "def f():\n    from athar.linkage import _WHERE",
        "from athar import linkage\nlinkage.runner.link()",
        "from athar import linkage as lk\nlk.build_linker()",
        "import athar.linkage\nathar.linkage.pipeline.link_with()",
    ],
)
def test_the_check_catches_imports_past_the_face(source: str):
    assert violations(source, frozenset())


@pytest.mark.parametrize(
    "source",
    [
        "from athar.linkage import link, load_spec, EngineConfig",
        "from athar import linkage\nlinkage.link(); x: linkage.PairDecision",
        "import athar.linkage\nathar.linkage.cluster()",
        "from athar.linkage_other import x",
    ],
)
def test_the_check_lets_the_face_through(source: str):
    assert violations(source, frozenset()) == []


def test_the_benchmarks_may_import_the_runner():
    assert violations("from athar.linkage import runner", frozenset({"runner"})) == []
    assert violations("from athar.linkage.runner import train", frozenset({"runner"})) == []
    assert violations("from athar.linkage.pipeline import Scorer", frozenset({"runner"}))


def _type_checking_names() -> set[str]:
    """The names athar/linkage/__init__.py imports for the type checker."""
    tree = ast.parse(Path(athar.linkage.__file__).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                names |= {a.asname or a.name for a in imp.names}
    return names


def test_every_public_name_resolves_from_its_declared_module():
    where = athar.linkage._WHERE
    assert set(where) == PUBLIC == _type_checking_names()
    for name in sorted(PUBLIC):
        module = importlib.import_module(f"{PACKAGE}.{where[name]}")
        assert getattr(athar.linkage, name) is getattr(module, name), name
    with pytest.raises(AttributeError):
        athar.linkage.no_such_name  # noqa: B018


def test_the_face_loads_lazily():
    """Importing a specification through the face starts neither Splink nor the runner
    (the CLI imports athar.linkage at start-up)."""
    code = (
        "import sys\n"
        "from athar.linkage import LinkSpec, load_spec\n"
        "bad = [m for m in ('splink', 'duckdb', 'pandas', 'athar.linkage.runner',\n"
        "       'athar.linkage.pipeline') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
