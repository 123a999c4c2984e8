"""The documentation a newcomer reads stays true: the CLI reference is the live CLI, links resolve, the API is covered."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_not_stale(capsys: pytest.CaptureFixture[str]) -> None:
    gen = _load("gen_cli_reference")
    code = gen.main(["--check"])
    out = capsys.readouterr()
    assert code == 0, f"docs/cli.md is stale; run `python docs/gen_cli_reference.py`\n{out.out}{out.err}"


def test_cli_reference_covers_every_live_command_and_option() -> None:
    import typer.main

    from latentcheck.checkers.cli.app import app

    text = _load("gen_cli_reference").render()
    root = typer.main.get_command(app)
    for name, cmd in root.commands.items():
        assert f"### `latentcheck {name}`" in text
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("-"):
                    assert opt in text, f"{name} {opt} missing from the reference"


def test_check_mode_fails_on_a_stale_page(tmp_path: Path) -> None:
    gen = _load("gen_cli_reference")
    stale = tmp_path / "cli.md"
    stale.write_text("# an old reference\n")
    assert gen.main(["--check", "--output", str(stale)]) == 1
    assert gen.main(["--output", str(stale)]) == 0
    assert gen.main(["--check", "--output", str(stale)]) == 0


@pytest.mark.parametrize("page", ["docs/index.md", "examples/ci/README.md", "docs/gallery/README.md"])
def test_relative_links_resolve(page: str) -> None:
    path = ROOT / page
    if not path.exists():
        pytest.skip(f"{page} not generated")
    for target in re.findall(r"\]\(([^)#]+?)(?:#[^)]*)?\)", path.read_text()):
        if "://" in target:
            continue
        assert (path.parent / target).exists(), f"{page} links to missing {target}"


def test_newcomer_page_covers_the_public_testing_api_and_the_five_steps() -> None:
    import latentcheck.checkers.testing as lt

    text = (DOCS / "index.md").read_text()
    for name in lt.__all__:
        assert name in text, f"docs/index.md does not mention checkers.testing.{name}"
    for step in ("## 1. Install", "## 2. Prove", "## 3. Falsify", "## 4. Study", "## 5. Add the checks to your CI"):
        assert step in text
    for option in ("--latentcheck-budget", "--latentcheck-seed", "--latentcheck-report-dir", "latentcheck_seed", "latentcheck_budget"):
        assert option in text
