"""Test files import no helpers from other test files: what two test files share lives in a
helper module (a name not starting with ``test_``, such as ``app_helpers.py``) or, for
fixtures, in ``conftest.py``. Importing a test module runs its collection-time code and drags its
fixtures and tests along; moving or renaming a test then breaks unrelated files."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def _is_test_module(dotted: str) -> bool:
    """``test_x`` or ``tests.test_x`` (and anything below them): a test module of this directory,
    not a third party's ``aiohttp.test_utils``."""
    parts = dotted.split(".")
    return parts[0].startswith("test_") or (
        parts[0] == "tests" and len(parts) > 1 and parts[1].startswith("test_")
    )


def imports_of_test_modules(source: str) -> list[str]:
    """Every import of a ``test_*`` module in ``source`` (at any depth: also inside functions),
    as ``line: statement``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # ``from test_x import y``, ``from .test_x import y``, ``from tests import test_x``:
            # the module, and each name as a module below it.
            base = ("tests." if node.level else "") + (node.module or "")
            base = base.rstrip(".")
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(_is_test_module(name) for name in names):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def python_files() -> list[Path]:
    return sorted(TESTS.glob("*.py"))


def test_the_test_directory_is_read() -> None:
    names = {p.name for p in python_files()}
    assert {"conftest.py", "test_hygiene.py", "app_helpers.py"} <= names
    assert len([n for n in names if n.startswith("test_")]) > 50


@pytest.mark.parametrize("path", python_files(), ids=lambda p: p.name)
def test_no_module_imports_a_test_module(path: Path) -> None:
    found = imports_of_test_modules(path.read_text(encoding="utf-8"))
    assert not found, (
        f"{path.name} imports from a test module; move what it needs into a helper module "
        f"(tests/*_helpers.py) or, for a fixture, into conftest.py: {found}"
    )


@pytest.mark.parametrize(
    "source",
    [
        "from test_app import make_app",
        "import test_app",
        "import test_app as app_tests",
        "from tests.test_app import make_app",
        "from tests import test_app",
        "from . import test_app",
        "from .test_app import rows",
        "def f():\n    from test_app_alerts import green\n",
        "async def f():\n    if True:\n        import test_engine\n",
    ],
)
def test_the_check_sees_every_way_to_import_a_test_module(source: str) -> None:
    assert len(imports_of_test_modules(source)) == 1


@pytest.mark.parametrize(
    "source",
    [
        "from app_helpers import make_app",
        "import testing",
        "from aiohttp.test_utils import TestClient",
        "import aiohttp.test_utils",
        "from tests import app_helpers",
        "from buildradiator.testing import fake",
        "x = 'from test_app import make_app'",
    ],
)
def test_the_check_leaves_other_imports_alone(source: str) -> None:
    assert imports_of_test_modules(source) == []
