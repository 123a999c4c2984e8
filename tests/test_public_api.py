"""The public API: every name in each package's __all__ imports, and theorems stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["latentcheck.theorems", "latentcheck.checkers", "latentcheck.counterexamples", "latentcheck.checkers.testing", "latentcheck.checkers.autoencoder"])
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
    assert sorted(homes) == latentcheck.__all__
    assert latentcheck.falsify is importlib.import_module("latentcheck.checkers.falsify").falsify
