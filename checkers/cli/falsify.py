"""``latentcheck falsify`` and ``latentcheck report``.

Exit codes: 1 when a certified counterexample is found (like a failing
test), 0 when none is found within the budget (the report says this is not a
proof) or only float-only hazards are found, 2 on bad input, 4 on an internal
error, 130 on Ctrl-C (with ``--out``, the finished part is written as a report
marked ``"interrupted": true``).
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any, Optional

import typer

from . import convert as cli_convert
from ...theorems.formats import load_encoder

__all__ = ["register", "build_encoder", "encoder_with_meta", "INPUT_NORMALISE_HELP"]

#: The help of ``--input-normalise`` on every command that checks an encoder.
INPUT_NORMALISE_HELP = ("none, l2 (the encoder sees x/|x|_2) or divide:K (x/K); default: what the model file records "
                        "(study exports), else none.")


def encoder_with_meta(encoder: Any, meta: Optional[dict]) -> Any:
    """``encoder`` with the input semantics a ``--model`` file records (its ``latentcheck_*`` metadata), unless
    the encoder already carries semantics read from the file."""
    from dataclasses import replace

    from ...theorems.inputs import inputs_from_meta

    if not meta or encoder.inputs.origin != "default":
        return encoder
    return replace(encoder, inputs=inputs_from_meta(meta, encoder.n))


def build_encoder(weights: Optional[str], layers: Optional[str], activation: Optional[str],
                  hidden_activation: Optional[str], seed: int):
    """The encoder from ``--weights`` or ``--layers`` (random, seeded)."""
    from ...theorems.encoder import Encoder
    from ...theorems.errors import InvalidArgument

    if (weights is None) == (layers is None):
        raise InvalidArgument("give exactly one of --weights FILE.npz or --layers N,H,...,M (with --activation)")
    if weights is not None:
        return load_encoder(weights, activation=activation)
    if activation is None:
        raise InvalidArgument(f"--layers {layers} needs --activation NAME|EXPR (e.g. relu, tanh, sigmoid, 'Max(0, t - 1)')")
    try:
        sizes = [int(s) for s in layers.replace(" ", "").split(",") if s]
    except ValueError:
        raise InvalidArgument(f"--layers {layers!r} must be comma-separated positive integers, e.g. 1682,600,64") from None
    if len(sizes) < 2 or any(s <= 0 for s in sizes):
        raise InvalidArgument(f"--layers {layers!r} must list at least two positive sizes, e.g. 1682,64")
    if any(s > 100_000 for s in sizes):
        raise InvalidArgument(f"--layers {layers!r}: sizes above 100000 are refused; use --weights for large models")
    return Encoder.random(sizes, activation, hidden_activation, seed=seed)


def register(app: typer.Typer) -> None:
    """Attach ``falsify`` and ``report`` to the command line."""
    _register_falsify(app)
    _register_report(app)


def _register_falsify(app: typer.Typer) -> None:
    @app.command()
    def falsify(
        property: str = typer.Option(..., "--property", "-p", help="p3 (zero vectors), p2 (ordering flips), p3-eps[:EPS,R] or p2-delta[:DELTA]."),
        weights: Optional[str] = typer.Option(None, "--weights", help="Encoder weights (.npz with W0, b0, ...)."),
        model: cli_convert.ModelOpt = None,
        layers_from: cli_convert.LayersFromOpt = None,
        activations: cli_convert.ActivationsOpt = None,
        output: cli_convert.OutputOpt = None,
        ignore: cli_convert.IgnoreOpt = None,
        latent: cli_convert.LatentOpt = None,
        layers: Optional[str] = typer.Option(None, "--layers", help="Random encoder sizes, e.g. 1682,600,64."),
        activation: Optional[str] = typer.Option(None, "--activation", help="Latent activation: catalog name or formula in t."),
        hidden_activation: Optional[str] = typer.Option(None, "--hidden-activation", help="Hidden activation (default: --activation)."),
        domain: str = typer.Option("reals", "--domain", help="reals, nonneg, binary, sphere or data:PATH[#KEY]."),
        dtype: str = typer.Option("float32", "--dtype", help="float16, bfloat16, float32 or float64."),
        budget: float = typer.Option(10.0, "--budget", help="Seconds for the search."),
        seed: int = typer.Option(0, "--seed", help="Seed of the search (and of --layers weights)."),
        restarts: int = typer.Option(64, "--restarts", help="Parallel restarts per round."),
        max_counterexamples: int = typer.Option(2, "--max-counterexamples", help="Certified counterexamples to keep."),
        no_shrink: bool = typer.Option(False, "--no-shrink", help="Keep witnesses as found."),
        out: Optional[str] = typer.Option(None, "--out", help="Write report.json, report.md and plots here."),
        no_plots: bool = typer.Option(False, "--no-plots", help="Skip the PNG plots."),
        as_json: bool = typer.Option(False, "--json", help="Print the JSON report on stdout."),
        input_normalise: Optional[str] = typer.Option(None, "--input-normalise", help=INPUT_NORMALISE_HELP),
    ) -> None:
        """Search for certified counterexamples to P3 (zero vectors), P2 (ordering flips), P3-eps or P2-delta."""
        from .._exit import cooperative

        dom = _check_falsify_options(property, weights, layers, activation, hidden_activation, domain, dtype, budget, seed,
                               restarts, max_counterexamples, out)
        loaded = cli_convert.model_from_options(model, activation, activations, layers_from, output,
                                                others={"--weights": weights, "--layers": layers, "--hidden-activation": hidden_activation},
                                                ignore=ignore, latent=latent)
        if input_normalise is not None:
            from ...theorems.inputs import parse_normalisation

            input_normalise = parse_normalisation(input_normalise)
        encoder = encoder_with_meta(*loaded) if loaded else build_encoder(weights, layers, activation, hidden_activation, seed)
        with cooperative():  # a first Ctrl-C stops the search between rounds, never inside JAX
            return _run_falsify(encoder, property, dom, dtype, budget, seed, restarts, max_counterexamples, no_shrink,
                                out, no_plots, as_json, input_normalise)


def _run_falsify(encoder: Any, property: str, dom: Any, dtype: str, budget: float, seed: int, restarts: int,
                 max_counterexamples: int, no_shrink: bool, out: Optional[str], no_plots: bool, as_json: bool,
                 input_normalise: Optional[str] = None) -> None:
    """The search and its report (Ctrl-C: the finished part written, marked interrupted)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .._exit import poll_interrupt
    from ..falsify._pipeline import environment
    from ..falsify import falsify as _falsify
    from ...counterexamples.report import write_report

    environment()  # start-up (JAX import, device): before the --budget clock starts
    err = Console(stderr=True)
    command = "latentcheck " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else None
    with Progress(TextColumn("[progress.description]{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task(f"falsify {property.upper()}", total=1.0)

        def progress(frac: float, msg: str) -> None:
            poll_interrupt()  # a recorded Ctrl-C stops the run here, between rounds
            bar.update(task, completed=frac, description=f"falsify {property.upper()}: {msg}")

        try:
            result = _falsify(encoder, property.lower(), domain=dom, dtype=dtype, budget=budget, seed=seed,
                              restarts=restarts, max_counterexamples=max_counterexamples, shrink=not no_shrink,
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
    import signal

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
            from ...counterexamples.report import write_report

            paths = write_report(data, out, plots=False)
            err.print(f"interrupted (Ctrl-C): partial report {paths['json']} (marked \"interrupted\": true)", highlight=False, soft_wrap=True)
        else:
            err.print(f"interrupted (Ctrl-C): {data.get('message', '')}", highlight=False, soft_wrap=True)
        if as_json:
            typer.echo(json.dumps(data, indent=2))
    finally:
        signal.signal(signal.SIGINT, previous)


def _register_report(app: typer.Typer) -> None:
    @app.command()
    def report(
        path: Path = typer.Argument(..., help="A report.json written by latentcheck falsify --out DIR."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the Markdown here instead of stdout."),
        model: Optional[str] = typer.Option(None, "--model", help="The model file falsify read (its SHA-256 must be the recorded one); default: the report's embedded exact weights, else its recorded weights file."),
    ) -> None:
        """Re-check a report.json's certified counterexamples against its model, then re-render report.md.

        Exit 1 (REJECTED, nothing rendered) when a certified counterexample does not re-check or the report does
        not describe the model; exit 2 when there is nothing to re-check against (pass --model PATH)."""
        from .._io import atomic_write_text, check_input_file, check_output_file
        from ..report_check import ReportRejected, recheck_report_witnesses
        from ...counterexamples.report import load_report, render_markdown

        check_input_file(path, "PATH")
        if model is not None:
            check_input_file(model, "--model")
        if output is not None:
            check_output_file(output, "--output")
        data = load_report(path)
        try:
            recheck_report_witnesses(data, model)
        except ReportRejected as exc:
            typer.echo(f"REJECTED: {exc}", err=True)
            raise typer.Exit(code=1)
        text = render_markdown(data)
        if output is not None:
            atomic_write_text(output, text)
        else:
            typer.echo(text)


def _check_falsify_options(property: str, weights: Optional[str], layers: Optional[str], activation: Optional[str],
                           hidden_activation: Optional[str], domain: str, dtype: str, budget: float, seed: int,
                           restarts: int, max_counterexamples: int, out: Optional[str]) -> Any:
    """Every ``falsify`` option checked before the encoder is built or any search starts; returns the domain."""
    from ._args import nonempty, nonneg_int, positive_int, positive_seconds
    from .._io import check_input_file, check_output_dir
    from ...theorems.domains import parse_domain
    from ...theorems.errors import InvalidArgument, LatentcheckError

    from ...theorems.properties import get_property

    try:
        if not get_property(property).falsifiable:
            raise InvalidArgument("it has no witness points to search")
    except LatentcheckError as exc:
        raise InvalidArgument(f"--property {property!r}: {exc}; use p3, p2, p3-eps[:EPS,R] or p2-delta[:DELTA]") from None
    positive_seconds(budget, "--budget", "10")
    nonneg_int(seed, "--seed")
    positive_int(restarts, "--restarts", "64")
    positive_int(max_counterexamples, "--max-counterexamples", "2")
    nonempty(layers, "--layers", "1682,600,64")
    nonempty(activation, "--activation", "relu")
    nonempty(hidden_activation, "--hidden-activation", "tanh")
    nonempty(domain, "--domain", "reals")
    if weights is not None:
        check_input_file(weights, "--weights")
    if dtype not in ("float16", "bfloat16", "float32", "float64"):
        raise InvalidArgument(f"--dtype {dtype!r} must be float16, bfloat16, float32 or float64")
    if out is not None:
        check_output_dir(out, "--out")
    try:
        return parse_domain(domain)
    except LatentcheckError as exc:
        raise InvalidArgument(f"--domain {domain!r}: {exc}") from None


def _print_summary(data: dict) -> None:
    from rich.console import Console

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
