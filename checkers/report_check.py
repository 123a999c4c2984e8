"""``latentcheck report`` re-checks a falsify report before it renders it.

A ``report.json`` is a claim ("refuted: 2 certified counterexamples"); an edited one must not be
re-rendered as if it held. Before rendering, every counterexample labelled ``exact`` or ``interval`` is
re-checked outside floating point against the encoder the report names:

* the exact weights embedded in the report (``weights``: exact rational strings per layer, with the
  activation), or
* ``--model PATH`` (any format latentcheck reads), or the recorded ``encoder.weights_file`` when it is
  still there, whose SHA-256 must be the one the report records.

The report's claimed sizes and activations must be the encoder's; each witness must be in the report's
domain (when the report records it exactly) and violate the property by the property's own exact or
interval check (``prop.check``), with a label at least as strong as the one claimed. Outcomes: every
witness re-checks (render it), one does not (:class:`ReportRejected`, exit 1), or there is nothing to
re-check against (:class:`~latentcheck.theorems.errors.InvalidArgument`, exit 2 with the fix).
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any, Mapping, Optional

import numpy as np

from ..theorems.errors import InvalidArgument, LatentcheckError
from ..counterexamples.fast import as_qvec, domain_contains
from ..counterexamples.certificate import sha256_file
from ..counterexamples.normalised import certify_normalised
from ..theorems.domains import parse_domain
from ..theorems.encoder import Encoder
from ..theorems.inputs import parse_normalisation, with_input_normalise
from ..theorems.properties import get_property
from ..theorems.formats import load_encoder

__all__ = ["ReportRejected", "recheck_report_witnesses"]


class ReportRejected(LatentcheckError):
    """A certified witness of a report does not re-check (the report was edited or is not about this model)."""


def _certified(report: Mapping[str, Any]) -> list[tuple[int, dict]]:
    cxs = report.get("counterexamples") or []
    if not isinstance(cxs, list) or not all(isinstance(c, dict) for c in cxs):
        raise ReportRejected("the report's counterexamples are not a list of objects")
    return [(k, c) for k, c in enumerate(cxs, 1)]


def _exact_float64(text: Any, where: str) -> float:
    try:
        q = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        raise ReportRejected(f"{where}: {str(text)[:40]!r} is not an exact number") from None
    f = float(q)
    if Fraction(f) != q:
        raise InvalidArgument(f"{where} is not a float64 value; re-check this report with --model PATH (the model file)")
    return f


def _from_embedded(layers: Any) -> Any:
    """The encoder from the report's exact weights (float64 values, checked exact)."""

    if not isinstance(layers, list) or not all(isinstance(layer, dict) for layer in layers):
        raise ReportRejected("the report's weights are not a list of layers")
    Ws, bs, acts = [], [], []
    for i, layer in enumerate(layers):
        W, b = layer.get("W"), layer.get("b")
        if not isinstance(W, list) or not all(isinstance(r, list) for r in W) or not isinstance(b, list):
            raise ReportRejected(f"layer {i} of the report's weights is malformed")
        Ws.append(np.array([[_exact_float64(v, f"W{i}") for v in row] for row in W], dtype=np.float64))
        bs.append(np.array([_exact_float64(v, f"b{i}") for v in b], dtype=np.float64))
        acts.append(str(layer.get("activation")))
    return Encoder.from_arrays(Ws, bs, acts)


def _from_file(path: str, report: Mapping[str, Any]) -> Any:

    enc_rec = report.get("encoder") or {}
    model_rec = report.get("model") if isinstance(report.get("model"), dict) else {}
    sums = {enc_rec.get("weights_sha256"), model_rec.get("sha256")} - {None}
    if not sums:
        raise InvalidArgument("the report records no SHA-256 of a model file to compare --model with; re-run falsify --out")
    if sha256_file(path) not in sums:
        raise ReportRejected(f"{path} is not the model file the report names (its SHA-256 differs)")
    return load_encoder(path)


def _encoder(report: Mapping[str, Any], model: Optional[str]) -> Any:
    if model is not None:
        return _from_file(model, report)
    if report.get("weights"):
        return _from_embedded(report["weights"])
    recorded = (report.get("encoder") or {}).get("weights_file")
    if isinstance(recorded, str) and os.path.isfile(recorded):
        return _from_file(recorded, report)
    raise InvalidArgument("the report embeds no exact weights and names no readable model file, so its counterexamples "
                          "cannot be re-checked; pass --model PATH (the encoder file falsify read)")


def _bind(report: Mapping[str, Any], encoder: Any) -> None:
    rec = report.get("encoder") or {}
    names = [layer.activation.name for layer in encoder.layers]
    if rec.get("sizes") != encoder.sizes:
        raise ReportRejected(f"the report claims sizes {rec.get('sizes')}, the model has {encoder.sizes}")
    if rec.get("activations") != names:
        raise ReportRejected(f"the report claims activations {rec.get('activations')}, the model has {names}")


def _with_report_inputs(report: Mapping[str, Any], encoder: Any) -> Any:
    """The encoder with the input normalisation the report was decided under (a report names it; none otherwise)."""

    norm = (report.get("inputs") or {}).get("normalise", "none")
    try:
        norm = parse_normalisation(str(norm))
    except InvalidArgument:
        raise ReportRejected(f"the report's input normalisation {str(norm)[:40]!r} is not one latentcheck knows") from None
    return encoder if norm == encoder.inputs.normalise else with_input_normalise(encoder, norm)


def _domain(report: Mapping[str, Any]) -> Any:
    """The report's domain when it is recorded exactly (box, binary, nonneg, reals), else ``None``."""

    cert = (report.get("domain") or {}).get("certificate")
    if not isinstance(cert, dict) or cert.get("kind") not in ("box", "binary", "nonneg", "reals"):
        return None
    spec = f"box:{cert.get('lo')},{cert.get('hi')}" if cert["kind"] == "box" else cert["kind"]
    return parse_domain(spec)


def _witness(prop: Any, c: dict, n: int, k: int) -> list[list[Fraction]]:
    wit = c.get("witness")
    if not isinstance(wit, dict) or set(wit) != set(prop.names):
        raise ReportRejected(f"counterexample {k}: the witness names {sorted(wit) if isinstance(wit, dict) else wit} "
                             f"are not {list(prop.names)}")
    try:
        vecs = [[Fraction(str(v)) for v in wit[name]] for name in prop.names]
    except (TypeError, ValueError, ZeroDivisionError):
        raise ReportRejected(f"counterexample {k}: a witness entry is not an exact number") from None
    if any(len(v) != n for v in vecs):
        raise ReportRejected(f"counterexample {k}: a witness vector does not have the encoder's {n} entries")
    return vecs


def _check_one(prop: Any, encoder: Any, dom: Any, c: dict, k: int) -> None:

    vecs = _witness(prop, c, encoder.n, k)
    if dom is not None and not all(domain_contains(dom, as_qvec(v)) for v in vecs):
        raise ReportRejected(f"counterexample {k}: a witness vector is not in the domain {dom.label}")
    claimed = c.get("certified")
    if encoder.inputs.normalise != "none":  # enc(N(x)): exact at a rational N(x), in Q(sqrt D) or by intervals
        _check_normalised(prop, encoder, dom, vecs, claimed, k)
        return
    chk = prop.check(encoder, vecs)
    if chk is None or chk.violates is not True:
        raise ReportRejected(f"counterexample {k} ({claimed}) does not violate {prop.id} when re-checked: "
                             f"{getattr(chk, 'detail', 'no exact or interval decision')}")
    if claimed == "exact" and chk.certified != "exact":
        raise ReportRejected(f"counterexample {k} is labelled exact but re-checks only as {chk.certified}")


def _check_normalised(prop: Any, encoder: Any, dom: Any, vecs: list[list[Fraction]], claimed: Any, k: int) -> None:
    """Re-certify one witness of a report about ``enc(N(x))`` outside floating point (``dtype=None``: no float step)."""

    cert = certify_normalised(prop, encoder, vecs, domain=dom, dtype=None)
    if cert.status not in ("exact", "interval"):
        raise ReportRejected(f"counterexample {k} ({claimed}) does not violate {prop.id} of the normalised encoder "
                             f"({encoder.inputs.normalise}) when re-checked: {cert.detail}")
    if claimed == "exact" and cert.status != "exact":
        raise ReportRejected(f"counterexample {k} is labelled exact but re-checks only as {cert.status}")


def recheck_report_witnesses(report: Mapping[str, Any], model: Optional[str] = None) -> int:
    """Re-check every certified counterexample of ``report``; return how many were re-checked.

    Raises:
        ReportRejected: a witness does not re-check, or the report does not describe the model.
        InvalidArgument: there is nothing to re-check against (no weights, no model file) or it is out of scope.
    """

    items = _certified(report)
    if not items:
        return 0
    if any(c.get("certified") not in ("exact", "interval") for _k, c in items):
        raise ReportRejected("a listed counterexample is not labelled exact or interval")
    try:
        prop = get_property(str(report.get("property")))
    except InvalidArgument:
        raise ReportRejected(f"the report's property {str(report.get('property'))[:40]!r} is not one latentcheck knows") from None
    encoder = _encoder(report, model)
    _bind(report, encoder)
    encoder = _with_report_inputs(report, encoder)
    dom = _domain(report)
    for k, c in items:
        _check_one(prop, encoder, dom, c, k)
    return len(items)
