"""Bound methods behind one interface: interval, CROWN/DeepPoly back-substitution (float64, numpy).

One network relaxation (:class:`Relaxation`): per unit one *lower* and one *upper*
line of the activation, chosen from the hull lines that :func:`bab._hulls` gives for
the unit's float interval (the same lines the LP uses; a line valid on the float
interval is valid on the exact box inside it). Back-substitution then bounds a
linear objective ``Lam . z_k`` of one layer's pre-activations by one backward pass
per layer: ``z_k = W_k h_{k-1} + b_k``, and each ``h_{k-1,j}`` with coefficient
``g`` is replaced by its lower line when ``g > 0`` and by its upper line when
``g < 0`` (DeepPoly/CROWN); what is left is a linear function of ``x``, minimised
over the node's ``x`` box (plus, on the binary domain, the sum row ``sum(x) >= 1``
with its best multiplier).

**Nothing here is trusted.** A back-substitution bound *is* a dual-feasible point of
the node's LP: the back-substituted coefficients are the multipliers of the affine
rows and ``|g|`` those of the hull rows. :func:`certificate_rows` writes them in the
certificate's existing row format (``aff``, ``hull``, ``sum``), and a node or a
bound is only ever used through those rows, re-checked in exact rationals by
:func:`latentcheck.counterexamples.certificate.check_leaf` (a float error makes the
exact check fail: the leaf then does not count, the run never says ``proved``).
The float value is used to decide *what* to try (which bound is worth a split,
which node CROWN may close), with a relative margin (``bab._CROWN_TOL``) so that
what is tried nearly always passes the exact check.

The latent constraint ``h_L = 0`` enters INVPROP-style as multipliers ``y >= 0``
of the latent units' hull rows: with ``h_L = 0`` a ``ge`` line says
``a z + c <= 0`` and an ``le`` line ``a z + c >= 0``; the node is empty when some
combination has a positive lower bound (:func:`close_margin`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["METHODS", "Relaxation", "relaxation", "backsub", "crown_layer_bounds", "close_margin",
           "certificate_rows", "lower_line", "latent_objectives"]

#: Every stage name a cascade (``bab.CASCADE``, ``Problem.methods``) may hold, cheap to strong: ``interval``;
#: ``invprop`` (root bounds under ``h_L = 0``, :mod:`.invprop`); ``crown`` (back-substitution closes nodes);
#: ``alpha`` (its slopes and latent multipliers optimised, :mod:`.alpha_crown`); ``crown-tighten`` (node bounds
#: recorded as splits); ``lp-tighten`` (LP root bounds even after INVPROP); ``lp`` (the elastic LP at each node).
METHODS = ("interval", "invprop", "crown", "alpha", "crown-tighten", "lp-tighten", "lp")


@dataclass
class Relaxation:
    """Per layer: the chosen lines ``h >= al z + cl`` and ``h <= au z + cu`` (``nan`` slope: no line, the
    unit's ``h`` interval ``[hlo, hhi]`` bounds it instead), and the index of each in the unit's hull lines."""

    al: list[np.ndarray]
    cl: list[np.ndarray]
    au: list[np.ndarray]
    cu: list[np.ndarray]
    il: list[np.ndarray]
    iu: list[np.ndarray]
    hlo: list[np.ndarray]
    hhi: list[np.ndarray]
    hulls: list
    ib: list = None  # a second lower line per unit (alpha-CROWN mixes it in with weight alpha; = il if none)
    ab: list = None
    cb: list = None


def _pick(lines: tuple, sense: str, lo: float, hi: float) -> int:
    """The index of the line of ``sense`` to use for one unit: the one highest (``ge``) or lowest (``le``) at the
    interval's middle (for relu's lower side: ``h >= z`` when ``hi > -lo``, else ``h >= 0``, as CROWN does)."""
    best, best_v = -1, -math.inf
    mid = 0.5 * (lo + hi) if math.isfinite(lo) and math.isfinite(hi) else (lo if math.isfinite(lo) else hi)
    if not math.isfinite(mid):
        mid = 0.0
    for i, (_a, _c, s, fa, fc) in enumerate(lines):
        if s != sense:
            continue
        v = (fa * mid + fc) * (1.0 if sense == "ge" else -1.0)
        if v > best_v:
            best, best_v = i, v
    return best


def _second(lines: tuple, first: int, lo: float, hi: float) -> int:
    """Another ``ge`` line for alpha-CROWN to mix in: the highest at an end of the interval (relu: the one of
    ``h >= 0``, ``h >= z`` that :func:`_pick` left), else ``first``."""
    for end in (lo, hi):
        if not math.isfinite(end):
            continue
        best = max((i for i, ln in enumerate(lines) if ln[2] == "ge"), key=lambda i: lines[i][3] * end + lines[i][4],
                   default=first)
        if best != first:
            return best
    return first


def _picks(lines: tuple, lo: float, hi: float) -> tuple:
    """``(il, al, cl, iu, au, cu, ib, ab, cb)`` of one unit (``-1``/``nan`` where a side has no line)."""
    out = []
    for sense in ("ge", "le"):
        i = _pick(lines, sense, lo, hi)
        out += [i, lines[i][3], lines[i][4]] if i >= 0 else [-1, math.nan, math.nan]
    i = _second(lines, out[0], lo, hi) if out[0] >= 0 else -1
    out += [i, lines[i][3], lines[i][4]] if i >= 0 else [-1, math.nan, math.nan]
    return tuple(out)


def relaxation(P: Any, nb: Any, hulls: list) -> Relaxation:
    """The relaxation of a node from its float bounds ``nb`` and hull lines ``hulls`` (see :func:`bab._hulls`)."""
    R = Relaxation([], [], [], [], [], [], [], [], hulls, [], [], [])
    for k, m in enumerate(P.sizes):
        zlo, zhi = nb.z[k]
        cache = _PICKS.setdefault(P.pls[k], {})  # the activation hashed once per layer, not per unit
        if len(cache) > 200_000:
            cache.clear()
        rows = []
        for lines, lo, hi in zip(hulls[k], zlo.tolist(), zhi.tolist()):
            got = cache.get((lo, hi))
            if got is None:
                got = cache[(lo, hi)] = _picks(lines, lo, hi)
            rows.append(got)
        il, al, cl, iu, au, cu, ib, ab, cb = (np.asarray(c) for c in zip(*rows)) if m else (np.zeros(0),) * 9
        R.il.append(il.astype(int)), R.al.append(al.astype(float)), R.cl.append(cl.astype(float))
        R.iu.append(iu.astype(int)), R.au.append(au.astype(float)), R.cu.append(cu.astype(float))
        R.ib.append(ib.astype(int)), R.ab.append(ab.astype(float)), R.cb.append(cb.astype(float))
        R.hlo.append(np.asarray(nb.h[k][0], float))
        R.hhi.append(np.asarray(nb.h[k][1], float))
    return R


_PICKS: dict = {}  # activation -> {(float lo, float hi): picks} (the hull lines are a function of these)


def lower_line(R: Relaxation, k: int, alpha: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The lower line of each unit of layer ``k``: ``(1 - alpha)`` times the picked one plus ``alpha`` times the second."""
    if alpha is None:
        return R.al[k], R.cl[k]
    return (1 - alpha) * R.al[k] + alpha * R.ab[k], (1 - alpha) * R.cl[k] + alpha * R.cb[k]


def _through_activation(R: Relaxation, k: int, G: np.ndarray, alpha: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``G . h_k`` >= ``Lam . z_k + const``: the lines chosen by the sign of ``G`` (units without a line: their
    ``h`` interval). Returns ``(Lam, const)`` (``const`` may be ``-inf``)."""
    pos = G > 0
    al, cl = lower_line(R, k, alpha)
    a = np.where(pos, al[:, None], R.au[k][:, None])
    c = np.where(pos, cl[:, None], R.cu[k][:, None])
    none = np.isnan(a) & (G != 0)
    a = np.where(np.isnan(a), 0.0, a)
    c = np.where(np.isnan(c), 0.0, c)
    Lam = G * a
    const = (G * c).sum(axis=0)
    if none.any():
        hb = np.where(pos, R.hlo[k][:, None], R.hhi[k][:, None])
        with np.errstate(invalid="ignore"):
            extra = np.where(none, G * hb, 0.0)
        const = const + np.where(np.isnan(extra), -np.inf, extra).sum(axis=0)
    return Lam, const


def _x_min(G: np.ndarray, xlo: np.ndarray, xhi: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """``min over the x box of G . x`` per column, with the sum row's best multiplier ``y_s`` on the binary domain
    (``max(0, min_i G_i)``: the bound ``sum_i min(0, G_i - y_s) x-range + y_s`` is concave in ``y_s``, rising
    until ``y_s`` passes the smallest ``G_i``). Returns ``(bound, y_s)``."""
    ys = np.zeros(G.shape[1])
    if binary:
        free = (xlo[:, None] < xhi[:, None]) & np.ones_like(G, bool)
        gmin = np.where(free, G, np.inf).min(axis=0)
        ys = np.maximum(0.0, np.where(np.isfinite(gmin), gmin, 0.0))
    Gs = G - ys[None, :]
    with np.errstate(invalid="ignore"):
        lo_part = np.where(Gs > 0, Gs * xlo[:, None], 0.0)
        hi_part = np.where(Gs < 0, Gs * xhi[:, None], 0.0)
    tot = np.where(np.isnan(lo_part), -np.inf, lo_part).sum(axis=0) + np.where(np.isnan(hi_part), -np.inf, hi_part).sum(axis=0)
    return tot + ys, ys


def backsub(P: Any, R: Relaxation, k: int, Lam: np.ndarray, xlo: np.ndarray, xhi: np.ndarray,
            keep: bool = False) -> tuple[np.ndarray, list, np.ndarray]:
    """Lower bounds of ``Lam[:, i] . z_k`` over the relaxation, one column per objective.

    Returns ``(bounds, trail, y_sum)``: ``trail[k']`` is the coefficient matrix on ``z_k'`` met on the way down
    (kept only when ``keep``; :func:`certificate_rows` needs it), ``y_sum`` the sum row's multipliers.
    """
    const = np.zeros(Lam.shape[1])
    trail: list = [None] * (k + 1)
    for kk in range(k, -1, -1):
        if keep:
            trail[kk] = Lam
        const = const + P.bs[kk] @ Lam
        G = P.Ws[kk].T @ Lam
        if kk == 0:
            xb, ys = _x_min(G, xlo, xhi, P.binary)
            return const + xb, trail, ys
        Lam, c = _through_activation(R, kk - 1, G)
        const = const + c
    raise AssertionError("unreachable")


def crown_layer_bounds(P: Any, R: Relaxation, k: int, xlo: np.ndarray, xhi: np.ndarray,
                       units: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """CROWN lower and upper bounds of ``z_k`` (for ``units``, else all), from the relaxation of layers ``< k``."""
    m = P.sizes[k]
    units = np.arange(m) if units is None else np.asarray(units, int)
    E = np.zeros((m, 2 * len(units)))
    E[units, np.arange(len(units))] = 1.0
    E[units, len(units) + np.arange(len(units))] = -1.0
    b, _t, _y = backsub(P, R, k, E, xlo, xhi)
    return b[:len(units)], -b[len(units):]


def latent_objectives(P: Any, R: Relaxation) -> tuple[np.ndarray, np.ndarray, list]:
    """With ``h_L = 0``: per latent unit and side, the row ``sigma (a z + c) <= 0`` of its chosen line, as an
    objective column ``Lam`` on ``z_L`` and a constant; plus the all-units sum of the ``ge`` rows.
    Returns ``(Lam, const, tags)``, ``tags[i]`` the ``(unit, side)`` pairs of column ``i`` with weights."""
    L = len(P.sizes) - 1
    m = P.sizes[L]
    cols, consts, tags = [], [], []
    for side, a, c in (("ge", R.al[L], R.cl[L]), ("le", R.au[L], R.cu[L])):
        sg = 1.0 if side == "ge" else -1.0
        for j in range(m):
            if np.isnan(a[j]) or (a[j] == 0.0 and c[j] == 0.0):
                continue
            col = np.zeros(m)
            col[j] = sg * a[j]
            cols.append(col)
            consts.append(sg * c[j])
            tags.append([(j, side, 1.0)])
    ok = ~np.isnan(R.al[L]) & ((R.al[L] != 0) | (R.cl[L] != 0))
    if ok.sum() > 1:
        cols.append(np.where(ok, R.al[L], 0.0))
        consts.append(float(np.where(ok, R.cl[L], 0.0).sum()))
        tags.append([(j, "ge", 1.0) for j in np.flatnonzero(ok).tolist()])
    if not cols:
        return np.zeros((m, 0)), np.zeros(0), []
    return np.stack(cols, axis=1), np.asarray(consts), tags


def close_margin(P: Any, R: Relaxation, xlo: np.ndarray, xhi: np.ndarray) -> tuple[float, Any]:
    """The best float margin by which a combination of the latent rows is violated on the relaxation
    (``> 0``: the node holds no zero-mapped input, if the exact check agrees), and the objective giving it."""
    L = len(P.sizes) - 1
    Lam, const, tags = latent_objectives(P, R)
    if not tags:
        return -math.inf, None
    b, _t, _y = backsub(P, R, L, Lam, xlo, xhi)
    margin = b + const
    i = int(np.argmax(margin))
    return float(margin[i]), (Lam[:, i], tags[i])


def _hull_row(R: Relaxation, k: int, j: int, idx: int, y: float) -> tuple:
    a, c, sense, _fa, _fc = R.hulls[k][j][idx]
    return ("hull", k, j, a, c, sense, y)


def certificate_rows(P: Any, R: Relaxation, k: int, lam: np.ndarray, xlo: np.ndarray, xhi: np.ndarray,
                     latent: list | None = None, alphas: list | None = None, inject: dict | None = None) -> list:
    """The certificate rows (``bab`` float form, made exact by :func:`bab._cert_rows`) of the back-substitution
    of ``lam . z_k``: the affine row of each ``z_k'j`` with multiplier ``-Lam_k'[j]``, the chosen hull row of each
    ``h_k'j`` with multiplier ``|g|``, the sum row's; with ``latent`` (tags of :func:`latent_objectives`), the
    latent hull rows that make ``lam`` too; ``alphas``: per hidden layer, each unit's weight on its second lower
    line; ``inject``: ``{layer: vector}`` objective terms added on the way down (INVPROP's ``z_kj`` beside the latent
    rows). Their combination reads ``-lam . z_k + (x terms) <= -const``."""
    rows: list = []
    for j, side, w in latent or []:
        idx = R.il[k][j] if side == "ge" else R.iu[k][j]
        rows.append(_hull_row(R, k, j, int(idx), float(w)))
    Lam = lam[:, None]
    for kk in range(k, -1, -1):
        if inject and kk in inject:
            Lam = Lam + np.asarray(inject[kk], float)[:, None]
        rows += [("aff", kk, j, -float(v)) for j, v in enumerate(Lam[:, 0].tolist()) if v != 0.0]
        G = P.Ws[kk].T @ Lam
        if kk == 0:
            _b, ys = _x_min(G, xlo, xhi, P.binary)
            if ys[0] > 0:
                rows.append(("sum", float(ys[0])))
            return rows
        g = G[:, 0]
        al = None if alphas is None else alphas[kk - 1]
        for j in np.flatnonzero(g).tolist():
            rows += _unit_rows(R, kk - 1, j, float(g[j]), 0.0 if al is None else float(al[j]))
        Lam, _c = _through_activation(R, kk - 1, G, al)
    return rows


def _unit_rows(R: Relaxation, k: int, j: int, g: float, alpha: float) -> list:
    """The hull rows replacing ``g h_kj``: the upper line's (``g < 0``), or the lower lines' with weights
    ``1 - alpha`` and ``alpha`` (``g > 0``); none for a unit without a line (the box bounds its ``h``)."""
    if g < 0:
        return [_hull_row(R, k, j, int(R.iu[k][j]), -g)] if R.iu[k][j] >= 0 else []
    if R.il[k][j] < 0:
        return []
    if alpha <= 0.0 or R.ib[k][j] == R.il[k][j]:
        return [_hull_row(R, k, j, int(R.il[k][j]), g)]
    out = [_hull_row(R, k, j, int(R.ib[k][j]), g * alpha)]
    return out + ([_hull_row(R, k, j, int(R.il[k][j]), g * (1 - alpha))] if alpha < 1.0 else [])
