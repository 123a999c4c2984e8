"""``latentcheck study-stats REPORT``: recompute a study's pre-registered analysis from its per-user scores."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ._args import make_console
from ..study.report import _json_clean
from ..study.stats import compare_numbers, load_study_report, recompute

__all__ = ["study_stats"]


def study_stats(
    report: Annotated[str, typer.Argument(help="A study's report.json (or the folder holding it).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the recomputed numbers and the disagreements as JSON.")] = False,
) -> None:
    """Recompute every number of a study's analysis from its per-user scores; exit 0 when all agree with the report, 1 when not."""
    rep = load_study_report(report)
    again = recompute(rep)
    n, bad = compare_numbers(rep, again)
    if as_json:
        typer.echo(json.dumps(_json_clean({"compared": n, "disagree": bad, "analysis": again["summary"]["analysis"]}), indent=2))
    else:
        _print_study_stats(again["summary"]["analysis"], n, bad)
    if bad:
        raise typer.Exit(1)


def _print_study_stats(an: dict, n: int, bad: list[dict]) -> None:
    console = make_console()
    m = an["primary"]
    t = Table(title=f"{m} against {an['reference']}: cluster bootstrap ({an['n_boot']} resamples, seed {an['seed']}), margin +-{an['margin']:g}, Holm")
    for c in ("arm", "difference", "95% interval", "superiority p (Holm)", "TOST p (Holm)", "verdict"):
        t.add_column(c)
    for arm, comp in an["comparisons"].items():
        c = comp[m]
        t.add_row(arm, f"{c['diff']:+.4f}", f"[{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}]", f"{c['p_superiority_holm']:.3g}",
                  f"{c['p_tost_holm']:.3g}", an["verdicts"][arm])
    console.print(t)
    if bad:
        console.print(f"[bold red]{len(bad)} of {n} numbers disagree[/] with the report:", highlight=False)
        for b in bad[:20]:
            console.print(f"  {b['path']}: report {b['report']!r}, recomputed {b['recomputed']!r}", highlight=False, markup=False)
    else:
        console.print(f"all {n} recomputed numbers agree with the report (relative difference <= 1e-9)", highlight=False)
