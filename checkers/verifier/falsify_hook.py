"""How ``falsify`` uses ``verify``: ``none-exists`` for a piecewise-linear encoder only when P3 is proved."""

from __future__ import annotations

from typing import Any

__all__ = ["verified_status"]

_DOMAINS = {"reals": "reals", "nonneg": "nonneg", "binary": "binary"}


def verified_status(encoder: Any, domain_name: str, budget: float, info: dict) -> str:
    """``"none-exists"`` when :func:`checkers.verify` proves P3 (exact certificate), else ``"none-found"``.

    Records the verdict in ``info["verify"]``. Encoders that are not piecewise
    linear, and domains verify does not decide (sphere, data), stay ``none-found``.
    """
    from checkers.verifier.api import verify
    from checkers.verifier.pl import NotPiecewiseLinear, piecewise_linear

    dom = _DOMAINS.get(domain_name)
    if dom is None:
        return "none-found"
    try:
        for layer in encoder.layers:
            piecewise_linear(layer.activation)
    except NotPiecewiseLinear:
        return "none-found"
    res = verify(encoder, "p3", domain=dom, timeout=max(1.0, float(budget)))
    info["verify"] = {"verdict": res.verdict, "reason": res.reason, "method": res.method}
    if res.verdict != "proved":
        return "none-found"
    info["message"] = (f"latentcheck verify proved P3 on {dom} in exact arithmetic ({res.reason}); real inputs only: "
                       "float evaluation may still round a latent to 0")
    return "none-exists"
