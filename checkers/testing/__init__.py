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

from ...theorems._face import attach_stub as _attach_stub

# The public names and the modules that define them are listed statically in __init__.pyi; each loads on
# first use, so importing this package stays cheap (no JAX, no solver).
__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
