"""``latentcheck falsify``: search for certified counterexamples.

Exit codes: 1 when a certified counterexample is found (like a failing
test), 0 when none is found within the budget (the report says this is not a
proof) or only float-only hazards are found, 2 on bad input, 4 on an internal
error, 130 on Ctrl-C (with ``--out``, the finished part is written as a report
marked ``"interrupted": true``).
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ._options import (ActivationOpt, ActivationsOpt, DtypeOpt, FalsifyDomainOpt, FalsifyPropertyOpt, HiddenActivationOpt,
                       IgnoreOpt, InputNormaliseOpt, LatentOpt, LayersFromOpt, LayersOpt, ModelOpt, OutputOpt, WeightsOpt)
from .. import falsify as falsify_engine
from .. import _exit  # _exit.poll_interrupt looked up at each call (tests plant a Ctrl-C there)
from .._io import check_output_dir
from ..encoder_source import EncoderSource
from ..search_options import FalsifyOptions
from ...counterexamples.report import write_report

__all__ = ["falsify"]


def falsify(
    property: FalsifyPropertyOpt,
    weights: WeightsOpt = None,
    model: ModelOpt = None,
    layers_from: LayersFromOpt = None,
    activations: ActivationsOpt = None,
    output: OutputOpt = None,
    ignore: IgnoreOpt = None,
    latent: LatentOpt = None,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    hidden_activation: HiddenActivationOpt = None,
    input_normalise: InputNormaliseOpt = None,
    domain: FalsifyDomainOpt = "reals",
    dtype: DtypeOpt = "float32",
    budget: Annotated[float, typer.Option("--budget", help="Seconds for the search.")] = 10.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the search (and of --layers weights).")] = 0,
    restarts: Annotated[int, typer.Option("--restarts", help="Parallel restarts per round.")] = 64,
    max_counterexamples: Annotated[int, typer.Option("--max-counterexamples", help="Certified counterexamples to keep.")] = 2,
    no_shrink: Annotated[bool, typer.Option("--no-shrink", help="Keep witnesses as found.")] = False,
    out: Annotated[Optional[str], typer.Option("--out", help="Write report.json, report.md and plots here.")] = None,
    no_plots: Annotated[bool, typer.Option("--no-plots", help="Skip the PNG plots.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON report on stdout.")] = False,
) -> None:
    """Search for certified counterexamples to P3 (zero vectors), P2 (ordering flips), P3-eps or P2-delta."""
    search = FalsifyOptions(property, domain, dtype, budget, seed, restarts=restarts, max_counterexamples=max_counterexamples)
    source = EncoderSource(weights=weights, model=model, layers_from=layers_from, activations=activations, output=output,
                           ignore=ignore, latent=latent, layers=layers, activation=activation,
                           hidden_activation=hidden_activation, seed=seed, input_normalise=input_normalise)
    if out is not None:
        check_output_dir(out, "--out")
    encoder = source.load()
    with _exit.cooperative():  # a first Ctrl-C stops the search between rounds, never inside JAX
        _run_falsify(encoder, search, source.normalise, no_shrink, out, no_plots, as_json)


def _run_falsify(encoder: Any, search: FalsifyOptions, input_normalise: Optional[str], no_shrink: bool,
                 out: Optional[str], no_plots: bool, as_json: bool) -> None:
    """The search and its report (Ctrl-C: the finished part written, marked interrupted)."""
    property = search.property
    falsify_engine.environment()  # start-up (JAX import, device): before the --budget clock starts
    err = Console(stderr=True)
    command = "latentcheck " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else None
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(f"falsify {property.upper()}", total=1.0)

        def progress(frac: float, msg: str) -> None:
            _exit.poll_interrupt()  # a recorded Ctrl-C stops the run here, between rounds
            bar.update(task, completed=frac, description=f"falsify {property.upper()}: {msg}")

        try:
            result = falsify_engine.falsify(encoder, property.lower(), domain=search.dom, dtype=search.dtype,
                                            budget=search.seconds, seed=search.seed, restarts=search.restarts,
                                            max_counterexamples=search.max_counterexamples, shrink=not no_shrink,
                                            progress=progress, min_rounds=0 if (out is None or no_plots) else 1,
                                            input_normalise=input_normalise)
        except KeyboardInterrupt as exc:
            _keep_interrupted(exc, command, out, as_json, err)
            raise
    data = result.to_json()
    if command:
        data["command"] = command
    if out is not None:
        paths = write_report(data, out, plots=not no_plots)
        if not as_json:
            err.print(f"report: {paths['markdown']} and {paths['json']}", highlight=False)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print_summary(data)
    raise typer.Exit(code=1 if result.found else 0)


def _keep_interrupted(exc: KeyboardInterrupt, command: Optional[str], out: Optional[str], as_json: bool, err: Any) -> None:
    """After Ctrl-C: write what was finished (``report.json``/``report.md`` marked ``interrupted``, atomically,
    without plots) and say where; a second Ctrl-C meanwhile is ignored so the report is written whole."""
    partial = getattr(exc, "partial", None)
    if partial is None:
        err.print("interrupted (Ctrl-C) before the search started; nothing to keep", highlight=False, soft_wrap=True)
        return
    data = partial.to_json()
    data["interrupted"] = True
    if command:
        data["command"] = command
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if out is not None:
            paths = write_report(data, out, plots=False)
            err.print(f"interrupted (Ctrl-C): partial report {paths['json']} (marked \"interrupted\": true)", highlight=False, soft_wrap=True)
        else:
            err.print(f"interrupted (Ctrl-C): {data.get('message', '')}", highlight=False, soft_wrap=True)
        if as_json:
            typer.echo(json.dumps(data, indent=2))
    finally:
        signal.signal(signal.SIGINT, previous)


def _print_summary(data: dict) -> None:
    con = Console()
    status = data["status"]
    prop = data["property"]
    style = {"counterexample": "bold red", "float-only": "bold yellow"}.get(status, "bold green")
    con.print(f"[{style}]{prop}: {status}[/] - {data.get('message', '')}", highlight=False)
    inp = data.get("inputs") or {}
    if inp:
        con.print(f"  input normalisation: {inp.get('normalise')} (from {inp.get('normalise_from')})", highlight=False)
    for c in data.get("counterexamples", []):
        nz = {name: sum(1 for v in vec if v != "0") for name, vec in c["witness"].items()}
        con.print(f"  certified {c['certified']}: {c['origin']}; nonzeros {nz}; margin {str(c['margin'])[:40]}", highlight=False, markup=False)
    for c in data.get("float_only", []):
        con.print(f"  float-only in {c['dtype']} (NOT a real counterexample): {c['origin']}", highlight=False, markup=False)
    st = data["stats"]
    con.print(f"  {st['evaluations']} evaluations, {st['rounds']} search rounds, {st['timing']['seconds']} s", highlight=False)
