"""``latentcheck prove``: every theorem and claim of the catalog, with verdicts."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach ``prove`` to the command line (filled in by the prove engine)."""
