"""latentcheck.checkers: the engines.

Symbolic (sympy) and SMT (z3) proofs, the JAX falsifier, float zero sets
per runtime (IEEE in NumPy, XLA in JAX), the autoencoder study (``latentcheck.checkers.autoencoder``), user-facing test
helpers (``latentcheck.checkers.testing``) and the command line (``latentcheck.checkers.cli``).

Names are re-exported lazily, so ``import checkers`` stays cheap: JAX and z3
load only when an engine that needs them is used.
"""

from ..theorems._face import attach_stub as _attach_stub

# The public names and the modules that define them are listed statically in __init__.pyi; each loads on
# first use, so importing this package stays cheap (no JAX, no solver).
__getattr__, __dir__, __all__ = _attach_stub(__name__, __file__)
