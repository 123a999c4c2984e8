"""latentcheck.checkers: the engines.

Symbolic (sympy) and SMT (z3) proofs, the JAX falsifier, float zero sets
per runtime (IEEE in NumPy, XLA in JAX), the autoencoder study (``latentcheck.checkers.autoencoder``), user-facing test
helpers (``latentcheck.checkers.testing``) and the command line (``latentcheck.checkers.cli``).

Names are re-exported lazily, so ``import checkers`` stays cheap: JAX and z3
load only when an engine that needs them is used.
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
