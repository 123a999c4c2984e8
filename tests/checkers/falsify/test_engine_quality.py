"""The engine's house rules: no property or domain name comparisons outside their classes, no function over
80 lines in the engine's files, no JAX at import time in theorems.properties."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ENGINE = [*sorted((ROOT / "checkers" / "falsify").glob("*.py")), ROOT / "counterexamples" / "shrink.py",
          ROOT / "checkers" / "cli" / "falsify.py", ROOT / "theorems" / "domains.py", ROOT / "counterexamples" / "certify.py",
          ROOT / "counterexamples" / "types.py", ROOT / "counterexamples" / "_certifier.py",
          *sorted((ROOT / "counterexamples").glob("certifier_*.py")), *sorted((ROOT / "theorems" / "properties").glob("*.py"))]


def _functions(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node.name, node.end_lineno - node.lineno + 1


def test_no_function_over_80_lines() -> None:
    long = [(p.name, name, n) for p in ENGINE for name, n in _functions(p) if n > 80]
    assert not long, long


def test_no_property_name_comparisons() -> None:
    pat = re.compile(r'(==|!=)\s*"(p2|p3|P2|P3)"|"(p2|p3|P2|P3)"\s*(==|!=)|prop\s*==')
    hits = [f"{p.name}:{i}" for p in ENGINE for i, line in enumerate(p.read_text().splitlines(), 1) if pat.search(line)]
    assert not hits, hits


def test_no_domain_name_comparisons_outside_the_domain_classes() -> None:
    pat = re.compile(r'\b(dom|domain|d)\.name\s*(==|!=|in\b|not in\b)|\bname\s*(==|!=)\s*"(reals|nonneg|binary|sphere|data|box)"')
    files = [p for p in ENGINE if p.name != "domains.py"] + [ROOT / "counterexamples" / "fast.py"]
    hits = [f"{p.name}:{i}: {line.strip()}" for p in files for i, line in enumerate(p.read_text().splitlines(), 1)
            if pat.search(line)]
    assert not hits, hits


def test_properties_import_no_jax_or_solver() -> None:
    code = ("import sys, latentcheck.theorems.properties as p; p.get_property('p3-eps:1/100,1'); "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'z3', 'optax', 'scipy')]; "
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
