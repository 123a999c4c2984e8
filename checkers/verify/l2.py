"""P3 on l2-normalised binary users (Mult-DAE's input ``x / |x|_2``) for positively homogeneous encoders with biases.

For activations with ``s(l t) = l s(t)`` (``l > 0``: relu, leaky_relu, identity,
``Max``/``Min``/``Abs`` of ``t`` without constant offsets) and ``s = |x|_2 =
sqrt(1'x) > 0``, induction over the layers gives ``enc(x / s) = enc_s(x) / s``,
where ``enc_s`` replaces every bias ``b`` by ``s * b``. So the question is: is
there a binary ``x != 0`` and ``s`` with ``s^2 = 1'x`` such that ``enc_s(x) = 0``?
``s`` becomes one more (continuous) variable: every constraint is linear in
``(x, s, z, h)`` except ``s^2 = 1'x``, which is relaxed soundly per range of
``k = 1'x``: ``s`` in ``[sqrt(k_lo) rounded down, sqrt(k_hi) rounded up]``, a secant
cut below and tangent cuts above (``s <= r/2 + k/(2r)`` for any ``r > 0``).

* ``refuted``: a binary user found by a float MILP (``s = sqrt(k)`` in float)
  or a branch-and-bound leaf, accepted only when ``enc_s(x) = 0`` exactly in
  ``Q(sqrt(k))`` (:func:`latentcheck.counterexamples.certificate_l2.l2_counterexample_ok`);
* ``proved``: ranges of ``k`` covering ``1..n``, each closed by an exact unit
  argument (one layer: the ``k`` smallest weights of a latent unit plus
  ``sqrt(k) b_j`` stay positive) or a branch-and-bound tree with Farkas leaves;
  ranges whose relaxation is feasible are split until single ``k``; the whole
  certificate is re-checked by
  :func:`latentcheck.counterexamples.certificate_l2.check_l2_certificate`.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np
import lazy_loader as lazy

from .bab import FREE_INPUTS, most_fractional_input
from .pl import PLFunction
from ...counterexamples.certificate_l2 import SCHEMA_L2, check_l2_certificate, l2_counterexample_ok
from .result import VerifyResult

#: SciPy loads on first use (lazy_loader): importing this module stays cheap for commands that never solves an LP.
optimize = lazy.load("scipy.optimize", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily
sps = lazy.load("scipy.sparse", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily

if TYPE_CHECKING:
    from ...theorems.domains import Domain

__all__ = ["verify_l2", "l2_scope", "sqrt_bounds", "range_entry"]

_REL = 1e-9
_TOL = 1e-9
_SQRT_BITS = 40
#: Seconds an elastic LP may take in dual simplex before the network's LPs switch to the interior point method.
_SIMPLEX_SECONDS = 2.0


def l2_scope(pls: list[PLFunction], names: list[str]) -> str | None:
    """``None`` when every activation is positively homogeneous, else the reason (for ``unknown``)."""
    for k, (p, name) in enumerate(zip(pls, names)):
        if not p.positively_homogeneous:
            return (f"layer {k}'s activation {name} is not positively homogeneous (it has a knot other than 0 or "
                    "s(0) != 0), so enc(x/|x|) is not enc with scaled biases; --input-normalise l2 with biases is "
                    "decided for relu, leaky_relu, identity and Max/Min/Abs of t without offsets")
    return None


def sqrt_bounds(k: int) -> tuple[Fraction, Fraction]:
    """Rationals ``lo <= sqrt(k) <= hi`` within ``2^-40`` (equal when ``k`` is a square)."""
    r = math.isqrt(k << (2 * _SQRT_BITS))
    lo = Fraction(r, 1 << _SQRT_BITS)
    return lo, (lo if r * r == k << (2 * _SQRT_BITS) else lo + Fraction(1, 1 << _SQRT_BITS))


def range_entry(klo: int, khi: int) -> dict:
    """The relaxation of ``s = sqrt(1'x)`` for ``1'x`` in ``[klo, khi]``: the ``s`` box and linear cuts."""
    slo, shi = sqrt_bounds(klo)[0], sqrt_bounds(khi)[1]
    cuts = []
    if khi > klo:
        a_lo, a_hi = sqrt_bounds(klo)[0], sqrt_bounds(khi)[0]
        c = (a_hi - a_lo) / (khi - klo)
        cuts.append(["ge", str(a_lo - c * klo), str(c)])  # secant through points below sqrt at both ends
    for m in sorted({klo, khi, (klo + khi) // 2}):
        r = sqrt_bounds(m)[0] or Fraction(1)
        cuts.append(["le", str(r / 2), str(1 / (2 * r))])  # r/2 + k/(2r) >= sqrt(k) for every r > 0
    return {"k": [klo, khi], "s": [str(slo), str(shi)], "cuts": cuts}


@dataclass
class _Net:
    Ws: list[np.ndarray]
    bs: list[np.ndarray]
    pls: list[PLFunction]
    n: int = 0
    sizes: list[int] = field(default_factory=list)
    offs: list[tuple[int, int]] = field(default_factory=list)
    nv: int = 0
    lp_method: str = "highs"  # HiGHS's choice (dual simplex) until one LP exceeds _SIMPLEX_SECONDS; then the interior point method

    def __post_init__(self) -> None:
        self.n = self.Ws[0].shape[1]
        self.sizes = [W.shape[0] for W in self.Ws]
        o = self.n + 1  # x, then s
        for m in self.sizes:
            self.offs.append((o, o + m))
            o += 2 * m
        self.nv = o + 1  # + the elastic variable t
        self.Wp = [np.maximum(W, 0) for W in self.Ws]
        self.Wn = [np.minimum(W, 0) for W in self.Ws]
        self.aW = [np.abs(W) for W in self.Ws]
        self.A_eq, self.b_eq = self._affine_rows()

    def _affine_rows(self) -> tuple[Any, np.ndarray]:
        """``z_k - W_k h_{k-1} - b_k s = 0`` for every layer (``h_{-1} = x``)."""
        blocks = []
        for k, W in enumerate(self.Ws):
            zo = self.offs[k][0]
            prev = 0 if k == 0 else self.offs[k - 1][1]
            m, p = W.shape
            M = sps.lil_matrix((m, self.nv))
            M[:, prev:prev + p] = -W
            M[:, self.n] = -self.bs[k].reshape(-1, 1)
            M[:, zo:zo + m] = sps.identity(m)
            blocks.append(M.tocsr())
        A = sps.vstack(blocks).tocsr()
        return A, np.zeros(A.shape[0])


@dataclass
class _Node:
    """Float bounds of a node (``empty`` says why there is no point)."""

    xlo: np.ndarray
    xhi: np.ndarray
    z: list[tuple[np.ndarray, np.ndarray]]
    h: list[tuple[np.ndarray, np.ndarray]]
    empty: str | None = None


def _up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def _down(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) <= q else math.nextafter(f, -math.inf)


def _act_range(p: PLFunction, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = p.numpy(lo), p.numpy(hi)
    zero_in = (lo < 0) & (hi > 0)
    rl = np.where(zero_in, np.minimum(np.minimum(a, b), 0.0), np.minimum(a, b))
    rh = np.where(zero_in, np.maximum(np.maximum(a, b), 0.0), np.maximum(a, b))
    return np.nextafter(rl, -np.inf), np.nextafter(rh, np.inf)


def _bounds(net: _Net, rng: tuple, xfix: dict, zclamp: dict) -> _Node:
    """Interval propagation (float, widened outward so it encloses the exact bounds)."""
    klo, khi, slo, shi = rng
    xlo, xhi = np.zeros(net.n), np.ones(net.n)
    for i, v in xfix.items():
        xlo[i] = xhi[i] = v
    node = _Node(xlo, xhi, [], [])
    if xlo.sum() > khi or xhi.sum() < klo:
        node.empty = "1'x outside the range"
        return node
    lo, hi = xlo, xhi
    L = len(net.Ws)
    for k in range(L):
        b = net.bs[k]
        bl, bh = np.minimum(b * slo, b * shi), np.maximum(b * slo, b * shi)
        zl = net.Wp[k] @ lo + net.Wn[k] @ hi + bl
        zh = net.Wp[k] @ hi + net.Wn[k] @ lo + bh
        pad = _REL * (net.aW[k] @ np.maximum(np.abs(lo), np.abs(hi)) + np.abs(b) * shi) + 1e-300
        zl, zh = zl - pad, zh + pad
        for (kk, j), (a, c) in zclamp.items():
            if kk == k:
                zl[j], zh[j] = (zl[j] if a is None else max(zl[j], float(a))), (zh[j] if c is None else min(zh[j], float(c)))
        node.z.append((zl, zh))
        if np.any(zl > zh):
            node.empty = f"z[{k}] empty"
            return node
        lo, hi = _act_range(net.pls[k], zl, zh)
        if k == L - 1:
            if np.any(lo > 0) or np.any(hi < 0):
                node.empty = "a latent unit excludes 0"
                return node
            lo, hi = np.zeros_like(lo), np.zeros_like(hi)
        node.h.append((lo, hi))
    return node


@functools.lru_cache(maxsize=200_000)
def _hull(p: PLFunction, a: float, b: float) -> tuple:
    return tuple((la, lc, sense, float(la), float(lc)) for la, lc, sense in p.hull_lines(Fraction(a), Fraction(b)))


def _rows(net: _Net, node: _Node, entry: dict) -> tuple[Any, np.ndarray, list]:
    """The elastic LP's inequality rows ``a . v - t <= rhs`` with a certificate tag each (``None``: a bound row)."""
    r_i, c_i, v_i, rhs, tags = [], [], [], [], []
    t = net.nv - 1

    def add(ents: list, c: float, tag: Any) -> None:
        r = len(rhs)
        for col, val in ents + [(t, -1.0)]:
            r_i.append(r)
            c_i.append(col)
            v_i.append(val)
        rhs.append(c)
        tags.append(tag)

    for k in range(len(net.Ws)):
        zo, ho = net.offs[k]
        zl, zh = node.z[k]
        for j in range(net.sizes[k]):
            for a, c, sense, fa, fc in _hull(net.pls[k], float(zl[j]), float(zh[j])):
                sg = 1.0 if sense == "ge" else -1.0  # ge: a z - h <= -c ; le: h - a z <= c
                add([(zo + j, sg * fa), (ho + j, -sg)], -sg * fc, ("hull", k, j, str(a), str(c), sense))
            add([(zo + j, 1.0)], float(zh[j]), None)
            add([(zo + j, -1.0)], -float(zl[j]), None)
            add([(ho + j, 1.0)], float(node.h[k][1][j]), None)
            add([(ho + j, -1.0)], -float(node.h[k][0][j]), None)
    ones = [(i, 1.0) for i in range(net.n)]
    add([(i, -1.0) for i in range(net.n)], -float(entry["k"][0]), ("ksum", "ge"))
    add(ones, float(entry["k"][1]), ("ksum", "le"))
    for idx, (sense, a, c) in enumerate(entry["cuts"]):
        fa, fc = float(Fraction(a)), float(Fraction(c))
        if sense == "ge":
            add([(i, fc) for i in range(net.n)] + [(net.n, -1.0)], -fa, ("scut", idx))
        else:
            add([(i, -fc) for i in range(net.n)] + [(net.n, 1.0)], fa, ("scut", idx))
    A = sps.csr_matrix((v_i, (r_i, c_i)), shape=(len(rhs), net.nv))
    return A, np.asarray(rhs), tags


def _lp(net: _Net, node: _Node, entry: dict, stats: dict) -> tuple[float, np.ndarray, list] | None:
    """``min t`` over the elastic relaxation: ``(t*, point, certificate rows)``; ``None`` if HiGHS fails."""
    A, rhs, tags = _rows(net, node, entry)
    c = np.zeros(net.nv)
    c[-1] = 1.0
    bounds = [(float(a), float(b)) for a, b in zip(node.xlo, node.xhi)]
    bounds.append((_down(Fraction(entry["s"][0])), _up(Fraction(entry["s"][1]))))
    bounds += [(None, None)] * (net.nv - net.n - 1)
    t0 = time.perf_counter()
    res = _linprog(net, c, A, rhs, bounds, stats)
    stats["lp_seconds"] += time.perf_counter() - t0
    stats["lps"] += 1
    if res.status != 0:
        return None
    rows: list = []
    for tag, m in zip(tags, res.ineqlin.marginals):
        if tag is not None and m < 0.0:
            rows.append(list(tag) + [str(Fraction(float(-m)))])
    ends = np.cumsum(net.sizes)
    for idx, m in enumerate(res.eqlin.marginals):
        if m != 0.0:
            k = int(np.searchsorted(ends, idx, side="right"))
            j = idx - (0 if k == 0 else int(ends[k - 1]))
            rows.append(["aff", k, j, str(Fraction(float(-m)))])
    return float(res.fun), res.x, rows


def _linprog(net: _Net, c: np.ndarray, A: Any, rhs: np.ndarray, bounds: list, stats: dict) -> Any:
    """One elastic LP: dual simplex with a time limit, then (for this network from now on) the interior point method.

    On the deep trained encoders the LP is large and dense (the first layer's
    weights are a dense block of the equality rows): dual simplex took about
    23 s per LP on a 1417-600-200 ReLU Mult-DAE, HiGHS's IPM (with crossover,
    so the duals are those of a vertex) about 5 s; on 1417-200 simplex is
    twice as fast as IPM. Which method solved the LP does not matter for
    soundness: the multipliers are re-checked exactly.
    """
    if net.lp_method == "highs":
        res = optimize.linprog(c, A_ub=A, b_ub=rhs, A_eq=net.A_eq, b_eq=net.b_eq, bounds=bounds, method="highs",
                               options={"time_limit": _SIMPLEX_SECONDS})
        if res.status != 1:  # 1: the time (or iteration) limit
            return res
        net.lp_method = "highs-ipm"
        stats["lp_fallbacks"] = stats.get("lp_fallbacks", 0) + 1
    return optimize.linprog(c, A_ub=A, b_ub=rhs, A_eq=net.A_eq, b_eq=net.b_eq, bounds=bounds, method=net.lp_method)


def _branch(net: _Net, node: _Node, v: np.ndarray) -> tuple | None:
    """The unstable unit farthest from its activation (earlier layers first), else the most fractional input."""
    best, key = 1e-7, None
    for k in range(len(net.Ws)):
        zo, ho = net.offs[k]
        m = net.sizes[k]
        zl, zh = node.z[k]
        zs, hs = v[zo:zo + m], v[ho:ho + m]
        viol = np.where((zl < 0) & (zh > 0), np.abs(hs - net.pls[k].numpy(zs)), 0.0) / (1 + k) ** 2
        j = int(np.argmax(viol))
        if viol[j] > best:
            best, key = viol[j], ("z", k, j)
    if key is not None:
        return key
    i = most_fractional_input(v[:net.n], node.xlo, node.xhi)
    if i is not None:
        return ("x", i)
    for k in range(len(net.Ws)):
        zl, zh = node.z[k]
        idx = np.nonzero((zl < 0) & (zh > 0))[0]
        if len(idx):
            return ("z", k, int(idx[0]))
    return None


def _free_input(net: _Net, xfix: dict) -> tuple | None:
    """At a node with every unit fixed whose LP point is integral but no exact zero (a margin below the LP
    tolerance, or below the 2^-40 of the sqrt(k) bounds): the first input the path has not fixed, when at most
    ``FREE_INPUTS`` are left (each leaf below is then one user, closed exactly in Q(sqrt k))."""
    free = [i for i in range(net.n) if i not in xfix]
    return ("x", free[0]) if 0 < len(free) <= FREE_INPUTS else None


def _children(xfix: dict, zclamp: dict, split: tuple) -> list[tuple[dict, dict]]:
    if split[0] == "x":
        return [({**xfix, split[1]: 0}, zclamp), ({**xfix, split[1]: 1}, zclamp)]
    key = (split[1], split[2])
    a, b = zclamp.get(key, (None, None))
    zero = Fraction(0)
    return [(xfix, {**zclamp, key: (a, zero if b is None else min(b, zero))}),
            (xfix, {**zclamp, key: (zero if a is None else max(a, zero), b)})]


def _rng(entry: dict) -> tuple:
    return (entry["k"][0], entry["k"][1], _down(Fraction(entry["s"][0])), _up(Fraction(entry["s"][1])))


def solve_entry(net: _Net, entry: dict, deadline: float, try_x: Any, stats: dict,
                max_nodes: int | None = None) -> tuple[str, Any]:
    """Close one range: ``("closed", tree)``, ``("found", x)``, ``("feasible", None)`` (root LP feasible and
    ``max_nodes`` reached) or ``("open", reason)``."""
    root: dict = {}
    stack = [(root, {}, {})]
    count = 0
    while stack:
        if time.perf_counter() > deadline:
            return "open", f"time limit reached with {len(stack)} open nodes"
        if max_nodes is not None and count >= max_nodes:
            return "feasible", None
        node_out, xfix, zclamp = stack.pop()
        count += 1
        stats["nodes"] += 1
        node = _bounds(net, _rng(entry), xfix, zclamp)
        if node.empty is not None:
            node_out["leaf"] = "interval"
            stats["leaves_interval"] += 1
            continue
        sol = _lp(net, node, entry, stats)
        if sol is None:
            return "open", "the LP solver failed on a node"
        t, v, rows = sol
        if t > _TOL:
            node_out["leaf"], node_out["rows"] = "farkas", rows
            stats["leaves_farkas"] += 1
            continue
        xs = v[:net.n]
        if np.all(np.abs(xs - np.round(xs)) <= 1e-6):
            found = try_x(np.round(xs).astype(int))
            if found is not None:
                return "found", found
        split = _branch(net, node, v) or _free_input(net, xfix)
        # every input fixed: one user, already tried exactly above (its LP point is that user) and not a zero
        if split is None and len(xfix) == net.n:
            node_out["leaf"] = "point"
            stats["leaves_point"] += 1
            continue
        if split is None:
            stats["stuck"] += 1
            return "open", "a node with every unit and input fixed is feasible in floating point but its user is not encoded as 0 exactly"
        if max_nodes is not None and count == 1:
            return "feasible", None
        node_out["split"] = ["x", split[1]] if split[0] == "x" else ["z", split[1], split[2]]
        node_out["le"], node_out["ge"] = {}, {}
        (lx, lz), (gx, gz) = _children(xfix, zclamp, split)
        stack.append((node_out["ge"], gx, gz))
        stack.append((node_out["le"], lx, lz))
    return "closed", root


def _latent_rows(p: PLFunction, margin: float) -> tuple[float, float] | None:
    """Bounds on a latent pre-activation that make its output 0 (with a margin where the zero set is a half-line)."""
    sl, sr = p.slope_left, p.slope_right
    if sl == 0 and sr == 0:
        return (-math.inf, math.inf)
    if sl == 0:
        return (-math.inf, -margin)
    if sr == 0:
        return (margin, math.inf)
    return (0.0, 0.0)


def milp_user(net: _Net, k: int, time_limit: float, stats: dict, margin: float = 1e-6) -> np.ndarray | None:
    """A float MILP for a user with ``k`` items encoded as 0 at ``s = sqrt(k)`` (a candidate only)."""
    if time_limit <= 0.05:
        return None
    entry = range_entry(k, k)
    node = _bounds(net, _rng(entry), {}, {})
    if node.empty is not None:
        return None
    s = math.sqrt(k)
    n, L = net.n, len(net.Ws)
    cols = {"n": n + sum(2 * m for m in net.sizes)}
    lo_v = [0.0] * n + [-np.inf] * (cols["n"] - n)
    hi_v = [1.0] * n + [np.inf] * (cols["n"] - n)
    integ = [1] * n + [0] * (cols["n"] - n)
    rows: list = []  # (entries, lo, hi)

    def var(lo: float, hi: float, integer: int) -> int:
        lo_v.append(lo)
        hi_v.append(hi)
        integ.append(integer)
        return len(lo_v) - 1

    zoff = [n + 2 * sum(net.sizes[:k_]) for k_ in range(L)]
    for layer in range(L):
        zo, ho, m = zoff[layer], zoff[layer] + net.sizes[layer], net.sizes[layer]
        prev = None if layer == 0 else zoff[layer - 1] + net.sizes[layer - 1]
        W, b = net.Ws[layer], net.bs[layer]
        zl, zh = node.z[layer]
        p = net.pls[layer]
        src = np.arange(n) if prev is None else np.arange(prev, prev + W.shape[1])
        for j in range(m):
            nz = np.nonzero(W[j])[0]
            ents = list(zip(src[nz].tolist(), W[j, nz].tolist()))
            if layer == L - 1:  # the latent unit's zero set, directly on W h (no z, h variables)
                a, c = _latent_rows(p, margin)
                lo_v[zo + j] = hi_v[zo + j] = lo_v[ho + j] = hi_v[ho + j] = 0.0
                rows.append((ents, a - b[j] * s, c - b[j] * s))
            else:
                rows.append(([(zo + j, 1.0)] + [(c_, -w) for c_, w in ents], b[j] * s, b[j] * s))
        if layer == L - 1:
            continue
        sl, sr = float(p.slope_left), float(p.slope_right)
        for j in range(m):
            lo_v[zo + j], hi_v[zo + j] = zl[j], zh[j]
            if zl[j] >= 0 or zh[j] <= 0:
                rows.append(([(ho + j, 1.0), (zo + j, -(sr if zl[j] >= 0 else sl))], 0.0, 0.0))
                continue
            zp, zn, d = var(0.0, zh[j], 0), var(zl[j], 0.0, 0), var(0.0, 1.0, 1)
            rows += [([(zo + j, 1.0), (zp, -1.0), (zn, -1.0)], 0.0, 0.0), ([(zp, 1.0), (d, -zh[j])], -np.inf, 0.0),
                     ([(zn, 1.0), (d, zl[j])], zl[j], np.inf), ([(ho + j, 1.0), (zp, -sr), (zn, -sl)], 0.0, 0.0)]
    rows.append(([(i, 1.0) for i in range(n)], float(k), float(k)))
    r_i = [r for r, (ents, _, _) in enumerate(rows) for _ in ents]
    c_i = [c for ents, _, _ in rows for c, _ in ents]
    v_i = [v for ents, _, _ in rows for _, v in ents]
    A = sps.csr_matrix((v_i, (r_i, c_i)), shape=(len(rows), len(lo_v)))
    t0 = time.perf_counter()
    res = optimize.milp(np.zeros(len(lo_v)), constraints=optimize.LinearConstraint(A, [r[1] for r in rows], [r[2] for r in rows]),
               integrality=np.asarray(integ), bounds=optimize.Bounds(np.asarray(lo_v), np.asarray(hi_v)),
               options={"time_limit": float(time_limit), "disp": False})
    stats["milp_seconds"] += time.perf_counter() - t0
    stats["milps"] += 1
    if res.status == 0 and res.x is not None:
        return np.round(res.x[:n]).astype(int)
    return None


def unit_cover(net: _Net) -> list[dict]:
    """One-layer encoders: ranges of ``k`` where some latent unit stays positive for every user with ``k`` items
    (the ``k`` smallest weights plus ``sqrt(k) b_j`` exceed 0; screened in float, re-checked exactly later)."""
    if len(net.Ws) != 1 or net.pls[0].slope_right == 0:
        return []
    W, b = net.Ws[0], net.bs[0]
    S = np.cumsum(np.sort(W, axis=1), axis=1)
    ks = np.arange(1, net.n + 1)
    V = S + np.sqrt(ks)[None, :] * b[:, None]
    scale = 1.0 + np.abs(W).sum(axis=1, keepdims=True) + np.abs(b)[:, None] * np.sqrt(ks)[None, :]
    V = V / scale
    best = np.argmax(V, axis=0)
    ok = V[best, ks - 1] > 1e-7
    out: list[dict] = []
    for k in ks[ok].tolist():
        j = int(best[k - 1])
        if out and out[-1]["proof"]["j"] == j and out[-1]["k"][1] == k - 1:
            out[-1]["k"][1] = k
        else:
            out.append({"k": [k, k], "proof": {"kind": "unit", "j": j}})
    for e in out:
        r = range_entry(*e["k"])
        e["s"], e["cuts"] = r["s"], []
    return out


def _open_runs(n: int, closed: list[dict]) -> list[tuple[int, int]]:
    done = np.zeros(n + 2, dtype=bool)
    for e in closed:
        done[e["k"][0]:e["k"][1] + 1] = True
    runs, start = [], None
    for k in range(1, n + 2):
        if k <= n and not done[k] and start is None:
            start = k
        elif (k > n or done[k]) and start is not None:
            runs.append((start, k - 1))
            start = None
    return runs


def _root_t(net: _Net, k: int, stats: dict) -> float:
    entry = range_entry(k, k)
    node = _bounds(net, _rng(entry), {}, {})
    if node.empty is not None:
        return math.inf
    sol = _lp(net, node, entry, stats)
    return math.inf if sol is None else sol[0]


def _search(net: _Net, runs: list, deadline: float, try_x: Any, stats: dict, share: float) -> Any:
    """Refutation first: root LPs on a grid of ``k``, then MILPs where the relaxation is most feasible."""
    t_end = time.perf_counter() + share * (deadline - time.perf_counter())
    open_k = [k for a, b in runs for k in range(a, b + 1)]
    if not open_k:
        return None
    grid = sorted({open_k[int(i)] for i in np.unique(np.geomspace(1, len(open_k), 10).astype(int) - 1)})
    scored = []
    for k in grid:
        if time.perf_counter() > t_end:
            return None
        scored.append((_root_t(net, k, stats), k))
    feasible = [k for t, k in scored if t <= _TOL]
    if not feasible:
        return None
    # middle of the feasible ks first: near the edge of the feasible range a MILP is slow to settle
    mid = float(np.mean(np.log(feasible)))
    picks = sorted(feasible, key=lambda k: abs(math.log(k) - mid))
    stats["search"] = {"feasible_k": feasible, "milp_k": []}
    for k in picks:
        if time.perf_counter() > t_end:
            break
        stats["search"]["milp_k"].append(k)
        x = milp_user(net, k, min(15.0, t_end - time.perf_counter()), stats)
        found = None if x is None else try_x(x)
        if found is not None:
            return found
    return None


def _close_runs(net: _Net, runs: list, deadline: float, try_x: Any, stats: dict) -> tuple[str, Any]:
    """Close every range (splitting where the relaxation is feasible): ``("closed", entries)``, ``("found", x)``
    or ``("open", reason)``."""
    stack = list(reversed(runs))
    entries: list[dict] = []
    while stack:
        klo, khi = stack.pop()
        entry = range_entry(klo, khi)
        if klo == khi:
            left = deadline - time.perf_counter()
            x = milp_user(net, klo, min(20.0, 0.2 * left), stats)
            found = None if x is None else try_x(x)
            if found is not None:
                return "found", found
            status, out = solve_entry(net, entry, deadline, try_x, stats)
        else:
            status, out = solve_entry(net, entry, deadline, try_x, stats, max_nodes=1)
        stats["ranges"] += 1
        if status == "found":
            return "found", out
        if status == "open":
            return "open", f"users with {klo}..{khi} items: {out} ({len(entries)} ranges closed)"
        if status == "feasible":
            mid = (klo + khi) // 2
            stack += [(mid + 1, khi), (klo, mid)]
            continue
        entry["proof"] = {"kind": "tree", "root": out}
        entries.append(entry)
    return "closed", entries


def _new_stats() -> dict:
    return {"nodes": 0, "lps": 0, "milps": 0, "ranges": 0, "leaves_farkas": 0, "leaves_interval": 0, "leaves_point": 0, "stuck": 0,
            "k_closed_by_unit": 0, "lp_seconds": 0.0, "lp_fallbacks": 0, "milp_seconds": 0.0, "check_seconds": 0.0}


def verify_l2(encoder: Any, pls: list[PLFunction], dom: "Domain", deadline: float, t0: float) -> Any:
    """Decide P3 for l2-normalised binary users; returns a :class:`VerifyResult`."""

    stats = _new_stats()
    names = [layer.activation.name for layer in encoder.layers]

    def done(verdict: str, reason: str, method: str, **kw: Any) -> Any:
        st = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in stats.items()}
        st["seconds"] = round(time.perf_counter() - t0, 4)
        return VerifyResult(verdict, reason, method, dom.label, stats=st, **kw)

    if not dom.is_binary:
        return done("unknown", "--input-normalise l2 with biases is decided on the binary domain only (there |x|^2 = 1'x "
                    "is linear in x); on other domains the square root is not", "none")
    why = l2_scope(pls, names)
    if why is not None:
        return done("unknown", why, "none")
    Ws = [np.asarray(layer.W, dtype=np.float64) for layer in encoder.layers]
    bs = [np.asarray(layer.b, dtype=np.float64) for layer in encoder.layers]
    acts = [p.to_json() for p in pls]
    net = _Net(Ws, bs, pls)

    def try_x(x: np.ndarray) -> list[str] | None:
        xs = [int(v) for v in np.asarray(x).tolist()]
        return [str(v) for v in xs] if l2_counterexample_ok(Ws, bs, acts, xs) else None

    found = _singletons(Ws, bs, pls, try_x)
    units = unit_cover(net) if found is None else []
    stats["k_closed_by_unit"] = sum(e["k"][1] - e["k"][0] + 1 for e in units)
    runs = _open_runs(net.n, units)
    if found is None:
        found = _search(net, runs, deadline, try_x, stats, 0.5)
    if found is None:
        status, out = _close_runs(net, runs, deadline, try_x, stats)
        if status == "open":
            return done("unknown", out, "branch-and-bound")
        if status == "found":
            found = out
    if found is not None:
        k = sum(int(v) for v in found)
        return done("refuted", f"a binary user with {k} item(s) is encoded as exactly 0 when the encoder sees x/|x|_2 "
                    f"(checked exactly in Q(sqrt({k})))", "milp-search+exact", counterexample=found)
    cert = {"schema": SCHEMA_L2, "property": "p3", "domain": dom.certificate_form(), "normalise": "l2", "activations": acts,
            "activation_names": names, "n": net.n, "cover": sorted(units + out, key=lambda e: e["k"][0])}
    t1 = time.perf_counter()
    chk = check_l2_certificate(cert, Ws, bs)
    stats["check_seconds"] += time.perf_counter() - t1
    if not chk.ok:
        return done("proved-float", f"the exact re-check of the l2 certificate failed: {chk.reason}", "branch-and-bound",
                    certificate=cert)
    return done("proved", f"no binary user is encoded as 0 under l2 normalisation: {len(cert['cover'])} ranges of 1'x "
                f"covering 1..{net.n}, {chk.leaves} units/leaves re-checked in exact rationals", "branch-and-bound",
                certificate=cert)


def _singletons(Ws: list, bs: list, pls: list, try_x: Any) -> Any:
    """Users with one item (``s = 1``): screened in float64, the 8 closest to 0 certified exactly."""
    h = np.eye(Ws[0].shape[1])
    for W, b, p in zip(Ws, bs, pls):
        h = p.numpy(h @ W.T + b)
    for i in np.argsort(np.abs(h).max(axis=1))[:8].tolist():
        x = np.zeros(Ws[0].shape[1], dtype=int)
        x[i] = 1
        found = try_x(x)
        if found is not None:
            return found
    return None
