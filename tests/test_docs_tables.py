"""The verdict tables of docs/theorems/*.md agree with `latentcheck prove --json` (issue 21, item 3).

The tables are regenerated from prove's current JSON rows by docs/gen_theorem_pages.py and compared with
the committed pages; a stale row (say a claim marked proved that prove leaves unknown) fails the test.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _gen():
    spec = importlib.util.spec_from_file_location("gen_theorem_pages", ROOT / "docs" / "gen_theorem_pages.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    """Rows of `latentcheck prove --json` for every claim shown on a theorem page (run as the CLI runs it)."""
    gen = _gen()
    from latentcheck.checkers.prove.checks import all_claims

    stems = [p.stem for p in sorted((ROOT / "docs" / "theorems").glob("T*.md"))]
    ids = [c.id for c in all_claims()
           if any(gen.page_rows(s, [{"id": c.id, "source": c.source}]) for s in stems)]
    out = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "prove", "--only", ",".join(ids),
                          "--json", "-"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode in (0, 1), out.stderr[-2000:]
    return json.loads(out.stdout)


def test_every_theorem_page_matches_prove(rows) -> None:
    gen = _gen()
    stale = [p.name for p, text in gen.rendered_pages(rows).items() if p.read_text() != text]
    assert not stale, f"regenerate with python docs/gen_theorem_pages.py: {stale}"


def test_t4_pages_have_generated_tables(rows) -> None:
    """The T4 pages carry the generated sections (not hand-written tables), one row per claim."""
    by_id = {r["id"]: r for r in rows}
    domains = (ROOT / "docs" / "theorems" / "T4-domains.md").read_text()
    assert "<!-- summary:start -->" in domains and "<!-- verdicts:start -->" in domains
    for cid in ("T4-nonneg", "T4-binary-gram", "T4-binary-P3-m1"):
        assert f"| {cid} | {by_id[cid]['verdict']} |" in domains
    assert "| T4 | " + by_id["T4"]["verdict"] + " |" in (ROOT / "docs" / "theorems" / "T4.md").read_text()


def test_a_stale_row_is_detected(rows) -> None:
    """Planted: flip one verdict in prove's rows; the regenerated page must differ from the committed one."""
    gen = _gen()
    flipped = [dict(r, verdict="unknown" if r["verdict"] == "proved" else "proved") if r["id"] == "T4-nonneg" else r
               for r in rows]
    page = ROOT / "docs" / "theorems" / "T4-domains.md"
    assert gen.rendered_pages(flipped)[page] != page.read_text()


def test_render_is_idempotent_and_keeps_prose(rows) -> None:
    gen = _gen()
    page = ROOT / "docs" / "theorems" / "T4.md"
    text = page.read_text()
    once = gen.render_page(text, gen.page_rows("T4", rows))
    assert gen.render_page(once, gen.page_rows("T4", rows)) == once
    assert once.split("<!-- verdicts:start -->")[0] == text.split("<!-- verdicts:start -->")[0]
