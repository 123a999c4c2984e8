"""Checks of command-line values (defined once, in :mod:`latentcheck.checkers._values`) and the console for tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from .._values import finite, fraction, nonempty, nonneg_finite, nonneg_int, positive_finite, positive_int, positive_seconds

__all__ = ["positive_int", "nonneg_int", "positive_seconds", "nonneg_finite", "positive_finite", "finite",
           "fraction", "nonempty", "make_console"]


def make_console(stderr: bool = False) -> Any:
    """A rich console for tables: on a terminal as wide as it is; elsewhere (CI logs, pipes)
    240 columns or more, so tables do not wrap at 80 columns and split words."""
    con = Console(stderr=stderr)
    if not con.is_terminal:
        con = Console(stderr=stderr, width=max(con.width, 240))
    return con
