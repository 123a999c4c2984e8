"""``latentcheck prove``: every theorem and claim of the catalog, with verdicts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ._args import make_console, nonempty, positive_seconds
from .._io import atomic_write_text, check_output_file
from ..prove.checks import Verdict, all_claims, find_claim, prove_all

__all__ = ["prove", "verdicts_markdown"]


def verdicts_markdown(verdicts: list[Verdict]) -> str:
    """The verdict table as Markdown (docs pages embed it)."""
    lines = [
        "| id | claim | verdict | expected | method | scope | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for v in verdicts:
        verdict = v.verdict + (f" ({v.certified}{', ' + v.dtype if v.dtype else ''})" if v.certified else "")
        cells = [v.id, v.claim, verdict, v.expected, v.method, v.scope, f"{v.seconds:.2f}"]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    details = ["", "### Certificates and counterexamples", ""]
    for v in verdicts:
        details.append(f"- **{v.id}** ({v.verdict}): {v.certificate or v.reason or ''}")
        if v.counterexample:
            details.append(f"  - counterexample ({v.certified}{', ' + v.dtype if v.dtype else ''}): `{json.dumps(v.counterexample)}`")
    return "\n".join(lines + details) + "\n"


def prove(
    only: Annotated[Optional[str], typer.Option("--only", help="Check only these claim ids (comma-separated), e.g. T1,P3-relu.")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the verdicts as JSON to this path ('-' for stdout).")] = None,
    markdown_path: Annotated[Optional[Path], typer.Option("--markdown", help="Write the verdict table as Markdown to this path.")] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds per claim before its verdict is 'unknown'.")] = 30.0,
) -> None:
    """Check every theorem and claim of the paper; exit 0 exactly when each verdict is the expected one."""
    nonempty(only, "--only", "T1,P3-relu")
    positive_seconds(timeout, "--timeout", "30")
    if json_path is not None:
        check_output_file(json_path, "--json", allow_dash=True)
    if markdown_path is not None:
        check_output_file(markdown_path, "--markdown")
    console = make_console(stderr=json_path is not None and str(json_path) == "-")
    ids = [s.strip() for s in only.split(",") if s.strip()] if only else None
    claims = [find_claim(i) for i in ids] if ids else all_claims()
    start = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("proving", total=len(claims))

        def on_start(claim: Any) -> None:
            progress.update(task, description=f"checking {claim.id}")
            progress.advance(task)

        verdicts = prove_all([c.id for c in claims], timeout=timeout, on_start=on_start)
    total = time.perf_counter() - start
    console.print(_verdict_table(verdicts, total))
    _write_verdicts(verdicts, json_path, markdown_path)
    unexpected = [v.id for v in verdicts if not v.as_expected]
    if unexpected:
        console.print(f"[bold red]{len(unexpected)} verdict(s) differ from the catalog: {', '.join(unexpected)}[/]")
        raise typer.Exit(code=1)
    console.print(f"[green]all {len(verdicts)} verdicts as expected[/] ({total:.1f} s)")


def _verdict_table(verdicts: list[Verdict], total: float) -> Table:
    """The verdicts as a rich table (an unexpected verdict marked)."""
    table = Table(title=f"latentcheck prove: {len(verdicts)} claims in {total:.1f} s")
    table.add_column("id", no_wrap=True)
    table.add_column("claim", overflow="fold", ratio=3)
    table.add_column("verdict", overflow="fold", ratio=2)
    table.add_column("expected", overflow="fold")
    table.add_column("method", overflow="fold", ratio=2)
    table.add_column("scope", overflow="fold", ratio=3)
    table.add_column("s", justify="right")
    colors = {"proved": "green", "refuted": "red", "unknown": "yellow"}
    for v in verdicts:
        label = v.verdict + (f" ({v.certified}{', ' + v.dtype if v.dtype else ''})" if v.certified else "")
        mark = "" if v.as_expected else " [bold]UNEXPECTED[/bold]"
        short = v.claim if len(v.claim) <= 60 else v.claim[:57] + "..."
        table.add_row(f"[bold]{v.id}[/bold]", short, f"[{colors[v.verdict]}]{label}[/]{mark}", v.expected,
                      v.method, v.scope, f"{v.seconds:.2f}")
    return table


def _write_verdicts(verdicts: list[Verdict], json_path: Optional[Path], markdown_path: Optional[Path]) -> None:
    """``--json`` (a file, atomically, or ``-`` for stdout) and ``--markdown``."""
    if json_path is not None:
        text = json.dumps([v.to_json() for v in verdicts], indent=2)
        if str(json_path) == "-":
            typer.echo(text)
        else:
            atomic_write_text(json_path, text + "\n")
    if markdown_path is not None:
        atomic_write_text(markdown_path, verdicts_markdown(verdicts))
