"""The layers, enforced: theorems <- counterexamples <- checkers, and no import cycles.

The package is laid out as the wheel installs it (``theorems/``, ``counterexamples/`` and ``checkers/``
inside ``latentcheck/``) in a temporary folder, so that import-linter and grimp follow every import to
its file. ``lint-imports`` then checks the contracts of ``.importlinter`` (the layers), and grimp's
graph is searched for import cycles. Planted-bug tests add one upward import and one cycle to a copy
and check that each is caught.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("theorems", "counterexamples", "checkers")
GRAPH = Path(__file__).resolve().parent / "_layers_graph.py"

#: Import cycles not yet removed (issue 18), each a sorted list of modules. The test fails when a cycle
#: outside this list appears, and when one of these is gone (then delete it here): the list only shrinks.
KNOWN_CYCLES: list[list[str]] = []


#: Imports of a private module from outside the package that owns it, not yet removed: the list only shrinks.
KNOWN_PRIVATE_IMPORTS: list[list[str]] = []


def _installed_tree(dest: Path) -> Path:
    """``dest/latentcheck`` laid out as the wheel installs it (``package-dir`` in pyproject.toml)."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "latentcheck", dest / "latentcheck", ignore=skip)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, dest / "latentcheck" / folder, ignore=skip)
    return dest


def _env(tree: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(tree)}


def _lint(tree: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lint-imports"
    assert exe.exists(), "lint-imports is missing: install the test extra (pip install -e '.[test]')"
    return subprocess.run([str(exe), "--no-cache", str(ROOT / ".importlinter")], capture_output=True, text=True,
                          cwd=tree, env=_env(tree), timeout=300)


def _graph(tree: Path, what: str) -> list[list[str]]:
    out = subprocess.run([sys.executable, str(GRAPH), what], capture_output=True, text=True, cwd=tree, env=_env(tree),
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _cycles(tree: Path) -> list[list[str]]:
    return _graph(tree, "cycles")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _installed_tree(tmp_path_factory.mktemp("installed"))


def test_the_copy_is_the_installed_layout(tree: Path) -> None:
    """The copied tree is the package the contracts are about (every folder pyproject.toml maps)."""
    text = (ROOT / "pyproject.toml").read_text()
    for folder in FOLDERS:
        assert f'"latentcheck.{folder}" = "{folder}"' in text
        assert (tree / "latentcheck" / folder / "__init__.py").is_file()


def test_layer_contract_holds(tree: Path) -> None:
    out = _lint(tree)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 kept, 0 broken" in out.stdout, out.stdout


def test_no_import_cycles_beyond_the_known_ones(tree: Path) -> None:
    found = _cycles(tree)
    new = [c for c in found if c not in KNOWN_CYCLES]
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert not new, f"new import cycles: {new}"
    assert not gone, f"cycles removed, delete them from KNOWN_CYCLES: {gone}"


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    """Planted bug: theorems importing checkers (inside a function, where it runs late) must be refused."""
    tree = _installed_tree(tmp_path)
    target = tree / "latentcheck" / "theorems" / "files.py"
    target.write_text(target.read_text() + "\n\ndef _planted():\n    from latentcheck.checkers import falsify\n"
                      "    return falsify\n")
    out = _lint(tree)
    assert out.returncode != 0, out.stdout
    assert "0 kept, 2 broken" in out.stdout, out.stdout  # the layers, and inside checkers through theorems.files
    assert "latentcheck.theorems.files" in out.stdout, out.stdout


def test_a_planted_cycle_is_counted(tmp_path: Path) -> None:
    """Planted bug: two modules of one layer importing each other make a cycle the count finds."""
    tree = _installed_tree(tmp_path)
    for name, other in (("files", "blas"), ("blas", "files")):
        path = tree / "latentcheck" / "theorems" / f"{name}.py"
        path.write_text(path.read_text() + f"\n\ndef _planted():\n    from latentcheck.theorems import {other}\n"
                        f"    return {other}\n")
    found = _cycles(tree)
    assert ["latentcheck.theorems.blas", "latentcheck.theorems.files"] in found, found


def test_no_private_module_imported_across_packages(tree: Path) -> None:
    """A ``_module`` is its package's business: other packages import the package's public names."""
    found = _graph(tree, "private")
    new = [e for e in found if e not in KNOWN_PRIVATE_IMPORTS]
    gone = [e for e in KNOWN_PRIVATE_IMPORTS if e not in found]
    assert not new, f"private modules imported across packages: {new}"
    assert not gone, f"removed, delete them from KNOWN_PRIVATE_IMPORTS: {gone}"


def test_a_planted_private_import_is_found(tmp_path: Path) -> None:
    """Planted bug: counterexamples importing a private module of the falsifier's package is reported."""
    tree = _installed_tree(tmp_path)
    target = tree / "latentcheck" / "counterexamples" / "types.py"
    target.write_text(target.read_text() + "\n\ndef _planted():\n    from ..theorems.formats import _readers\n"
                      "    return _readers\n")
    found = _graph(tree, "private")
    assert ["latentcheck.counterexamples.types", "latentcheck.theorems.formats._readers"] in found, found
