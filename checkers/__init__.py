"""latentcheck.checkers: the engines, one subpackage per role.

- ``falsify/``: find, certify and shrink counterexamples (JAX search, exact certification);
- ``verify/``: decide P3 exactly for piecewise-linear encoders (branch and bound, certificates);
- ``prove/``: the catalogue's theorems and claims (sympy, z3, the T4 steps);
- ``study/``: JAX autoencoder recommenders, their training, metrics, audit and the study;
- ``testing/``: Hypothesis strategies, assertions and the pytest plugin;
- ``cli/``: the ``latentcheck`` command line (one module per command).

Shared by them: ``float_model``/``float_vanishing`` (float zero sets per runtime: IEEE in NumPy, XLA in
JAX), ``report_check`` (re-checks a report before it is shown), ``_exit`` (exit codes, Ctrl-C), ``_io``
and ``_env``. Names are re-exported lazily, so ``import latentcheck.checkers`` stays cheap: JAX and z3
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
