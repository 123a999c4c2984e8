"""The public API: every name in each package's __all__ imports, and theorems stays light."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("package", ["theorems", "checkers", "counterexamples", "checkers.testing", "checkers.autoencoder"])
def test_all_names_resolve(package: str) -> None:
    mod = importlib.import_module(package)
    assert mod.__all__, package
    for name in mod.__all__:
        assert getattr(mod, name) is not None, f"{package}.{name}"


def test_theorems_imports_no_jax_or_solver() -> None:
    code = "import sys, theorems; bad = [m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'z3')]; print(bad)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
