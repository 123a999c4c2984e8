"""Packaging: the three folders install under one ``latentcheck`` namespace, from a built wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The child interpreter must see only the wheel, never this checkout.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_every_package_folder_is_listed_in_pyproject() -> None:
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {"latentcheck"}
    for top in ("theorems", "checkers", "counterexamples"):
        for init in (ROOT / top).rglob("__init__.py"):
            found.add("latentcheck." + ".".join(init.parent.relative_to(ROOT).parts))
    assert found == listed, f"pyproject.toml packages differ from the folders: missing {found - listed}, extra {listed - found}"


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv holding only the built wheel; dependencies come from this interpreter's site-packages."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp / "dist"), str(ROOT)],
                   check=True, capture_output=True, text=True, timeout=300)
    (wheel,) = (tmp / "dist").glob("latentcheck-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp / "venv")], check=True, timeout=120)
    site = Path(subprocess.run([str(tmp / "venv" / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True, timeout=300)
    # Plain path lines in a .pth file: the dependencies resolve, but no editable finder of this checkout is loaded.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return tmp


def test_wheel_installs_public_api_and_no_generic_top_level_names(wheel_venv: Path) -> None:
    code = (
        "import importlib.util as u, latentcheck\n"
        "from latentcheck import falsify, Encoder, classify, Counterexample\n"
        "assert 'site-packages' in latentcheck.__file__, latentcheck.__file__\n"
        "assert all(getattr(latentcheck, n) is not None for n in latentcheck.__all__)\n"
        "print(sorted(n for n in ('theorems', 'checkers', 'counterexamples') if u.find_spec(n) is not None))\n"
    )
    out = subprocess.run([str(wheel_venv / "venv" / "bin" / "python"), "-c", code], cwd=wheel_venv, env=CLEAN_ENV, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_wheel_plugin_entry_point_names_the_namespaced_module(wheel_venv: Path) -> None:
    code = ("from importlib.metadata import entry_points\n"
            "print([e.value for e in entry_points(group='pytest11') if e.name == 'latentcheck'])")
    out = subprocess.run([str(wheel_venv / "venv" / "bin" / "python"), "-c", code], cwd=wheel_venv, env=CLEAN_ENV, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "latentcheck.checkers.testing.plugin" in out.stdout
