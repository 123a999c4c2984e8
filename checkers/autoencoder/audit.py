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
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Optional

import numpy as np

from latentcheck.checkers.autoencoder.data import CSR
from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.errors import InvalidArgument

__all__ = ["AuditResult", "audit_encoder", "normalise_rows", "NORMALISATIONS", "kendall_tau_b", "save_encoder", "read_input_meta", "rows_for_encoder", "META_KEYS"]

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
            "certified_p3": sum(1 for c in self.certified if c["property"] == "P3"),
            "certified_p2": sum(1 for c in self.certified if c["property"] == "P2"),
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


def _sample_triples(n_rows: int, n_triples: int, rng: np.random.Generator) -> np.ndarray:
    t = rng.integers(0, n_rows, size=(n_triples, 3))
    bad = (t[:, 0] == t[:, 1]) | (t[:, 0] == t[:, 2]) | (t[:, 1] == t[:, 2])
    while np.any(bad):
        t[bad] = rng.integers(0, n_rows, size=(int(bad.sum()), 3))
        bad = (t[:, 0] == t[:, 1]) | (t[:, 0] == t[:, 2]) | (t[:, 1] == t[:, 2])
    return t


def _exact(vec: np.ndarray) -> list[Fraction]:
    return [Fraction(float(v)) for v in np.asarray(vec, dtype=np.float32)]


def audit_encoder(
    encoder: Encoder,
    rows: CSR,
    *,
    normalise: str = "l2",
    seed: int = 0,
    n_triples: int = 20_000,
    certify: int = 2,
    falsify_budget: float = 0.0,
    max_rows: int = 50_000,
) -> AuditResult:
    """Audit ``encoder`` on the data ``rows`` (see the module docstring).

    Args:
        encoder: the trained encoder (``n`` must equal ``rows.n_cols``).
        rows: the data rows (users x items for Mult-DAE, items x users for I-AutoRec).
        normalise: the model's input preprocessing: ``l2``, ``none`` or ``divide:K``.
        seed: seeds the row subsample and the triples.
        n_triples: triples sampled for the ordering figures.
        certify: how many zero rows and how many flips to certify exactly (0: none).
        falsify_budget: seconds for the falsifier per property on the data
            domain (0: skip; used only when :mod:`latentcheck.checkers.falsify` is present).
        max_rows: rows audited at most (a seeded subsample beyond that).
    """
    t0 = time.perf_counter()
    if encoder.n != rows.n_cols:
        raise InvalidArgument(f"the encoder takes n={encoder.n} inputs but the data rows have {rows.n_cols} columns; "
                              "audit with the data the encoder was trained on (same item set and order)")
    _parse_normalisation(normalise)
    rng = np.random.default_rng(seed)
    nonempty = np.nonzero(rows.row_lengths() > 0)[0]
    if nonempty.size < 3:
        raise InvalidArgument(f"the data has {nonempty.size} non-empty rows; the audit needs at least 3")
    if nonempty.size > max_rows:
        nonempty = np.sort(rng.choice(nonempty, size=max_rows, replace=False))
    data = rows.take_rows(nonempty)
    z, _ = _encode_all(encoder, data, normalise)
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
    quant = {"min": float(q[0]), "p01": float(q[1]), "median": float(q[2]), "p99": float(q[3]), "max": float(q[4])}
    dead = int(np.sum(np.all(z == 0, axis=0)))
    spread = z64.max(axis=0) - z64.min(axis=0)
    constant = int(np.sum(spread <= 1e-6 * (1.0 + np.abs(z64).max(axis=0))))

    # Ordering on triples: input dots in float64 from the exact preprocessing.
    tri = _sample_triples(data.n_rows, int(n_triples), rng) if n_triples > 0 else np.zeros((0, 3), np.int64)
    d_in = np.zeros(tri.shape[0])
    d_lat = np.zeros(tri.shape[0])
    if tri.shape[0]:
        # Chunks of triples, so only a few thousand rows are dense at a time (large item sets).
        chunk = max(64, min(4096, int(2e7 // max(1, rows.n_cols))))
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
    strict = d_in != 0
    agree = np.sign(d_in) == np.sign(d_lat)
    concordance = float(np.mean(agree[strict])) if np.any(strict) else float("nan")
    tau = kendall_tau_b(d_in, d_lat) if tri.shape[0] else float("nan")
    # Orient each triple so that the input says <x,u> <= <x,v>: a violation is latent > there.
    oriented = np.where(d_in <= 0, d_lat, -d_lat)
    tie_viol = (d_in == 0) & (d_lat != 0)
    viol = (oriented > 0) | tie_viol
    strict_flip = strict & (oriented > 0)
    n_tri = max(1, tri.shape[0])

    certified: list[dict] = []
    if certify > 0:
        certified += _certify_zeros(encoder, data, nonempty, np.nonzero(zero_mask)[0][:certify], normalise)
        if tri.shape[0]:
            # Clear cases first: a large input gap and a large latent violation.
            margin = np.where(strict_flip, oriented * np.abs(d_in), -np.inf)
            order = np.argsort(-margin, kind="stable")[:certify]
            order = [int(i) for i in order if np.isfinite(margin[i])]
            if len(order) < certify:  # then tie violations, largest latent gap first
                tie_gap = np.where(tie_viol, np.abs(d_lat), -np.inf)
                order += [int(i) for i in np.argsort(-tie_gap, kind="stable")[: certify - len(order)] if np.isfinite(tie_gap[i])]
            certified += _certify_flips(encoder, data, nonempty, tri, order, d_in, normalise, d_lat)
    falsifier: dict = {}
    if falsify_budget > 0:
        falsifier = _run_falsifier(encoder, data, normalise, seed, falsify_budget)
    return AuditResult(
        n=encoder.n,
        m=encoder.m,
        rows=int(data.n_rows),
        activation=encoder.activation.name,
        normalisation=normalise,
        seed=int(seed),
        p1=bool(encoder.m < encoder.n),
        zero_rate=float(np.mean(zero_mask)),
        zero_rows=int(zero_mask.sum()),
        near_zero=near,
        norm_quantiles=quant,
        dead_units=dead,
        constant_units=constant,
        zero_unit_fraction=float(np.mean(z == 0)),
        fewest_nonzero_units=int(np.min(np.sum(z != 0, axis=1))),
        triples=int(tri.shape[0]),
        concordance=concordance,
        kendall_tau_b=tau,
        p2_violation_rate=float(np.sum(viol) / n_tri),
        strict_flip_rate=float(np.sum(strict_flip) / n_tri),
        input_tie_rate=float(np.sum(~strict) / n_tri) if tri.shape[0] else float("nan"),
        input_ties=int(np.sum(~strict)) if tri.shape[0] else 0,
        tie_violations=int(np.sum(tie_viol)),
        certified=tuple(certified),
        falsifier=falsifier,
        seconds=time.perf_counter() - t0,
    )


def _certify_zeros(encoder: Encoder, data: CSR, original: np.ndarray, local: np.ndarray, spec: str) -> list[dict]:
    from latentcheck.theorems.properties import check_zero

    out = []
    for i in local:
        x = _dense_rows(data, [int(i)], spec)[0]
        res = check_zero(encoder, _exact(x))
        if res.violates:
            out.append({"property": "P3", "certified": res.certified, "row": int(original[int(i)]),
                        "detail": res.detail, "margin": res.margin, "input": "the float32 preprocessed row, as an exact rational"})
    return out


def _certify_flips(encoder: Encoder, data: CSR, original: np.ndarray, tri: np.ndarray, order: list[int], d_in: np.ndarray, spec: str,
                   d_lat: Optional[np.ndarray] = None) -> list[dict]:
    from latentcheck.theorems.properties import check_flip

    out = []
    for t in order:
        x, u, v = (int(r) for r in tri[t])
        tie_flip = d_in[t] == 0 and d_lat is not None and d_lat[t] < 0
        if d_in[t] > 0 or tie_flip:  # orient: <x,u> <= <x,v> (a tie: u has the larger latent score)
            u, v = v, u
        X = _dense_rows(data, [x, u, v], spec)
        res = check_flip(encoder, _exact(X[0]), _exact(X[1]), _exact(X[2]))
        if res.violates:
            out.append({"property": "P2", "certified": res.certified,
                        "rows": {"x": int(original[x]), "u": int(original[u]), "v": int(original[v])},
                        "detail": res.detail, "margin": res.margin, "input": "the float32 preprocessed rows, as exact rationals"})
    return out


def _run_falsifier(encoder: Encoder, data: CSR, spec: str, seed: int, budget: float) -> dict:
    """Run :func:`latentcheck.checkers.falsify.falsify` on the data domain when it is installed."""
    try:
        from latentcheck.checkers.domains import Domain
        from latentcheck.checkers.falsify import falsify
    except ImportError as exc:
        gone = {"status": "unavailable", "reason": f"latentcheck.checkers.falsify could not be imported ({exc})", "certified": []}
        return {"P3": dict(gone), "P2": dict(gone)}
    cap = max(100, min(5000, int(5e7 // max(1, data.n_cols))))  # at most ~400 MB of float64 rows
    sub = data if data.n_rows <= cap else data.take_rows(np.arange(cap))
    rows = normalise_rows(sub.to_dense(np.float32), spec).astype(np.float64)
    rows.setflags(write=False)
    dom = Domain("data", rows, f"audit rows 0..{sub.n_rows - 1} (preprocessed float32)")
    out: dict[str, Any] = {}
    for prop in ("p3", "p2"):
        try:
            res = falsify(encoder, prop, domain=dom, dtype="float32", budget=budget, seed=seed, max_counterexamples=2, shrink=False)
        except Exception as exc:  # the falsifier is another team's code: report, do not crash the audit
            out[prop.upper()] = {"status": "error", "reason": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"}
            continue
        out[prop.upper()] = {
            "status": res.status,
            "certified": [{"certified": c.certified, "origin": c.origin, "margin": c.margin, "detail": c.detail} for c in res.counterexamples],
            "float_only": len(res.float_only),
        }
    return out


# --------------------------------------------------------------------------- encoder files with input metadata

#: Extra keys latentcheck writes beside ``W0, b0, ...`` so ``latentcheck audit`` can rebuild the inputs.
META_KEYS = ("latentcheck_normalise", "latentcheck_rows", "latentcheck_values", "latentcheck_input_ids", "latentcheck_threshold")


def save_encoder(
    path: "str | os.PathLike[str]",
    encoder: Encoder,
    *,
    normalise: str,
    rows: str,
    values: str,
    input_ids: Optional[np.ndarray] = None,
    threshold: Optional[float] = None,
) -> None:
    """Save an encoder as ``.npz`` (``W0, b0, ..., activations``) plus how to build its inputs.

    ``normalise`` is the preprocessing (``l2``, ``none``, ``divide:K``), ``rows``
    says whether a data row is a user (``users``) or an item (``items``),
    ``values`` whether entries are ``binary`` (ratings above ``threshold``) or
    ``ratings``, and ``input_ids`` the raw id of each input coordinate.
    :meth:`latentcheck.theorems.Encoder.load` reads the file and ignores the extra keys.
    """
    import os

    _parse_normalisation(normalise)
    if rows not in ("users", "items") or values not in ("binary", "ratings"):
        raise InvalidArgument(f"rows={rows!r} must be users|items and values={values!r} binary|ratings")
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(encoder.layers):
        arrays[f"W{i}"] = np.asarray(layer.W)
        arrays[f"b{i}"] = np.asarray(layer.b)
    arrays["activations"] = np.array([layer.activation.name for layer in encoder.layers], dtype=np.str_)
    arrays["latentcheck_normalise"] = np.array(normalise, dtype=np.str_)
    arrays["latentcheck_rows"] = np.array(rows, dtype=np.str_)
    arrays["latentcheck_values"] = np.array(values, dtype=np.str_)
    if input_ids is not None:
        ids = np.asarray(input_ids, dtype=np.int64)
        if ids.shape != (encoder.n,):
            raise InvalidArgument(f"input_ids has shape {ids.shape} but the encoder takes n={encoder.n} inputs")
        arrays["latentcheck_input_ids"] = ids
    if threshold is not None:
        arrays["latentcheck_threshold"] = np.array(float(threshold))
    from latentcheck.checkers._io import atomic_write_with

    d = os.path.dirname(os.fspath(path))
    if d:
        os.makedirs(d, exist_ok=True)

    def write(tmp: str) -> None:
        with open(tmp, "wb") as fh:  # a file object: np.savez adds no suffix
            np.savez(fh, **arrays)

    atomic_write_with(path, write)


def read_input_meta(path: "str | os.PathLike[str]") -> dict[str, Any]:
    """The input metadata stored by :func:`save_encoder` (empty for other ``.npz`` files)."""
    out: dict[str, Any] = {}
    try:
        with np.load(path, allow_pickle=False) as data:
            for k in META_KEYS:
                if k in data.files:
                    arr = data[k]
                    if arr.dtype.kind == "U":
                        out[k.removeprefix("latentcheck_")] = str(arr)
                    elif k == "latentcheck_input_ids":
                        if arr.dtype.kind not in "iu" or arr.ndim != 1:
                            raise InvalidArgument(f"{k} in {path!r} must be a 1-D integer array of raw ids")
                        out["input_ids"] = arr.astype(np.int64)
                    elif arr.dtype.kind == "f" and arr.ndim == 0:
                        out[k.removeprefix("latentcheck_")] = float(arr)
    except (OSError, ValueError):
        return {}
    return out


def rows_for_encoder(ratings: "Any", encoder: Encoder, meta: dict[str, Any], *, rows: Optional[str] = None,
                     values: Optional[str] = None, threshold: Optional[float] = None) -> tuple[CSR, dict[str, Any]]:
    """Data rows whose columns are the encoder's inputs, from raw ratings.

    Columns follow ``meta['input_ids']`` when present (ids absent from the
    data give zero columns; data ids unknown to the encoder are dropped);
    otherwise the sorted distinct ids of the data, which must number ``n``.
    """
    from latentcheck.checkers.autoencoder.data import csr_from_coo

    rows = rows or meta.get("rows", "users")
    values = values or meta.get("values", "binary")
    if rows not in ("users", "items"):
        raise InvalidArgument(f"rows={rows!r} must be 'users' (a row per user, columns items) or 'items'")
    if values not in ("binary", "ratings"):
        raise InvalidArgument(f"values={values!r} must be 'binary' or 'ratings'")
    thr = threshold if threshold is not None else meta.get("threshold", 3.5)
    u, i, r = ratings.users, ratings.items, ratings.ratings.astype(np.float32)
    if values == "binary":
        keep = r > thr
        u, i, r = u[keep], i[keep], np.ones(int(keep.sum()), dtype=np.float32)
    row_ids, col_ids = (u, i) if rows == "users" else (i, u)
    if row_ids.size == 0:
        raise InvalidArgument(f"no rating is left with values={values} and threshold={thr}; lower --threshold")
    uniq_rows, row_idx = np.unique(row_ids, return_inverse=True)
    how = "input ids stored in the weight file"
    if "input_ids" in meta:
        ids = meta["input_ids"]
        if ids.size != encoder.n:
            raise InvalidArgument(f"the weight file lists {ids.size} input ids but the encoder takes n={encoder.n}")
        order = np.argsort(ids, kind="stable")
        pos = np.searchsorted(ids[order], col_ids)
        pos = np.minimum(pos, ids.size - 1)
        known = ids[order][pos] == col_ids
        cols = order[pos]
        row_idx, cols, r = row_idx[known], cols[known], r[known]
        matched = int(np.unique(col_ids[known]).size)
        if matched == 0:
            raise InvalidArgument("none of the data's ids matches the encoder's stored input ids; audit with the data the encoder was trained on")
    else:
        uniq_cols, cols = np.unique(col_ids, return_inverse=True)
        if uniq_cols.size != encoder.n:
            what = "items" if rows == "users" else "users"
            raise InvalidArgument(f"the data has {uniq_cols.size} {what} (after filtering) but the encoder takes n={encoder.n} inputs and its file "
                                  "stores no latentcheck_input_ids; export the id of each input column or pass the matching data")
        how = f"sorted distinct {'item' if rows == 'users' else 'user'} ids of the data"
        matched = int(uniq_cols.size)
    csr = csr_from_coo(row_idx, cols, r, (int(uniq_rows.size), encoder.n))
    return csr, {"rows": rows, "values": values, "threshold": thr if values == "binary" else None, "columns": how,
                 "matched_columns": matched, "matched_fraction": matched / encoder.n, "n_rows": int(uniq_rows.size),
                 "row_ids": uniq_rows}
