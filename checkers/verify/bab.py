"""Branch and bound over the pieces of the activations, with LP leaves (one warm-started HiGHS model, highspy).

Each node fixes some pre-activations to a side of a knot (and, on the binary
domain, some inputs to 0 or 1). Its LP is the convex relaxation: the affine
layers exactly, every activation by the hull of its graph over the node's
interval, the latent outputs at 0. The LP is solved in its elastic form
``min s`` (hull, clamp and sum rows loosened by ``s``; see
:mod:`latentcheck.checkers.verify.highs_lp`), which always has an optimum
and whose duals are a Farkas certificate when ``s* > 0``. Closed leaves are
re-checked exactly with the whole certificate at the end (at once with
``eager_check``: :func:`latentcheck.counterexamples.certificate.check_leaf`);
an LP point whose float64 latent is 0 is tried as a counterexample.
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

import numpy as np
import lazy_loader as lazy

from . import alpha_crown as AC
from . import bound_methods as BM
from .bounds import NodeBounds, node_bounds
from .pl import PLFunction
from ...counterexamples.certificate import ExactNet, check_leaf, leaf_box
from .highs_lp import RelaxLP
from .soi import exact_equality_repair, piece_of
from ...theorems.errors import InvalidArgument

#: SciPy loads on first use (lazy_loader): importing this module stays cheap for commands that never solves an LP.
optimize = lazy.load("scipy.optimize", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily
sps = lazy.load("scipy.sparse", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily

__all__ = ["Problem", "BabStats", "solve_tree"]

_FEAS_TOL = 1e-9

#: The bound methods, cheap to strong. At the root (:mod:`.tighten`): ``"invprop"`` (intermediate bounds under
#: ``h_L = 0`` by optimised back-substitution, :mod:`.invprop`; without it, or with ``"lp-tighten"``, two LPs per
#: unstable unit). At each node: interval bounds, ``"crown"`` (back-substitution tries to close the node; with
#: ``"alpha"`` its slopes and latent multipliers optimised; with ``"crown-tighten"`` CROWN bounds of the hidden
#: units, each kept one recorded as a split whose far side its rows close), then the elastic LP (``"lp"``).
#: The default is the engine before issue 19: on the benchmark's cases no combination of the new stages used
#: fewer CPU seconds on every case (docs/verify.md, "Bound methods"); each is one name away.
CASCADE = ("interval", "lp")


@dataclass
class Problem:
    """One tree to close: the network, the ``x`` box (float and exact) and whether the sum row applies."""

    Ws: list[np.ndarray]
    bs: list[np.ndarray]
    pls: list[PLFunction]
    xlo: np.ndarray
    xhi: np.ndarray
    xlo_q: list
    xhi_q: list
    binary: bool
    net: ExactNet
    absWs: list[np.ndarray] = field(default_factory=list)
    eager_check: bool = False
    methods: tuple = ()  # the bound cascade (bound_methods.METHODS); () takes the module default CASCADE
    lp: Any = None  # the one HiGHS model (highs_lp.RelaxLP), built at the first node and reused

    def relax(self, nb: NodeBounds, hulls: list) -> Any:
        """The HiGHS model moved to this node's bounds and hull lines (built on first use)."""

        if self.lp is None:
            self.lp = RelaxLP(self, nb, hulls)
        else:
            self.lp.load(nb, hulls)
        return self.lp

    def __post_init__(self) -> None:
        self.methods = tuple(self.methods or CASCADE)
        unknown = [m for m in self.methods if m not in BM.METHODS]
        if unknown:
            raise InvalidArgument(f"unknown bound method(s) {unknown}; the cascade's stages are {list(BM.METHODS)}")
        self.gates: dict = {}  # stage -> (tries, successes), for _gate
        # back-substitution needs a bounded x box: its rows leave float residues on every variable (bounded there)
        self.bounded = bool(np.all(np.isfinite(self.xlo)) and np.all(np.isfinite(self.xhi)))
        self.crown = "crown" in self.methods and self.bounded
        self.absWs = [np.abs(W) for W in self.Ws]
        self.n = self.Ws[0].shape[1]
        self.sizes = [W.shape[0] for W in self.Ws]
        offs, o = [], self.n
        for m in self.sizes:
            offs.append((o, o + m))
            o += 2 * m
        self.offs = offs  # (z offset, h offset) per layer
        self.nv = o + 1  # + s

    @functools.cached_property
    def A_eq(self) -> Any:
        """The layers' equality rows ``z_k - W_k h_{k-1} = b_k`` (scipy.sparse CSR; built, and scipy.sparse
        imported, only by the paths that hand the whole relaxation to scipy: the MILP search, the pattern LP)."""
        rows, cols, vals = [], [], []
        r = 0
        for k, W in enumerate(self.Ws):
            zo = self.offs[k][0]
            prev = 0 if k == 0 else self.offs[k - 1][1]
            wr, wc = np.nonzero(W)
            rows += (wr + r).tolist() + list(range(r, r + W.shape[0]))
            cols += (wc + prev).tolist() + list(range(zo, zo + W.shape[0]))
            vals += (-W[wr, wc]).tolist() + [1.0] * W.shape[0]
            r += W.shape[0]
        return sps.csr_matrix((vals, (rows, cols)), shape=(r, self.nv))

    @functools.cached_property
    def b_eq(self) -> np.ndarray:
        return np.concatenate([np.asarray(b, dtype=float) for b in self.bs])


@dataclass
class BabStats:
    nodes: int = 0
    lps: int = 0
    leaves_farkas: int = 0
    leaves_interval: int = 0
    exact_failures: int = 0
    stuck: int = 0
    float_leaves: int = 0
    derived_bounds: int = 0
    reused_bounds: int = 0
    milp_seconds: float = 0.0
    milp_status: str = ""
    lp_seconds: float = 0.0
    check_seconds: float = 0.0
    crown_closed: int = 0
    crown_splits: int = 0
    crown_seconds: float = 0.0
    strong_lps: int = 0
    invprop_bounds: int = 0


def _zclamp(path: dict) -> dict:
    out = {}
    for key, (lo, hi) in path.items():
        if key[0] == "z":
            a = -math.inf if lo is None else _down(lo)
            b = math.inf if hi is None else _up(hi)
            out[(key[1], key[2])] = (a, b)
    return out


def _zclamp_child(zc: dict, path: dict, split: tuple) -> dict:
    """The parent's float clamps with the split unit's entry recomputed from the child's path."""
    if split[0] != "z":
        return zc
    key = ("z", split[1], split[2])
    out = dict(zc)
    out.update(_zclamp({key: path[key]}))
    return out


def _down(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) <= q else math.nextafter(f, -math.inf)


def _up(q: Fraction) -> float:
    f = float(q)
    return f if Fraction(f) >= q else math.nextafter(f, math.inf)


def _x_box(P: Problem, path: dict) -> tuple[np.ndarray, np.ndarray]:
    xlo, xhi = P.xlo.copy(), P.xhi.copy()
    for key, (lo, hi) in path.items():
        if key[0] == "x":
            if lo is not None:
                xlo[key[1]] = max(xlo[key[1]], float(lo))
            if hi is not None:
                xhi[key[1]] = min(xhi[key[1]], float(hi))
    return xlo, xhi


def _hulls(P: Problem, nb: NodeBounds) -> list[list[tuple]]:
    """Per layer and unit: the hull lines ``(a, c, sense, float a, float c)`` on the unit's float interval."""
    out = []
    for k, (zlo, zhi) in enumerate(nb.z):
        cache = _HULLS.setdefault(P.pls[k], {})
        if len(cache) > 200_000:
            cache.clear()
        layer = []
        for ab in zip(zlo.tolist(), zhi.tolist()):
            lines = cache.get(ab)
            if lines is None:
                lines = cache[ab] = _hull_cached(P.pls[k], *ab)
            layer.append(lines)
        out.append(layer)
    return out


_HULLS: dict = {}  # activation -> {(float lo, float hi): lines}; keyed by the activation's exact value, not id()


@functools.lru_cache(maxsize=200_000)
def _hull_cached(pl: PLFunction, a: float, b: float) -> tuple:
    return tuple((la, lc, sense, float(la), float(lc)) for la, lc, sense in
                 pl.hull_lines(Fraction(a) if math.isfinite(a) else None, Fraction(b) if math.isfinite(b) else None))


def _cert_rows(rows: list) -> list:
    out = []
    for r in rows:
        if r[0] == "hull":
            out.append(["hull", r[1], r[2], str(r[3]), str(r[4]), r[5], str(Fraction(max(0.0, float(r[6]))))])
        elif r[0] == "sum":
            out.append(["sum", str(Fraction(max(0.0, float(r[1]))))])
        else:
            out.append(["aff", r[1], r[2], str(Fraction(float(r[3])))])
    return out


_TOPK = 16


def _score(viol: float, lo: float, hi: float, beta: float, k: int) -> float:
    """Branching score: the LP's violation of the activation times the relative bound product
    ``(beta - lo)(hi - beta)/(hi - lo)`` (measured: 515 nodes on 64-32-8 against 581 for the violation alone,
    3821 for the bound product alone)."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return viol
    return viol * (beta - lo) * (hi - beta) / (hi - lo)


def _ranked(P: Problem, nb: NodeBounds, v: np.ndarray) -> list[tuple[float, tuple]]:
    """Unstable units by score, best first: ``(score, ("z", k, j, knot))`` (the knot nearest the LP's value)."""
    out = []
    for k in range(len(P.sizes)):
        zo, ho = P.offs[k]
        zlo, zhi = nb.z[k]
        zs, hs = v[zo:zo + P.sizes[k]], v[ho:ho + P.sizes[k]]
        viol = np.abs(hs - P.pls[k].numpy(zs))
        knots = P.pls[k].knots
        for j in np.argsort(-viol)[:_TOPK].tolist():
            inside = [q for q in knots if zlo[j] < float(q) < zhi[j]]
            if not inside or viol[j] <= 1e-7:
                continue
            beta = min(inside, key=lambda q: abs(float(q) - zs[j]))
            score = _score(viol[j], float(zlo[j]), float(zhi[j]), float(beta), k)
            if score > 0:
                out.append((score, ("z", k, j, beta)))
    out.sort(key=lambda t: -t[0])
    return out


def _branch(P: Problem, nb: NodeBounds, v: np.ndarray) -> tuple | None:
    """The split to make: the unstable unit whose LP value is farthest from its activation, else a fractional input."""
    ranked = _ranked(P, nb, v)
    if ranked:
        return ranked[0][1]
    return _x_branch(P, v, nb)


def most_fractional_input(xs: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> int | None:
    """The input whose LP value is farthest from 0/1 among those the node has not fixed (``lo < hi``), or None
    when all are within 1e-7 of an integer. The LP point is clipped to the node's box first: an LP may stretch a
    bound by its tolerance (``x = 1 + 1e-7`` on a node with ``x >= 1``), and splitting a fixed input again would
    give a child equal to its parent, forever."""
    xs = np.clip(xs, lo, hi)
    frac = np.where(lo < hi, np.minimum(xs - np.floor(xs), np.ceil(xs) - xs), 0.0)
    j = int(np.argmax(frac))
    return j if frac[j] > 1e-7 else None


def _x_branch(P: Problem, v: np.ndarray, nb: NodeBounds) -> tuple | None:
    """On ``binary``, the most fractional input the node has not fixed (:func:`most_fractional_input`)."""
    j = most_fractional_input(v[:P.n], *nb.x) if P.binary else None
    return None if j is None else ("x", j)


#: Strong branching: the top candidates whose two children are bounded by their own LPs (as kFSB does with its
#: bounds); 0 turns it off.
STRONG_K = 1


def _child_lp(P: Problem, path: dict, deadline: float, stats: BabStats) -> tuple[float, Any]:
    """One child's elastic LP: ``(s*, its closing leaf or its LP result)`` (``inf`` when its intervals are empty)."""
    xlo, xhi = _x_box(P, path)
    nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, xlo, xhi, _zclamp(path))
    if nb.empty is not None:
        return math.inf, {"leaf": "interval"}
    t0 = time.perf_counter()
    status, s, v, rows = P.relax(nb, _hulls(P, nb)).elastic(deadline)
    stats.lp_seconds += time.perf_counter() - t0
    stats.lps += 1
    if status != "optimal":
        return -math.inf, None
    if s > _FEAS_TOL:
        return s, {"leaf": "farkas", "rows": _cert_rows(rows)}
    return s, {"nb": nb, "lp": (status, s, v, rows)}


def _strong_branch(P: Problem, nb: NodeBounds, v: np.ndarray, path: dict, deadline: float,
                   stats: BabStats) -> tuple[tuple | None, tuple]:
    """The split whose children's elastic LP optima are largest (the smaller first, then the sum), among the
    ``STRONG_K`` best by :func:`_score`; with the children's closing leaves when their LPs already close them."""
    ranked = _ranked(P, nb, v)
    if not ranked:
        return _x_branch(P, v, nb), (None, None)
    if STRONG_K <= 1 or len(ranked) == 1:
        return ranked[0][1], (None, None)
    best, best_key, best_pre = None, None, (None, None)
    for _score_v, split in ranked[:STRONG_K]:
        if time.perf_counter() > deadline:
            break
        left, right = _children(path, split)
        sl, pl_ = _child_lp(P, left, deadline, stats)
        sr, pr = _child_lp(P, right, deadline, stats)
        key = (min(sl, sr), sl + sr if math.isfinite(sl + sr) else math.inf)
        stats.strong_lps += 2
        if best is None or key > best:
            best, best_key, best_pre = key, split, (pl_, pr)
        if pl_ is not None and pr is not None and "leaf" in pl_ and "leaf" in pr:
            break
    return (best_key or ranked[0][1]), best_pre


def _any_unstable(P: Problem, nb: NodeBounds, v: np.ndarray) -> tuple | None:
    for k in range(len(P.sizes)):
        zo = P.offs[k][0]
        zlo, zhi = nb.z[k]
        for j in range(P.sizes[k]):
            inside = [q for q in P.pls[k].knots if zlo[j] < float(q) < zhi[j]]
            if inside:
                return ("z", k, j, min(inside, key=lambda q: abs(float(q) - v[zo + j])))
    return None


def _latent_f(P: Problem, x: np.ndarray) -> np.ndarray:
    h = x
    for k, (W, b) in enumerate(zip(P.Ws, P.bs)):
        h = P.pls[k].numpy(W @ h + b)
    return h


def _screen(P: Problem, v: np.ndarray, try_point: Callable[[np.ndarray], Any]) -> Any:
    """Cheap tries at a node whose LP is feasible: the LP's ``x`` (rounded to 0/1 on the binary domain, also
    keeping only the inputs at 1), kept when the float64 latent is (nearly) 0; ``try_point`` decides exactly."""
    x = v[:P.n]
    cands = [np.round(x), (x >= 1 - 1e-9).astype(float)] if P.binary else [x]
    for c in cands:
        if P.binary and c.sum() < 1:
            continue
        if np.max(np.abs(_latent_f(P, c))) <= 1e-9:
            found = try_point(c)
            if found is not None:
                return found
    return None


def _children(path: dict, split: tuple) -> tuple[dict, dict]:
    if split[0] == "x":
        key = ("x", split[1])
        cuts = ((None, Fraction(0)), (Fraction(1), None))
    else:
        key = ("z", split[1], split[2])
        cuts = ((None, split[3]), (split[3], None))
    out = []
    for lo, hi in cuts:
        old = path.get(key, (None, None))
        new = dict(path)
        nlo = lo if old[0] is None else (old[0] if lo is None else max(old[0], lo))
        nhi = hi if old[1] is None else (old[1] if hi is None else min(old[1], hi))
        new[key] = (nlo, nhi)
        out.append(new)
    return out[0], out[1]


def _split_json(split: tuple) -> list:
    return ["x", split[1]] if split[0] == "x" else ["z", split[1], split[2], str(split[3])]


#: A float back-substitution bound must clear a split value (or a margin 0) by this, absolute plus relative to its
#: size, before it is acted on; what it closes is still re-checked exactly.
_CROWN_TOL = 1e-7
#: A non-knot CROWN bound is recorded (as a split with a closed side) only when it shrinks the unit's interval by
#: this fraction of its width: every recorded bound is one more leaf for the exact re-check.
_CROWN_GAIN = 0.25
#: Split values of recorded CROWN bounds are multiples of 2^-_DYADIC_BITS (short denominators for the exact check).
_DYADIC_BITS = 16


def _dyadic(v: float, down: bool) -> Fraction:
    """A multiple of ``2^-_DYADIC_BITS`` at or below (``down``) or above ``v``."""
    s = 2 ** _DYADIC_BITS
    return Fraction(math.floor(v * s) if down else math.ceil(v * s), s)


def _crown_cut(pl: PLFunction, lo: float, hi: float, new_lo: float, new_hi: float, gain: float) -> list:
    """The splits that record CROWN's bounds ``[new_lo, new_hi]`` of a unit now in ``[lo, hi]``: ``(beta, closed
    side)`` pairs, at the farthest knot each bound passes, else (when it gains enough) at a dyadic value."""
    out = []
    tol_lo, tol_hi = _CROWN_TOL * (1 + abs(new_lo)), _CROWN_TOL * (1 + abs(new_hi))
    below = [q for q in pl.knots if lo < float(q) < new_lo - tol_lo]
    above = [q for q in pl.knots if new_hi + tol_hi < float(q) < hi]
    width = hi - lo
    if below:
        out.append((max(below), "le"))
    elif math.isfinite(new_lo) and new_lo - lo > gain * width:
        beta = _dyadic(new_lo - tol_lo, True)
        if float(beta) > lo:
            out.append((beta, "le"))
    if above:
        out.append((min(above), "ge"))
    elif math.isfinite(new_hi) and hi - new_hi > gain * width:
        beta = _dyadic(new_hi + tol_hi, False)
        if float(beta) < hi:
            out.append((beta, "ge"))
    return out


def _record_cut(P: Problem, R: Any, k: int, j: int, beta: Fraction, side: str, node: dict, path: dict,
                xb: tuple) -> tuple[dict, dict]:
    """Split ``z_kj`` at ``beta``; the ``side`` child is closed by the back-substitution rows of the bound
    (``z_kj >= beta'`` closes ``le``, ``z_kj <= beta'`` closes ``ge``). Returns the open child and its path."""
    lam = np.zeros(P.sizes[k])
    lam[j] = 1.0 if side == "le" else -1.0
    rows = _cert_rows(BM.certificate_rows(P, R, k, lam, *xb))
    nxt: dict = {}
    node["split"] = _split_json(("z", k, j, beta))
    closed = {"leaf": "farkas", "rows": rows, "by": "crown"}
    node["le"], node["ge"] = (closed, nxt) if side == "le" else (nxt, closed)
    left, right = _children(path, ("z", k, j, beta))
    return nxt, (right if side == "le" else left)


def _unstable_units(P: Problem, nb: NodeBounds, k: int) -> np.ndarray:
    zlo, zhi = nb.z[k]
    inside = np.zeros(P.sizes[k], bool)
    for q in P.pls[k].knots:
        inside |= (zlo < float(q)) & (float(q) < zhi)
    return np.flatnonzero(inside)


def _crown_tighten(P: Problem, node: dict, path: dict, zc: dict, nb: NodeBounds, stats: BabStats) -> tuple:
    """CROWN bounds of the unstable units of each hidden layer, from the relaxation of the layers below; a bound
    that passes a knot (or gains ``_CROWN_GAIN``) becomes a split with a closed side. Returns the open node, its
    path, float clamps and interval bounds."""
    for k in range(len(P.sizes) - 1):
        units = _unstable_units(P, nb, k)
        if not len(units):
            continue
        xb = nb.x
        R = BM.relaxation(P, nb, _hulls(P, nb))
        new_lo, new_hi = BM.crown_layer_bounds(P, R, k, *xb, units=units)
        cuts = 0
        for j, a, b in zip(units.tolist(), new_lo.tolist(), new_hi.tolist()):
            lo, hi = float(nb.z[k][0][j]), float(nb.z[k][1][j])
            for beta, side in _crown_cut(P.pls[k], lo, hi, a, b, _CROWN_GAIN):
                node, path = _record_cut(P, R, k, j, beta, side, node, path, xb)
                cuts += 1
        if cuts:
            stats.crown_splits += cuts
            zc = _zclamp(path)
            nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, nb.x[0], nb.x[1], zc)
            if nb.empty is not None:
                break
    return node, path, zc, nb


def _crown_rows(P: Problem, R: Any, nb: NodeBounds) -> list | None:
    """Float certificate rows of a back-substitution that closes the node (positive margin), or ``None``: the
    fixed choices first, then ``alpha`` gradient steps (``"alpha"`` in the cascade)."""
    L = len(P.sizes) - 1
    margin, obj = BM.close_margin(P, R, *nb.x)
    if obj is not None and margin > _CROWN_TOL * (1 + abs(margin)):
        return BM.certificate_rows(P, R, L, obj[0], *nb.x, latent=obj[1])
    if "alpha" not in P.methods or obj is None:
        return None
    margin, at = AC.optimise(P, R, *nb.x)
    if at is None or not margin > _CROWN_TOL * (1 + abs(margin)):
        return None
    y, alphas, lrows = at
    lam = np.zeros(P.sizes[L])
    np.add.at(lam, lrows.j, y * lrows.sigma * lrows.a)
    latent = [(j, side, float(w)) for (j, side), w in zip(lrows.tags, y.tolist()) if w > 0]
    return BM.certificate_rows(P, R, L, lam, *nb.x, latent=latent, alphas=alphas)


def _crown_close(P: Problem, node: dict, path: dict, nb: NodeBounds, stats: BabStats) -> bool:
    """Close the node by back-substitution when a combination of the latent rows has a positive float margin
    (the rows are the leaf's certificate, re-checked exactly like an LP's)."""
    R = BM.relaxation(P, nb, _hulls(P, nb))
    frows = _crown_rows(P, R, nb)
    if frows is None:
        return False
    rows = _cert_rows(frows)
    if P.eager_check:
        box = leaf_box(P.net, P.xlo_q, P.xhi_q, path)
        if box.empty is None and not check_leaf(P.net, box, rows, P.n, P.sizes)[0]:
            stats.exact_failures += 1
            return False
    node["leaf"], node["rows"], node["by"] = "farkas", rows, "crown"
    stats.crown_closed += 1
    return True


#: The cascade adapts: after this many tries a back-substitution stage stays on only while it succeeds (closes a
#: node, records a split) at least ``_GATE_RATE`` of the time; the LP then does the work alone.
_GATE_TRIES = 12
_GATE_RATE = 0.1


def _gate(P: Problem, stage: str, hit: bool | None = None) -> bool:
    """Whether ``stage`` is still worth trying (``hit`` given: record one try's outcome)."""
    tries, hits = P.gates.get(stage, (0, 0))
    if hit is not None:
        P.gates[stage] = (tries + 1, hits + int(hit))
        return True
    return tries < _GATE_TRIES or hits >= _GATE_RATE * tries


def _crown_step(P: Problem, node: dict, path: dict, zc: dict, nb: NodeBounds, stats: BabStats) -> tuple:
    """The cascade's back-substitution stage at one node: ``(node, path, zc, nb, closed)``."""
    t0 = time.perf_counter()
    closed = False
    if "crown-tighten" in P.methods and _gate(P, "tighten"):
        before = stats.crown_splits
        node, path, zc, nb = _crown_tighten(P, node, path, zc, nb, stats)
        _gate(P, "tighten", stats.crown_splits > before)
    if nb.empty is not None:
        node["leaf"] = "interval"
        stats.leaves_interval += 1
        closed = True
    elif _gate(P, "close"):
        closed = _crown_close(P, node, path, nb, stats)
        _gate(P, "close", closed)
    stats.crown_seconds += time.perf_counter() - t0
    return node, path, zc, nb, closed


def _bound_node(P: Problem, node: dict, path: dict, zc: dict, deadline: float, stats: BabStats) -> tuple:
    """The cascade at one node: interval bounds, back-substitution, the elastic LP. ``(node, path, zc, nb, lp)``
    (back-substitution may record splits above the node: the returned node is the open one below them), or
    ``None`` when the node was closed before the LP."""
    xlo, xhi = _x_box(P, path)
    nb = node_bounds(P.Ws, P.absWs, P.bs, P.pls, xlo, xhi, zc)
    if nb.empty is not None:
        node["leaf"] = "interval"
        stats.leaves_interval += 1
        return None
    if P.crown:
        node, path, zc, nb, closed = _crown_step(P, node, path, zc, nb, stats)
        if closed:
            return None
    t0 = time.perf_counter()
    status, s, v, rows = P.relax(nb, _hulls(P, nb)).elastic(deadline)
    stats.lp_seconds += time.perf_counter() - t0
    stats.lps += 1
    return node, path, zc, nb, (status, s, v, rows)


def solve_tree(P: Problem, deadline: float, try_point: Callable[[np.ndarray], Any], stats: BabStats,
               start: dict | None = None) -> tuple[str, Any]:
    """Close one tree: ``("closed", tree)``, ``("found", counterexample)`` or ``("open", reason)``.

    Depth first from the clamps ``start`` (derived bounds); every Farkas leaf is
    re-checked exactly before it counts.
    """
    root: dict = {}
    stack = [(root, dict(start or {}), _zclamp(start or {}), None)]
    while stack:
        if time.perf_counter() > deadline:
            return "open", f"time limit reached with {len(stack)} open nodes"
        node, path, zc, pre = stack.pop()
        if pre is not None and "leaf" in pre and _take_leaf(P, node, path, pre, stats):
            continue
        stats.nodes += 1
        if pre is not None and "lp" in pre:  # solved by strong branching at the parent
            nb, (status, s, v, rows) = pre["nb"], pre["lp"]
        else:
            got = _bound_node(P, node, path, zc, deadline, stats)
            if got is None:
                continue
            node, path, zc, nb, (status, s, v, rows) = got
        if status != "optimal":
            if time.perf_counter() > deadline:
                return "open", f"time limit reached with {len(stack) + 1} open nodes"
            return "open", f"the LP solver stopped on a node ({status})"
        if s > _FEAS_TOL and _take_leaf(P, node, path, {"leaf": "farkas", "rows": _cert_rows(rows)}, stats):
            continue
        pre: tuple = (None, None)
        if s <= _FEAS_TOL:
            found = _screen(P, v, try_point)
            if found is not None:
                return "found", found
        split = None
        if s <= _FEAS_TOL:
            split, pre = _strong_branch(P, nb, v, path, deadline, stats) if STRONG_K > 1 else (_branch(P, nb, v), pre)
        if split is None and s <= _FEAS_TOL:
            found = _fixed_leaf_point(P, v, try_point)
            if found is not None:
                return "found", found
        if split is None:
            split = _any_unstable(P, nb, v)
        if split is None and s > _FEAS_TOL:
            node["leaf"] = "float"  # the LP says infeasible, the exact re-check failed: not a proof
            stats.float_leaves += 1
            continue
        if split is None and P.binary:
            split = _free_input(P, path, v)
            if split is None and _point_leaf_closed(P, node, path, stats):
                continue
        if split is None:
            stats.stuck += 1
            return "open", "a leaf with every unit fixed is feasible in floating point but no exact point or certificate was found"
        node["split"] = _split_json(split)
        node["le"], node["ge"] = {}, {}
        left, right = _children(path, split)
        stack.append((node["ge"], right, _zclamp_child(zc, right, split), pre[1]))
        stack.append((node["le"], left, _zclamp_child(zc, left, split), pre[0]))
    return "closed", root


def _take_leaf(P: Problem, node: dict, path: dict, leaf: dict, stats: BabStats) -> bool:
    """Make ``node`` the closed ``leaf`` (``interval``, or ``farkas`` with its rows; re-checked exactly here with
    ``eager_check``, else with the whole certificate at the end); ``False`` when the exact check refuses it."""
    if leaf["leaf"] == "interval":
        node["leaf"] = "interval"
        stats.leaves_interval += 1
        return True
    t0 = time.perf_counter()
    ok = True
    if P.eager_check:
        box = leaf_box(P.net, P.xlo_q, P.xhi_q, path)
        ok = box.empty is not None or check_leaf(P.net, box, leaf["rows"], P.n, P.sizes)[0]
    stats.check_seconds += time.perf_counter() - t0
    if not ok:
        stats.exact_failures += 1
        return False
    node.update(leaf)
    stats.leaves_farkas += 1
    return True


def _piece(pl: PLFunction, z: float) -> tuple[Fraction | None, Fraction | None]:
    lo = hi = None
    for q in pl.knots:
        if float(q) <= z:
            lo = q
        elif hi is None:
            hi = q
    return lo, hi


def _line_on(pl: PLFunction, lo: Fraction | None, hi: Fraction | None) -> tuple[Fraction, Fraction]:
    """``(a, c)`` with ``s(t) = a t + c`` on the piece ``[lo, hi]``."""
    if not pl.knots:
        return pl.slope_left, pl.offset
    p = (lo + hi) / 2 if lo is not None and hi is not None else (hi - 1 if lo is None else lo + 1)
    a = pl.slope_left if lo is None else (pl.slope_right if hi is None else (pl(hi) - pl(lo)) / (hi - lo))
    return a, pl(p) - a * p


#: The most unfixed inputs a binary node with every unit fixed branches on (each leaf below is one user); with
#: more, the node stays open (``unknown``) rather than enumerating users. The l2 tree uses the same limit.
FREE_INPUTS = 16


def _free_input(P: Problem, path: dict, v: np.ndarray) -> tuple | None:
    """On ``binary``, at a node with every unit fixed whose LP point is integral but no exact zero (a margin below
    the LP's tolerance): an input the path has not fixed, to branch on (the one whose LP value is farthest from
    0/1, else the first); None when every input is fixed or more than ``FREE_INPUTS`` are free."""
    free = [i for i in range(P.n) if ("x", i) not in path and P.xlo[i] < P.xhi[i]]
    if not free or len(free) > FREE_INPUTS:
        return None
    xs = v[:P.n]
    return ("x", max(free, key=lambda i: (min(xs[i], 1.0 - xs[i]), -i)))


def _point_leaf_closed(P: Problem, node: dict, path: dict, stats: BabStats) -> bool:
    """A node whose every input is fixed is one user: closed as an interval leaf when its exact box (exact values,
    not the float intervals widened by the tolerance) puts some latent unit away from 0."""
    if leaf_box(P.net, P.xlo_q, P.xhi_q, path).empty is None:
        return False
    return _take_leaf(P, node, path, {"leaf": "interval"}, stats)


def _fixed_leaf_point(P: Problem, v: np.ndarray, try_point: Callable) -> Any:
    """An exact counterexample at a leaf whose every unit is fixed and whose LP is feasible: the LP point, an
    interior re-solve, then (off the binary domain) the latent equalities solved exactly on the leaf's pattern
    (identity or leaky latent units, whose zero no float point hits), with coordinates inside the box, then with
    coordinates at its bounds too (a homogeneous encoder's candidate is scaled back into the domain by
    ``try_point``). Every candidate is checked exactly by ``try_point``; None when none passes."""
    found = try_point(v[:P.n])
    xi = None
    if found is None:
        xi = interior_point(P, v, P.binary)
        found = None if xi is None else try_point(xi)
    if found is None and not P.binary:
        pattern = [piece_of(P.pls[k], v[P.offs[k][0]:P.offs[k][0] + P.sizes[k]]) for k in range(len(P.sizes))]
        x = v[:P.n] if xi is None else xi
        for bounds_too in (False, True):
            xe = exact_equality_repair(P, pattern, x, bounds_too)
            found = None if xe is None else try_point(xe)
            if found is not None:
                break
    return found


def interior_point(P: Problem, v: np.ndarray, xfix: bool) -> np.ndarray | None:
    """Re-solve with every unit fixed to the piece of ``v``, maximising the distance ``m`` to the knots.

    Latent units on a constant-zero piece keep a margin; those whose zero is a
    single point of a sloped piece become equalities (solved exactly later).
    Returns the new ``x`` (float) or ``None``.
    """
    rows, cols, vals, rhs = [], [], [], []
    erows, ecols, evals, erhs = [], [], [], []
    m_col = P.nv - 1
    L = len(P.sizes)
    for k in range(L):
        zo, ho = P.offs[k]
        for j in range(P.sizes[k]):
            lo, hi = _piece(P.pls[k], float(v[zo + j]))
            a, c = _line_on(P.pls[k], lo, hi)
            if k == L - 1 and (a != 0 or c != 0):  # prefer an adjacent piece that is identically 0
                zf = float(v[zo + j])
                for q in P.pls[k].knots:
                    if abs(float(q) - zf) <= 1e-6 * (1 + abs(zf)):
                        for nlo, nhi in (_piece(P.pls[k], float(q) - 1e-9 * (1 + abs(float(q)))), _piece(P.pls[k], float(q))):
                            na, nc = _line_on(P.pls[k], nlo, nhi)
                            if na == 0 and nc == 0:
                                lo, hi, a, c = nlo, nhi, na, nc
            r = len(erhs)
            erows += [r, r]
            ecols += [ho + j, zo + j]
            evals += [1.0, -float(a)]
            erhs.append(float(c))
            if k == L - 1 and (a != 0 or c != 0):
                if a == 0:
                    return None
                continue  # h = a z + c = 0: an equality, no margin
            for bound, sign in ((hi, 1.0), (lo, -1.0)):
                if bound is not None:
                    r = len(rhs)
                    rows += [r, r]
                    cols += [zo + j, m_col]
                    vals += [sign, 1.0]
                    rhs.append(sign * float(bound))
    A_ub = sps.csr_matrix((vals, (rows, cols)), shape=(len(rhs), P.nv))
    A_pat = sps.csr_matrix((evals, (erows, ecols)), shape=(len(erhs), P.nv))
    A_eq = sps.vstack([P.A_eq, A_pat]).tocsr()
    b_eq = np.concatenate([P.b_eq, np.asarray(erhs)])
    xs = v[:P.n]
    bounds = []
    for i in range(P.n):
        if xfix:
            bounds.append((float(round(xs[i])), float(round(xs[i]))))
        else:
            bounds.append((None if not np.isfinite(P.xlo[i]) else P.xlo[i], None if not np.isfinite(P.xhi[i]) else P.xhi[i]))
    ho = P.offs[-1][1]
    bounds += [(None, None)] * (P.nv - P.n)
    for j in range(P.sizes[-1]):
        bounds[ho + j] = (0.0, 0.0)
    bounds[m_col] = (None, 1.0)
    c = np.zeros(P.nv)
    c[m_col] = -1.0
    res = optimize.linprog(c, A_ub=A_ub if len(rhs) else None, b_ub=np.asarray(rhs) if len(rhs) else None,
                  A_eq=A_eq, b_eq=b_eq, bounds=bounds, method="highs")
    if res.status != 0 or -res.fun <= 1e-12:
        return None
    return res.x[:P.n]
