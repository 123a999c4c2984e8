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

import sys
from typing import Optional

import typer
import typer.main
from rich.console import Console
from typer.exceptions import Exit

from .audit import audit
from .classify import classify
from .convert import convert
from .falsify import falsify
from .prove import prove
from .recheck import recheck
from .report import report
from .study import study
from .study_stats import study_stats
from .verify import verify
from .._exit import run_guarded
from ...theorems.errors import LatentcheckError

# Each command is a top-level function of its module, imported here statically, and with it the engines it
# uses; their own imports of JAX, z3 and the optional model-file frameworks wait until they are used, so
# ``latentcheck --help`` loads none of them (tests/checkers/cli/test_cli_options.py). The options shared by several
# commands are defined once in ._options; the option groups they build are EncoderSource
# (checkers/encoder_source.py) and SearchOptions (checkers/search_options.py), checked on construction.

app = typer.Typer(
    name="latentcheck",
    help="Machine-checked theorems, certified counterexamples and experiments for latent activations "
    "in autoencoder recommenders (arXiv:2411.04315).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

#: The commands, in the order ``latentcheck --help`` lists them.
COMMANDS = (("classify", classify), ("prove", prove), ("falsify", falsify), ("report", report), ("study", study),
            ("audit", audit), ("study-stats", study_stats), ("convert", convert), ("verify", verify), ("recheck", recheck))

for _name, _command in COMMANDS:
    app.command(_name)(_command)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="On an internal error (exit 4), print its traceback too (or set LATENTCHECK_DEBUG=1)."),
) -> None:
    """latentcheck: prove, falsify, classify, study and audit.

    Exit codes: 0 held, 1 finding, 2 bad input, 3 unknown, 4 internal error, 130 interrupted (Ctrl-C).
    """


err_console = Console(stderr=True)


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
    args = list(sys.argv[1:] if argv is None else argv)
    run_guarded(lambda: _dispatch([a for a in args if a != "--debug"]), args, hard=argv is None)


def _dispatch(args: list[str]) -> int:
    """Parse ``args`` and run the command; its exit code (2, with one line, for bad input)."""
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
