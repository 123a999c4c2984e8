"""Candidates for certification: from a search round's best points, from the rows of a finite domain, and the
exact repair onto an isolated zero. Pure functions of their arguments; the strategies (``search_*.py``) call them."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import numpy as np

from ...theorems.domains import Domain
from ._constructions import Candidate, jacobian
from ._exact import exact_repair, pivot_columns
from ._model import ZeroTarget, float_pre_activations
from ...counterexamples.fast import QVec
from ...counterexamples.certify import _np_dtype, float_encode
from ._search import pool_inversion

__all__ = ["exact_vec", "finite_candidate", "dtype_round", "repair_point", "zero_round", "top_points", "zero_rows",
           "flip_rows", "data_row"]


def finite_candidate(cand: Any) -> bool:
    """False when a float candidate holds NaN or an infinity (it stands for no exact point)."""
    for v in cand.vectors:
        if isinstance(v, QVec) or (isinstance(v, list) and (not v or not isinstance(v[0], (float, np.floating)))):
            continue
        if not np.all(np.isfinite(np.asarray(v, dtype=np.float64))):
            return False
    return True


def exact_vec(v: Any, domain: Domain) -> QVec:
    """The exact rational point of the domain that a candidate vector stands for (a :class:`QVec`)."""
    if isinstance(v, QVec):
        return v
    if isinstance(v, list) and (not v or not isinstance(v[0], (float, np.floating))):
        return QVec.from_fractions(v)
    x = np.asarray(v, dtype=np.float64)
    r = domain.round_float(x)
    return QVec.from_float(r) if r is not None else QVec.from_fractions(domain.to_exact(x))


def dtype_round(x: np.ndarray, dtype: str) -> np.ndarray:

    return np.asarray(x, dtype=np.float64).astype(_np_dtype(dtype)).astype(np.float64)


def repair_point(encoder: Any, q: QVec, target: ZeroTarget, dom: Domain) -> QVec | None:
    """Exact repair onto an isolated rational zero (exact bodies, cone domains)."""
    if target.exact is None or not encoder.body_is_exact() or not dom.is_cone:
        return None
    x = q.fractions()
    xf = q.floats()
    J = jacobian(encoder, xf)
    allowed = None if dom.is_whole else np.nonzero(xf > 0)[0]
    S = pivot_columns(J, encoder.m, allowed)
    if S is None:
        return None
    try:
        rep = exact_repair(encoder, x, S, target.exact)
    except ZeroDivisionError:
        return None
    return None if rep is None else QVec.from_fractions(rep)


def _finite_order(best_loss: np.ndarray, k: int = 8) -> list[int]:
    order = np.argsort(best_loss, kind="stable")
    return [int(i) for i in order if np.isfinite(best_loss[i])][:k]


def top_points(ctx: Any, best: np.ndarray, best_loss: np.ndarray, origin: str) -> Iterator[tuple[list, str]]:
    """The 8 best restarts (finite loss), each rounded exactly into the domain."""
    for i in _finite_order(best_loss):
        pts = best[i] if best.ndim == 3 else best[i][None, :]
        yield [exact_vec(v, ctx.dom) for v in pts], origin


def _in_zero_set(encoder: Any, x: np.ndarray, target: ZeroTarget) -> bool:
    pre = float_pre_activations(encoder, x[None, :])
    if target.kind != "point":
        return bool(target.satisfied(pre, 0.0)[0])
    return bool(np.max(np.abs(pre - target.boundary)) < 1e-2 * max(1.0, float(np.max(np.abs(pre)))))


def zero_round(ctx: Any, best: np.ndarray, best_loss: np.ndarray) -> Iterator[tuple[list, str]]:
    """P3 candidates of a round: points in the zero set (repaired exactly onto an isolated zero, at most two), else
    points whose float computation in ``dtype`` is exactly 0 (lazily: each repair runs just before its check)."""

    top = _finite_order(best_loss)
    if not top:
        return
    X = best[top]
    Xd = dtype_round(X, ctx.dtype)
    fz = np.all(float_encode(ctx.encoder, Xd, ctx.dtype) == 0, axis=1)
    repaired = 0
    for j in range(len(top)):
        if not ctx.black and _in_zero_set(ctx.encoder, X[j], ctx.target):
            vec = exact_vec(X[j], ctx.dom)
            if ctx.target.kind == "point" and ctx.encoder.inputs.normalise == "none":  # the repair solves the raw chain
                if repaired >= 2:
                    continue
                repaired += 1
                rep = repair_point(ctx.encoder, vec, ctx.target, ctx.dom)
                if rep is not None:
                    yield [rep], "gradient search + exact repair"
                    continue
            yield [vec], "gradient search"
        elif fz[j]:
            yield [exact_vec(Xd[j], ctx.dom)], f"gradient search (float zero in {ctx.dtype})"


def data_row(dom: Domain, i: int) -> QVec:
    """Row ``i`` at its stored value (a float64 copy would round wide integers and long doubles)."""
    if dom.rows_src is None:
        return QVec.from_float(dom.rows[i])
    return QVec.from_fractions(dom.exact_row(i))


def zero_rows(encoder: Any, dom: Domain, target: ZeroTarget | None, dtype: str, black: bool) -> list[Candidate]:
    """Nonzero rows whose float encoding is 0 or whose pre-activations lie in the zero set (at most 16)."""

    rows = dom.rows
    nz = np.nonzero(np.any(rows != 0, axis=1))[0]
    zf = float_encode(encoder, rows[nz], dtype)
    hit = set(int(i) for i in nz[np.all(zf == 0, axis=1)])
    if not black and target is not None:
        pre = float_pre_activations(encoder, rows[nz])
        hit |= set(int(i) for i in nz[target.satisfied(pre, 0.0)])
    return [Candidate([data_row(dom, i)], f"data row {i}") for i in sorted(hit)[:16]]


def flip_rows(dom: Domain, enc_fn: Callable, delta: float = 0.0) -> list[Candidate]:
    """The best flips among the rows by pool inversion (``delta``: the premise's margin ``delta |x|^2``)."""
    import jax.numpy as jnp


    P = jnp.asarray(dom.rows, dtype=jnp.float32)
    X = P[: min(256, dom.rows.shape[0])]
    ui, vi, margin = pool_inversion(enc_fn, X, P, delta=delta)
    margin = np.asarray(margin)
    out: list[Candidate] = []
    for i in np.argsort(-margin, kind="stable")[:8]:
        if margin[i] > 0:
            u, v = int(ui[i]), int(vi[i])
            out.append(Candidate([data_row(dom, int(i)), data_row(dom, u), data_row(dom, v)], f"data rows x={int(i)}, u={u}, v={v}"))
    return out
