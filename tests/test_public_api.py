"""The public API: every name in each package's __all__ imports, and theorems stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["latentcheck.theorems", "latentcheck.checkers", "latentcheck.counterexamples", "latentcheck.checkers.testing", "latentcheck.checkers.study"])
def test_all_names_resolve(package: str) -> None:
    mod = importlib.import_module(package)
    assert mod.__all__, package
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{package}.{name}"


def test_theorems_imports_no_jax_or_solver() -> None:
    code = "import sys, latentcheck.theorems; bad = [m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'z3')]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_flat_namespace_matches_the_packages() -> None:
    """``latentcheck.__all__`` is exactly the union of the packages' public names, each from its own package."""
    import latentcheck

    homes: dict[str, str] = {}
    for package in ("latentcheck.theorems", "latentcheck.counterexamples", "latentcheck.checkers", "latentcheck.checkers.testing"):
        for name in importlib.import_module(package).__all__:
            homes.setdefault(name, package)
    # the engines' entry points live in their engine packages (a checkers name never shadows a package)
    homes.update({"falsify": "latentcheck.checkers.falsify", "verify": "latentcheck.checkers.verify"})
    assert sorted(homes) == latentcheck.__all__
    assert latentcheck.falsify is importlib.import_module("latentcheck.checkers.falsify").falsify
    assert latentcheck.verify is importlib.import_module("latentcheck.checkers.verify").verify
    import latentcheck.checkers.falsify as falsify_package  # the package, not the function
    assert falsify_package.__name__ == "latentcheck.checkers.falsify" and callable(falsify_package.falsify)


def _stub_names(path: str) -> list[str]:
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[1] / path).read_text())
    return [a.name for node in tree.body if isinstance(node, ast.ImportFrom) for a in node.names]


def _documented_names() -> list[str]:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text()
    return re.findall(r"^\| `([A-Za-z_][A-Za-z0-9_]*)` \|", text, flags=re.M)


def test_all_equals_the_documented_api() -> None:
    """As Hypothesis does: ``latentcheck.__all__``, the static stub and docs/api.md list the same names, once each."""
    import latentcheck

    documented, stub = _documented_names(), _stub_names("latentcheck/__init__.pyi")
    assert len(documented) == len(set(documented)) and len(stub) == len(set(stub))
    assert sorted(documented) == sorted(stub) == list(latentcheck.__all__)


def test_documented_api_check_can_fail(tmp_path) -> None:
    """A name added to the stub but not to docs/api.md is caught (the comparison above is not vacuous)."""
    documented = _documented_names()
    assert "Encoder" in documented and sorted(documented + ["NotDocumented"]) != sorted(_stub_names("latentcheck/__init__.pyi"))


@pytest.mark.parametrize("stub, package", [("latentcheck/__init__.pyi", "latentcheck"), ("checkers/__init__.pyi", "latentcheck.checkers"),
                                           ("checkers/testing/__init__.pyi", "latentcheck.checkers.testing")])
def test_each_stub_import_resolves_to_the_defining_module(stub: str, package: str) -> None:
    """Every stub line names a module that defines (or re-exports) the name: readers and tools can follow it."""
    import ast
    from pathlib import Path

    tree = ast.parse((Path(__file__).resolve().parents[1] / stub).read_text())
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            mod = importlib.import_module(f"{package}.{node.module}")
            for a in node.names:
                assert hasattr(mod, a.name), f"{package}.{node.module}.{a.name}"


def test_import_latentcheck_loads_no_jax() -> None:
    code = "import sys, latentcheck; latentcheck.Encoder; bad = [m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'z3')]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
