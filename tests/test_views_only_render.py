"""The views only render (issue 14): which pipeline comes first, how a group rolls up, what counts
as red or green on stale data are decided once, in ``rules`` (``rules.ordering``,
``rules.verdict``, ``rules.production``). This test reads every widget's source and fails when a
widget decides one of them again itself:

1. **No ordering by state.** A ``sorted``/``.sort``/``min``/``max`` key in a widget names no
   ``.status``, ``.in_flight``, ``.health`` nor ``stale_sources`` (the rules' ``units`` and
   ``urgency`` order things; a widget may still sort tiles by the rank the rules gave them).
2. **No "stale is never green" of its own.** No single condition (``and``/``or``, ``if x
   else y``, a comprehension's ``if``) tests both a ``.status`` and ``stale_sources``: that is
   ``ordering.is_green`` / ``result_shown`` restated.
3. **No counting pipelines by status.** No comprehension over pipelines (``.pipelines``,
   ``members``) filters on ``.status`` or ``.in_flight`` (``red_count``, ``roll_up``).
4. **The verdict from the rules.** No widget imports ``buildradiator.export`` (the verdict's old
   home) nor defines a function the rules own (``urgency``, ``roll_up``, ``is_green``...).

Each check is also run on a snippet of the code it replaced, so it is known to bite.
"""

from __future__ import annotations

import ast
from pathlib import Path

import buildradiator.ui.widgets as widgets_pkg

WIDGETS = sorted(Path(widgets_pkg.__file__).parent.glob("*.py"))
STATE_ATTRS = {"status", "in_flight", "health"}
RULE_NAMES = {
    "urgency",
    "roll_up",
    "units",
    "is_green",
    "result_shown",
    "red_count",
    "headline_word",
    "gate_word",
    "calm",
    "stopped",
    "deploy_health",
    "counted_health",
    "events_between",
}


def _attrs(node: ast.AST) -> set[str]:
    return {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}


def _names(node: ast.AST) -> set[str]:
    return _attrs(node) | {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _sort_keys(tree: ast.AST) -> list[ast.expr]:
    keys: list[ast.expr] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        if name in {"sorted", "sort", "min", "max"}:
            keys += [k.value for k in node.keywords if k.arg == "key"]
    return keys


def ordering_by_state(tree: ast.AST) -> list[int]:
    """Lines where a sort key looks at a pipeline's or service's state, or at staleness, itself
    or through a function of the module."""
    looks = {
        f.name
        for f in ast.walk(tree)
        if isinstance(f, ast.FunctionDef)
        and (_attrs(f) & STATE_ATTRS or "stale_sources" in _names(f))
    }
    return [
        k.lineno
        for k in _sort_keys(tree)
        if _attrs(k) & STATE_ATTRS or ({"stale_sources"} | looks) & _names(k)
    ]


def _conditions(tree: ast.AST) -> list[ast.AST]:
    found: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BoolOp):
            found.append(node)
        elif isinstance(node, ast.IfExp | ast.If | ast.While):
            found.append(node.test)
        elif isinstance(node, ast.comprehension):
            found += node.ifs
    return found


def own_staleness_rule(tree: ast.AST) -> list[int]:
    """Lines where one condition tests a status and staleness together."""
    return sorted(
        {
            getattr(c, "lineno", 0)
            for c in _conditions(tree)
            if "status" in _attrs(c) and "stale_sources" in _names(c)
        }
    )


def counts_pipelines_by_status(tree: ast.AST) -> list[int]:
    """Lines where a comprehension over pipelines filters them on their status."""
    lines: list[int] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.comprehension) or not node.ifs:
            continue
        over = _names(node.iter)
        if not ({"pipelines", "members"} & over):
            continue
        if any(_attrs(c) & {"status", "in_flight"} for c in node.ifs):
            lines.append(node.iter.lineno)
    return lines


def restated_rules(tree: ast.Module) -> list[str]:
    """Imports of the verdict's old home, and functions named like the rules' own."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "buildradiator.export"
        ):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        if isinstance(node, ast.FunctionDef) and node.name.lstrip("_") in RULE_NAMES | {"rank"}:
            found.append(f"line {node.lineno}: def {node.name}")
    return found


def _offences(source: str) -> dict[str, list[object]]:
    tree = ast.parse(source)
    found: dict[str, list[object]] = {
        "orders by state": list(ordering_by_state(tree)),
        "own stale-never-green": list(own_staleness_rule(tree)),
        "counts pipelines by status": list(counts_pipelines_by_status(tree)),
        "restates rules": list(restated_rules(tree)),
    }
    return {what: where for what, where in found.items() if where}


def test_the_widgets_are_found() -> None:
    names = {p.name for p in WIDGETS}
    assert {"pipeline_rows.py", "wall_tiles.py", "finder.py", "verdict.py"} <= names


def test_no_widget_decides_what_the_rules_decide() -> None:
    offences = {
        path.name: found for path in WIDGETS if (found := _offences(path.read_text("utf-8")))
    }
    assert not offences, offences


# The code these checks replaced, as it stood in the widgets before issue 14: each is caught.
OLD_RANK = """
def _rank(pipeline):
    if pipeline.status is Status.FAILED:
        return 0
    return 1 if pipeline.in_flight else 2

ordered = sorted(snapshot.pipelines, key=lambda p: (_rank(p), p.name.lower(), p.key))
"""
OLD_SORT = "tiles = sorted(pipelines, key=lambda p: (p.status is not Status.FAILED, p.name))"
OLD_HIDE = """
hidden = all(
    m.status is Status.PASSED and not m.in_flight and m.source not in stale_sources
    for m in members
)
"""
OLD_GROUP = "red = [m for m in members if m.status is Status.FAILED]"
OLD_COUNT = "red = sum(1 for p in snapshot.pipelines if p.status is Status.FAILED)"
OLD_IMPORT = "from buildradiator.export.document import all_green, answered"


def test_each_check_catches_the_code_it_replaced() -> None:
    assert set(_offences(OLD_RANK)) == {"orders by state", "restates rules"}
    assert set(_offences(OLD_SORT)) == {"orders by state"}
    assert set(_offences(OLD_HIDE)) == {"own stale-never-green"}
    assert set(_offences(OLD_GROUP)) == {"counts pipelines by status"}
    assert set(_offences(OLD_COUNT)) == {"counts pipelines by status"}
    assert set(_offences(OLD_IMPORT)) == {"restates rules"}


def test_rendering_from_the_rules_is_not_an_offence() -> None:
    fine = """
from buildradiator.rules.ordering import units, urgency
rows = [row(u) for u in units(snapshot.pipelines, snapshot.stale_sources)]
tiles = sorted(tiles, key=lambda t: (t.rank, t.title))
label = fmt.status_label(pipeline.status, ascii)
"""
    assert _offences(fine) == {}
