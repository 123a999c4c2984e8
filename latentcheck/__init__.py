"""latentcheck: machine-checked theorems, certified counterexamples and experiments
for latent activations in autoencoder recommenders (arXiv:2411.04315).

The public API is this one flat namespace::

    from latentcheck import Encoder, classify, falsify, prove_all, Counterexample

The packages underneath are ``latentcheck.theorems`` (the mathematics as data:
no JAX or solver at import time), ``latentcheck.checkers`` (the engines and the
command line) and ``latentcheck.counterexamples`` (certified counterexamples and
reports). Names load on first use, so ``import latentcheck`` stays cheap.
"""

from __future__ import annotations

import os as _os

import lazy_loader as _lazy

# In a source checkout the three packages sit beside this folder (the layout the
# project keeps); in an installed wheel they are inside it.
_here = _os.path.dirname(_os.path.abspath(__file__))
_root = _os.path.dirname(_here)
if not _os.path.isdir(_os.path.join(_here, "theorems")) and _os.path.isfile(_os.path.join(_root, "theorems", "__init__.py")):
    __path__.append(_root)  # type: ignore[name-defined]  # noqa: F821

__version__ = "0.1.0"

# The names and the modules that define them are listed statically in __init__.pyi (docs/api.md documents
# each; tests/test_public_api.py checks the three agree). Each loads on first use.
_lazy_getattr, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)


def __getattr__(name: str):  # noqa: ANN201 - whatever the public name is
    try:
        return _lazy_getattr(name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}; its public names are "
                             f"{__name__}.__all__ (docs/api.md)") from None
