"""``latentcheck recheck``: re-check a verify certificate or a falsify report with rationals only.

The work is done by :mod:`latentcheck.counterexamples.recheck`, which imports nothing else of latentcheck.
Exit codes: 0 OK, 1 REJECTED (the certificate does not hold or is malformed), 2 a file cannot be read,
3 nothing in a report could be re-checked with rationals alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .._io import check_input_file
from ...counterexamples.recheck import recheck_path

__all__ = ["recheck"]


def recheck(
    path: Annotated[Path, typer.Argument(help="certificate.json (latentcheck verify --out) or report.json (latentcheck falsify --out).")],
    encoder: Annotated[Optional[Path], typer.Option("--encoder", help="The encoder .npz the certificate is about (default: encoder.npz beside it; for a report: instead of its embedded weights).")] = None,
    model: Annotated[Optional[Path], typer.Option("--model", help="The model file the encoder was read from: its SHA-256 must be the one recorded.")] = None,
) -> None:
    """Re-check a certificate or report in exact rationals, against its model: prints OK or REJECTED: reason."""
    check_input_file(path, "PATH")
    for opt, value in (("--encoder", encoder), ("--model", model)):
        if value is not None:
            check_input_file(value, opt)
    code, text = recheck_path(str(path), None if encoder is None else str(encoder), None if model is None else str(model))
    typer.echo(text)
    raise typer.Exit(code=code)
