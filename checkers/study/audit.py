"""Latent audit of a trained encoder over real users (P1-P3 measured on data).

Given a :class:`latentcheck.theorems.Encoder` and the data rows it reads (after the
model's own input preprocessing: L2 normalisation for Mult-DAE, division by
5 for I-AutoRec), the audit reports:

* **P1**: ``m < n``.
* **P3 on data**: the exact-zero latent rate (rows whose float32 latent
  vector is exactly the zero vector), near-zero norms, and the number of
  dead latent units (exactly 0 for every row) and constant units; how
  close users come to the zero vector: the mean fraction of a user's latent
  units that are exactly 0, and the fewest nonzero units of any user.
* **P2 on data**: on ``n_triples`` triples ``(x, u, v)`` of distinct rows
  drawn with an explicit seed: the concordance (fraction of triples with a
  strict input order ``<x,u> != <x,v>`` whose latent order
  ``<z_x,z_u>`` vs ``<z_x,z_v>`` agrees), Kendall's tau-b between input
  and latent differences, and the P2 violation rate (triples where
  ``<x,u> <= <x,v>`` but ``<z_x,z_u> > <z_x,z_v>``, ties included: a tie in
  the input demands a tie in the latent); the input ties and the tie
  violations are also counted apart (``input_ties``, ``tie_violations``).
* **Certified counterexamples on the data domain**: the found zero rows and
  the largest flips are re-checked outside floating point
  (:func:`latentcheck.theorems.check_zero`, :func:`latentcheck.theorems.check_flip`) at the exact
  rational value of the float32 input the encoder receives; when the
  falsifier (:mod:`latentcheck.checkers.falsify`) is installed, it is also run on the
  data domain (the rows, nothing between them) with a small time budget.

Everything random is drawn from ``numpy.random.default_rng(seed)``: the same
encoder, rows and seed give the same numbers.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

import numpy as np

from .data import CSR
from ...theorems.domains import sample_row_triples
from ...theorems.encoder import Encoder
from ...theorems.errors import InvalidArgument
from ...theorems.inputs import META_KEYS as _INPUT_META_KEYS
from ...theorems.inputs import InputSemantics, inputs_from_arrays, inputs_to_arrays
from ...theorems.properties import P2, P3
from ...theorems.inputs import with_input_normalise
from ...theorems.properties import check_flip, check_zero
from .._io import atomic_write_with
from .data import csr_from_coo

__all__ = ["AuditResult", "audit_encoder", "normalise_rows", "NORMALISATIONS", "kendall_tau_b", "p2_delta_rate", "save_encoder", "read_input_meta", "rows_for_encoder", "META_KEYS",
           "meta_from_inputs", "read_item_order"]

#: Input preprocessing the audit can apply: ``l2``, ``none`` or ``divide:K``.
NORMALISATIONS = ("l2", "none", "divide:K")


def _parse_normalisation(spec: str) -> tuple[str, float]:
    s = str(spec).strip().lower()
    if s in ("l2", "none"):
        return s, 1.0
    if s.startswith("divide:"):
        try:
            k = float(s.split(":", 1)[1])
        except ValueError:
            k = float("nan")
        if np.isfinite(k) and k > 0:
            return "divide", k
    raise InvalidArgument(f"normalise={spec!r} must be 'l2', 'none' or 'divide:K' with K > 0 (e.g. divide:5)")


def normalise_rows(x: np.ndarray, spec: str) -> np.ndarray:
    """Apply the model's input preprocessing to dense rows, in float32 (the values the encoder sees)."""
    kind, k = _parse_normalisation(spec)
    x = np.asarray(x, dtype=np.float32)
    if kind == "l2":
        norms = np.sqrt(np.maximum(np.sum(x.astype(np.float64) ** 2, axis=1, keepdims=True), 1e-12))
        return (x / norms).astype(np.float32)
    if kind == "divide":
        return (x / np.float32(k)).astype(np.float32)
    return x


def _exact_preprocess(x: np.ndarray, spec: str) -> np.ndarray:
    """The preprocessing in float64 (for the input order: ties stay ties)."""
    kind, k = _parse_normalisation(spec)
    x = np.asarray(x, dtype=np.float64)
    if kind == "l2":
        return x / np.sqrt(np.maximum(np.sum(x * x, axis=1, keepdims=True), 1e-300))
    if kind == "divide":
        return x / k
    return x


def kendall_tau_b(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b of the signs of paired differences ``a`` and ``b``.

    Each entry is one comparison (a pair of items ``u, v`` for an anchor ``x``):
    concordant when ``sign(a) * sign(b) > 0``, discordant when ``< 0``.
    ``tau_b = (C - D) / sqrt((N - T_a)(N - T_b))``, ``T_a``, ``T_b`` the ties of each.
    """
    sa, sb = np.sign(a), np.sign(b)
    n = sa.size
    c = int(np.sum(sa * sb > 0))
    d = int(np.sum(sa * sb < 0))
    ta, tb = int(np.sum(sa == 0)), int(np.sum(sb == 0))
    den = np.sqrt(float(n - ta) * float(n - tb))
    return float((c - d) / den) if den > 0 else float("nan")


@dataclass(frozen=True)
class AuditResult:
    """The latent audit of one encoder on one set of rows (see the module docstring)."""

    n: int
    m: int
    rows: int
    activation: str
    normalisation: str
    seed: int
    p1: bool
    zero_rate: float
    zero_rows: int
    near_zero: dict
    norm_quantiles: dict
    dead_units: int
    constant_units: int
    zero_unit_fraction: float
    fewest_nonzero_units: int
    triples: int
    concordance: float
    kendall_tau_b: float
    p2_violation_rate: float
    strict_flip_rate: float
    input_tie_rate: float
    input_ties: int = 0
    tie_violations: int = 0
    certified: tuple = ()
    falsifier: dict = field(default_factory=dict)
    seconds: float = 0.0
    #: P2-delta on data: for each asked ``delta``, the fraction of triples whose input order is clear by
    #: ``delta |x|^2`` (``|<x,u> - <x,v>| >= delta |x|^2``) while the latent order is strictly reversed
    p2_delta_rates: dict = field(default_factory=dict)
    #: where ``normalisation`` came from: ``file`` (the model file), ``option`` (an override) or ``default``
    normalisation_from: str = "option"

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in ("certified", "seconds")}
        out["certified"] = [dict(c) for c in self.certified]
        out["timing"] = {"seconds": round(self.seconds, 3)}
        return out

    def summary(self) -> dict[str, Any]:
        """The figures the study tabulates."""
        return {
            "zero_rate": self.zero_rate,
            "near_zero_1e-3": self.near_zero.get("abs<1e-3", float("nan")),
            "dead_units": self.dead_units,
            "constant_units": self.constant_units,
            "zero_unit_fraction": self.zero_unit_fraction,
            "fewest_nonzero_units": self.fewest_nonzero_units,
            "concordance": self.concordance,
            "kendall_tau_b": self.kendall_tau_b,
            "p2_violation_rate": self.p2_violation_rate,
            "certified_p3": Counter(c["property"] for c in self.certified)[P3.id],
            "certified_p2": Counter(c["property"] for c in self.certified)[P2.id],
        }


def _encode_all(encoder: Encoder, rows: CSR, spec: str, batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Latents (float32) and input norms for every row, batch by batch."""
    import jax

    fn = jax.jit(jax.vmap(encoder.jax_fn("float32")))
    zs = []
    for idx in rows.iter_batches(batch_size):
        x = normalise_rows(rows.take_rows(idx).to_dense(np.float32), spec)
        if x.shape[0] < batch_size:  # one compiled shape
            x = np.concatenate([x, np.zeros((batch_size - x.shape[0], x.shape[1]), np.float32)])
        zs.append(np.asarray(fn(x))[: len(idx)])
    z = np.concatenate(zs) if zs else np.zeros((0, encoder.m), np.float32)
    return z.astype(np.float32), rows.row_lengths()


def _dense_rows(rows: CSR, idx: np.ndarray, spec: str) -> np.ndarray:
    return normalise_rows(rows.take_rows(np.asarray(idx)).to_dense(np.float32), spec)


def _exact(vec: np.ndarray) -> list[Fraction]:
    return [Fraction(float(v)) for v in np.asarray(vec, dtype=np.float32)]


def audit_encoder(
    encoder: Encoder,
    rows: CSR,
    *,
    normalise: Optional[str] = None,
    seed: int = 0,
    n_triples: int = 20_000,
    certify: int = 2,
    falsify_budget: float = 0.0,
    max_rows: int = 50_000,
    deltas: "tuple[float, ...]" = (),
) -> AuditResult:
    """Audit ``encoder`` on the data ``rows`` (see the module docstring).

    Args:
        encoder: the trained encoder (``n`` must equal ``rows.n_cols``).
        rows: the data rows (users x items for Mult-DAE, items x users for I-AutoRec).
        normalise: the model's input preprocessing: ``l2``, ``none`` or ``divide:K`` (the ``input_normalise``
            override); default: ``encoder.inputs.normalise`` (what the model file records), ``none`` without one.
        seed: seeds the row subsample and the triples.
        n_triples: triples sampled for the ordering figures.
        certify: how many zero rows and how many flips to certify exactly (0: none).
        falsify_budget: seconds for the falsifier per property on the data
            domain (0: skip; used only when :mod:`latentcheck.checkers.falsify` is present).
        max_rows: rows audited at most (a seeded subsample beyond that).
        deltas: margins ``delta >= 0`` at which to report the P2-delta violation rate on the triples.
    """
    t0 = time.perf_counter()
    if encoder.n != rows.n_cols:
        raise InvalidArgument(f"the encoder takes n={encoder.n} inputs but the data rows have {rows.n_cols} columns; "
                              "audit with the data the encoder was trained on (same item set and order)")

    encoder = with_input_normalise(encoder, normalise)
    normalise = encoder.inputs.normalise
    _parse_normalisation(normalise)
    rng = np.random.default_rng(seed)
    nonempty = _audited_rows(rows, max_rows, rng)
    data = rows.take_rows(nonempty)
    z, _ = _encode_all(encoder, data, normalise)
    zero = _zero_figures(z)
    tri = sample_row_triples(data.n_rows, int(n_triples), rng, label="the audited data") if n_triples > 0 else np.zeros((0, 3), np.int64)
    d_in, d_lat, x_sq = _triple_differences(data, z.astype(np.float64), tri, normalise)
    order = _ordering_figures(d_in, d_lat)
    certified: list[dict] = []
    if certify > 0:
        certified += _certify_zeros(encoder, data, nonempty, np.nonzero(zero.pop("zero_mask"))[0][:certify], normalise)
        if tri.shape[0]:
            picks = _flips_to_certify(d_in, d_lat, certify)
            certified += _certify_flips(encoder, data, nonempty, tri, picks, d_in, normalise, d_lat)
    zero.pop("zero_mask", None)
    falsifier = _run_falsifier(encoder, data, normalise, seed, falsify_budget) if falsify_budget > 0 else {}
    return AuditResult(n=encoder.n, m=encoder.m, rows=int(data.n_rows), activation=encoder.activation.name, normalisation=normalise,
                       normalisation_from=encoder.inputs.origin, seed=int(seed), p1=bool(encoder.m < encoder.n), **zero, triples=int(tri.shape[0]), **order,
                       certified=tuple(certified), falsifier=falsifier, seconds=time.perf_counter() - t0,
                       p2_delta_rates={f"{d:g}": p2_delta_rate(d_in, d_lat, x_sq, d) for d in deltas})


def _audited_rows(rows: CSR, max_rows: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of the non-empty rows (a seeded subsample of ``max_rows`` beyond that); at least 3."""
    nonempty = np.nonzero(rows.row_lengths() > 0)[0]
    if nonempty.size < 3:
        raise InvalidArgument(f"the data has {nonempty.size} non-empty rows; the audit needs at least 3")
    if nonempty.size > max_rows:
        nonempty = np.sort(rng.choice(nonempty, size=max_rows, replace=False))
    return nonempty


def _zero_figures(z: np.ndarray) -> dict[str, Any]:
    """P3 on data from the float32 latents ``z`` (rows x m): zero rows, near-zero norms, dead and constant units."""
    z64 = z.astype(np.float64)
    norms = np.sqrt(np.sum(z64 * z64, axis=1))
    zero_mask = np.all(z == 0, axis=1)
    med = float(np.median(norms))
    near = {
        "abs<1e-6": float(np.mean(norms < 1e-6)),
        "abs<1e-3": float(np.mean(norms < 1e-3)),
        "rel<0.01*median": float(np.mean(norms < 0.01 * med)) if med > 0 else float(np.mean(norms == 0)),
    }
    q = np.quantile(norms, [0.0, 0.01, 0.5, 0.99, 1.0])
    spread = z64.max(axis=0) - z64.min(axis=0)
    return {
        "zero_mask": zero_mask,
        "zero_rate": float(np.mean(zero_mask)),
        "zero_rows": int(zero_mask.sum()),
        "near_zero": near,
        "norm_quantiles": {"min": float(q[0]), "p01": float(q[1]), "median": float(q[2]), "p99": float(q[3]), "max": float(q[4])},
        "dead_units": int(np.sum(np.all(z == 0, axis=0))),
        "constant_units": int(np.sum(spread <= 1e-6 * (1.0 + np.abs(z64).max(axis=0)))),
        "zero_unit_fraction": float(np.mean(z == 0)),
        "fewest_nonzero_units": int(np.min(np.sum(z != 0, axis=1))),
    }


def _triple_differences(data: CSR, z64: np.ndarray, tri: np.ndarray, normalise: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``<x,u> - <x,v>`` of the inputs (float64 from the exact preprocessing; ties within 1e-12 |x|^2 are 0), of the latents, and ``|x|^2``."""
    d_in = np.zeros(tri.shape[0])
    d_lat = np.zeros(tri.shape[0])
    x_sq = np.zeros(tri.shape[0])
    # Chunks of triples, so only a few thousand rows are dense at a time (large item sets).
    chunk = max(64, min(4096, int(2e7 // max(1, data.n_cols))))
    for a in range(0, tri.shape[0], chunk):
        t = tri[a : a + chunk]
        need, inv = np.unique(t, return_inverse=True)
        inv = inv.reshape(t.shape)
        X = _exact_preprocess(data.take_rows(need).to_dense(np.float64), normalise)
        Z = z64[need]
        xi, ui, vi = inv[:, 0], inv[:, 1], inv[:, 2]
        di = np.einsum("ij,ij->i", X[xi], X[ui]) - np.einsum("ij,ij->i", X[xi], X[vi])
        scale = np.einsum("ij,ij->i", X[xi], X[xi]) + 1e-300
        d_in[a : a + chunk] = np.where(np.abs(di) <= 1e-12 * scale, 0.0, di)
        d_lat[a : a + chunk] = np.einsum("ij,ij->i", Z[xi], Z[ui]) - np.einsum("ij,ij->i", Z[xi], Z[vi])
        x_sq[a : a + chunk] = scale - 1e-300
    return d_in, d_lat, x_sq


def p2_delta_rate(d_in: np.ndarray, d_lat: np.ndarray, x_sq: np.ndarray, delta: float) -> float:
    """P2-delta on the triples: the fraction whose input gap ``|<x,u> - <x,v>|`` is at least ``delta |x|^2`` (and not 0)
    while the latent gap has the opposite sign (strictly). ``delta = 0`` counts the strict flips (input ties left out).

    Float64 figures (the inputs' differences from the exact preprocessing): a rate, not a certificate.
    """
    if delta < 0:
        raise InvalidArgument(f"delta={delta!r} must be >= 0 (the P2-delta margin, a fraction of |x|^2)")
    if d_in.size == 0:
        return float("nan")
    clear = (d_in != 0) & (np.abs(d_in) >= delta * x_sq)
    return float(np.sum(clear & (np.sign(d_lat) == -np.sign(d_in))) / d_in.size)


def _violations(d_in: np.ndarray, d_lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(strict input order, oriented latent gap, tie violations, strict flips) per triple.

    Each triple is oriented so that the input says ``<x,u> <= <x,v>``: a violation is a latent gap ``> 0`` there.
    """
    strict = d_in != 0
    oriented = np.where(d_in <= 0, d_lat, -d_lat)
    tie_viol = (d_in == 0) & (d_lat != 0)
    return strict, oriented, tie_viol, strict & (oriented > 0)


def _ordering_figures(d_in: np.ndarray, d_lat: np.ndarray) -> dict[str, Any]:
    """P2 on data: concordance, Kendall tau-b, the violation rates and the input ties."""
    n = d_in.shape[0]
    strict, oriented, tie_viol, strict_flip = _violations(d_in, d_lat)
    agree = np.sign(d_in) == np.sign(d_lat)
    n_tri = max(1, n)
    return {
        "concordance": float(np.mean(agree[strict])) if np.any(strict) else float("nan"),
        "kendall_tau_b": kendall_tau_b(d_in, d_lat) if n else float("nan"),
        "p2_violation_rate": float(np.sum((oriented > 0) | tie_viol) / n_tri),
        "strict_flip_rate": float(np.sum(strict_flip) / n_tri),
        "input_tie_rate": float(np.sum(~strict) / n_tri) if n else float("nan"),
        "input_ties": int(np.sum(~strict)) if n else 0,
        "tie_violations": int(np.sum(tie_viol)),
    }


def _flips_to_certify(d_in: np.ndarray, d_lat: np.ndarray, certify: int) -> list[int]:
    """Clear cases first: a large input gap and a large latent violation; then tie violations, largest latent gap first."""
    _, oriented, tie_viol, strict_flip = _violations(d_in, d_lat)
    margin = np.where(strict_flip, oriented * np.abs(d_in), -np.inf)
    order = [int(i) for i in np.argsort(-margin, kind="stable")[:certify] if np.isfinite(margin[i])]
    if len(order) < certify:
        tie_gap = np.where(tie_viol, np.abs(d_lat), -np.inf)
        order += [int(i) for i in np.argsort(-tie_gap, kind="stable")[: certify - len(order)] if np.isfinite(tie_gap[i])]
    return order


def _certify_zeros(encoder: Encoder, data: CSR, original: np.ndarray, local: np.ndarray, spec: str) -> list[dict]:

    out = []
    for i in local:
        x = _dense_rows(data, [int(i)], spec)[0]
        res = check_zero(encoder, _exact(x))
        if res.violates:
            out.append({"property": P3.id, "certified": res.certified, "row": int(original[int(i)]),
                        "detail": res.detail, "margin": res.margin, "input": "the float32 preprocessed row, as an exact rational"})
    return out


def _certify_flips(encoder: Encoder, data: CSR, original: np.ndarray, tri: np.ndarray, order: list[int], d_in: np.ndarray, spec: str,
                   d_lat: Optional[np.ndarray] = None) -> list[dict]:

    out = []
    for t in order:
        x, u, v = (int(r) for r in tri[t])
        tie_flip = d_in[t] == 0 and d_lat is not None and d_lat[t] < 0
        if d_in[t] > 0 or tie_flip:  # orient: <x,u> <= <x,v> (a tie: u has the larger latent score)
            u, v = v, u
        X = _dense_rows(data, [x, u, v], spec)
        res = check_flip(encoder, _exact(X[0]), _exact(X[1]), _exact(X[2]))
        if res.violates:
            out.append({"property": P2.id, "certified": res.certified,
                        "rows": {"x": int(original[x]), "u": int(original[u]), "v": int(original[v])},
                        "detail": res.detail, "margin": res.margin, "input": "the float32 preprocessed rows, as exact rationals"})
    return out


def _run_falsifier(encoder: Encoder, data: CSR, spec: str, seed: int, budget: float) -> dict:
    """Run :func:`latentcheck.checkers.falsify.falsify` on the data domain when it is installed."""
    try:
        from ...theorems.domains import Domain
        from ..falsify import falsify
    except ImportError as exc:
        gone = {"status": "unavailable", "reason": f"latentcheck.checkers.falsify could not be imported ({exc})", "certified": []}
        return {P3.id: dict(gone), P2.id: dict(gone)}
    cap = max(100, min(5000, int(5e7 // max(1, data.n_cols))))  # at most ~400 MB of float64 rows
    sub = data if data.n_rows <= cap else data.take_rows(np.arange(cap))
    rows = normalise_rows(sub.to_dense(np.float32), spec).astype(np.float64)
    rows.setflags(write=False)
    dom = Domain("data", rows, f"audit rows 0..{sub.n_rows - 1} (preprocessed float32)")
    out: dict[str, Any] = {}
    for prop in (P3, P2):
        try:
            res = falsify(encoder, prop, domain=dom, dtype="float32", budget=budget, seed=seed, max_counterexamples=2, shrink=False,
                          input_normalise="none")  # the rows are already preprocessed: the raw chain is the model here
        except Exception as exc:  # the falsifier is another team's code: report, do not crash the audit
            out[prop.id] = {"status": "error", "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"}
            continue
        out[prop.id] = {
            "status": res.status,
            "certified": [{"certified": c.certified, "origin": c.origin, "margin": c.margin, "detail": c.detail} for c in res.counterexamples],
            "float_only": len(res.float_only),
        }
    return out


# --------------------------------------------------------------------------- encoder files with input metadata

#: Extra keys latentcheck writes beside ``W0, b0, ...`` so ``latentcheck audit`` can rebuild the inputs
#: (defined with the input semantics in :mod:`latentcheck.theorems.inputs`).
META_KEYS = _INPUT_META_KEYS


def save_encoder(
    path: "str | os.PathLike[str]",
    encoder: Encoder,
    *,
    normalise: str,
    rows: str,
    values: str,
    input_ids: Optional[np.ndarray] = None,
    threshold: Optional[float] = None,
    input_names: Optional[np.ndarray] = None,
) -> None:
    """Save an encoder as ``.npz`` (``W0, b0, ..., activations``) plus how to build its inputs.

    ``normalise`` is the preprocessing (``l2``, ``none``, ``divide:K``), ``rows``
    says whether a data row is a user (``users``) or an item (``items``),
    ``values`` whether entries are ``binary`` (ratings above ``threshold``) or
    ``ratings``, and ``input_ids`` the raw id of each input coordinate; for
    data whose ids are strings (a generic file's ids become codes that mean
    nothing outside that file) give ``input_names``, the id string of each
    input coordinate, instead. The keys are those of
    :class:`latentcheck.theorems.InputSemantics`: :func:`latentcheck.load_encoder`
    reads them back into ``encoder.inputs`` (``origin='file'``).
    """
    ids = None
    if input_ids is not None:
        arr = np.asarray(input_ids)
        if arr.shape != (encoder.n,):
            raise InvalidArgument(f"input_ids has shape {arr.shape} but the encoder takes n={encoder.n} inputs")
        if arr.dtype.kind not in "iu":
            raise InvalidArgument("input_ids must be integers; give string ids as input_names (ids are matched as strings)")
        ids = tuple(int(v) for v in arr.tolist())
    names = None
    if input_names is not None:
        arr = np.asarray(input_names).astype(np.str_)
        if arr.shape != (encoder.n,):
            raise InvalidArgument(f"input_names has shape {arr.shape} but the encoder takes n={encoder.n} inputs")
        names = tuple(str(v) for v in arr.tolist())
    if rows not in ("users", "items") or values not in ("binary", "ratings"):
        raise InvalidArgument(f"rows={rows!r} must be users|items and values={values!r} binary|ratings")
    inputs = InputSemantics(normalise=normalise, rows=rows, values=values, input_ids=ids, input_names=names,
                            threshold=None if threshold is None else float(threshold), origin="file")
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(encoder.layers):
        arrays[f"W{i}"] = np.asarray(layer.W if layer.W_src is None else layer.W_src)
        arrays[f"b{i}"] = np.asarray(layer.b if layer.b_src is None else layer.b_src)
    arrays["activations"] = np.array([layer.activation.name for layer in encoder.layers], dtype=np.str_)
    arrays.update(inputs_to_arrays(inputs, encoder.n))

    d = os.path.dirname(os.fspath(path))
    if d:
        os.makedirs(d, exist_ok=True)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:  # a file object: np.savez adds no suffix
            np.savez(fh, **arrays)

    atomic_write_with(path, write)


def read_item_order(path: "str | os.PathLike[str]", n: int) -> tuple[str, ...]:
    """The ids of ``--item-order FILE``: one id per line, in input order (blank lines at the end ignored).

    Each id is kept as its exact text (stripped of surrounding blanks): ids are data, matched as strings.
    Refuses a count other than ``n``, an empty id or a repeated id."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"--item-order {os.fspath(path)!r} cannot be read ({type(exc).__name__}); give a UTF-8 text file "
                              "with one id per line") from None
    while lines and not lines[-1].strip():
        lines.pop()
    ids = tuple(v.strip() for v in lines)
    if len(ids) != n:
        raise InvalidArgument(f"--item-order {os.fspath(path)!r} lists {len(ids)} ids but the encoder takes n={n} inputs; "
                              "give one id per input, in input order")
    if any(not v for v in ids):
        raise InvalidArgument(f"--item-order {os.fspath(path)!r} has an empty line among its ids; give one id per line")
    if len(set(ids)) != n:
        dup = next(v for v, c in Counter(ids).items() if c > 1)
        raise InvalidArgument(f"--item-order {os.fspath(path)!r} lists the id {dup!r} more than once; each input has one id")
    return ids


def meta_from_inputs(inputs: InputSemantics) -> dict[str, Any]:
    """The dict form :func:`rows_for_encoder` reads (``normalise``, ``rows``, ``values``, ``threshold``, ids as arrays)."""
    out: dict[str, Any] = {}
    if inputs.origin == "file" or inputs.normalise != "none":
        out["normalise"] = inputs.normalise
    for k in ("rows", "values", "threshold"):
        if getattr(inputs, k) is not None:
            out[k] = getattr(inputs, k)
    if inputs.input_ids is not None:
        out["input_ids"] = np.asarray(inputs.input_ids, dtype=np.int64)
    if inputs.input_names is not None:
        out["input_names"] = np.asarray(inputs.input_names, dtype=np.str_)
    return out


def read_input_meta(path: "str | os.PathLike[str]") -> dict[str, Any]:
    """The input metadata stored by :func:`save_encoder` (empty for other ``.npz`` files); malformed keys raise
    :class:`InvalidArgument`. The same reading as :func:`latentcheck.load_encoder` (``encoder.inputs``)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            inputs = inputs_from_arrays(data, os.fspath(path))
    except (OSError, ValueError):
        return {}
    return meta_from_inputs(inputs)


def rows_for_encoder(ratings: "Any", encoder: Encoder, meta: dict[str, Any], *, rows: Optional[str] = None,
                     values: Optional[str] = None, threshold: Optional[float] = None,
                     min_user_items: Optional[int] = None) -> tuple[CSR, dict[str, Any]]:
    """Data rows whose columns are the encoder's inputs, from raw ratings.

    Columns follow ``meta['input_ids']`` / ``meta['input_names']`` when present
    (ids absent from the data give zero columns; data ids unknown to the
    encoder are dropped and counted); ids are compared as strings when either
    side has string ids, so the integer codes of a generic file's string ids
    never match by accident. Without stored ids this refuses (:class:`InvalidArgument`): ids are data, and
    the data's sorted ids never stand in for them (``item-2`` / ``item-02`` would pair inputs with the wrong
    items); give ``meta['input_names']`` (``latentcheck audit --item-order FILE``). With ``values="binary"`` a (row,
    column) pair is a 1 when any of its rows has a value above the threshold
    (``--threshold``; else the one stored in the file; else 3.5 for MovieLens,
    0 for other files with a VALUE column; every row without one), as in the
    study; duplicate rows count once (the first). ``min_user_items`` drops
    users with fewer such pairs (``rows="users"`` only).
    """

    rows = rows or meta.get("rows", "users")
    values = values or meta.get("values", "binary")
    _check_row_options(ratings, rows, values, threshold, min_user_items)
    thr = _audit_threshold(ratings, meta, threshold) if values == "binary" else None
    u, i, r = _positives(ratings, values, thr)
    row_ids, col_ids = (u, i) if rows == "users" else (i, u)
    names = (getattr(ratings, "user_names", None), getattr(ratings, "item_names", None))
    row_names, col_names = names if rows == "users" else names[::-1]
    if min_user_items:
        uniq, counts = np.unique(row_ids, return_counts=True)
        keep = np.isin(row_ids, uniq[counts >= min_user_items])
        row_ids, col_ids, r = row_ids[keep], col_ids[keep], r[keep]
    if row_ids.size == 0:
        raise InvalidArgument(f"no rating is left with values={values}, threshold={thr} and min_user_items={min_user_items}; "
                              "lower --threshold or --min-user-items")
    uniq_rows, row_idx = np.unique(row_ids, return_inverse=True)
    cols, known, how, matched, unknown = _match_columns(col_ids, col_names, encoder, meta, rows)
    csr = csr_from_coo(row_idx[known], cols, r[known], (int(uniq_rows.size), encoder.n))
    return csr, {"rows": rows, "values": values, "threshold": thr, "min_user_items": min_user_items, "columns": how,
                 "matched_columns": matched, "matched_fraction": matched / encoder.n, "data_ids_unknown_to_encoder": unknown,
                 "n_rows": int(uniq_rows.size), "row_ids": uniq_rows if row_names is None else row_names[uniq_rows]}


def _check_row_options(ratings: Any, rows: str, values: str, threshold: Optional[float], min_user_items: Optional[int]) -> None:
    if rows not in ("users", "items"):
        raise InvalidArgument(f"rows={rows!r} must be 'users' (a row per user, columns items) or 'items'")
    if values not in ("binary", "ratings"):
        raise InvalidArgument(f"values={values!r} must be 'binary' or 'ratings'")
    has_value = getattr(ratings, "has_value", True)
    if not has_value and values == "ratings":
        raise InvalidArgument("values=ratings needs a VALUE column: give --columns USER,ITEM,VALUE")
    if not has_value and threshold is not None:
        raise InvalidArgument("--threshold needs a VALUE column (--columns USER,ITEM,VALUE); without VALUE every row is a positive")
    if min_user_items is not None and (min_user_items < 1 or rows != "users"):
        raise InvalidArgument(f"min_user_items={min_user_items!r} must be >= 1 and applies to rows=users only")


def _audit_threshold(ratings: Any, meta: dict[str, Any], threshold: Optional[float]) -> Optional[float]:
    """The binarisation threshold: given, else stored, else 3.5 (MovieLens, synthetic) or 0 (other files); None without VALUE."""
    if not getattr(ratings, "has_value", True):
        return None
    if threshold is not None:
        return float(threshold)
    if "threshold" in meta:
        return float(meta["threshold"])
    return 0.0 if getattr(ratings, "format", "") in ("delimited", "parquet") else 3.5


def _positives(ratings: Any, values: str, thr: Optional[float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, items, values) with one entry per (user, item) pair, the first in file order; binary: the pairs above ``thr``, as 1s."""
    u, i, r = ratings.users, ratings.items, ratings.ratings.astype(np.float32)
    if values == "binary":
        keep = r > thr if thr is not None else np.ones(u.size, dtype=bool)
        u, i, r = u[keep], i[keep], np.ones(int(keep.sum()), dtype=np.float32)
    if u.size:
        first = np.sort(np.unique(np.stack([u, i], 1), axis=0, return_index=True)[1])
        u, i, r = u[first], i[first], r[first]
    return u, i, r


def _match_columns(col_ids: np.ndarray, col_names: Optional[np.ndarray], encoder: Encoder, meta: dict[str, Any],
                   rows: str) -> tuple[np.ndarray, np.ndarray, str, int, int]:
    """(column of each kept entry, mask of the entries kept, how the columns were built, encoder inputs matched, data ids unknown)."""
    if "input_ids" in meta or "input_names" in meta:  # ids are data: never replaced by the data's sorted ids
        stored = meta["input_names"] if "input_names" in meta else meta["input_ids"]
        if stored.size != encoder.n:
            raise InvalidArgument(f"the weight file lists {stored.size} input ids but the encoder takes n={encoder.n}")
        strings = "input_names" in meta or col_names is not None
        ids = stored.astype(str) if strings else stored
        data = (col_names[col_ids] if col_names is not None else col_ids.astype(str)) if strings else col_ids
        order = np.argsort(ids, kind="stable")
        pos = np.minimum(np.searchsorted(ids[order], data), ids.size - 1)
        known = ids[order][pos] == data
        matched = int(np.unique(data[known]).size)
        if matched == 0:
            raise InvalidArgument("none of the data's ids matches the encoder's stored input ids; audit with the data the encoder was trained on")
        unknown = int(np.unique(data[~known]).size)
        src = meta.get("ids_from", "input ids stored in the weight file")
        return order[pos][known], known, src + (" (compared as strings)" if strings else ""), matched, unknown
    raise InvalidArgument("the model file stores no input ids (latentcheck_input_names or latentcheck_input_ids), so which "
                          "item is which input is unknown; pass --item-order FILE (one id per line, in input order) or "
                          "re-export the encoder with its ids (save_encoder(..., input_names=...))")
