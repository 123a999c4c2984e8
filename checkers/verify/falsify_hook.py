"""How ``falsify`` uses ``verify``: an exact real proof of P3 for a piecewise-linear encoder, recorded beside the status."""

from __future__ import annotations

from typing import Any
from .api import verify
from .pl import NotPiecewiseLinear, piecewise_linear

__all__ = ["verified_status"]

def verified_status(encoder: Any, domain: Any, budget: float, info: dict) -> str:
    """Always ``"none-found"``; records in ``info`` whether :func:`latentcheck.checkers.verify` proved P3 over the reals.

    ``none-exists`` needs a float argument too (an empty sound float zero set for the dtype and runtime), which
    no piecewise-linear activation has, so an exact real proof is reported beside the status, not as it.

    Records the verdict in ``info["verify"]``. Encoders that are not piecewise
    linear, and domains verify does not decide (sphere, data), stay ``none-found``.
    """

    if domain.coordinate_bounds(1) is None:  # the sphere, rows of data: verify does not decide them
        return "none-found"
    dom = domain.label
    try:
        for layer in encoder.layers:
            piecewise_linear(layer.activation)
    except NotPiecewiseLinear:
        return "none-found"
    res = verify(encoder, "p3", domain=dom, timeout=float(budget))  # budget: what is left of falsify's --budget
    info["verify"] = {"verdict": res.verdict, "reason": res.reason, "method": res.method}
    if res.verdict == "proved":
        # A statement about real inputs only. "none-exists" also needs the float side (T2 plus an empty sound
        # float zero set), which a piecewise-linear activation never has: 0 itself rounds to 0.
        info["message"] = (f"No real counterexample exists: latentcheck verify proved P3 on {dom} in exact arithmetic "
                           f"({res.reason}). Status stays none-found: float evaluation may still round a latent to 0.")
    return "none-found"
