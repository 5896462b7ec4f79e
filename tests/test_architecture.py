"""The house's rules between packages (docs/architecture.md), checked on the source's imports.

* No import goes up a floor: pure cores < plumbing < services < the top (web, commands, cli).
  ``errors`` is importable from every floor; ``config`` (it reads the environment) from every
  floor but the pure cores.
* The services' wings import only wings below them in ``WING_ORDER``, so wings have no cycles.
* No import cycle between packages, and none between modules through imports made at import
  time (an import inside a function, made to load a heavy module lazily, is not one).

Every ``import`` in ``src/athar`` is read with :mod:`ast`, at any depth, so a lazy import inside
a function still has to respect the floors.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "athar"

CORES = {"domain", "names", "linkage", "estimate", "dna"}
PLUMBING = {"store", "ingest", "security", "synth"}
TOP = {"web", "commands", "cli", "__main__"}
GROUND = {"errors", "config", "progress", "__version__"}
FLOOR = {
    **dict.fromkeys(CORES, 0),
    **dict.fromkeys(PLUMBING, 1),
    "services": 2,
    **dict.fromkeys(TOP, 3),
}
#: a wing may import only the wings before it
WING_ORDER = [
    "actor",
    "audit",
    "jobs",
    "access",
    "registry",
    "safekeeping",
    "casework",
    "linking",
    "sharing",
    "figures",
    "worker",
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at import time) for every ``athar`` import in the tree."""
    top_level = set()
    for node in getattr(tree, "body", []):
        top_level.add(id(node))
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks are not run
            for sub in node.body + node.orelse:
                top_level.add(id(sub))
    for node in ast.walk(tree):
        at_import = id(node) in top_level
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("athar"):
                    yield alias.name, node.lineno, at_import
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - node.level + 1]
                base = ".".join([*pkg, base] if base else pkg)
            if not base.startswith("athar"):
                continue
            if base == "athar":
                for alias in node.names:
                    yield f"athar.{alias.name}", node.lineno, at_import
            else:
                yield base, node.lineno, at_import


def _type_checking_only(tree: ast.Module) -> set[int]:
    lines = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in ast.walk(node):
                if hasattr(sub, "lineno"):
                    lines.add(sub.lineno)
    return lines


def _edges() -> list[tuple[str, str, int, bool]]:
    """(importer, imported, line, at import time) for every module of the package."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_only(tree)
        for target, line, at_import in _imports(tree, module, path.name == "__init__.py"):
            if line in skip:
                continue
            out.append((module, target, line, at_import))
    return out


EDGES = _edges()


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "athar"


def _wing(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "services" else None


def test_the_reader_sees_the_imports() -> None:
    """Guard against a reader that finds nothing (every rule below would then pass)."""
    importers = {_package(a) for a, _, _, _ in EDGES}
    assert {"web", "commands", "services", "store", "linkage", "domain"} <= importers
    assert len(EDGES) > 300


def test_every_package_has_a_floor() -> None:
    packages = {
        p.stem if p.is_file() else p.name
        for p in SRC.iterdir()
        if p.suffix == ".py" or (p / "__init__.py").exists()
    } - {"__init__"}
    unplaced = packages - set(FLOOR) - GROUND
    assert not unplaced, (
        f"place these packages on a floor in docs/architecture.md and here: {unplaced}"
    )


def _up_floor(edges: list[tuple[str, str, int, bool]]) -> list[str]:
    bad = []
    for a, b, line, _ in edges:
        pa, pb = _package(a), _package(b)
        if pa == pb or pa in GROUND and pb in GROUND:
            continue
        if pb in ("errors", "progress", "__version__", "athar"):
            continue
        if pb == "config":
            if FLOOR.get(pa) == 0:
                bad.append(f"{a}:{line} imports {b}: a pure core reads no settings")
            continue
        if pa in GROUND:
            bad.append(f"{a}:{line} imports {b}: the ground imports nothing but itself")
            continue
        if FLOOR[pb] > FLOOR[pa]:
            bad.append(f"{a}:{line} imports {b} (floor {FLOOR[pb]} above {FLOOR[pa]})")
    return bad


def test_no_import_goes_up_a_floor() -> None:
    bad = _up_floor(EDGES)
    assert not bad, "\n".join(bad)


def _wings_up(edges: list[tuple[str, str, int, bool]]) -> list[str]:
    bad = []
    for a, b, line, _ in edges:
        wa, wb = _wing(a), _wing(b)
        if wa is None or wb is None or wa == wb:
            continue
        if WING_ORDER.index(wb) > WING_ORDER.index(wa):
            bad.append(f"{a}:{line} imports {b}: the {wb} wing stands above the {wa} wing")
    return bad


def test_wings_import_only_the_wings_below_them() -> None:
    wings = {p.stem if p.is_file() else p.name for p in (SRC / "services").iterdir()}
    wings -= {"__init__", "__pycache__", "README"}
    assert wings == set(WING_ORDER), f"declare every wing in WING_ORDER: {wings ^ set(WING_ORDER)}"
    bad = _wings_up(EDGES)
    assert not bad, "\n".join(bad)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


def test_no_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b, _, _ in EDGES:
        pa, pb = _package(a), _package(b)
        if pa == "services" and pb == "services":
            pa, pb = f"services.{_wing(a)}", f"services.{_wing(b)}"
        if pa != pb:
            graph[pa].add(pb)
    assert _cycles(graph) == []


def test_no_cycle_between_modules_at_import_time() -> None:
    modules = {_module_name(p) for p in SRC.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b, _, at_import in EDGES:
        if not at_import:
            continue
        # `from athar.x import y` may name the module athar.x.y
        target = b if b in modules else b.rsplit(".", 1)[0]
        if target in modules and target != a and not a.startswith(target + "."):
            graph[a].add(target)
    assert _cycles(graph) == []


def test_the_rules_can_fail() -> None:
    """Each rule fails on a planted import: a store module importing the web, the registry
    wing importing the figures wing, and a cycle."""
    assert _up_floor([("athar.store.engine", "athar.web.app", 1, True)])
    assert _up_floor([("athar.domain.record", "athar.config", 1, True)])
    assert _wings_up(
        [("athar.services.registry.importer", "athar.services.figures.counts", 1, True)]
    )
    assert _cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b"]]
