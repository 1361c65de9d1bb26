"""Every package specdiff imports is one it declares (issue: a plain install could not start).

typer 0.29 stopped depending on click, so ``import click`` worked only where another package
(Flask, from the demo extra) happened to install it. This test reads every import of
``specdiff/`` and ``probes/`` and asks that each resolve to the standard library, the project
itself, or a distribution that ``pyproject.toml`` declares: a core dependency for the engine, the
``demo`` extra for the embedded demo API. A transitive accident fails here, not on a user's
machine. The fresh-environment check (``tests/packaging/fresh_install.py``, run by ``.ci/run``)
proves the same by installing the wheel.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterable, Iterator
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

OPTIONAL_IMPORTS = {
    ("specdiff/pytest_plugin.py", "pytest"): "pytest imports the plugin, so pytest is there",
    ("specdiff/demo/sql.py", "psycopg"): "only the end-to-end suite's PostgreSQL twin (dev extra)",
}
"""Imports that need no declared dependency, each with the reason."""

TYPING_ONLY = frozenset({"_typeshed"})
"""Modules of the type checker's stubs, imported only under ``TYPE_CHECKING``."""


def _name(requirement: str) -> str:
    """``PyJWT[crypto]>=2.10; python_version < '3.11'`` -> ``pyjwt``."""
    found = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert found, requirement
    return re.sub(r"[-_.]+", "-", found.group(0)).lower()


CORE = frozenset(_name(r) for r in PYPROJECT["project"]["dependencies"])
DEMO = CORE | {_name(r) for r in PYPROJECT["project"]["optional-dependencies"]["demo"]}


def _imports(tree: ast.AST) -> Iterator[str]:
    """Top-level names of absolute imports, skipping ``if TYPE_CHECKING:`` blocks."""
    yield from _imports_in(ast.iter_child_nodes(tree))


def _imports_in(nodes: Iterable[ast.AST]) -> Iterator[str]:
    for node in nodes:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from _imports_in(node.orelse)
        elif isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                yield node.module.split(".")[0]
        else:
            yield from _imports_in(ast.iter_child_nodes(node))


def _sources() -> list[Path]:
    return sorted([*(ROOT / "specdiff").rglob("*.py"), *(ROOT / "probes").rglob("*.py")])


def _providers(module: str) -> set[str]:
    return {_name(d) for d in packages_distributions().get(module, [])}


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_import_is_declared(path: Path) -> None:
    relative = path.relative_to(ROOT).as_posix()
    declared = DEMO if relative.startswith("specdiff/demo/") else CORE
    where = "the demo extra or the core" if declared is DEMO else "[project] dependencies"
    undeclared = []
    for module in sorted(set(_imports(ast.parse(path.read_text(encoding="utf-8"))))):
        if module in sys.stdlib_module_names or module in TYPING_ONLY:
            continue
        if module in ("specdiff", "probes") or (relative, module) in OPTIONAL_IMPORTS:
            continue
        providers = _providers(module)
        if not providers & declared and _name(module) not in declared:  # tomli on 3.11: not here
            undeclared.append(f"{module} (from {', '.join(sorted(providers)) or 'nothing'})")
    assert not undeclared, f"{relative} imports what {where} does not declare: {undeclared}"


def test_the_check_sees_imports_inside_functions_and_skips_type_checking() -> None:
    tree = ast.parse(
        "import os\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import _typeshed\nelse:\n    import json\n"
        "def f():\n    import click\n    from . import sibling\n"
    )
    assert sorted(set(_imports(tree))) == ["click", "json", "os", "typing"]


def test_a_transitive_accident_is_caught() -> None:
    """click is installed here (Flask needs it) but declared nowhere: the check must say so."""
    assert _providers("click") == {"click"}
    assert "click" not in CORE and "click" not in DEMO
