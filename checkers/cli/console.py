"""The ``latentcheck`` console script (``[project.scripts]`` in pyproject.toml) and ``python -m latentcheck.checkers.cli``."""

from __future__ import annotations

from typing import NoReturn

from .._exit import INTERRUPTED, install_sigint, interrupted, leave


def console_main() -> NoReturn:
    """The ``latentcheck`` console script: the Ctrl-C handler goes in before the (seconds of) imports, so an
    interrupt while typer, rich, NumPy or JAX load is exit 130 too, without a traceback."""
    install_sigint()
    try:
        from .app import main
    except KeyboardInterrupt:
        leave(INTERRUPTED)
    if interrupted():
        leave(INTERRUPTED)
    main()
