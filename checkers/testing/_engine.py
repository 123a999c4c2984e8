"""The engine behind the assertions: what is tested, where, and how a failure is found.

Hidden from users (the public API is :mod:`latentcheck.checkers.testing`):

* :class:`Target` wraps a ``latentcheck.theorems.Encoder`` or a plain callable
  ``x[n] -> z[m]`` (JAX, NumPy, or anything returning an array) as a batched
  float function in the requested dtype, with gradients when JAX can trace it.
* :class:`DomainSpec` samples a domain: ``reals``, ``nonneg``, ``binary``,
  ``sphere`` or the rows of a matrix.
* :func:`search_zero` is the minimal P3 search used when the falsifier
  (``latentcheck.checkers.falsify``) is not available or cannot take the target (plain
  callables): structured candidates (coordinate vectors, data rows), random
  candidates at several scales and densities, then projected gradient
  descent on ``log |enc(x)|^2``.
* :func:`flip_rate` measures ordering flips on sampled triples.
* :func:`shrink` makes a float witness small (fewer nonzeros, then simpler
  values) while it still fails; :func:`certify_zero` / :func:`certify_flip`
  re-check it outside floating point when an Encoder is given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from latentcheck.theorems.encoder import Encoder
from latentcheck.theorems.errors import InvalidArgument

__all__ = ["Target", "DomainSpec", "parse_domain", "search_zero", "flip_rate", "shrink", "certify_zero", "certify_flip", "Witness", "DTYPES"]

DTYPES = ("float16", "bfloat16", "float32", "float64")
_BUILTIN = ("reals", "nonneg", "binary", "sphere")


# --------------------------------------------------------------------- dtypes
def normalise_dtype(dtype: Any) -> str:
    name = getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or str(dtype)
    name = str(name).replace("jnp.", "").replace("np.", "")
    if name not in DTYPES:
        raise InvalidArgument(f"dtype={dtype!r} must be one of {', '.join(DTYPES)}")
    return name


def _np_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


def representable(X: np.ndarray, dtype: str) -> np.ndarray:
    """``X`` rounded to ``dtype`` and back to float64 (so the witness is what was fed)."""
    return np.asarray(np.asarray(X, dtype=np.float64).astype(_np_dtype(dtype)), dtype=np.float64)


# --------------------------------------------------------------------- domains
@dataclass(frozen=True, eq=False)
class DomainSpec:
    """An input domain: a built-in name, or the rows of a matrix (``name == 'data'``)."""

    name: str
    rows: np.ndarray | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        if self.rows is not None:
            return f"rows of a {self.rows.shape[0]} x {self.rows.shape[1]} matrix"
        return self.name

    def sample(self, rng: np.random.Generator, size: int, n: int, scale: float = 1.0, density: float = 0.5) -> np.ndarray:
        """``size`` points of the domain (float64, shape ``(size, n)``)."""
        if self.name == "reals":
            return rng.standard_normal((size, n)) * scale
        if self.name == "nonneg":
            X = np.abs(rng.standard_normal((size, n))) * scale
            if density < 1.0:
                X = X * (rng.random((size, n)) < density)
            return X
        if self.name == "binary":
            return (rng.random((size, n)) < density).astype(np.float64)
        if self.name == "sphere":
            X = rng.standard_normal((size, n))
            return X / np.linalg.norm(X, axis=1, keepdims=True)
        assert self.rows is not None
        return self.rows[rng.integers(0, self.rows.shape[0], size=size)]

    def structured(self, n: int) -> np.ndarray:
        """Readable candidates first: coordinate vectors (and their negatives where allowed)."""
        eye = np.eye(n)
        if self.name in ("reals", "sphere"):
            return np.concatenate([eye, -eye])
        if self.name in ("nonneg", "binary"):
            if self.name == "binary" and n <= 48:
                i, j = np.triu_indices(n, 1)
                pairs = np.zeros((len(i), n))
                pairs[np.arange(len(i)), i] = 1.0
                pairs[np.arange(len(i)), j] = 1.0
                return np.concatenate([eye, pairs])
            return eye
        return np.zeros((0, n))

    def contains(self, X: np.ndarray) -> np.ndarray:
        """Rows of ``X`` that lie in the domain (float test; sphere up to 1e-9)."""
        if self.name == "reals":
            return np.ones(X.shape[0], dtype=bool)
        if self.name == "nonneg":
            return np.all(X >= 0, axis=1)
        if self.name == "binary":
            return np.all((X == 0) | (X == 1), axis=1)
        if self.name == "sphere":
            return np.abs(np.linalg.norm(X, axis=1) - 1.0) < 1e-9
        assert self.rows is not None
        return np.array([bool(np.any(np.all(self.rows == x, axis=1))) for x in X])


def parse_domain(domain: Any, n: int) -> DomainSpec:
    """``'reals' | 'nonneg' | 'binary' | 'sphere'`` or a 2-D array of rows (one user per row)."""
    if isinstance(domain, str):
        if domain not in _BUILTIN:
            raise InvalidArgument(
                f"domain={domain!r} must be one of {', '.join(repr(d) for d in _BUILTIN)} "
                "or a 2-D array whose rows are the inputs (e.g. your rating matrix)"
            )
        return DomainSpec(domain)
    try:
        rows = np.array(domain, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(
            f"domain of type {type(domain).__name__} must be 'reals', 'nonneg', 'binary', 'sphere' or a 2-D numeric array of rows"
        ) from None
    if rows.ndim != 2 or rows.shape[0] == 0:
        raise InvalidArgument(f"domain has shape {rows.shape}; a data domain must be a 2-D array with one input per row")
    if rows.shape[1] != n:
        raise InvalidArgument(f"domain rows have {rows.shape[1]} columns but the encoder takes n={n}; pass rows of length {n}")
    if not np.all(np.isfinite(rows)):
        raise InvalidArgument("domain holds NaN or infinite values; clean the data first")
    rows.setflags(write=False)
    return DomainSpec("data", rows)


# --------------------------------------------------------------------- target
class Target:
    """An encoder under test, evaluated in batches in ``dtype``.

    Args:
        encoder_fn: a ``latentcheck.theorems.Encoder`` or a callable mapping one input
            ``x`` of shape ``(n,)`` to its code ``z`` of shape ``(m,)``
            (``batched=True``: ``(B, n) -> (B, m)``).
        n: the input dimension (required for a callable).
        dtype: the dtype of the inputs fed to it (and of an Encoder's arithmetic).
    """

    def __init__(self, encoder_fn: Any, n: int | None, dtype: Any, batched: bool = False) -> None:
        self.dtype = normalise_dtype(dtype)
        self.encoder: Encoder | None = encoder_fn if isinstance(encoder_fn, Encoder) else None
        if self.encoder is not None:
            if n is not None and int(n) != self.encoder.n:
                raise InvalidArgument(f"n={n!r} but the Encoder takes n={self.encoder.n}; leave n out for an Encoder")
            self.n = self.encoder.n
        else:
            if not callable(encoder_fn):
                raise InvalidArgument(
                    f"encoder_fn of type {type(encoder_fn).__name__} must be a theorems.Encoder or a callable x[n] -> z[m] "
                    "(a JAX, NumPy, Flax, Equinox or exported PyTorch encoder)"
                )
            if n is None:
                raise InvalidArgument("n=None: a plain callable needs the input dimension, e.g. assert_nonvanishing(encode, n=1682)")
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or int(n) < 1:
                raise InvalidArgument(f"n={n!r} must be a positive int (the encoder's input dimension)")
            self.n = int(n)
        self.fn = encoder_fn
        self.batched = bool(batched)
        self.evaluations = 0
        self._eval: Callable[[np.ndarray], np.ndarray] | None = None
        self._single_jax: Callable | None = None
        self._descents: dict = {}
        self._setup()

    @property
    def kind(self) -> str:
        return "Encoder" if self.encoder is not None else "callable"

    def _setup(self) -> None:
        import jax
        import jax.numpy as jnp

        jd = _np_dtype(self.dtype) if self.dtype != "bfloat16" else jnp.bfloat16
        if self.encoder is not None:
            enc = self.encoder
            # JAX computes in float32 at most unless x64 is on: use NumPy for float64.
            self._single_jax = enc.jax_fn("float32")
            if self.dtype == "float64":
                self._eval = lambda X: np.asarray(enc(X, dtype=np.float64), dtype=np.float64).reshape(X.shape[0], -1)
            else:
                f = jax.jit(jax.vmap(enc.jax_fn(self.dtype)))
                self._eval = lambda X: np.asarray(f(jnp.asarray(X, dtype=jd)), dtype=np.float64).reshape(X.shape[0], -1)
            self.m = enc.m
            return
        fn = self.fn
        probe = np.zeros((2, self.n))
        if self.batched:
            self._eval = lambda X: np.asarray(fn(np.asarray(X, dtype=_np_dtype(self.dtype))), dtype=np.float64).reshape(X.shape[0], -1)
        else:
            try:
                f = jax.jit(jax.vmap(fn))
                np.asarray(f(jnp.asarray(probe, dtype=jd)))
                self._eval = lambda X: np.asarray(f(jnp.asarray(X, dtype=jd)), dtype=np.float64).reshape(X.shape[0], -1)
                self._single_jax = fn
            except Exception:
                npd = _np_dtype(self.dtype)

                def loop(X: np.ndarray) -> np.ndarray:
                    out = [np.asarray(_to_numpy(fn(np.asarray(x, dtype=npd))), dtype=np.float64).reshape(-1) for x in X]
                    return np.stack(out) if out else np.zeros((0, 1))

                self._eval = loop
        try:
            out = self._eval(probe)
        except Exception as exc:
            raise InvalidArgument(
                f"calling encoder_fn on inputs of shape ({self.n},) failed with {type(exc).__name__}: {exc}; "
                "it must map one input x[n] to its code z[m] (or pass batched=True for x[B, n] -> z[B, m])"
            ) from exc
        if out.shape[0] != 2:
            raise InvalidArgument(f"encoder_fn returned shape {out.shape} for 2 inputs; with batched=True it must map x[B, n] -> z[B, m]")
        self.m = int(out.shape[1])

    def descent(self, domain: str, steps: int) -> Callable:
        """The jitted descent for one domain (compiled once per target)."""
        key = (domain, steps)
        if key not in self._descents:
            assert self._single_jax is not None
            self._descents[key] = _make_descent(self._single_jax, domain, steps)
        return self._descents[key]

    def __call__(self, X: np.ndarray) -> np.ndarray:
        """Codes of the rows of ``X`` (computed in ``dtype``, returned as float64)."""
        X = np.asarray(X, dtype=np.float64)
        if X.shape[0] == 0:
            return np.zeros((0, self.m))
        self.evaluations += X.shape[0]
        assert self._eval is not None
        return self._eval(X)

    @property
    def differentiable(self) -> bool:
        return self._single_jax is not None


def _to_numpy(value: Any) -> Any:
    """Tensors from other frameworks (PyTorch) to NumPy."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return value.detach().cpu().numpy()
    return value


# --------------------------------------------------------------------- P3 search
@dataclass
class SearchStats:
    evaluations: int = 0
    seconds: float = 0.0
    phase: str = ""
    stopped: str = "plan done"


def _zero_hits(target: Target, X: np.ndarray) -> np.ndarray:
    Z = target(X)
    return np.all(Z == 0, axis=1) & np.any(X != 0, axis=1) & np.all(np.isfinite(Z), axis=1)


def _best(X: np.ndarray) -> np.ndarray:
    """The most readable row: fewest nonzeros, then smallest entries."""
    nz = np.count_nonzero(X, axis=1)
    mx = np.max(np.abs(X), axis=1)
    return X[np.lexsort((mx, nz))[0]]


def search_zero(target: Target, dom: DomainSpec, *, seed: int, budget: float) -> tuple[np.ndarray | None, SearchStats]:
    """A nonzero ``x`` in the domain with ``enc(x) == 0`` in float, or None within the budget."""
    t0 = time.perf_counter()
    deadline = t0 + budget
    stats = SearchStats()
    rng = np.random.default_rng(seed)
    n = target.n
    start_evals = target.evaluations

    def done(x: np.ndarray | None, phase: str, stopped: str = "found") -> tuple[np.ndarray | None, SearchStats]:
        stats.evaluations = target.evaluations - start_evals
        stats.seconds = time.perf_counter() - t0
        stats.phase = phase
        stats.stopped = stopped if x is not None else stopped
        return x, stats

    def batches():
        if dom.rows is not None:
            for i in range(0, dom.rows.shape[0], 4096):
                yield "data rows", dom.rows[i:i + 4096]
            return
        S = dom.structured(n)
        for i in range(0, S.shape[0], 4096):
            yield "coordinate vectors", S[i:i + 4096]
        scales = (1.0, 8.0, 64.0)
        densities = (1.0 / n, 2.0 / n, 0.05, 0.1, 0.25, 0.5)
        for r in range(24):
            X = dom.sample(rng, 1024, n, scale=scales[r % 3], density=max(min(densities[r % 6], 1.0), 1.0 / n))
            yield "random", X
        if target.differentiable:
            for r in range(3):
                if time.perf_counter() > deadline:
                    return
                yield "gradient", _descend(target, dom, rng, radius=scales[r % 3])

    for phase, X in batches():
        if time.perf_counter() > deadline:
            return done(None, phase, "budget spent")
        X = representable(X, target.dtype)
        hits = _zero_hits(target, X)
        if np.any(hits):
            return done(_best(X[hits]), phase)
    return done(None, "all", "plan done")


def _descend(target: Target, dom: DomainSpec, rng: np.random.Generator, radius: float, batch: int = 256, steps: int = 120) -> np.ndarray:
    """Projected normalised-gradient descent on ``log |enc(x)|^2`` from random starts."""
    import jax.numpy as jnp

    run = target.descent(dom.name, steps)
    theta0 = jnp.asarray(rng.standard_normal((batch, target.n)), dtype=jnp.float32)
    target.evaluations += batch * steps
    X = np.asarray(run(theta0, jnp.float32(radius)), dtype=np.float64)
    if dom.name == "binary":
        X = (X > 0.5).astype(np.float64)
    return X


def _make_descent(fn: Callable, name: str, steps: int) -> Callable:
    import jax
    import jax.numpy as jnp

    def project(theta: Any, radius: Any) -> Any:
        if name == "binary":
            return jax.nn.sigmoid(theta)
        if name == "nonneg":
            a = jnp.abs(theta)
            return radius * a / (jnp.linalg.norm(a) + 1e-12)
        r = 1.0 if name == "sphere" else radius
        return r * theta / (jnp.linalg.norm(theta) + 1e-12)

    def loss(theta: Any, radius: Any) -> Any:
        x = project(theta, radius)
        z = jnp.asarray(fn(x), dtype=jnp.float32).reshape(-1)
        val = jnp.log(jnp.sum(z * z) + 1e-30)
        if name == "binary":  # keep at least one item switched on
            val = val + 10.0 * jax.nn.relu(1.0 - jnp.sum(x)) ** 2
        return val

    grad = jax.vmap(jax.grad(loss), in_axes=(0, None))

    @jax.jit
    def run(theta: Any, radius: Any) -> Any:
        def body(i: Any, th: Any) -> Any:
            g = grad(th, radius)
            g = jnp.where(jnp.isfinite(g), g, 0.0)
            g = g / (jnp.linalg.norm(g, axis=1, keepdims=True) + 1e-12)
            lr = 0.1 * (1.0 - i / steps) + 0.01
            scale = jnp.linalg.norm(th, axis=1, keepdims=True) if name != "binary" else 4.0
            return th - lr * scale * g

        th = jax.lax.fori_loop(0, steps, body, theta)
        return jax.vmap(project, in_axes=(0, None))(th, radius)

    return run


# --------------------------------------------------------------------- P2 rate
@dataclass
class FlipSample:
    triples: int  # every sampled triple, ties included (P2 covers them all)
    ties: int  # triples with <x,u> = <x,v> exactly
    flips: int  # P2 violations: strict flips plus tie violations
    worst: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    worst_margin: float
    seconds: float
    evaluations: int
    tie_violations: int = 0  # ties whose latent scores differ beyond rounding


def _flip_slack(dtype: str) -> float:
    return {"float16": 4e-3, "bfloat16": 3e-2, "float32": 1e-6, "float64": 1e-12}[dtype]


def flip_margins(target: Target, X: np.ndarray, U: np.ndarray, V: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per triple, float64: input gap ``<x,v> - <x,u>``, latent gap ``<ex,eu> - <ex,ev>``, latent scale."""
    Z = target(np.concatenate([X, U, V]))
    k = X.shape[0]
    ZX, ZU, ZV = Z[:k], Z[k:2 * k], Z[2 * k:]
    gap_in = np.einsum("ij,ij->i", X, V) - np.einsum("ij,ij->i", X, U)
    gap_out = np.einsum("ij,ij->i", ZX, ZU) - np.einsum("ij,ij->i", ZX, ZV)
    scale = np.abs(np.einsum("ij,ij->i", np.abs(ZX), np.abs(ZU))) + np.abs(np.einsum("ij,ij->i", np.abs(ZX), np.abs(ZV))) + 1e-30
    return gap_in, gap_out, scale


def exact_gap_signs(X: np.ndarray, U: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Sign of ``<x,v> - <x,u>`` per row, exactly (the float inputs read as rationals).

    Integer-valued rows whose products and sums stay below ``2**53`` are exact
    in float64; other rows are summed as :class:`fractions.Fraction` over the
    support of ``x``.
    """
    X, U, V = (np.asarray(a, dtype=np.float64) for a in (X, U, V))
    out = np.zeros(X.shape[0], dtype=np.int64)
    if X.shape[0] == 0:
        return out
    integral = np.all(X == np.round(X), axis=1) & np.all(U == np.round(U), axis=1) & np.all(V == np.round(V), axis=1)
    bound = np.sum(np.abs(X) * np.maximum(np.abs(U), np.abs(V)), axis=1)
    fast = integral & (bound < 2.0 ** 52)
    if np.any(fast):
        g = np.einsum("ij,ij->i", X[fast], V[fast] - U[fast])
        out[fast] = np.sign(g).astype(np.int64)
    for i in np.nonzero(~fast)[0]:
        sup = np.nonzero(X[i])[0]
        g = sum((Fraction(float(X[i, j])) * (Fraction(float(V[i, j])) - Fraction(float(U[i, j]))) for j in sup), Fraction(0))
        out[i] = (g > 0) - (g < 0)
    return out


def flip_rate(target: Target, dom: DomainSpec, *, samples: int, seed: int, budget: float) -> FlipSample:
    """Sample triples ``(x, u, v)``, order each so that ``<x,u> <= <x,v>``, count P2 violations.

    P2's ``<=`` covers ties: when ``<x,u> = <x,v>`` exactly, both orders hold,
    so the latent scores must be equal; a tie whose latent scores differ is a
    violation (counted in ``flips`` and apart in ``tie_violations``). Near-ties
    in float64 are decided exactly (:func:`exact_gap_signs`). A latent
    difference must exceed the dtype's rounding slack (relative to
    ``|enc x| (|enc u| + |enc v|)``) to count.
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    n = target.n
    start_evals = target.evaluations
    slack = _flip_slack(target.dtype)
    triples = ties = flips = tie_viol = 0
    worst: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    worst_margin = 0.0
    chunk = 2048
    done = 0
    while done < samples and (done == 0 or time.perf_counter() - t0 < budget):
        k = min(chunk, samples - done)
        X, U, V = (representable(dom.sample(rng, k, n), target.dtype) for _ in range(3))
        gap_in, gap_out, scale = flip_margins(target, X, U, V)
        sign = np.sign(gap_in).astype(np.int64)
        near = np.abs(gap_in) <= 1e-9 * (1.0 + np.abs(np.einsum("ij,ij->i", X, V)) + np.abs(np.einsum("ij,ij->i", X, U)))
        if np.any(near):
            sign[near] = exact_gap_signs(X[near], U[near], V[near])
        tie = sign == 0
        # Orient: u is the one with the smaller input score; for a tie, the one with the larger latent score.
        swap = (sign < 0) | (tie & (gap_out < 0))
        U2 = np.where(swap[:, None], V, U)
        V2 = np.where(swap[:, None], U, V)
        gap_out = np.where(swap, -gap_out, gap_out)
        bad = gap_out > slack * scale
        ties += int(np.sum(tie))
        tie_viol += int(np.sum(tie & bad))
        triples += k
        flips += int(np.sum(bad))
        if np.any(bad):
            rel = np.where(bad, gap_out / scale, -np.inf)
            i = int(np.argmax(rel))
            if worst is None or rel[i] > worst_margin:
                worst, worst_margin = (X[i], U2[i], V2[i]), float(rel[i])
        done += k
    return FlipSample(triples, ties, flips, worst, worst_margin, time.perf_counter() - t0, target.evaluations - start_evals, tie_viol)


# --------------------------------------------------------------------- shrinking
def _simpler_values(v: float, nonneg: bool) -> list[float]:
    out: list[float] = []
    sign = 1.0 if v > 0 else -1.0
    for cand in (sign * 1.0, float(np.round(v)), np.round(2 * v) / 2, np.round(4 * v) / 4, np.round(16 * v) / 16, np.round(256 * v) / 256):
        c = float(cand)
        if c != 0.0 and c != v and c not in out and (not nonneg or c > 0) and abs(c) <= abs(v) * 4 + 1:
            out.append(c)
    return out


def shrink(vectors: list[np.ndarray], still_fails: Callable[[list[np.ndarray]], np.ndarray], dom: DomainSpec, deadline: float) -> list[np.ndarray]:
    """Fewer nonzeros, then simpler values, while ``still_fails`` holds.

    ``vectors`` is ``[x]`` (P3) or ``[x, u, v]`` (P2). ``still_fails`` takes a
    list of stacked candidates (one ``(B, n)`` array per vector) and returns
    a boolean per candidate. Data rows are kept as they are.
    """
    if dom.rows is not None:
        return vectors
    k = len(vectors)
    n = vectors[0].shape[0]
    flat = np.concatenate(vectors)

    def fix(C: np.ndarray) -> np.ndarray:
        if dom.name == "sphere":
            parts = C.reshape(C.shape[0], k, n)
            norms = np.linalg.norm(parts, axis=2, keepdims=True)
            parts = np.where(norms > 0, parts / np.where(norms > 0, norms, 1.0), parts)
            return parts.reshape(C.shape[0], k * n)
        return C

    def test(C: np.ndarray) -> np.ndarray:
        C = fix(C)
        parts = C.reshape(C.shape[0], k, n)
        nonzero = np.all(np.any(parts != 0, axis=2), axis=1) if k == 1 else np.ones(C.shape[0], dtype=bool)
        ok = nonzero.copy()
        if np.any(nonzero):
            res = np.asarray(still_fails([parts[nonzero, j] for j in range(k)]), dtype=bool)
            ok[np.flatnonzero(nonzero)] = res
        return ok

    # 1. delete nonzeros, in chunks halving down to single entries
    nz = np.flatnonzero(flat)
    size = max(1, len(nz) // 2)
    while size >= 1 and len(nz) and time.perf_counter() < deadline:
        cands = []
        for i in range(0, len(nz), size):
            c = flat.copy()
            c[nz[i:i + size]] = 0.0
            cands.append(c)
        ok = test(np.stack(cands))
        if np.any(ok):
            flat = fix(np.stack(cands)[int(np.argmax(ok))][None])[0]
            nz = np.flatnonzero(flat)
            size = min(size, max(1, len(nz) // 2))
        else:
            size //= 2
    # 2. simpler values, one entry at a time (not on the sphere or binary inputs)
    if dom.name in ("reals", "nonneg"):
        for i in np.flatnonzero(flat):
            if time.perf_counter() > deadline:
                break
            vals = _simpler_values(float(flat[i]), dom.name == "nonneg")
            if not vals:
                continue
            cands = np.repeat(flat[None], len(vals), axis=0)
            cands[:, i] = vals
            ok = test(cands)
            if np.any(ok):
                flat = cands[int(np.argmax(ok))]
    return [flat[j * n:(j + 1) * n] for j in range(k)]


# --------------------------------------------------------------------- certification
@dataclass(frozen=True)
class Witness:
    """A counterexample as the assertions report it.

    Attributes:
        property: ``'P3'`` or ``'P2'``.
        vectors: name -> exact rational strings (``x``; or ``x, u, v``).
        certified: ``'exact'``, ``'interval'``, ``'float-only'`` (the real value is proved not to violate) or ``'undecided'``.
        detail: one sentence from the re-check (or why there was none).
        margin: the violation's size as a string, when known.
        codes: name -> the float codes ``enc(.)`` in ``dtype``, as floats.
    """

    property: str
    vectors: dict[str, list[str]]
    certified: str
    detail: str
    margin: str | None = None
    codes: dict[str, list[float]] = field(default_factory=dict)

    @property
    def is_certified(self) -> bool:
        return self.certified in ("exact", "interval")


def _fraction_strings(x: np.ndarray) -> list[str]:
    out = []
    for v in np.asarray(x, dtype=np.float64).tolist():
        q = Fraction(v)
        out.append(str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}")
    return out


def certify_zero(target: Target, x: np.ndarray) -> Witness:
    codes = {"enc(x)": target(x[None])[0].tolist()}
    vec = {"x": _fraction_strings(x)}
    if target.encoder is None:
        return Witness("P3", vec, "float-only", f"enc(x) is exactly 0 in {target.dtype}; a plain callable cannot be re-checked "
                       "outside floating point (pass a theorems.Encoder to certify it)", "0", codes)
    from latentcheck.theorems.properties import check_zero

    pc = check_zero(target.encoder, [Fraction(v) for v in np.asarray(x, dtype=np.float64).tolist()])
    if pc.violates:
        return Witness("P3", vec, pc.certified, pc.detail, pc.margin, codes)
    if pc.violates is None:  # neither proved zero nor proved nonzero: never called a rounding hazard
        return Witness("P3", vec, "undecided", f"enc(x) rounds to exactly 0 in {target.dtype}; whether the real value is 0 "
                       f"could not be decided ({pc.detail})", "0", codes)
    return Witness("P3", vec, "float-only", f"enc(x) rounds to exactly 0 in {target.dtype} but the real value is nonzero "
                   f"({pc.detail}): a {target.dtype} rounding hazard, not a real zero", "0", codes)


def certify_flip(target: Target, x: np.ndarray, u: np.ndarray, v: np.ndarray) -> Witness:
    Z = target(np.stack([x, u, v]))
    codes = {"enc(x)": Z[0].tolist(), "enc(u)": Z[1].tolist(), "enc(v)": Z[2].tolist()}
    vec = {"x": _fraction_strings(x), "u": _fraction_strings(u), "v": _fraction_strings(v)}
    margin = float(Z[0] @ Z[1] - Z[0] @ Z[2])
    if target.encoder is None:
        return Witness("P2", vec, "float-only", f"<x,u> <= <x,v> but <enc x,enc u> - <enc x,enc v> = {margin:.6g} > 0 in {target.dtype}; "
                       "a plain callable cannot be re-checked outside floating point (pass a theorems.Encoder to certify it)", repr(margin), codes)
    from latentcheck.theorems.properties import check_flip

    fr = [[Fraction(t) for t in np.asarray(a, dtype=np.float64).tolist()] for a in (x, u, v)]
    pc = check_flip(target.encoder, *fr)
    if pc.violates:
        return Witness("P2", vec, pc.certified, pc.detail, pc.margin, codes)
    if pc.violates is None:
        return Witness("P2", vec, "undecided", f"a flip in {target.dtype} whose real sign could not be decided ({pc.detail})", repr(margin), codes)
    return Witness("P2", vec, "float-only", f"a flip in {target.dtype} that the exact re-check refutes ({pc.detail})", repr(margin), codes)
