"""The package reads like its data flow: each folder imports only from the layers below it.

    foundation (model, errors, text, urls, clock, paths, instance, fmt, document)
      < config < sources < engine < rules, history < export, simulator < serve, ui < cli

Nothing imports upwards, there is no import cycle, and the core (everything below serve and ui)
never imports textual. Imports are read from the source with ``ast``, lazy ones included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "buildradiator"
FOUNDATION = {"model", "errors", "text", "urls", "clock", "paths", "instance", "fmt", "document"}
RANK: dict[str, float] = {
    "": 0,
    "config": 1,
    "sources": 2,
    "engine": 3,
    "rules": 4,
    "history": 4.5,  # history summarises what it stores with the pure rules
    "export": 5,
    "simulator": 5,
    "assemble": 5.5,  # builds the engine with its rules, history and cache: above export
    "serve": 6,
    "ui": 6,
    "cli": 7,
    "__main__": 8,
}
CORE = {name for name, rank in RANK.items() if rank <= 5}


def _layer(module: str) -> str:
    """``buildradiator.sources.github.source`` -> ``sources``; foundation modules -> ``""``."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in FOUNDATION or parts[0] == "__init__":
        return ""
    return parts[0]


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _internal(names: set[str]) -> set[str]:
    """The package's own modules among imported names (``from x import name`` counts ``x``)."""
    return {n for n in names if n in MODULES and n != "buildradiator"}


GRAPH = {m: _internal(_imports(m, p)) for m, p in MODULES.items()}


def test_every_folder_is_placed() -> None:
    unplaced = {_layer(m) for m in MODULES} - set(RANK)
    assert not unplaced, f"folders with no place in the layer order: {sorted(unplaced)}"


def test_nothing_imports_upwards() -> None:
    upward = [
        f"{m} ({_layer(m) or 'foundation'}) imports {dep} ({_layer(dep) or 'foundation'})"
        for m, deps in sorted(GRAPH.items())
        for dep in sorted(deps)
        if RANK[_layer(dep)] > RANK[_layer(m)]
        or (RANK[_layer(dep)] == RANK[_layer(m)] and _layer(dep) != _layer(m))
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle() -> None:
    """Between modules, lazy imports included (a package's ``__init__`` re-exporting its own
    modules is not a cycle)."""
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for dep in sorted(GRAPH[module]):
            if dep == module or module.startswith(dep + ".") or dep.startswith(module + "."):
                continue  # a package and its own modules
            if state.get(dep) == 1:
                cycles.append([*trail[trail.index(dep) :], dep] if dep in trail else [module, dep])
            elif dep not in state:
                visit(dep, [*trail, dep])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles[:10])


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _layer(m) in CORE))
def test_the_core_never_imports_textual(module: str) -> None:
    textual = {n for n in _imports(module, MODULES[module]) if n.split(".")[0] == "textual"}
    assert not textual, f"{module} imports {sorted(textual)}"
