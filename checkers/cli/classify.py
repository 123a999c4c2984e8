"""``latentcheck classify EXPR``: an activation's class with its certificate, and its float zero sets."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ._args import make_console, positive_seconds
from ..float_vanishing import float_vanishing_thresholds, float_zero_sets_json, zero_set_sentence
from ...theorems.activations import catalog_names, get_activation
from ...theorems.classify import classify as classify_activation

__all__ = ["classify"]

#: The runtimes whose float zero sets are given.
RUNTIMES = {"ieee": "NumPy, IEEE 754 (subnormals kept)", "xla": "JAX/XLA on CPU (subnormals flushed to zero)"}


def classify(
    expression: Annotated[str, typer.Argument(help=f"A catalog name ({', '.join(catalog_names())}) or a formula in t, "
                                                   "e.g. 'Max(0, t - 1)'.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for the symbolic decision before answering 'unknown'.")] = 10.0,
) -> None:
    """Classify an activation (relu-like, tanh-like, non-vanishing) with a certificate and its float zero sets (IEEE in NumPy, XLA in JAX)."""
    positive_seconds(timeout, "--timeout")
    act = get_activation(expression)
    result = classify_activation(act, timeout=timeout)
    zero_sets = float_zero_sets_json(act)
    payload = result.to_json()
    payload["expression"] = str(act.expr)
    payload["float_vanishing"] = float_vanishing_thresholds(act)
    payload["float_zero_sets"] = zero_sets
    payload["float_runtimes"] = dict(RUNTIMES)
    if as_json:
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table(title=f"activation {act.name}", show_header=False)
    table.add_row("expression", str(act.expr))
    table.add_row("class", result.cls)
    table.add_row("method", result.method)
    table.add_row("certificate", result.certificate)
    for dtype, sets in zero_sets.items():
        for runtime, label in (("ieee", "IEEE, NumPy"), ("xla", "XLA, JAX CPU, flush-to-zero")):
            table.add_row(f"rounds to 0 in {dtype} ({label})", zero_set_sentence(sets[runtime], dtype))
    make_console().print(table)
