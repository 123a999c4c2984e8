"""P3-eps for one-layer smooth encoders on binary users, and certified bounds on the minimum latent size.

``verify_p3_eps`` decides: is there a binary user ``x != 0`` with ``|x|_2 >= r`` and ``|enc(x)|_inf < eps``,
``enc(x) = s(W x / S + b)``, ``S`` = ``sqrt(1'x)`` (l2), ``K`` (divide:K) or 1? ``|s(z_j)| < eps`` puts every
``z_j`` in the proved window ``(A, C)`` (``theorems.relaxations.small_window``), a linear condition for fixed ``S``
and, with ``S`` as a variable tied to ``k = 1'x`` by cuts, over a range of ``k``.

1. **Units** (float screen, exact check): for each ``k``, a unit whose ``k`` smallest weights (``k`` largest)
   already put ``z_j`` at or beyond ``C`` (below ``A``) for every user with ``k`` items closes ``k``; ``k = 1``
   is also closed **item by item** (every single item puts some ``z_j`` outside the window), or refuted by one.
2. **LP + Farkas**: the remaining ranges of ``k``, LP relaxation (``x`` in ``[0, 1]``, elastic); an infeasible
   one is closed by its dual multipliers, rounded to dyadic rationals and checked exactly; a feasible range is
   halved, down to single ``k``, where the search branches on ``x_i in {0, 1}`` (a node budget; Farkas leaves,
   and an integral LP point is a witness candidate).
3. **Search**: at single ``k`` whose LP is feasible, a float MILP (HiGHS) at ``S = sqrt(k)`` with the window
   shrunk inward; a binary ``x`` it returns counts only if ``|enc(x)|_inf < eps`` holds with arb balls at the
   exact input.

``proved`` needs the whole cover re-checked exactly (``counterexamples.certificate_smooth``); ``refuted`` an
exact witness; anything else is ``unknown`` with the reason. ``min_latent`` brackets
``min |enc(x)|_inf`` over binary users: the upper end is ``|enc(x*)|_inf`` at a witness (arb, rounded up),
the lower end the largest ``eps`` for which p3-eps was proved (bisection, each step certified).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np
import lazy_loader as lazy
from flint import arb, fmpq

from ...counterexamples.certificate_smooth import (SCHEMA_SMOOTH, CertificateError, check_smooth_certificate,
                                                   s_kind)
from ...theorems.balls import ball_precision, exact_bounds
from ...theorems.domains import Binary
from ...theorems.errors import NotExact
from ...theorems.relaxations import PREC, SMOOTH, Window, ball_value, is_smooth, small_window
from .l2 import range_entry
from .result import VerifyResult

#: SciPy loads on first use (lazy_loader): importing this module stays cheap for commands that never solves an LP.
optimize = lazy.load("scipy.optimize", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily

__all__ = ["verify_p3_eps", "min_latent", "MinLatent", "smooth_scope", "exact_latent_size"]

_Y_BITS = 40


@dataclass
class _Net:
    """A one-layer encoder: float weights for the search, the exact integer form ``W = K / d`` for the checks."""

    W: np.ndarray
    b: np.ndarray
    K: np.ndarray
    d: int
    bq: list
    name: str
    normalise: str
    S: Fraction | None

    @property
    def n(self) -> int:
        return self.W.shape[1]


def smooth_scope(encoder: Any, dom: Any, normalise: str) -> str | None:
    """Why the encoder or domain is out of scope (``None``: in scope)."""
    if len(encoder.layers) != 1:
        return (f"the encoder has {len(encoder.layers)} layers; p3-eps for smooth activations is decided for one-layer "
                "encoders only (deeper ones would need the linear relaxations of theorems.relaxations per hidden unit: not built yet)")
    name = encoder.layers[0].activation.name
    if not is_smooth(encoder.layers[0].activation):  # the name and the catalogue's expression (not a look-alike)
        return f"activation {name} is not one of the smooth activations decided here ({', '.join(SMOOTH)}, the catalogue's)"
    if not isinstance(dom, Binary):
        return f"domain {dom.label}: p3-eps for smooth activations is decided on binary users only"
    if not (normalise in ("none", "l2") or normalise.startswith("divide:")):
        return f"input normalisation {normalise} is not none, l2 or divide:K"
    if not getattr(encoder.layers[0], "float64_exact", True):
        return "the stored weights are not exact float64 numbers"
    return None


def _net(encoder: Any, normalise: str) -> _Net:
    layer = encoder.layers[0]
    K, d = layer.kernel.W.integer_form()
    return _Net(np.asarray(layer.W, dtype=np.float64), np.asarray(layer.b, dtype=np.float64), K, d,
                list(layer.b_exact), layer.activation.name, normalise, s_kind(normalise))


def _entry(net: _Net, klo: int, khi: int) -> dict:
    if net.S is None:
        return range_entry(klo, khi)
    return {"k": [klo, khi], "s": [str(net.S), str(net.S)], "cuts": []}


# ---------------------------------------------------------------- exact witness
def exact_latent_size(net: _Net, x: np.ndarray) -> Fraction:
    """An exact rational ``>= |enc(x)|_inf`` at the binary ``x`` (arb balls at the exact input)."""
    idx = np.nonzero(x)[0]
    k = len(idx)
    wx = net.K[:, idx].sum(axis=1) if k else np.zeros(net.K.shape[0], dtype=object)
    top = Fraction(0)
    with ball_precision(PREC):
        S = arb(k).sqrt() if net.S is None else arb(fmpq(net.S.numerator, net.S.denominator))
        for j, v in enumerate(wx.tolist()):
            z = arb(fmpq(int(v), net.d)) / S + arb(fmpq(net.bq[j].numerator, net.bq[j].denominator))
            lo, hi = exact_bounds(ball_value(net.name, z))
            top = max(top, -lo, hi)
    return top


# ---------------------------------------------------------------- 1. units
def _unit_cover(net: _Net, win: Window, ks: np.ndarray) -> list[dict]:
    A, C = win.outer
    srt = np.sort(net.W, axis=1)
    lows, highs = np.cumsum(srt, axis=1), np.cumsum(srt[:, ::-1], axis=1)
    S = np.sqrt(ks.astype(float)) if net.S is None else np.full(len(ks), float(net.S))
    scale = 1.0 + np.abs(net.W).sum(axis=1, keepdims=True)
    sides = []
    if C is not None:
        sides.append(("hi", (lows[:, ks - 1] - (float(C) - net.b[:, None]) * S[None, :]) / scale))
    if A is not None:
        sides.append(("lo", ((float(A) - net.b[:, None]) * S[None, :] - highs[:, ks - 1]) / scale))
    out: list[dict] = []
    for i, k in enumerate(ks.tolist()):
        best = max(((float(V[:, i].max()), side, int(V[:, i].argmax())) for side, V in sides), default=None)
        if best is None or best[0] <= 1e-9:
            continue
        _, side, j = best
        last = out[-1] if out else None
        if last and last["proof"] == {"kind": "unit", "j": j, "side": side} and last["k"][1] == k - 1:
            last["k"][1] = k
        else:
            out.append({"k": [k, k], "proof": {"kind": "unit", "j": j, "side": side}})
    for e in out:
        e.update({key: v for key, v in _entry(net, *e["k"]).items() if key != "k"})
        e["cuts"] = []
    return out


# ---------------------------------------------------------------- 2. LP + Farkas
def _rows(net: _Net, win: Window, entry: dict) -> tuple[np.ndarray, np.ndarray, list]:
    """Rows ``r . (x, S) >= d`` of a range, with their tags."""
    A, C = win.outer
    n, m = net.n, net.W.shape[0]
    R, D, tags = [], [], []
    for j in range(m):
        if A is not None:
            R.append(np.append(net.W[j], -(float(A) - net.b[j])))
            D.append(0.0)
            tags.append(("lo", j))
        if C is not None:
            R.append(np.append(-net.W[j], float(C) - net.b[j]))
            D.append(0.0)
            tags.append(("hi", j))
    klo, khi = entry["k"]
    R += [np.append(np.ones(n), 0.0), np.append(-np.ones(n), 0.0)]
    D += [float(klo), -float(khi)]
    tags += [("ksum", "ge"), ("ksum", "le")]
    for i, (sense, a, c) in enumerate(entry["cuts"]):
        sg = 1.0 if sense == "ge" else -1.0
        R.append(np.append(-sg * float(Fraction(c)) * np.ones(n), sg))
        D.append(sg * float(Fraction(a)))
        tags.append(("scut", i))
    return np.array(R), np.array(D), tags


def _lp(net: _Net, win: Window, entry: dict, stats: dict, fix: dict | None = None) -> tuple[list | None, np.ndarray | None]:
    """``(rows, None)``: multipliers that close the range with the fixes (checked exactly later); ``(None, x)``:
    the LP is feasible at ``x``; ``(None, None)``: the LP failed."""
    R, D, tags = _rows(net, win, entry)
    n, fix = net.n, fix or {}
    slo, shi = float(Fraction(entry["s"][0])), float(Fraction(entry["s"][1]))
    c = np.zeros(n + 2)
    c[-1] = 1.0
    A_ub = -np.hstack([R, np.ones((len(D), 1))])  # r.v + tau >= d
    bounds = [(float(fix.get(i, 0)), float(fix.get(i, 1))) for i in range(n)] + [(slo, shi), (0.0, None)]
    stats["lps"] += 1
    res = optimize.linprog(c, A_ub=A_ub, b_ub=-D, bounds=bounds, method="highs")
    if res.status != 0:
        return None, None
    if res.fun <= 1e-9:
        return None, res.x[:n]
    y = -np.asarray(res.ineqlin.marginals)
    rows = []
    for tag, v in zip(tags, y.tolist()):
        q = Fraction(round(max(v, 0.0) * (1 << _Y_BITS)), 1 << _Y_BITS)
        if q:
            rows.append([tag[0], tag[1], str(q)])
    return rows, None


class _Stop(Exception):
    """The branching ran out of nodes or time (``x``: it found a witness instead)."""

    def __init__(self, x: np.ndarray | None = None) -> None:
        super().__init__()
        self.x = x


def _tree(net: _Net, win: Window, eps: Fraction, entry: dict, deadline: float, stats: dict,
          budget: int) -> tuple[dict | None, np.ndarray | None]:
    """Branch on ``x_i in {0, 1}`` over one range: ``(root, None)`` closes it, ``(None, x)`` is a witness
    (checked exactly), ``(None, None)`` undecided within ``budget`` nodes."""
    klo, khi = entry["k"]
    count = [0]

    def solve(fix: dict) -> dict:
        count[0] += 1
        if count[0] > budget or time.perf_counter() > deadline:
            raise _Stop()
        ones = sum(fix.values())
        if ones > khi or ones + net.n - len(fix) < klo:
            return {"empty": True}
        rows, xs = _lp(net, win, entry, stats, fix)
        if rows is not None:
            return {"farkas": rows}
        if xs is None:
            raise _Stop()
        free = [i for i in range(net.n) if i not in fix]
        frac = [(abs(xs[i] - 0.5), i) for i in free if 1e-6 < xs[i] < 1 - 1e-6]
        if not frac:
            x = np.round(xs).astype(int)
            if klo <= x.sum() <= khi and x.any() and exact_latent_size(net, x) < eps:
                raise _Stop(x)
            if not free:
                raise _Stop()
        i = min(frac)[1] if frac else free[0]
        return {"split": i, "le": solve({**fix, i: 0}), "ge": solve({**fix, i: 1})}

    try:
        root = solve({})
    except _Stop as stop:
        return None, stop.x
    finally:
        stats["nodes"] = stats.get("nodes", 0) + count[0]
    return root, None


def _close(net: _Net, win: Window, eps: Fraction, runs: list, deadline: float,
           stats: dict) -> tuple[list, list, np.ndarray | None]:
    """Close ranges by Farkas leaves, halving feasible ones, then branching on ``x`` at single ``k``;
    returns ``(entries, open k, witness or None)``."""
    closed, open_k, todo = [], [], list(runs)
    while todo:
        klo, khi = todo.pop(0)
        if time.perf_counter() > deadline:
            open_k += list(range(klo, khi + 1))
            continue
        entry = _entry(net, klo, khi)
        rows, _ = _lp(net, win, entry, stats)
        if rows is not None:
            entry["proof"] = {"kind": "farkas", "rows": rows}
            closed.append(entry)
        elif klo == khi:
            root, x = _tree(net, win, eps, entry, deadline, stats, budget=max(50, 4000 // max(1, len(runs))))
            if x is not None:
                return closed, open_k, x
            if root is None:
                open_k.append(klo)
            else:
                entry["proof"] = {"kind": "tree", "root": root}
                closed.append(entry)
        else:
            mid = (klo + khi) // 2
            todo += [(klo, mid), (mid + 1, khi)]
    return closed, sorted(open_k), None


# ---------------------------------------------------------------- 3. search
def _milp_at(net: _Net, lo: float | None, hi: float | None, k: int, time_limit: float, stats: dict) -> np.ndarray | None:
    """A float MILP: binary ``x`` with ``1'x = k`` and every ``z_j`` in ``[lo, hi]`` (a candidate only)."""
    if time_limit <= 0.05:
        return None
    S = math.sqrt(k) if net.S is None else float(net.S)
    zlo = np.full(len(net.b), -np.inf) if lo is None else (lo - net.b) * S
    zhi = np.full(len(net.b), np.inf) if hi is None else (hi - net.b) * S
    A = np.vstack([net.W, np.ones((1, net.n))])
    cons = optimize.LinearConstraint(A, np.append(zlo, k), np.append(zhi, k))
    stats["milps"] += 1
    res = optimize.milp(np.zeros(net.n), constraints=cons, integrality=np.ones(net.n), bounds=optimize.Bounds(0, 1),
               options={"time_limit": float(time_limit), "disp": False})
    if res.x is None:
        return None
    return np.round(res.x).astype(int)


def _shrunk(win: Window) -> tuple[float | None, float | None]:
    """The inner window, shrunk by a relative margin (a float search target)."""
    lo, hi = (None, None) if win.inner is None else win.inner
    if win.inner is None:  # gelu, silu: search near 0 only
        hi = win.outer[1]
        lo = -hi
    width = (float(hi) if hi is not None else 1.0) - (float(lo) if lo is not None else -1.0)
    pad = 1e-6 * width
    return (None if lo is None else float(lo) + pad, None if hi is None else float(hi) - pad)


def _search(net: _Net, win: Window, eps: Fraction, ks: list, deadline: float, stats: dict) -> np.ndarray | None:
    lo, hi = _shrunk(win)
    targets = [(lo, hi)] + ([(None, hi)] if win.inner is None else [])  # gelu, silu: also the whole outer window
    for k in ks:
        for lo, hi in targets:
            left = deadline - time.perf_counter()
            x = _milp_at(net, lo, hi, k, min(left, max(1.0, left / 4)), stats)
            if x is not None and x.sum() == k and exact_latent_size(net, x) < eps:
                return x
    return None


# ---------------------------------------------------------------- the verdict
def _certificate(net: _Net, win: Window, eps: Fraction, r: Fraction, cover: list) -> dict:
    A, C = win.outer
    return {"schema": SCHEMA_SMOOTH, "property": "p3-eps", "eps": str(eps), "r": str(r), "domain": {"kind": "binary"},
            "normalise": net.normalise, "activation_names": [net.name],
            "window": {"lo": None if A is None else str(A), "hi": None if C is None else str(C)},
            "cover": sorted(cover, key=lambda e: e["k"][0])}


def _stats() -> dict:
    return {"lps": 0, "milps": 0, "units": 0, "farkas": 0, "nodes": 0, "seconds": 0.0}


def verify_p3_eps(encoder: Any, eps: Fraction, r: Fraction, dom: Any, normalise: str, deadline: float,
                  t0: float) -> VerifyResult:
    """Decide p3-eps (see the module docstring); ``encoder`` is in :func:`smooth_scope`."""
    stats = _stats()

    def done(verdict: str, reason: str, method: str, **kw: Any) -> VerifyResult:
        stats["seconds"] = round(time.perf_counter() - t0, 4)
        return VerifyResult(verdict, reason, method, dom.label, stats=stats, **kw)

    why = smooth_scope(encoder, dom, normalise)
    if why is not None:
        return done("unknown", why, "none")
    net = _net(encoder, normalise)
    try:
        win = small_window(net.name, eps)
    except NotExact as exc:
        return done("unknown", f"the window {{t : |{net.name}(t)| < {eps}}} could not be enclosed ({exc})", "none")
    first = max(1, math.ceil(r * r))
    if first > net.n:
        return done("proved", f"no binary user has |x|_2 >= {r} (at most sqrt({net.n}))", "interval")
    x = _trivial(net, win, eps, first)
    if x is not None:
        return done("refuted", _refuted_reason(net, x, eps), "exact-point", counterexample=[str(v) for v in x])
    ks = np.arange(first, net.n + 1)
    units = _unit_cover(net, win, ks)
    stats["units"] = len(units)
    if first == 1 and not any(e["k"][0] == 1 for e in units):  # users with one item: each checked on its own
        items, x = _one_item(net, win, eps)
        if x is not None:
            return done("refuted", _refuted_reason(net, x, eps), "exact-point", counterexample=[str(v) for v in x])
        units += items
    runs = _runs(first, net.n, units)
    farkas, open_k, x = _close(net, win, eps, runs, t0 + 0.7 * (deadline - t0), stats)
    stats["farkas"] = len(farkas)
    if x is not None:
        return done("refuted", _refuted_reason(net, x, eps), "exact-point", counterexample=[str(v) for v in x])
    if not open_k:
        return _proved(net, win, eps, r, units + farkas, done)
    x = _search(net, win, eps, open_k[:8], deadline, stats)
    if x is not None:
        return done("refuted", _refuted_reason(net, x, eps), "exact-point", counterexample=[str(v) for v in x])
    return done("unknown", f"{len(open_k)} value(s) of k = 1'x (e.g. {open_k[:5]}) are neither closed by the LP "
                f"relaxation nor refuted by the MILP search within the time", "none")


def _one_item(net: _Net, win: Window, eps: Fraction) -> tuple[list, np.ndarray | None]:
    """``k = 1``: an ``items`` entry when every single item puts some ``z_j`` outside the window (float screen; the
    certificate check decides exactly), else the item nearest the window's middle as a witness candidate."""
    A, C = win.outer
    S = 1.0 if net.S is None else float(net.S)
    Z = net.W / S + net.b[:, None]
    out = np.zeros(Z.shape, dtype=bool)
    if C is not None:
        out |= Z >= float(C) + 1e-12 * (1 + abs(float(C)))
    if A is not None:
        out |= Z <= float(A) - 1e-12 * (1 + abs(float(A)))
    inside = np.nonzero(~out.any(axis=0))[0]
    for i in inside[:20].tolist():
        x = np.zeros(net.n, dtype=int)
        x[i] = 1
        if exact_latent_size(net, x) < eps:
            return [], x
    if len(inside):
        return [], None
    e = _entry(net, 1, 1)
    e["cuts"], e["proof"] = [], {"kind": "items"}
    return [e], None


def _trivial(net: _Net, win: Window, eps: Fraction, first: int) -> np.ndarray | None:
    """When the window is the whole line, any user with ``first`` items is a witness (checked exactly)."""
    if win.outer != (None, None):
        return None
    x = np.zeros(net.n, dtype=int)
    x[:first] = 1
    return x if exact_latent_size(net, x) < eps else None


def _runs(first: int, n: int, closed: list) -> list:
    done = np.zeros(n + 2, dtype=bool)
    for e in closed:
        done[e["k"][0]:e["k"][1] + 1] = True
    runs, start = [], None
    for k in range(first, n + 2):
        if k <= n and not done[k] and start is None:
            start = k
        elif (k > n or done[k]) and start is not None:
            runs.append((start, k - 1))
            start = None
    return runs


def _refuted_reason(net: _Net, x: np.ndarray, eps: Fraction) -> str:
    top = exact_latent_size(net, x)
    return (f"a binary user with {int(x.sum())} items has |enc(x)|_inf <= {float(top):.6g} < eps = {eps} "
            f"(arb balls at the exact input)")


def _proved(net: _Net, win: Window, eps: Fraction, r: Fraction, cover: list, done: Any) -> VerifyResult:
    cert = _certificate(net, win, eps, r, cover)
    try:
        check_smooth_certificate(cert, net.K, net.d, net.bq, net.name, net.n)
    except CertificateError as exc:
        return done("unknown", f"the LP said no such user exists but the exact re-check failed ({exc}): not a proof",
                    "none")
    return done("proved", f"no binary user x != 0 with |x|_2 >= {r} has |enc(x)|_inf < {eps}: the window "
                f"{{t : |{net.name}(t)| < eps}} lies in ({_end(win.outer[0], '-inf')}, {_end(win.outer[1], 'inf')}) (arb), and every k = 1'x "
                f"is closed (units, single items, Farkas multipliers, branching on x), re-checked exactly", "smooth-cover",
                certificate=cert)


def _end(v: Fraction | None, inf: str) -> str:
    return inf if v is None else f"{float(v):.12g}"


# ---------------------------------------------------------------- min |enc(x)|_inf
@dataclass
class MinLatent:
    """Certified ``lower <= min over binary x != 0 of |enc(x)|_inf <= upper`` (exact rationals)."""

    lower: Fraction
    upper: Fraction | None
    witness: list | None
    certificate: dict | None
    steps: list = field(default_factory=list)
    reason: str = ""

    def to_json(self) -> dict:
        return {"lower": str(self.lower), "upper": None if self.upper is None else str(self.upper),
                "lower_decimal": float(self.lower), "upper_decimal": None if self.upper is None else float(self.upper),
                "gap": None if self.upper is None else float(self.upper - self.lower),
                "witness_items": None if self.witness is None else [i for i, v in enumerate(self.witness) if v],
                "steps": self.steps, "reason": self.reason}


def _best_witness(net: _Net, deadline: float, stats: dict) -> tuple[Fraction | None, np.ndarray | None]:
    """The smallest ``|enc(x)|_inf`` found: every one-item user exactly-screened in float, then MILPs that
    minimise the largest ``|z_j|`` (``z_j`` for activations without a lower window end) at a few ``k``."""
    S1 = 1.0 if net.S is None else float(net.S)
    Z = net.W / S1 + net.b[:, None]
    sym = SMOOTH[net.name].increasing_from is None and SMOOTH[net.name].inf is not None and SMOOTH[net.name].inf < 0
    score = np.abs(Z).max(axis=0) if sym else Z.max(axis=0)
    x = np.zeros(net.n, dtype=int)
    x[int(np.argmin(score))] = 1
    best, best_x = exact_latent_size(net, x), x
    cand = _greedy(net, x, sym)
    if cand is not None:
        v = exact_latent_size(net, cand)
        if v < best:
            best, best_x = v, cand
    for k in (2, 3, 5, 8, 13, 21, 34, 55):
        if k > net.n or time.perf_counter() > deadline:
            break
        cand = _milp_min(net, k, sym, min(5.0, deadline - time.perf_counter()), stats)
        if cand is not None and cand.sum() == k:
            v = exact_latent_size(net, cand)
            if v < best:
                best, best_x = v, cand
    return best, best_x


def _score(net: _Net, Wx: np.ndarray, k: np.ndarray, sym: bool) -> np.ndarray:
    """Float ``max_j |z_j|`` (``max_j z_j`` when not ``sym``) for columns ``Wx`` of ``W x`` with ``k`` items each."""
    S = np.sqrt(k) if net.S is None else float(net.S)
    Z = Wx / S + net.b[:, None]
    return np.abs(Z).max(axis=0) if sym else Z.max(axis=0)


def _greedy(net: _Net, x: np.ndarray, sym: bool, rounds: int = 400) -> np.ndarray | None:
    """Local search from ``x``: add, drop or swap the item that lowers the float score most, while it improves."""
    x = x.copy()
    Wx = net.W @ x
    cur = float(_score(net, Wx[:, None], np.array([x.sum()]), sym)[0])
    for _ in range(rounds):
        k = int(x.sum())
        add = np.nonzero(x == 0)[0]
        drop = np.nonzero(x == 1)[0]
        best, move = cur, None
        if len(add):
            sc = _score(net, Wx[:, None] + net.W[:, add], np.full(len(add), k + 1), sym)
            i = int(np.argmin(sc))
            if sc[i] < best:
                best, move = float(sc[i]), (int(add[i]), None)
        if k > 1:
            sc = _score(net, Wx[:, None] - net.W[:, drop], np.full(len(drop), k - 1), sym)
            i = int(np.argmin(sc))
            if sc[i] < best:
                best, move = float(sc[i]), (None, int(drop[i]))
        if move is None:
            break
        if move[0] is not None:
            x[move[0]], Wx = 1, Wx + net.W[:, move[0]]
        else:
            x[move[1]], Wx = 0, Wx - net.W[:, move[1]]
        cur = best
    return x if x.any() else None


def _milp_min(net: _Net, k: int, sym: bool, time_limit: float, stats: dict) -> np.ndarray | None:
    if time_limit <= 0.05:
        return None
    S = math.sqrt(k) if net.S is None else float(net.S)
    m, n = net.W.shape
    c = np.zeros(n + 1)
    c[-1] = 1.0
    up = np.hstack([net.W / S, -np.ones((m, 1))])  # z_j <= t
    blocks, lo, hi = [up], [-np.inf * np.ones(m)], [-net.b]
    if sym:  # -z_j <= t
        blocks.append(np.hstack([-net.W / S, -np.ones((m, 1))]))
        lo.append(-np.inf * np.ones(m))
        hi.append(net.b)
    blocks.append(np.append(np.ones(n), 0.0)[None, :])
    lo.append([k])
    hi.append([k])
    stats["milps"] += 1
    res = optimize.milp(c, constraints=optimize.LinearConstraint(np.vstack(blocks), np.concatenate(lo), np.concatenate(hi)),
               integrality=np.append(np.ones(n), 0), bounds=optimize.Bounds(np.append(np.zeros(n), -np.inf), np.append(np.ones(n), np.inf)),
               options={"time_limit": float(time_limit), "disp": False})
    return None if res.x is None else np.round(res.x[:n]).astype(int)


def min_latent(encoder: Any, dom: Any, normalise: str, timeout: float, steps: int = 12) -> MinLatent:
    """Certified bounds on ``min |enc(x)|_inf`` over binary users ``x != 0`` (see the module docstring)."""
    t0 = time.perf_counter()
    why = smooth_scope(encoder, dom, normalise)
    if why is not None:
        return MinLatent(Fraction(0), None, None, None, reason=why)
    net = _net(encoder, normalise)
    stats = _stats()
    upper, x = _best_witness(net, t0 + 0.3 * timeout, stats)
    lo_eps, cert, log = Fraction(0), None, []
    hi_eps = upper
    for _ in range(steps):
        left = t0 + timeout - time.perf_counter()
        if left <= 1.0:
            break
        eps = _bisect_point(lo_eps, hi_eps)
        step_s = min(left / 2, max(10.0, timeout / 8))
        res = verify_p3_eps(encoder, eps, Fraction(1), dom, normalise, time.perf_counter() + step_s, time.perf_counter())
        log.append({"eps": str(eps), "verdict": res.verdict, "seconds": res.stats.get("seconds")})
        if res.verdict == "proved":
            lo_eps, cert = eps, res.certificate
        elif res.verdict == "refuted":
            w = np.array([int(Fraction(v)) for v in res.counterexample])
            hi_eps, x = exact_latent_size(net, w), w
            upper = min(upper, hi_eps)
        else:
            hi_eps = eps  # not decided: look lower for a provable eps (upper stays the witness's)
    upper = None if upper is None else Fraction(math.ceil(upper * (1 << 48)), 1 << 48)  # rounded up: still an upper bound
    return MinLatent(lo_eps, upper, None if x is None else x.tolist(), cert, log,
                     "lower: largest eps with p3-eps proved (certificate); upper: |enc(x)|_inf at the witness (arb)")


def _bisect_point(lo: Fraction, hi: Fraction) -> Fraction:
    """A short dyadic point between ``lo`` and ``hi``: the geometric middle when ``lo`` is 0 (halving)."""
    mid = hi / 2 if lo == 0 else (lo + hi) / 2
    q = Fraction(mid).limit_denominator(1 << 30)
    return q if lo < q < hi else mid
