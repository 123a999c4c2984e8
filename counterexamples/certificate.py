"""Certificates of ``latentcheck verify``: the format and its exact re-check.

A ``proved`` verdict for P3 on a piecewise-linear encoder comes with a
certificate (JSON, schema :data:`SCHEMA`): a branch-and-bound tree over the
input box and the pre-activations, whose every leaf is closed either by
interval arithmetic or by a Farkas certificate (rational multipliers of the
leaf's linear constraints). This module re-checks one in exact rational
arithmetic (python-flint ``fmpq`` throughout; the products are the exact kernel's,
:mod:`latentcheck.theorems.exact_net`, and the activation is the one PL form,
:mod:`latentcheck.theorems.pl`). It shares no code with the search engine
(``latentcheck.checkers.verify``) beyond those two: it recomputes every bound itself, checks every
relaxation line against the activation's knots, and trusts nothing but the
weights and the multipliers. :mod:`latentcheck.counterexamples.recheck`
(``latentcheck recheck``) is a second, standalone re-checker of the same format
(Fractions only), which also binds the certificate to its encoder file
(:func:`binding_record` writes what it compares: sizes, activation names,
input semantics, model file).

Variables: ``x`` (inputs), ``z_k`` (pre-activations of layer ``k``), ``h_k``
(its outputs; ``h_{-1} = x``). Rows a leaf may use:

* ``["aff", k, j, mu]``: ``z_kj - W_k[j] . h_{k-1} = b_kj`` (any sign);
* ``["hull", k, j, a, c, "ge"|"le", y]``: ``h_kj >= a z_kj + c`` (or ``<=``), valid
  for the activation on the leaf's interval of ``z_kj`` (checked), ``y >= 0``;
* ``["sum", y]``: ``x_1 + ... + x_n >= 1`` (binary domain, nonzero users), ``y >= 0``.

Their combination ``r . v <= d`` must contradict the leaf's box:
``min over the box of r . v > d`` (the box: the domain's bounds on ``x``,
interval bounds on ``z, h`` propagated exactly through the path's
constraints, and ``h_L = 0`` for the latent layer).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np
from ..theorems.files import atomic_write_bytes_with, atomic_write_text
from ..theorems.exact_net import ExactNet
from ..theorems.pl import as_fmpq

__all__ = ["SCHEMA", "CheckResult", "ExactNet", "check_certificate", "check_leaf", "leaf_box",
           "write_certificate", "load_certificate", "sha256_file", "binding_record", "save_bound_encoder",
           "combine", "implied_bound", "check_bounds", "BoxCache"]

SCHEMA = "latentcheck.verify-certificate/1"

Bound = "Fraction | None"


Q = as_fmpq  # an exact rational as python-flint's ``fmpq``


def _fr(v: Any) -> Any:
    return Q(v)


@dataclass(frozen=True)
class CheckResult:
    """The outcome of an exact re-check: ``ok`` and, when not, the first reason."""

    ok: bool
    reason: str
    leaves: int = 0
    min_margin: Fraction | None = None


def _meet(a: Fraction | None, b: Fraction | None, lower: bool) -> Fraction | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if lower else min(a, b)


@dataclass
class LeafBox:
    """Exact bounds of every variable in a leaf, or why the leaf is empty."""

    x: tuple[list, list]
    z: list[tuple[list, list]]
    h: list[tuple[list, list]]
    empty: str | None = None


def _norm_path(path: dict) -> dict:
    return {key: (None if lo is None else Q(lo), None if hi is None else Q(hi)) for key, (lo, hi) in path.items()}


def _x_layer(xlo: list, xhi: list, path: dict) -> tuple[list, list, str | None]:
    """The ``x`` box met with the path's ``x`` bounds, or why it is empty."""
    xlo = [None if v is None else Q(v) for v in xlo]
    xhi = [None if v is None else Q(v) for v in xhi]
    for key, (lo, hi) in path.items():
        if key[0] == "x":
            xlo[key[1]] = _meet(xlo[key[1]], lo, True)
            xhi[key[1]] = _meet(xhi[key[1]], hi, False)
    for i, (a, b) in enumerate(zip(xlo, xhi)):
        if a is not None and b is not None and a > b:
            return xlo, xhi, f"x{i}: empty interval [{a}, {b}]"
    return xlo, xhi, None


def _z_layer(net: ExactNet, k: int, hlo: list, hhi: list, path: dict,
             affine: tuple | None = None) -> tuple[tuple, tuple | None, str | None]:
    """Layer ``k`` of a leaf box from the previous layer's bounds: ``((zlo, zhi), (hlo, hhi) or None, empty)``.
    The latent layer's ``h`` is ``0`` (its range must contain 0, else the box is empty). ``affine``: the
    interval product of ``hlo, hhi`` already computed (copied here, not changed)."""
    zlo, zhi = net.interval_affine(k, hlo, hhi) if affine is None else (list(affine[0]), list(affine[1]))
    for key, (lo, hi) in path.items():
        if key[0] == "z" and key[1] == k:
            zlo[key[2]] = _meet(zlo[key[2]], lo, True)
            zhi[key[2]] = _meet(zhi[key[2]], hi, False)
    olo, ohi = [], []
    for j, (a, b) in enumerate(zip(zlo, zhi)):
        if a is not None and b is not None and a > b:
            return (zlo, zhi), None, f"z[{k}][{j}]: empty interval [{a}, {b}]"
        lo, hi = net.pl[k].value_range(a, b)
        olo.append(lo)
        ohi.append(hi)
    if k == net.depth - 1:
        for j, (lo, hi) in enumerate(zip(olo, ohi)):
            if (lo is not None and lo > 0) or (hi is not None and hi < 0):
                return (zlo, zhi), (olo, ohi), f"latent unit {j}: its values lie in [{lo}, {hi}], which excludes 0"
        olo, ohi = [Q(0)] * len(olo), [Q(0)] * len(ohi)
    return (zlo, zhi), (olo, ohi), None


def leaf_box(net: ExactNet, xlo: list, xhi: list, path: dict, cache: "BoxCache | None" = None) -> LeafBox:
    """Bounds of a leaf: the ``x`` box met with the path, then exact interval propagation.

    ``path`` maps ``("x", i)`` or ``("z", k, j)`` to ``[lo, hi]`` (``None`` = no bound).
    With ``cache`` (a :class:`BoxCache` of the same ``net, xlo, xhi``), layers whose inputs and path entries an
    earlier box shared are reused (the values are the same; the lists are shared, so a box is read-only).
    """
    # Without a cache, a fresh one: the same computation, and lists nobody else holds (callers may edit them).
    return (cache or BoxCache(net, xlo, xhi)).box(net, xlo, xhi, path)


#: Entries a :class:`BoxCache` keeps per table before it starts again (a few kB each: the check of a tree of a
#: million leaves stays within tens of MB; siblings, which share layers, are visited one after the other).
BOX_CACHE_ENTRIES = 4096


class BoxCache:
    """Leaf boxes of one ``(net, xlo, xhi)`` that reuse what an earlier box computed from the same inputs.

    Layer ``k``'s interval product depends only on the path's ``x`` entries and its ``z`` entries of layers
    ``< k``, and the layer's bounds on those and its own ``z`` entries: both are stored under those entries.
    Siblings in a branch-and-bound tree differ in one split, so they share every product up to the split's
    layer, that one included (the product is the costly part: one exact interval matrix-vector product)."""

    def __init__(self, net: ExactNet, xlo: list, xhi: list) -> None:
        self.net, self.xlo, self.xhi = net, xlo, xhi
        self.layers: dict = {}
        self.products: dict = {}
        self.hits = self.misses = 0

    def box(self, net: ExactNet, xlo: list, xhi: list, path: dict) -> LeafBox:
        if net is not self.net or xlo is not self.xlo or xhi is not self.xhi:
            raise ValueError("a BoxCache is for the net and x box it was made with")
        path = _norm_path(path)
        by_layer: list[list] = [[] for _ in range(net.depth)]
        xkey = []
        for key, bnd in path.items():
            if key[0] == "x":
                xkey.append((key, bnd))
            elif 0 <= key[1] < net.depth:  # an entry for no layer bounds nothing (as in the uncached loop)
                by_layer[key[1]].append((key, bnd))
        ckey: tuple = (frozenset(xkey),)
        got = self._get(ckey, lambda: _x_layer(xlo, xhi, path))
        box = LeafBox((got[0], got[1]), [], [], got[2])
        hlo, hhi = got[0], got[1]
        for k in range(net.depth if box.empty is None else 0):
            pkey, ckey = ckey, ckey + (frozenset(by_layer[k]),)
            zb, hb, box.empty = self._get(ckey, lambda k=k, hlo=hlo, hhi=hhi, pkey=pkey: _z_layer(
                net, k, hlo, hhi, path, self._product(pkey, k, hlo, hhi)))
            box.z.append(zb)
            if hb is not None:
                box.h.append(hb)
            if box.empty is not None:
                return box
            hlo, hhi = hb
        return box

    def _product(self, key: tuple, k: int, hlo: list, hhi: list) -> tuple:
        got = self.products.get(key)
        if got is None:
            if len(self.products) >= BOX_CACHE_ENTRIES:
                self.products.clear()
            got = self.products[key] = self.net.interval_affine(k, hlo, hhi)
        return got

    def _get(self, key: tuple, make: Any) -> tuple:
        got = self.layers.get(key)
        if got is None:
            self.misses += 1
            if len(self.layers) >= BOX_CACHE_ENTRIES:  # bounded memory: a depth-first walk reuses recent entries
                self.layers.clear()
            got = self.layers[key] = make()
        else:
            self.hits += 1
        return got


def _min_dot(r: list[Fraction], lo: list, hi: list) -> Fraction | None:
    total = Q(0)
    for ri, a, b in zip(r, lo, hi):
        if ri > 0:
            if a is None:
                return None
            total += ri * a
        elif ri < 0:
            if b is None:
                return None
            total += ri * b
    return total


def combine(net: ExactNet, box: LeafBox, rows: Sequence[Sequence[Any]], n: int, sizes: Sequence[int]) -> tuple[list, list, list, Fraction] | str:
    """``(rx, rz, rh, d)`` with ``r . v <= d`` on the leaf, or the reason a row is refused."""
    rx = [Q(0)] * n
    rz = [[Q(0)] * m for m in sizes]
    rh = [[Q(0)] * m for m in sizes]
    mus = [[Q(0)] * m for m in sizes]
    d = Q(0)
    for row in rows:
        kind = row[0]
        if kind == "aff":
            k, j, mu = int(row[1]), int(row[2]), _fr(row[3])
            mus[k][j] += mu
            rz[k][j] += mu
            d += mu * net.bq[k][j]
        elif kind == "hull":
            k, j, a, c, sense, y = int(row[1]), int(row[2]), _fr(row[3]), _fr(row[4]), row[5], _fr(row[6])
            if y < 0:
                return f"hull row of unit ({k}, {j}) has a negative multiplier {y}"
            zlo, zhi = box.z[k][0][j], box.z[k][1][j]
            if not net.pl[k].line_valid(a, c, sense, zlo, zhi):
                return f"line h {'>=' if sense == 'ge' else '<='} {a} z + {c} is not valid for unit ({k}, {j}) on [{zlo}, {zhi}]"
            sg = 1 if sense == "le" else -1  # le: h - a z <= c ; ge: a z - h <= -c
            rh[k][j] += sg * y
            rz[k][j] -= sg * y * a
            d += sg * y * c
        elif kind == "sum":
            y = _fr(row[1])
            if y < 0:
                return f"sum row has a negative multiplier {y}"
            rx = [v - y for v in rx]
            d -= y
        else:
            return f"unknown row kind {kind!r}"
    for k in range(net.depth):
        if any(mus[k]):
            back = net.Wi[k].T.matvec(mus[k])
            if k == 0:
                rx = [a - b for a, b in zip(rx, back)]
            else:
                rh[k - 1] = [a - b for a, b in zip(rh[k - 1], back)]
    return rx, rz, rh, d


def _min_all(box: LeafBox, rx: list, rz: list, rh: list) -> Fraction | None:
    total = _min_dot(rx, *box.x)
    for k in range(len(rz)):
        for r, bnd in ((rz[k], box.z[k]), (rh[k], box.h[k])):
            if total is None:
                return None
            part = _min_dot(r, *bnd)
            total = None if part is None else total + part
    return total


def check_leaf(net: ExactNet, box: LeafBox, rows: Sequence[Sequence[Any]], n: int, sizes: Sequence[int]) -> tuple[bool, str, Fraction | None]:
    """Exact check of one Farkas leaf: ``(ok, reason, margin)``."""
    comb = combine(net, box, rows, n, sizes)
    if isinstance(comb, str):
        return False, comb, None
    rx, rz, rh, d = comb
    total = _min_all(box, rx, rz, rh)
    if total is None:
        return False, "the combination leaves a term on an unbounded variable", None
    margin = total - d
    if margin <= 0:
        return False, f"the combination gives no contradiction (margin {float(margin):.3g} <= 0)", margin
    return True, "ok", margin


def implied_bound(net: ExactNet, box: LeafBox, rows: Sequence[Sequence[Any]], n: int, sizes: Sequence[int],
                  k: int, j: int, sense: str) -> Fraction | None:
    """The bound on ``z_kj`` (upper for ``le``, lower for ``ge``) that the rows imply on the box, or ``None``."""
    comb = combine(net, box, rows, n, sizes)
    if isinstance(comb, str):
        return None
    rx, rz, rh, d = comb
    rho = rz[k][j]
    if (sense == "le" and rho <= 0) or (sense == "ge" and rho >= 0):
        return None
    rz = [list(v) for v in rz]
    rz[k][j] = Q(0)
    rest = _min_all(box, rx, rz, rh)
    if rest is None:
        return None
    return (d - rest) / rho


def check_bounds(net: ExactNet, xlo: list, xhi: list, entries: Sequence[Sequence[Any]], n: int, sizes: Sequence[int],
                 allow_sum: bool, cache: "BoxCache | None" = None) -> tuple[dict, str | None]:
    """Check derived bounds in order; return the clamps they give (``path`` form) or the first reason to refuse."""
    clamps: dict = {}
    for e in entries:
        k, j, sense, value, rows = int(e[0]), int(e[1]), e[2], _fr(e[3]), e[4]
        if not allow_sum and any(r[0] == "sum" for r in rows):
            return clamps, "a derived bound uses the sum row outside the binary domain"
        box = leaf_box(net, xlo, xhi, clamps, cache)
        if box.empty is None:
            got = implied_bound(net, box, rows, n, sizes, k, j, sense)
            if got is None or (sense == "le" and got > value) or (sense == "ge" and got < value):
                return clamps, f"derived bound z[{k}][{j}] {'<=' if sense == 'le' else '>='} {value} does not follow from its rows"
        old = clamps.get(("z", k, j), (None, None))
        clamps[("z", k, j)] = (old[0], _meet(old[1], value, False)) if sense == "le" else (_meet(old[0], value, True), old[1])
    return clamps, None


# ------------------------------------------------------------------ the whole certificate
def _domain_box(dom: dict, n: int) -> tuple[list, list]:
    kind = dom["kind"]
    if kind == "box":
        return [_fr(dom["lo"])] * n, [_fr(dom["hi"])] * n
    if kind == "binary":
        return [Q(0)] * n, [Q(1)] * n
    if kind == "nonneg":
        return [Q(0)] * n, [None] * n
    if kind == "reals":
        return [None] * n, [None] * n
    raise ValueError(f"unknown domain kind {kind!r}")


def _cases(cert: dict, net: ExactNet, n: int) -> tuple[list[tuple[list, list, bool]], str | None]:
    """The boxes the trees must close (with the sum row allowed or not), or why the argument fails."""
    dom, nz = cert["domain"], cert["nonzero"]
    lo, hi = _domain_box(dom, n)
    kind = nz["kind"]
    zero_in = all((a is None or a <= 0) and (b is None or b >= 0) for a, b in zip(lo, hi))
    if kind == "binary-sum":
        if dom["kind"] != "binary":
            return [], "the sum row is valid on the binary domain only"
        return [(lo, hi, True)], None
    if kind == "zero-outside-domain":
        return ([(lo, hi, False)], None) if not zero_in else ([], "0 lies in the domain")
    if kind == "enc0-nonzero":
        if not zero_in:
            return [(lo, hi, False)], None
        out = net.forward([Q(0)] * n)
        if all(v == 0 for v in out):
            return [], "enc(0) = 0, so the trees must not cover 0"
        return [(lo, hi, False)], None
    if kind == "cone":
        if not zero_in:
            return [], "the cone argument needs 0 in the domain"
        if any(v != 0 for bk in net.bq for v in bk) or not all(p.positively_homogeneous for p in net.pl):
            return [], "the cone argument needs zero biases and positively homogeneous activations"
        need = {(i, 1) for i in range(n) if hi[i] is None or hi[i] > 0}
        need |= {(i, -1) for i in range(n) if lo[i] is None or lo[i] < 0}
        given = [(int(i), int(s)) for i, s in nz["cases"]]
        if set(given) != need or len(given) != len(cert["trees"]):
            return [], "the cone cases do not cover every coordinate and sign the domain allows"
        boxes = []
        for i, s in given:
            clo = [Q(-1) if (a is None or a < 0) else Q(0) for a in lo]
            chi = [Q(1) if (b is None or b > 0) else Q(0) for b in hi]
            clo[i] = chi[i] = Q(s)
            boxes.append((clo, chi, False))
        return boxes, None
    return [], f"unknown nonzero argument {kind!r}"


def _walk(tree: dict, start: dict) -> Any:
    """Yield ``(path, leaf)`` for every leaf; splits must cover their variable."""
    stack = [(tree, dict(start))]
    while stack:
        node, path = stack.pop()
        if "leaf" in node:
            yield path, node
            continue
        var = node["split"]
        if var[0] == "x":
            key = ("x", int(var[1]))
            cuts = ((None, Q(0)), (Q(1), None))  # binary inputs: x <= 0 or x >= 1
        elif var[0] == "z":
            key = ("z", int(var[1]), int(var[2]))
            beta = _fr(var[3])
            cuts = ((None, beta), (beta, None))
        else:
            raise ValueError(f"unknown split {var!r}")
        for side, (lo, hi) in zip(("le", "ge"), cuts):
            old = path.get(key, (None, None))
            new = dict(path)
            new[key] = (_meet(old[0], lo, True), _meet(old[1], hi, False))
            stack.append((node[side], new))


def check_certificate(cert: dict, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> CheckResult:
    """Re-check a ``proved`` certificate exactly against the encoder's weights."""
    if cert.get("schema") != SCHEMA:
        return CheckResult(False, f"schema {cert.get('schema')!r} is not {SCHEMA}")
    if cert.get("normalise", "none") != "none":
        return CheckResult(False, "only --input-normalise none certificates are defined")
    net = ExactNet.build(weights, biases, cert["activations"])
    n = int(np.asarray(weights[0]).shape[1])
    sizes = [int(np.asarray(W).shape[0]) for W in weights]
    cases, why = _cases(cert, net, n)
    if why is not None:
        return CheckResult(False, why)
    if len(cases) != len(cert["trees"]):
        return CheckResult(False, f"{len(cert['trees'])} trees for {len(cases)} cases")
    if cert["domain"]["kind"] != "binary" and any(_has_x_split(t["root"]) for t in cert["trees"]):
        return CheckResult(False, "x splits are valid on the binary domain only")
    leaves, margins = 0, []
    for (lo, hi, allow_sum), tree in zip(cases, cert["trees"]):
        cache = BoxCache(net, lo, hi)
        clamps, why = check_bounds(net, lo, hi, tree.get("bounds", []), n, sizes, allow_sum, cache)
        if why is not None:
            return CheckResult(False, why, leaves)
        for path, leaf in _walk(tree["root"], clamps):
            leaves += 1
            box = leaf_box(net, lo, hi, path, cache)
            if leaf["leaf"] not in ("interval", "farkas"):
                return CheckResult(False, f"leaf {leaves}: kind {leaf['leaf']!r} is not a proof", leaves)
            if leaf["leaf"] == "interval":
                if box.empty is None:
                    return CheckResult(False, f"leaf {leaves}: claimed empty by intervals, but the exact bounds are not", leaves)
                continue
            if box.empty is not None:
                continue  # an empty box needs no multipliers
            rows = leaf["rows"]
            if not allow_sum and any(r[0] == "sum" for r in rows):
                return CheckResult(False, f"leaf {leaves}: uses the sum row outside the binary domain", leaves)
            ok, reason, margin = check_leaf(net, box, rows, n, sizes)
            if not ok:
                return CheckResult(False, f"leaf {leaves}: {reason}", leaves)
            margins.append(margin)
    return CheckResult(True, "every leaf is closed exactly", leaves, min(margins) if margins else None)


def _has_x_split(tree: dict) -> bool:
    stack = [tree]
    while stack:
        node = stack.pop()
        if "split" in node:
            if node["split"][0] == "x":
                return True
            stack += [node["le"], node["ge"]]
    return False


# ------------------------------------------------------------------ files
def sha256_file(path: "str | os.PathLike[str]") -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_certificate(cert: dict, path: "str | os.PathLike[str]") -> None:
    """Write JSON atomically (temp file in the same folder, then rename; the folder is created)."""

    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write_text(path, json.dumps(cert, indent=1))


def load_certificate(path: "str | os.PathLike[str]") -> dict:
    with open(path) as fh:
        return json.load(fh)


# ------------------------------------------------------------------ binding a certificate to its model
def model_record(encoder: Any) -> dict | None:
    """The model file the encoder was read from: its provenance record, else path and SHA-256 (``None``: built in Python)."""
    prov = getattr(encoder, "provenance", None)
    if prov is not None:
        return prov.record()
    if getattr(encoder, "source_sha256", None) is not None:
        return {"path": encoder.source_path, "sha256": encoder.source_sha256}
    return None


def binding_record(encoder: Any, normalise: str | None = None) -> dict:
    """What a certificate or report claims about its encoder (``latentcheck recheck`` compares each with the file):
    sizes, activation names, input semantics (with the normalisation actually decided) and the model file."""
    inputs = encoder.inputs.record()
    if normalise is not None and normalise != inputs.get("normalise"):
        inputs = {**inputs, "normalise": normalise, "normalise_from": "option"}
    out = {"sizes": [int(v) for v in encoder.sizes], "activation_names": [layer.activation.name for layer in encoder.layers],
           "inputs": inputs}
    rec = model_record(encoder)
    if rec is not None:
        out["model"] = rec
    return out


def save_bound_encoder(encoder: Any, normalise: str, path: "str | os.PathLike[str]") -> None:
    """Write the encoder a certificate is about as ``.npz`` atomically: ``W0, b0, ...`` at their stored values
    (float16/32/64; other dtypes as their exact float64 widening), ``activations`` and ``latentcheck_normalise``."""
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(encoder.layers):
        for key, exact, src in ((f"W{i}", layer.W, layer.W_src), (f"b{i}", layer.b, layer.b_src)):
            keep = src is not None and np.asarray(src).dtype in (np.float16, np.float32, np.float64)
            arrays[key] = np.asarray(src if keep else exact)
    arrays["activations"] = np.array([layer.activation.name for layer in encoder.layers], dtype=np.str_)
    arrays["latentcheck_normalise"] = np.array(normalise, dtype=np.str_)

    atomic_write_bytes_with(path, lambda fh: np.savez(fh, **arrays), ".npz")
