"""The web layer's rules (``src/athar/web/README.md``), checked on the source:

* no route module imports another route module: what two routes share lives in
  :mod:`athar.web.presenters` (or :mod:`athar.web.deps`, :mod:`athar.web.uploads`);
* only the app factory (:mod:`athar.web.app`) imports route modules, to mount them;
* routes never import :mod:`athar.store`: they call services.
"""

from __future__ import annotations

import ast
from importlib import resources
from pathlib import Path

import pytest

WEB = Path(str(resources.files("athar.web")))
ROUTES = WEB / "routes"
ROUTE_MODULES = sorted(p for p in ROUTES.glob("*.py") if p.name != "__init__.py")


def imported(path: Path, package: str) -> set[str]:
    """Every module ``path`` imports, absolute; ``from a import b`` counts as ``a`` and
    ``a.b`` (``b`` may be a module).  ``package`` resolves relative imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, node.module] if node.module else parts)
            else:
                base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def test_the_rules_see_every_route_module() -> None:
    assert len(ROUTE_MODULES) >= 10, ROUTE_MODULES


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: p.stem)
def test_a_route_imports_no_other_route_and_no_store(path: Path) -> None:
    names = imported(path, "athar.web.routes")
    routes = {n for n in names if n == "athar.web.routes" or n.startswith("athar.web.routes.")}
    assert not routes, (
        f"{path.name} imports route modules {sorted(routes)}: use athar.web.presenters"
    )
    store = {n for n in names if n == "athar.store" or n.startswith("athar.store.")}
    assert not store, f"{path.name} imports {sorted(store)}: routes call services"


def test_only_the_app_factory_imports_routes() -> None:
    for path in sorted(WEB.glob("*.py")):
        if path.name == "app.py":
            continue
        names = imported(path, "athar.web")
        routes = {n for n in names if n.startswith("athar.web.routes")}
        assert not routes, f"{path.name} imports {sorted(routes)}"


def test_the_import_reader_sees_every_form() -> None:
    """The checker itself: absolute, ``from`` and relative imports of a route are all seen."""
    import tempfile

    source = (
        "import athar.web.routes.pages_review\n"
        "from athar.web.routes import api_review\n"
        "from .pages_public import ROLE_LABELS\n"
        "from athar.store.engine import make_engine\n"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.py"
        path.write_text(source, encoding="utf-8")
        names = imported(path, "athar.web.routes")
    assert {
        "athar.web.routes.pages_review",
        "athar.web.routes.api_review",
        "athar.web.routes.pages_public",
        "athar.store.engine",
    } <= names
