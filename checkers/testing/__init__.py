"""latentcheck in your test suite: Hypothesis strategies, assertions and a pytest plugin.

Strategies (for ``@given``): :func:`activations`, :func:`encoders`, and the
input domains :func:`reals`, :func:`nonneg`, :func:`binary`, :func:`sphere`,
:func:`rows_of`. Assertions: :func:`assert_nonvanishing` (P3) and
:func:`assert_order_preserving` (P2 with a tolerance). The pytest plugin
(``latentcheck.checkers.testing.plugin``, registered as a ``pytest11`` entry point) adds
``--latentcheck-budget``, ``--latentcheck-seed``, the fixtures
``latentcheck_seed`` and ``latentcheck_budget``, and an end-of-run summary of
every counterexample.

One engine: the assertions are a thin layer over :func:`latentcheck.checkers.falsify`
and :func:`latentcheck.theorems.domains.parse_domain` (``assert_nonvanishing``
reports what ``latentcheck falsify`` finds for the same encoder, seed and
budget); the flip rate samples with the domain's own sampler and certifies
with the falsifier's stages.

Names are imported on first use, so the pytest plugin (loaded into every
pytest run) stays cheap.

Example:
    >>> from latentcheck.checkers.testing import assert_nonvanishing, encoders
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "activations",
    "encoders",
    "reals",
    "nonneg",
    "binary",
    "sphere",
    "rows_of",
    "assert_nonvanishing",
    "assert_order_preserving",
    "NonvanishingResult",
    "OrderResult",
]

_HOME = {
    "activations": "strategies",
    "encoders": "strategies",
    "reals": "strategies",
    "nonneg": "strategies",
    "binary": "strategies",
    "sphere": "strategies",
    "rows_of": "strategies",
    "assert_nonvanishing": "assertions",
    "assert_order_preserving": "assertions",
    "NonvanishingResult": "assertions",
    "OrderResult": "assertions",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'latentcheck.checkers.testing' has no attribute {name!r}; its public names are {', '.join(__all__)}")
    value = getattr(importlib.import_module(f"latentcheck.checkers.testing.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
