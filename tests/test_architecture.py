"""Arrows point down (issue 19 item 4; ``../shared/DESIGN.md`` §3, ``docs/development.md``).

Every module under ``lims/`` and ``instruments/`` is parsed with ``ast`` (its imports at the
top and inside functions), given its floor, and checked:

* no import reaches a higher floor (the few justified exceptions are in ``UPWARD``);
* no import cycle between modules, nor between packages (strongly connected components);
* ``instruments/`` never imports ``lims``;
* an import inside a function hides an edge: each one left is named in ``DEFERRED`` with why.

A new module gets its floor from the longest prefix in ``FLOORS``; a module no prefix covers
fails the test until it is given one.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("lims", "instruments")

#: The floors of DESIGN.md §3, by module prefix (the longest prefix wins).
FLOORS: dict[str, int] = {
    # 1: configuration, shared infrastructure (no feature), PDF parts, the pure rules, devices
    "instruments": 1,
    "lims.config": 1,
    "lims.extensions": 1,
    "lims.pdf": 1,
    "lims.rules": 1,
    "lims.charts": 1,
    "lims.counters": 1,
    "lims.errors": 1,
    "lims.exports": 1,
    "lims.forms": 1,
    "lims.health": 1,
    "lims.i18n": 1,
    "lims.jsstrings": 1,
    "lims.logs": 1,
    "lims.mail": 1,
    "lims.nfc": 1,
    "lims.origin": 1,
    "lims.pagecache": 1,
    "lims.paging": 1,
    "lims.progress": 1,
    "lims.ratelimit": 1,
    "lims.safetext": 1,
    "lims.sheets": 1,
    "lims.signatures": 1,
    "lims.staticcache": 1,
    "lims.storage": 1,
    "lims.wordfiles": 1,
    "lims.xlsxguard": 1,
    # 2-9: the features, in the order of a sample's flow
    "lims.audit": 2,
    "lims.auth": 3,
    "lims.catalog": 4,
    "lims.equipment": 4,
    "lims.intake": 5,
    "lims.testing": 6,
    "lims.qc": 6,  # QC batches and their acceptance belong to testing (DESIGN.md §3)
    "lims.certificates": 7,
    "lims.warnings": 8,
    "lims.complaints": 8,
    "lims.reports": 9,
    "lims.api": 9,
    "lims.main": 9,  # the start page: reads the reports' queues
    # 10: the app factory and what wires every feature together
    "lims": 10,
    "lims.models": 10,  # imports every feature's models (for Alembic and the factory)
    "lims.navigation": 10,
    "lims.wiring": 10,  # the factory's links between features against the floors
    "lims.demo": 10,  # `lims demo`: seeds every feature
    # 11: above the factory: they build the app, the app never imports them
    "lims.ops": 11,
    "lims.cli": 11,  # the `lims` command: builds the app and adds the ops commands
}

#: Imports from a lower floor to a higher one that are allowed, with the reason.
UPWARD: dict[tuple[str, str], str] = {}

#: Imports inside a function, (module, imported module) -> why it cannot be at the top.
DEFERRED: dict[tuple[str, str], str] = {
    ("lims.config", "lims.pdf.signkeys"): (
        "lims/__init__.py reads the settings at import; reading the signing-key table pulls in "
        "ReportLab, asn1crypto and pyHanko, needed only when create_app() finds signing keys "
        "configured (so a pure rule or `lims --help` does not load them)"
    ),
}

#: Modules whose imports inside functions are all allowed, with the reason.
DEFERRED_MODULES: dict[str, str] = {
    "lims": (
        "the app factory imports each feature inside create_app(): `import lims.rules.numbers` "
        "(or any lims module) first runs lims/__init__.py, which must stay light (no Flask "
        "blueprints, ReportLab or every model loaded for a pure function or a CLI --help)"
    ),
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    deferred: bool  # inside a function


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _project_module(name: str) -> str | None:
    """The project module an import names (``lims.x.y`` for ``from lims.x import y`` when y is
    a module, else the nearest module above)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterable[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    for alias in node.names:
        yield f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in MODULES else prefix


def _edges_of(module: str, path: Path) -> list[Edge]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    edges = []

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                for name in _targets(child, module, is_package):
                    target = _project_module(name)
                    if target is not None and target != module:
                        edges.append(Edge(module, target, child.lineno, deferred))
            else:
                visit(child, deferred)

    visit(tree, False)
    return edges


EDGES = sorted(
    {edge for module, path in MODULES.items() for edge in _edges_of(module, path)},
    key=lambda e: (e.source, e.line, e.target),
)


def floor_of(module: str) -> tuple[int, str] | None:
    name = module
    while name:
        if name in FLOORS:
            return FLOORS[name], name
        name = name.rpartition(".")[0]
    return None


def _floor(module: str) -> int:
    found = floor_of(module)
    assert found is not None, f"{module} has no floor"
    return found[0]


def _where(edge: Edge) -> str:
    return f"{MODULES[edge.source].relative_to(ROOT)}:{edge.line}"


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _assembles_itself(edge: Edge) -> bool:
    """A feature package's ``__init__`` importing its own modules (``bp`` is made there, then
    ``from . import views`` attaches the routes that import ``bp``): how a Flask blueprint is
    put together, not an arrow between two pieces of behaviour. ``lims`` itself (the factory)
    is not a feature package and gets no such pass."""
    return (
        edge.source != "lims"
        and MODULES[edge.source].name == "__init__.py"
        and edge.target.startswith(edge.source + ".")
    ) or (edge.target != "lims" and edge.source.startswith(edge.target + "."))


def _cycles(unit: str) -> list[str]:
    graph: dict[str, set[str]] = defaultdict(set)
    shown: dict[tuple[str, str], Edge] = {}
    for edge in EDGES:
        if unit == "module":
            if _assembles_itself(edge):
                continue
            a, b = edge.source, edge.target
        else:
            floor_a, floor_b = floor_of(edge.source), floor_of(edge.target)
            assert floor_a and floor_b
            a, b = floor_a[1], floor_b[1]
        if a != b:
            graph[a].add(b)
            shown.setdefault((a, b), edge)
    found = []
    for component in strongly_connected(graph):
        inside = [
            f"{a} -> {b} ({_where(shown[(a, b)])})"
            for a in component
            for b in sorted(graph[a])
            if b in component
        ]
        found.append(" | ".join(inside))
    return found


def test_every_module_has_a_floor():
    missing = sorted(m for m in MODULES if floor_of(m) is None)
    assert not missing, f"give these modules a floor in FLOORS: {missing}"


def test_no_import_goes_up_a_floor():
    upward = []
    for edge in EDGES:
        source_floor, target_floor = _floor(edge.source), _floor(edge.target)
        if target_floor > source_floor and (edge.source, edge.target) not in UPWARD:
            upward.append(
                f"{_where(edge)}: {edge.source} (floor {source_floor}) imports "
                f"{edge.target} (floor {target_floor})"
            )
    assert not upward, "imports up a floor:\n" + "\n".join(upward)


def test_no_import_cycle_between_modules():
    cycles = _cycles("module")
    assert not cycles, "import cycles between modules:\n" + "\n".join(cycles)


def test_no_import_cycle_between_packages():
    cycles = _cycles("package")
    assert not cycles, "import cycles between packages:\n" + "\n".join(cycles)


def test_instruments_never_import_lims():
    wrong = [
        f"{_where(e)}: {e.target}"
        for e in EDGES
        if e.source.startswith("instruments") and e.target.split(".")[0] == "lims"
    ]
    assert not wrong, "instruments/ is a device library of its own:\n" + "\n".join(wrong)


def test_imports_inside_functions_are_named_with_a_reason():
    hidden = [
        f"{_where(e)}: {e.source} imports {e.target} inside a function"
        for e in EDGES
        if e.deferred and e.source not in DEFERRED_MODULES and (e.source, e.target) not in DEFERRED
    ]
    assert not hidden, (
        "move these imports to the top of the module (or, for a real reason, name them in "
        "DEFERRED):\n" + "\n".join(hidden)
    )


def test_the_exception_lists_name_real_imports():
    """An exception that no longer matches an import is removed, so the lists stay true."""
    pairs = {(e.source, e.target) for e in EDGES}
    deferred = {(e.source, e.target) for e in EDGES if e.deferred}
    stale = [pair for pair in UPWARD if pair not in pairs]
    stale += [pair for pair in DEFERRED if pair not in deferred]
    stale += [m for m in DEFERRED_MODULES if m not in MODULES]
    assert not stale, f"remove these exceptions, nothing imports so any more: {stale}"
    assert all(reason.strip() for reason in [*UPWARD.values(), *DEFERRED.values()])


def test_the_checks_see_what_they_should():
    """The parser itself: it finds imports at the top and inside functions, relative ones
    resolved, ``from package import module`` as the module."""
    edges = {(e.source, e.target, e.deferred) for e in EDGES}
    assert ("lims.auth.permissions", "lims.auth.tokens", False) in edges
    assert ("lims.testing.entry", "lims.testing.provenance", False) in edges
    assert ("lims", "lims.api", True) in edges  # the factory, inside create_app's helpers
    assert floor_of("lims.rules.numbers") == (1, "lims.rules")
    assert floor_of("lims.ops.serve") == (11, "lims.ops")
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


#: Issue 19 item 5: "no module over ~500 lines in lims/ and instruments/". A module may grow
#: past this only by being split by responsibility; the few listed here say why they are not.
MAX_LINES = 550
LONGER: dict[str, str] = {}


def test_no_module_is_longer_than_a_newcomer_can_read():
    long = {
        name: n
        for name, path in MODULES.items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
        and name not in LONGER
    }
    assert not long, f"split by responsibility (docs/development.md): {long}"
