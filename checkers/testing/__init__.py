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

import lazy_loader as _lazy

# The public names and the modules that define them are listed statically in __init__.pyi; each loads on
# first use, so importing this package stays cheap (no JAX, no solver).
_lazy_getattr, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)


def __getattr__(name: str):  # noqa: ANN201 - whatever the public name is
    try:
        return _lazy_getattr(name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}; its public names are "
                             f"{__name__}.__all__ (docs/api.md)") from None
