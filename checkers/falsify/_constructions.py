"""Constructions from the theorems: candidates before any random search.

* P3, one layer (T1): a basic solution of ``W x + b = aim`` on ``m`` pivot
  columns, by linear programming for a half-line (HiGHS; integer
  programming for binary inputs) and by an exact rational solve for an
  isolated zero; the least-norm ``W^+ (aim - b)`` as a fallback.
* P3, deep: layer-wise inversion. From the latent target backwards, pick
  hidden values inside each hidden activation's range by bounded least
  squares, invert the activation numerically, and solve the first layer.
* P2 (T5): ``x = 0`` with unit vectors ``u, v`` of different scores
  ``<enc 0, enc e_j>``; (T3) ``x = r + k``, ``v = k``, ``u = e x`` with ``k``
  in the (float) kernel of ``W`` and ``r`` in its row space.

Every candidate is only a proposal: the pipeline certifies it.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import Any, Iterator

import numpy as np

from ...theorems.domains import Domain
from ._exact import exact_repair, pivot_columns
from ._model import ZeroTarget
from ...theorems.activations import Activation
from ...theorems.encoder import Encoder
from ...theorems.blas import serial_blas

__all__ = ["Candidate", "p3_constructions", "p2_constructions", "jacobian", "unit_images", "MEMORY_CAP_BYTES", "fits_in_memory"]

#: The largest dense matrix (bytes) a construction may build; past it a stage
#: takes an iterative route (LSQR) or is skipped (a construction is only a proposal).
MEMORY_CAP_BYTES = 256 * 2**20


def fits_in_memory(rows: int, cols: int, itemsize: int = 8) -> bool:
    """Whether a dense ``rows x cols`` array of ``itemsize``-byte entries stays under :data:`MEMORY_CAP_BYTES`."""
    return int(rows) * int(cols) * int(itemsize) <= MEMORY_CAP_BYTES


class Candidate:
    """A proposal: vectors (float arrays or exact Fraction lists) and where it came from."""

    __slots__ = ("vectors", "origin", "exact")

    def __init__(self, vectors: list[Any], origin: str, exact: bool = False) -> None:
        self.vectors = vectors
        self.origin = origin
        self.exact = exact


# ------------------------------------------------------------------ P3
def _lp(W: np.ndarray, b: np.ndarray, target: ZeroTarget, domain: Domain, time_limit: float) -> np.ndarray | None:
    from scipy.optimize import linprog  # noqa: F401  (loads SciPy's BLAS before serial_blas looks for it)


    with serial_blas():
        return _lp_body(W, b, target, domain, time_limit)


def _lp_body(W: np.ndarray, b: np.ndarray, target: ZeroTarget, domain: Domain, time_limit: float) -> np.ndarray | None:
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    m, n = W.shape
    if target.kind in ("left", "float-left"):
        A, ub = W, target.aim - b
    else:
        A, ub = -W, -(target.aim - b)
    if domain.is_binary:
        cons = [LinearConstraint(A, -np.inf, ub), LinearConstraint(np.ones((1, n)), 1, np.inf)]
        res = milp(np.ones(n), constraints=cons, integrality=np.ones(n), bounds=Bounds(0, 1),
                   options={"time_limit": max(time_limit, 0.05), "disp": False})
        return None if res.x is None else np.round(res.x)
    bounds = (0, None) if domain.is_orthant else (None, None)
    c = np.zeros(n)
    if domain.is_orthant:
        c = np.ones(n)  # keep the solution bounded and sparse
        A = np.vstack([A, -np.ones((1, n))])
        ub = np.concatenate([ub, [-1.0]])
    res = linprog(c, A_ub=A, b_ub=ub, bounds=bounds, method="highs", options={"time_limit": max(time_limit, 0.05)})
    return res.x if res.status == 0 else None


def least_norm(W: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``W^+ y`` (``W`` of shape ``(m, n)``): through the ``m x m`` Gram matrix for a wide ``W`` (much faster
    than an SVD) when it fits :data:`MEMORY_CAP_BYTES`; a tall ``W`` by ``lstsq`` (its work arrays are
    ``O(m n)``); a wide ``W`` whose Gram matrix is too large by LSQR (iterative, ``O(m n)`` memory)."""
    m, n = W.shape
    if m >= n and fits_in_memory(m, n, 8 * 4):
        return np.linalg.lstsq(W, y, rcond=None)[0]
    if m < n and fits_in_memory(m, m):
        try:
            return W.T @ np.linalg.solve(W @ W.T, y)
        except np.linalg.LinAlgError:
            if fits_in_memory(m, n, 8 * 4):
                return np.linalg.lstsq(W, y, rcond=None)[0]
    from scipy.sparse.linalg import lsqr

    return lsqr(W, y, atol=1e-12, btol=1e-12, iter_lim=max(100, 4 * min(m, n)))[0]


def jacobian(encoder: Encoder, x: np.ndarray) -> np.ndarray:
    """Float64 Jacobian of the latent pre-activations at ``x`` (``m x n``)."""
    J = encoder.layers[0].W
    h = np.asarray(x, dtype=np.float64)
    for i, layer in enumerate(encoder.layers[:-1]):
        pre = layer.W @ h + layer.b
        eps = 1e-6 * np.maximum(1.0, np.abs(pre))
        slope = (layer.activation.numpy(pre + eps) - layer.activation.numpy(pre - eps)) / (2 * eps)
        h = layer.activation.numpy(pre)
        J = encoder.layers[i + 1].W @ (slope[:, None] * J)
    return J


@functools.lru_cache(maxsize=64)
def _inverse_table(act: Activation) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Strictly increasing stretch ``(t, s(t))`` of ``s`` on a grid, and a flat-left point if any."""
    t = np.linspace(-30.0, 30.0, 60001)
    s = act.numpy(t)
    ok = np.isfinite(s)
    inc = np.concatenate([[False], (np.diff(s) > 0) & ok[1:] & ok[:-1]])
    best, start, run_start = (0, 0, 0), None, None
    for i, v in enumerate(inc):
        if v and run_start is None:
            run_start = i - 1
        if (not v or i == len(inc) - 1) and run_start is not None:
            end = i if v else i - 1
            if end - run_start > best[0]:
                best = (end - run_start, run_start, end)
            run_start = None
    _, lo, hi = best
    flat = None
    if lo > 0 and s[lo] == s[lo - 1] and np.all(s[:lo] == s[lo]):
        flat = float(t[lo]) - 1.0
    return t[lo:hi + 1], s[lo:hi + 1], flat


def _layerwise(encoder: Encoder, aim: float, domain: Domain) -> np.ndarray | None:
    from scipy.optimize import nnls


    with serial_blas():
        return _layerwise_body(encoder, aim, domain, nnls)


def _layerwise_body(encoder: Encoder, aim: float, domain: Domain, nnls) -> np.ndarray | None:
    from scipy.optimize import lsq_linear

    target = np.full(encoder.m, aim)
    for i in range(len(encoder.layers) - 1, 0, -1):
        layer, below = encoder.layers[i], encoder.layers[i - 1]
        ts, ss, flat = _inverse_table(below.activation)
        if len(ts) < 2:
            return None
        lo, hi = float(ss[0]), float(ss[-1])
        span = hi - lo
        if flat is not None:
            lo_b = lo
        else:
            lo_b = lo + 0.02 * span
        hi_b = hi - 0.02 * span
        rhs = target - layer.b
        if np.isinf(hi_b) or hi_b > 1e6:
            hi_b = 1e6
        h = None
        if flat is not None:
            # relu-like: h = lo_b + h', h' >= 0; NNLS gives a basic solution (at most m active units), cheaply.
            hp, _ = nnls(layer.W, rhs - layer.W.sum(axis=1) * lo_b, maxiter=20 * layer.W.shape[1])
            if np.max(lo_b + hp) <= hi_b:
                h = lo_b + hp
        if h is None:
            h = lsq_linear(layer.W, rhs, bounds=(lo_b, hi_b), method="bvls", max_iter=200).x
        pre = np.interp(h, ss, ts)
        if flat is not None:
            pre = np.where(h <= lo + 1e-12 * max(1.0, abs(lo)), flat, pre)
        target = pre
    first = encoder.layers[0]
    rhs = target - first.b
    if domain.is_orthant:
        x, _ = nnls(first.W, rhs, maxiter=20 * first.W.shape[1])
        return x
    return square_solution(first.W, rhs)


def square_solution(W: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A solution of ``W x = y`` (wide ``W``) supported on the ``k`` columns of largest norm (one ``k x k`` LU, a
    quarter of the work of the least-norm solution's Gram matrix), kept when its residual is small; else ``W^+ y``."""
    k, n = W.shape
    if n > k and fits_in_memory(k, k):
        cols = np.sort(np.argsort(-np.einsum("ij,ij->j", W, W), kind="stable")[:k])
        try:
            xs = np.linalg.solve(W[:, cols], y)
            if np.all(np.isfinite(xs)) and np.max(np.abs(W[:, cols] @ xs - y)) <= 1e-9 * max(1.0, float(np.max(np.abs(y)))):
                x = np.zeros(n)
                x[cols] = xs
                return x
        except np.linalg.LinAlgError:
            pass
    return least_norm(W, y)


#: The largest ``m`` for the exact rational ``m x m`` solve of a construction (its cost grows like ``m^3``).
_EXACT_SOLVE_MAX = 512


def p3_constructions(encoder: Encoder, target: ZeroTarget, domain: Domain, time_limit: float = 0.5) -> Iterator[Candidate]:
    """Candidates for a zero counterexample from T1 and layer-wise inversion (lazily: the pipeline stops at the
    first certified one, so a fallback is only computed when the candidates before it failed)."""
    out: list[Candidate] = []  # what was yielded so far
    n, m = encoder.n, encoder.m
    if domain.is_finite:
        return
    if target.kind == "all":
        x = [Fraction(0)] * n
        x[0] = Fraction(1)
        out.append(Candidate([x], "s is identically 0: any nonzero x", exact=True))
        yield out[-1]
        return
    if target.kind == "none":
        return
    one_layer = len(encoder.layers) == 1
    W, b = encoder.layers[-1].W, encoder.layers[-1].b
    square_ok = fits_in_memory(m, 2 * m)  # a pivoted QR of m x 2m and an m x m solve
    if one_layer and domain.is_whole and target.kind != "point" and square_ok:
        S = pivot_columns(W, m)
        if S is not None:
            x = np.zeros(n)
            x[S] = np.linalg.solve(W[:, S], np.full(m, target.aim) - b)
            out.append(Candidate([x], f"T1 basic solution on {m} pivot columns"))
            yield out[-1]
    if one_layer and (domain.is_orthant or domain.is_binary) and target.kind != "point":
        try:
            x = _lp(W, b, target, domain, time_limit)
        except Exception:  # a solver failure is not a finding
            x = None
        if x is not None:
            label = "T1 basic feasible solution (integer program)" if domain.is_binary else "T1 basic feasible solution (linear program)"
            out.append(Candidate([x], label))
            yield out[-1]
    if one_layer and target.kind == "point" and target.exact is not None and (domain.is_whole or domain.is_orthant) and m <= _EXACT_SOLVE_MAX:
        if domain.is_whole:
            S = pivot_columns(W, m)
        else:
            from scipy.optimize import nnls

            xs, _ = nnls(W, target.aim - b, maxiter=20 * n)
            support = np.nonzero(xs > 0)[0]
            S = pivot_columns(W, m, support) if len(support) >= m else None
        if S is not None:
            sol = exact_repair(encoder, [Fraction(0)] * n, S, target.exact, iterations=1)
            if sol is not None:
                out.append(Candidate([sol], f"T1 basic solution on {m} pivot columns (exact rational solve)", exact=True))
                yield out[-1]
    if one_layer and (domain.is_whole or domain.is_sphere) and not any(c.exact for c in out):
        x = least_norm(W, np.full(m, target.aim) - b)
        if domain.is_sphere:
            x = x / max(np.linalg.norm(x), 1e-300)
        out.append(Candidate([x], "T1 least-norm solution W^+(aim - b)" + (" (normalised)" if domain.is_sphere else "")))
        yield out[-1]
    if not one_layer and (domain.is_whole or domain.is_orthant or domain.is_sphere):
        try:
            x = _layerwise(encoder, target.aim, domain)
        except Exception:
            x = None
        if x is not None and np.all(np.isfinite(x)):
            if domain.is_sphere:
                x = x / max(np.linalg.norm(x), 1e-300)
            out.append(Candidate([x], "layer-wise inversion (nonnegative / bounded least squares per layer)"))
            yield out[-1]


# ------------------------------------------------------------------ P2
def unit_images(encoder: Encoder, sign: Any = 1.0, cols: np.ndarray | None = None) -> np.ndarray:
    """``enc(sign * e_j)`` for the unit vectors ``j`` in ``cols`` (default: all), ``(len(cols), m)`` float64,
    without forming an identity-matrix product. ``sign`` is a scalar or one sign per column."""
    first = encoder.layers[0]
    Wt = first.W.T if cols is None else first.W[:, cols].T
    sg = np.asarray(sign, dtype=np.float64)
    h = first.activation.numpy((sg[:, None] if sg.ndim else sg) * Wt + first.b)
    for layer in encoder.layers[1:]:
        h = layer.activation.numpy(h @ layer.W.T + layer.b)
    return np.asarray(h, dtype=np.float64)


def _zero_user_gradient(encoder: Encoder, z0: np.ndarray) -> np.ndarray:
    """``d/dt <enc 0, enc(t e_j)>`` at ``t = 0`` for every ``j`` (float64): ``(z0 * s'(pre)) @ J(0)``."""
    x = np.zeros(encoder.n)
    J = jacobian(encoder, x)
    pre = encoder.pre_activations(x[None, :])[0]
    eps = 1e-6 * np.maximum(1.0, np.abs(pre))
    act = encoder.activation
    slope = (act.numpy(pre + eps) - act.numpy(pre - eps)) / (2 * eps)
    return (z0 * slope) @ J


def p2_constructions(encoder: Encoder, domain: Domain, seed: int = 0) -> Iterator[Candidate]:
    """T5 (zero user, unit vectors) and T3 (kernel) flip candidates (lazily: cheapest first).

    T5 first in its sparsest form: ``x = 0``, ``v = 0`` and ``u = +-e_j`` with
    ``<enc 0, enc u> > <enc 0, enc 0>`` (one nonzero in the whole triple, and
    only ``2m`` distinct latent values to certify). ``j`` comes from the
    first-order change of the score (a gradient at 0: a few unit vectors are
    then scored, not all ``n``); when none of those gains, every unit vector is
    scored. Then ``u, v`` two unit vectors with different scores; then T3.
    """
    n = encoder.n
    if domain.is_whole or domain.is_orthant or domain.is_binary:
        z0 = encoder(np.zeros(n))
        if np.any(z0 != 0):
            base = float(z0 @ z0)
            gain = base * (1 + 1e-9) + 1e-300
            g = _zero_user_gradient(encoder, z0)
            if not domain.is_whole:
                g = np.maximum(g, 0.0)
            top = np.argsort(-np.abs(g), kind="stable")[:8]
            top = top[g[top] != 0]
            found = False
            if top.size:
                sg = np.where(g[top] > 0, 1.0, -1.0)
                imgs = unit_images(encoder, sg, top)
                sc = imgs @ z0
                k = int(np.argmax(sc))
                if sc[k] > gain:
                    u = np.zeros(n)
                    u[int(top[k])] = sg[k]
                    found = True
                    yield Candidate([np.zeros(n), u, np.zeros(n)],
                                    "T5 zero user: x = 0, v = 0, u a unit vector with <enc 0, enc u> > <enc 0, enc 0>")
            signs = [1.0, -1.0] if domain.is_whole else [1.0]
            scores = np.concatenate([unit_images(encoder, s) @ z0 for s in signs])
            iu, iv = int(np.argmax(scores)), int(np.argmin(scores))
            if not found and scores[iu] > gain:
                u = np.zeros(n)
                u[iu % n] = signs[iu // n]
                yield Candidate([np.zeros(n), u, np.zeros(n)],
                                "T5 zero user: x = 0, v = 0, u a unit vector with <enc 0, enc u> > <enc 0, enc 0>")
            if scores[iu] > scores[iv]:
                u, v = np.zeros(n), np.zeros(n)
                u[iu % n] = signs[iu // n]
                v[iv % n] = signs[iv // n]
                yield Candidate([np.zeros(n), u, v], "T5 zero user: x = 0, u and v unit vectors with different <enc 0, enc .>")
    if domain.is_whole and len(encoder.layers) == 1 and encoder.m < n:
        W = encoder.layers[0].W
        if not fits_in_memory(encoder.m, encoder.m):
            return  # the m x m Gram matrix of T3 is past the memory cap
        rng = np.random.default_rng([int(seed), 0x7A3])  # a stream unrelated to Encoder.random(seed)
        gram = W @ W.T
        if np.linalg.matrix_rank(gram) < encoder.m:
            return
        for t in (1.0, 4.0):
            g = rng.normal(size=n)
            k = g - W.T @ np.linalg.solve(gram, W @ g)
            r = W.T @ np.linalg.solve(gram, np.full(encoder.m, t))
            k *= 4.0 * max(np.linalg.norm(r), 1.0) / max(np.linalg.norm(k), 1e-300)
            x = r + k
            e = 0.5 * float(x @ k) / float(x @ x)
            if e > 0:
                yield Candidate([x, e * x, k], f"T3 kernel construction: x = r + k, v = k, u = e x (e = {e:.3g})")
