"""``latentcheck.checkers.verify``: decide P3 for a piecewise-linear encoder, with an exact certificate.

Verdicts:

* ``proved``: no nonzero ``x`` in the domain has ``enc(x) = 0``; the
  certificate (a branch-and-bound tree with interval and Farkas leaves) was
  re-checked in exact rational arithmetic, or T2 applies (the latent
  activation never vanishes);
* ``refuted``: a nonzero rational ``x`` in the domain with ``enc(x) = 0``
  exactly;
* ``proved-float``: the LPs say no such ``x`` exists but some leaf's exact
  re-check failed: not a proof;
* ``unknown``: out of scope (with the reason) or out of time (with how far
  the search got).
"""

from __future__ import annotations

import time
from fractions import Fraction
from typing import Any

import numpy as np

from ...theorems.domains import Box, Domain, parse_domain
from ...theorems.encoder import Encoder
from .result import CERT_SCHEMA_NOTE, VERDICTS, VerifyResult
from ...theorems.errors import InvalidArgument
from ...counterexamples.certificate import binding_record
from ...theorems.classify import classify
from ...theorems.inputs import divide_factor, with_input_normalise
from ...theorems.properties import get_property
from .l2 import verify_l2
from .pl import NotPiecewiseLinear, piecewise_linear
from .run import run_p3
from .smooth import min_latent, verify_p3_eps
from .smooth_box import verify_p3_eps_box
from ...theorems.properties.p3_eps import SmallLatent

__all__ = ["verify", "verify_min_latent", "VerifyResult", "parse_verify_domain", "VERDICTS", "CERT_SCHEMA_NOTE"]

def parse_verify_domain(spec: "str | Domain") -> Domain:
    """``reals``, ``nonneg``, ``binary`` or ``box:LO,HI`` (exact rationals from the text), as a Domain object.

    Domains that are not a product of intervals (the sphere, rows of data) are refused: verify does not decide them.
    """
    dom = parse_domain(spec)
    if dom.coordinate_bounds(1) is None:
        raise InvalidArgument(f"domain {dom.label!r} is not supported by verify; use reals, nonneg, binary or box:LO,HI")
    return dom


def _t2_or_unknown(encoder: Encoder, dom: "Domain", why: str, t0: float) -> VerifyResult:

    cls = classify(encoder.activation)
    stats = {"seconds": round(time.perf_counter() - t0, 4)}
    if cls.cls == "non-vanishing":
        return VerifyResult("proved", f"T2: the latent activation {encoder.activation.name} never vanishes ({cls.certificate}), "
                            "so no input at all is encoded as 0", "T2", dom.label, stats=stats)
    return VerifyResult("unknown", why, "none", dom.label, stats=stats)


def verify(encoder: Encoder, property: str = "p3", *, domain: "str | dict" = "reals", input_normalise: "str | None" = None,
           timeout: float = 60.0) -> VerifyResult:
    """Decide P3 (no nonzero input in the domain is encoded as 0) exactly, for the function the encoder's
    input semantics describe: ``enc(normalise(x))`` (``encoder.inputs.normalise``, overridden by
    ``input_normalise``: ``none``, ``l2`` or ``divide:K``). See :func:`_verify` for the arguments."""

    if not isinstance(encoder, Encoder):
        raise InvalidArgument("verify needs a theorems.Encoder (weights and activations), not a plain callable")
    encoder = with_input_normalise(encoder, input_normalise)
    norm = encoder.inputs.normalise
    small = small_latent_property(property)
    if small is not None:
        return _verify_small(encoder, small, domain, norm, timeout)
    k = divide_factor(norm)
    if k is None:
        res = _verify(encoder, property, domain=domain, input_normalise=norm, timeout=timeout)
    else:
        res = _verify_divided(encoder, property, domain, k, timeout)
    res.inputs = encoder.inputs.record()
    return res


def small_latent_property(property: Any) -> "SmallLatent | None":
    """``p3-eps:EPS[,R]`` (``R`` defaults to 1) as the property object; ``None`` for other properties."""
    text = property if isinstance(property, str) else None
    if text is not None and text.strip().lower().startswith("p3-eps:") and "," not in text:
        text = text + ",1"
    prop = get_property(text if text is not None else property)
    return prop if isinstance(prop, SmallLatent) else None


def _verify_small(encoder: Encoder, prop: SmallLatent, domain: Any, norm: str, timeout: float) -> VerifyResult:
    """p3-eps for a one-layer smooth encoder on binary users (checkers/verify/smooth.py) or a box (smooth_box.py)."""
    if not (timeout > 0):
        raise InvalidArgument(f"timeout={timeout!r} must be a positive number of seconds")
    dom = parse_verify_domain(domain)
    t0 = time.perf_counter()
    engine = verify_p3_eps_box if isinstance(dom, Box) else verify_p3_eps
    res = engine(encoder, prop.eps, prop.r, dom, norm, t0 + float(timeout), t0)
    res.property_spec = prop.spec.lower()
    res.inputs = encoder.inputs.record()
    return _bound(res, encoder, norm)


def verify_min_latent(encoder: Encoder, *, domain: "str | Domain" = "binary", input_normalise: "str | None" = None,
                      timeout: float = 60.0) -> VerifyResult:
    """Certified bounds on ``min |enc(x)|_inf`` over binary users ``x != 0`` (one-layer smooth encoders).

    The result's ``min_latent`` holds ``lower`` (the largest eps for which p3-eps was proved: its certificate is
    the result's) and ``upper`` (``|enc(x*)|_inf`` at a binary witness, an arb upper bound). Verdict ``proved``
    when ``lower > 0`` (P3-eps holds at ``eps = lower``), else ``unknown``.
    """
    if not isinstance(encoder, Encoder):
        raise InvalidArgument("verify needs a theorems.Encoder (weights and activations), not a plain callable")
    if not (timeout > 0):
        raise InvalidArgument(f"timeout={timeout!r} must be a positive number of seconds")
    encoder = with_input_normalise(encoder, input_normalise)
    norm = encoder.inputs.normalise
    dom = parse_verify_domain(domain)
    t0 = time.perf_counter()
    ml = min_latent(encoder, dom, norm, float(timeout))
    stats = {"seconds": round(time.perf_counter() - t0, 4), "steps": len(ml.steps)}
    if ml.lower > 0:
        res = VerifyResult("proved", f"{float(ml.lower):.6g} <= min |enc(x)|_inf <= "
                           f"{'?' if ml.upper is None else f'{float(ml.upper):.6g}'} over binary users x != 0 "
                           f"({ml.reason})", "min-latent", dom.label, certificate=ml.certificate, stats=stats)
    else:
        res = VerifyResult("unknown", f"no positive lower bound on min |enc(x)|_inf was proved"
                           f"{'' if not ml.reason else ' (' + ml.reason + ')'}", "none", dom.label, stats=stats)
    res.property_spec = f"p3-eps:{ml.lower},1" if ml.lower > 0 else "p3-eps"
    res.min_latent = ml.to_json()
    res.inputs = encoder.inputs.record()
    return _bound(res, encoder, norm)


def _verify_divided(encoder: Encoder, property: str, domain: Any, k: Fraction, timeout: float) -> VerifyResult:
    """``divide:K`` on reals or nonneg: ``x -> x/K`` maps the domain onto itself, so P3 of ``enc(x/K)`` is P3 of
    ``enc``, and a zero ``y`` of ``enc`` gives the zero ``x = K y``; other domains are not decided."""
    dom = parse_verify_domain(domain)
    if dom.label not in ("reals", "nonneg"):
        return VerifyResult("unknown", f"--input-normalise divide:{k} is decided on reals and nonneg only (there x -> x/K "
                            "maps the domain onto itself); on other domains it is not", "none", dom.label)
    res = _verify(encoder, property, domain=dom, input_normalise="none", timeout=timeout)
    if res.counterexample is not None:
        y = [Fraction(v) for v in res.counterexample]
        x = [v * k for v in y]
        if not (any(x) and all(v == 0 for v in encoder.exact([v / k for v in x]))):  # re-checked at x/K, exactly
            return VerifyResult("unknown", "the witness did not survive scaling by K (internal)", res.method, res.domain,
                                stats=res.stats)
        res.counterexample = [str(v) for v in x]
        res.reason += f"; the witness is x = {k} * y, so enc(x/{k}) = enc(y) = 0"
    elif res.verdict == "proved":
        res.reason += f"; x -> x/{k} maps the domain onto itself, so enc(x/{k}) is never 0 either"
    return res


def _verify(encoder: Encoder, property: str = "p3", *, domain: "str | dict" = "reals", input_normalise: str = "none",
            timeout: float = 60.0) -> VerifyResult:
    """Decide P3 (no nonzero input in the domain is encoded as 0) exactly.

    Args:
        encoder: a :class:`latentcheck.theorems.Encoder`.
        property: ``"p3"``.
        domain: ``reals``, ``nonneg``, ``binary`` or ``box:LO,HI``.
        input_normalise: ``none``, or ``l2`` (the encoder sees ``x / |x|_2``; decided exactly for
            positively homogeneous encoders, with biases on ``binary``; else ``unknown``).
        timeout: seconds for the search.

    Example:
        >>> enc = Encoder.from_arrays([[[1.0, 1.0]]], [[1.0]], ["relu"])
        >>> verify(enc, "p3", domain="box:0,1").verdict
        'proved'
    """

    t0 = time.perf_counter()

    if not get_property(property).verifiable:
        raise InvalidArgument(f"property={property!r}: verify decides p3 only")
    if not isinstance(encoder, Encoder):
        raise InvalidArgument("verify needs a theorems.Encoder (weights and activations), not a plain callable")
    if input_normalise not in ("none", "l2"):
        raise InvalidArgument(f"input_normalise={input_normalise!r} must be none or l2")
    if not (timeout > 0):
        raise InvalidArgument(f"timeout={timeout!r} must be a positive number of seconds")
    dom = parse_verify_domain(domain)
    try:
        pls = [piecewise_linear(layer.activation) for layer in encoder.layers]
    except NotPiecewiseLinear as exc:
        return _t2_or_unknown(encoder, dom, f"not piecewise linear ({exc}); verify decides piecewise-linear encoders only", t0)
    if not all(getattr(layer, "float64_exact", True) for layer in encoder.layers):
        return VerifyResult("unknown", "the stored weights are not all exact float64 numbers (e.g. long double); verify "
                            "decides encoders whose weights float64 holds exactly", "none", dom.label,
                            stats={"seconds": round(time.perf_counter() - t0, 4)})
    homogeneous = all(p.positively_homogeneous for p in pls) and all(not np.any(layer.b) for layer in encoder.layers)
    if input_normalise == "l2" and not homogeneous:  # biases: enc(x/s) = enc_s(x)/s (checkers/verify/l2.py)

        return _bound(verify_l2(encoder, pls, dom, t0 + float(timeout), t0), encoder, input_normalise)

    res = run_p3(encoder, pls, dom, homogeneous, t0 + float(timeout), t0)
    if input_normalise == "l2" and res.verdict in ("proved", "refuted"):
        res.reason += "; with zero biases and positively homogeneous activations enc(x/|x|) = enc(x)/|x|, so l2 normalisation does not change the answer"
    return _bound(res, encoder, input_normalise)


def _bound(res: VerifyResult, encoder: Encoder, input_normalise: str) -> VerifyResult:
    """The certificate names its encoder: sizes, activations, input semantics and model file (re-checked by recheck)."""
    if res.certificate is not None:

        res.certificate.update(binding_record(encoder, input_normalise))
    return res
