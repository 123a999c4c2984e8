"""The ``latentcheck`` command line (typer + rich).

Exit codes (:mod:`latentcheck.checkers._exit`): 0 held (or, for ``prove``,
every verdict as expected), 1 a finding (``falsify`` found a certified
counterexample, ``verify`` refuted, ``prove`` a verdict other than expected),
2 bad input or an output that cannot be written (one line on stderr naming
the problem and the fix), 3 unknown, 4 internal error (one line; ``--debug``
for the traceback), 130 interrupted by Ctrl-C, 141 standard output closed
early (``| head``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ._args import make_console
from ...theorems.errors import LatentcheckError

app = typer.Typer(
    name="latentcheck",
    help="Machine-checked theorems, certified counterexamples and experiments for latent activations "
    "in autoencoder recommenders (arXiv:2411.04315).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="On an internal error (exit 4), print its traceback too (or set LATENTCHECK_DEBUG=1)."),
) -> None:
    """latentcheck: prove, falsify, classify, study and audit.

    Exit codes: 0 held, 1 finding, 2 bad input, 3 unknown, 4 internal error, 130 interrupted (Ctrl-C).
    """


console = make_console()
err_console = Console(stderr=True)


class UsageFailure(Exception):
    """Raised inside commands to exit 2 with a one-line message."""


def fail(message: str) -> "typer.Exit":
    """Print ``error: message`` on one line to stderr and exit with code 2."""
    err_console.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=2)


@app.command()
def classify(
    expression: str = typer.Argument(..., help="A catalog name (relu, tanh, sigmoid, ...) or a formula in t, e.g. 'Max(0, t - 1)'."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    timeout: float = typer.Option(10.0, "--timeout", help="Seconds for the symbolic decision before answering 'unknown'."),
) -> None:
    """Classify an activation (relu-like, tanh-like, non-vanishing) with a certificate and its float zero sets (IEEE in NumPy, XLA in JAX)."""
    from ..float_vanishing import float_vanishing_thresholds, float_zero_sets_json, zero_set_sentence
    from ...theorems.activations import get_activation
    from ...theorems.classify import classify as _classify

    from ._args import positive_seconds

    positive_seconds(timeout, "--timeout")
    act = get_activation(expression)
    result = _classify(act, timeout=timeout)
    zero_sets = float_zero_sets_json(act)
    thresholds = float_vanishing_thresholds(act)
    payload = result.to_json()
    payload["expression"] = str(act.expr)
    payload["float_vanishing"] = thresholds
    payload["float_zero_sets"] = zero_sets
    payload["float_runtimes"] = {"ieee": "NumPy, IEEE 754 (subnormals kept)",
                                 "xla": "JAX/XLA on CPU (subnormals flushed to zero)"}
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    from rich.table import Table

    table = Table(title=f"activation {act.name}", show_header=False)
    table.add_row("expression", str(act.expr))
    table.add_row("class", result.cls)
    table.add_row("method", result.method)
    table.add_row("certificate", result.certificate)
    for dtype, sets in zero_sets.items():
        for runtime, label in (("ieee", "IEEE, NumPy"), ("xla", "XLA, JAX CPU, flush-to-zero")):
            table.add_row(f"rounds to 0 in {dtype} ({label})", zero_set_sentence(sets[runtime], dtype))
    console.print(table)


def _register_commands() -> None:
    """Attach the commands that live in their own modules."""
    from . import prove as cli_prove

    cli_prove.register(app)
    for module in ("latentcheck.checkers.cli.falsify", "latentcheck.checkers.cli.study", "latentcheck.checkers.cli.convert", "latentcheck.checkers.cli.verify",
                   "latentcheck.checkers.cli.recheck"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name and (module == exc.name or module.startswith(exc.name + ".")):
                continue  # that part of latentcheck is not installed in this checkout
            raise
        mod.register(app)


_register_commands()


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def _click_errors() -> tuple[type, type, type]:
    try:  # typer >= 0.16 vendors click
        from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    except ImportError:  # pragma: no cover - older typer on click
        from click.exceptions import ClickException, NoArgsIsHelpError, UsageError
    return ClickException, NoArgsIsHelpError, UsageError


def main(argv: Optional[list[str]] = None) -> None:
    """Entry point of the ``latentcheck`` console script (exit codes: :mod:`latentcheck.checkers._exit`).

    Every bad option value, path or input ends as one ``error: ...`` line on
    stderr and exit code 2 (no traceback): usage errors of the parser as well
    as latentcheck's own :class:`LatentcheckError`. An unexpected exception is
    exit 4 with one line (``--debug`` or ``LATENTCHECK_DEBUG=1`` prints its
    traceback), never 1; Ctrl-C is exit 130. Called with ``argv`` (from
    Python), it raises ``SystemExit`` instead of leaving the process at once.
    """
    from .._exit import run_guarded

    args = list(sys.argv[1:] if argv is None else argv)
    run_guarded(lambda: _dispatch([a for a in args if a != "--debug"]), args, hard=argv is None)


def _dispatch(args: list[str]) -> int:
    """Parse ``args`` and run the command; its exit code (2, with one line, for bad input)."""
    import typer.main

    from typer.exceptions import Exit

    ClickException, NoArgsIsHelpError, UsageError = _click_errors()
    command = typer.main.get_command(app)
    try:
        with command.make_context("latentcheck", args) as ctx:
            code = command.invoke(ctx)
    except Exit as exc:
        return exc.exit_code
    except NoArgsIsHelpError as exc:
        exc.show()
        return 2
    except UsageError as exc:
        cmd = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else "latentcheck"
        return _error(f"{_one_line(exc.format_message())} (see {cmd} --help)")
    except ClickException as exc:
        return _error(_one_line(exc.format_message()))
    except LatentcheckError as exc:
        return _error(_one_line(str(exc)))
    return code if isinstance(code, int) else 0


def _error(message: str) -> int:
    err_console.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
    return 2


if __name__ == "__main__":
    main()
