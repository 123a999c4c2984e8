"""``latentcheck report``: re-check a falsify report's certified counterexamples, then render its Markdown."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .. import report_check
from .._io import atomic_write_text, check_input_file, check_output_file
from ...counterexamples.report import load_report, render_markdown

__all__ = ["report"]


def report(
    path: Path = typer.Argument(..., help="A report.json written by latentcheck falsify --out DIR."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the Markdown here instead of stdout."),
    model: Optional[str] = typer.Option(None, "--model", help="The model file falsify read (its SHA-256 must be the recorded one); default: the report's embedded exact weights, else its recorded weights file."),
) -> None:
    """Re-check a report.json's certified counterexamples against its model, then re-render report.md.

    Exit 1 (REJECTED, nothing rendered) when a certified counterexample does not re-check or the report does
    not describe the model; exit 2 when there is nothing to re-check against (pass --model PATH)."""
    check_input_file(path, "PATH")
    if model is not None:
        check_input_file(model, "--model")
    if output is not None:
        check_output_file(output, "--output")
    data = load_report(path)
    try:
        report_check.recheck_report_witnesses(data, model)
    except report_check.ReportRejected as exc:
        typer.echo(f"REJECTED: {exc}", err=True)
        raise typer.Exit(code=1)
    text = render_markdown(data)
    if output is not None:
        atomic_write_text(output, text)
    else:
        typer.echo(text)
