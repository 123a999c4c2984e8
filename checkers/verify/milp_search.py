"""A float MILP (HiGHS via scipy) over the same bounds, used only to *search* for a zero-mapped input.

Every unit with knots inside its interval gets the disjunctive formulation
(one binary per piece: ``z = sum z_p``, ``l_p d_p <= z_p <= u_p d_p``,
``h = sum a_p z_p + c_p d_p``, ``sum d_p = 1``). A point it returns is only
a candidate: it is rounded, refined and certified exactly elsewhere. An
"infeasible" answer proves nothing and is not used as a proof.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import lazy_loader as lazy

from .bab import Problem, _line_on
from .bounds import NodeBounds

#: SciPy loads on first use (lazy_loader): importing this module stays cheap for commands that never solves an LP.
optimize = lazy.load("scipy.optimize", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily
sps = lazy.load("scipy.sparse", suppress_warning=True)  # scipy itself is imported eagerly by it, its submodule lazily

__all__ = ["milp_candidate"]


def _pieces(pl, lo: float, hi: float) -> list[tuple[float, float, float, float]]:
    """``(piece lo, piece hi, a, c)`` of the pieces meeting ``[lo, hi]``."""
    cuts = [float(q) for q in pl.knots if lo < float(q) < hi]
    ends = [lo] + cuts + [hi]
    out = []
    for a, b in zip(ends, ends[1:]):
        mid = (a + b) / 2
        klo = max((q for q in pl.knots if float(q) <= mid), default=None)
        khi = min((q for q in pl.knots if float(q) > mid), default=None)
        sa, sc = _line_on(pl, klo, khi)
        out.append((a, b, float(sa), float(sc)))
    return out


def milp_candidate(P: Problem, nb: NodeBounds, time_limit: float) -> tuple[str, np.ndarray | None]:
    """``("feasible", x)``, ``("infeasible", None)`` or ``("unknown", None)`` (float answers)."""
    if time_limit <= 0.05:
        return "unknown", None
    for k in range(len(P.sizes)):
        if not (np.all(np.isfinite(nb.z[k][0])) and np.all(np.isfinite(nb.z[k][1]))):
            return "unknown", None
    nv = P.nv - 1
    extra_lo, extra_hi, extra_int = [], [], []
    rows, cols, vals, lo_r, hi_r = [], [], [], [], []

    def new_var(lo: float, hi: float, integer: bool) -> int:
        extra_lo.append(lo)
        extra_hi.append(hi)
        extra_int.append(1 if integer else 0)
        return nv + len(extra_lo) - 1

    def row(entries: list[tuple[int, float]], lo: float, hi: float) -> None:
        r = len(lo_r)
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        lo_r.append(lo)
        hi_r.append(hi)

    for k in range(len(P.sizes)):
        zo, ho = P.offs[k]
        zlo, zhi = nb.z[k]
        for j in range(P.sizes[k]):
            pieces = _pieces(P.pls[k], float(zlo[j]), float(zhi[j]))
            if len(pieces) == 1:
                _, _, a, c = pieces[0]
                row([(ho + j, 1.0), (zo + j, -a)], c, c)
                continue
            zsum, hsum, dsum = [(zo + j, -1.0)], [(ho + j, -1.0)], []
            for plo, phi, a, c in pieces:
                zp = new_var(min(plo, 0.0), max(phi, 0.0), False)
                dp = new_var(0.0, 1.0, True)
                row([(zp, 1.0), (dp, -plo)], 0.0, math.inf)
                row([(zp, 1.0), (dp, -phi)], -math.inf, 0.0)
                zsum.append((zp, 1.0))
                hsum += [(zp, a), (dp, c)]
                dsum.append((dp, 1.0))
            row(zsum, 0.0, 0.0)
            row(hsum, 0.0, 0.0)
            row(dsum, 1.0, 1.0)
    if P.binary:
        row([(i, 1.0) for i in range(P.n)], 1.0, math.inf)
    total = nv + len(extra_lo)
    A_extra = sps.csr_matrix((vals, (rows, cols)), shape=(len(lo_r), total))
    A_eq = sps.hstack([P.A_eq.tocsc()[:, :nv], sps.csc_matrix((P.A_eq.shape[0], len(extra_lo)))]).tocsr()
    A = sps.vstack([A_eq, A_extra]).tocsr()
    lo_all = np.concatenate([P.b_eq, np.asarray(lo_r)])
    hi_all = np.concatenate([P.b_eq, np.asarray(hi_r)])
    vlo = np.full(total, -np.inf)
    vhi = np.full(total, np.inf)
    vlo[:P.n], vhi[:P.n] = nb.x
    for k in range(len(P.sizes)):
        zo, ho = P.offs[k]
        m = P.sizes[k]
        vlo[zo:zo + m], vhi[zo:zo + m] = nb.z[k]
        vlo[ho:ho + m], vhi[ho:ho + m] = nb.h[k]
    vlo[nv:], vhi[nv:] = extra_lo, extra_hi
    integ = np.zeros(total)
    integ[nv:] = extra_int
    if P.binary:
        integ[:P.n] = 1
    res = optimize.milp(np.zeros(total), constraints=optimize.LinearConstraint(A, lo_all, hi_all), integrality=integ,
               bounds=optimize.Bounds(vlo, vhi), options={"time_limit": float(time_limit), "disp": False})
    if res.status == 0 and res.x is not None:
        return "feasible", res.x[:P.n]
    if res.status == 2:
        return "infeasible", None
    return "unknown", None
