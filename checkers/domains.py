"""Input domains of the falsifier: where ``x`` (and ``u, v``) may live.

THEORY.md states P2 and P3 over a domain ``D``. The falsifier supports:

* ``reals``: ``R^n`` (the theorems' default);
* ``nonneg``: the orthant ``R_{>=0}^n`` (explicit ratings);
* ``binary``: ``{0,1}^n`` (implicit feedback); searched through the
  relaxation ``[0,1]^n``, then rounded and re-checked;
* ``sphere``: the unit sphere ``|x| = 1``; exact witnesses are rational
  points of the sphere, made by stereographic projection of rationals;
* ``data:PATH``: the rows of a data matrix, from an ``.npz`` (``data:F.npz``
  takes its only array or key ``X``; ``data:F.npz#KEY`` names one), an
  ``.npy``, or MovieLens-100K (its folder or ``u.data``; append ``#binary``
  for implicit feedback). Rows are used as they are: nothing is searched
  between them. They are read exactly from their stored dtype (integers stay
  integers, every IEEE float is a dyadic rational); a witness on a data domain
  is one of the rows, bit for bit. ``rows`` is a float64 copy for search.

Each :class:`Domain` projects float points into itself (for projected
gradient search, in JAX), rounds a float point to an exact rational point of
the domain, and decides membership exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from latentcheck.theorems.errors import DataError, InvalidArgument
from latentcheck.theorems.exact_arrays import exact_scalars, fits_float64, float64_copy, unreadable_reason

__all__ = ["Domain", "DOMAINS", "parse_domain", "load_rows", "load_rows_exact", "stereographic_point"]

#: Names of the built-in (continuous or binary) domains.
DOMAINS = ("reals", "nonneg", "binary", "sphere")


@dataclass(frozen=True, eq=False)
class Domain:
    """An input domain.

    Attributes:
        name: ``reals``, ``nonneg``, ``binary``, ``sphere`` or ``data``.
        rows: for ``data``: the rows, float64, shape ``(N, n)``; else ``None``.
        source: for ``data``: where the rows came from.
        rows_src: for ``data``: the stored rows when float64 cannot hold them
            exactly (wide integers, long double); ``None`` when ``rows`` is exact.
    """

    name: str
    rows: np.ndarray | None = field(default=None, repr=False)
    source: str | None = None
    rows_src: np.ndarray | None = field(default=None, repr=False)

    def exact_row(self, i: int) -> list[Fraction]:
        """Row ``i`` of the data at its stored value, as exact rationals."""
        src = self.rows if self.rows_src is None else self.rows_src
        return [Fraction(v) for v in exact_scalars(src[int(i)]).tolist()]

    @property
    def label(self) -> str:
        """The name as the command line spells it (``data:PATH`` for data)."""
        return f"data:{self.source}" if self.name == "data" else self.name

    @property
    def contains_zero(self) -> bool:
        """Whether ``0`` is in the domain (the zero user of T5)."""
        if self.name == "data":
            src = self.rows if self.rows_src is None else self.rows_src
            return bool(np.any(np.all(src == 0, axis=1)))
        return self.name != "sphere"

    @property
    def is_finite(self) -> bool:
        return self.name == "data"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": self.label}
        if self.rows is not None:
            out["rows"] = int(self.rows.shape[0])
            out["columns"] = int(self.rows.shape[1])
        return out

    def check_dimension(self, n: int) -> None:
        if self.rows is not None and self.rows.shape[1] != n:
            raise InvalidArgument(
                f"domain {self.label!r} has rows of length {self.rows.shape[1]} but the encoder takes n={n}; "
                "use data whose columns are the encoder's inputs"
            )

    # ------------------------------------------------------------- exact
    def contains(self, x: Sequence[Fraction]) -> bool:
        """Exact membership of a rational point."""
        if self.name == "reals":
            return True
        if self.name == "nonneg":
            return all(v >= 0 for v in x)
        if self.name == "binary":
            return all(v == 0 or v == 1 for v in x)
        if self.name == "sphere":
            return sum((v * v for v in x), Fraction(0)) == 1
        # data: must equal a row exactly. The float64 copies of equal rows are equal, so a float64 match
        # narrows the candidates; each is then compared at its stored value.
        xs = [Fraction(v) for v in x]
        if len(xs) != self.rows.shape[1]:
            return False
        arr = np.array([float(v) for v in xs])
        cand = np.nonzero(np.all(self.rows == arr, axis=1))[0]
        if self.rows_src is None:
            if any(Fraction(float(a)) != v for a, v in zip(arr, xs)):
                return False
            return cand.size > 0
        return any(self.exact_row(i) == xs for i in cand.tolist())

    def to_exact(self, x: np.ndarray, bits: int = 40) -> list[Fraction]:
        """Round a float point to an exact rational point of the domain."""
        x = np.asarray(x, dtype=np.float64)
        if self.name == "reals" or self.name == "data":
            return [Fraction(float(v)) for v in x]
        if self.name == "nonneg":
            return [Fraction(float(v)) if v > 0 else Fraction(0) for v in x]
        if self.name == "binary":
            return [Fraction(1) if v >= 0.5 else Fraction(0) for v in x]
        return stereographic_point(x, bits)

    # ------------------------------------------------------------- float / JAX
    def project(self, x: Any) -> Any:
        """Project a JAX array of points (last axis ``n``) into the domain (relaxed for binary)."""
        import jax.numpy as jnp

        if self.name == "nonneg":
            return jnp.maximum(x, 0)
        if self.name == "binary":
            return jnp.clip(x, 0, 1)
        if self.name == "sphere":
            nrm = jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True))
            return x / jnp.maximum(nrm, jnp.finfo(x.dtype).tiny)
        return x

    def sample(self, key: Any, shape: tuple[int, ...], scale: Any = 1.0) -> Any:
        """Random starting points (JAX), ``shape[-1] = n``; ``scale`` broadcasts over the batch."""
        import jax
        import jax.numpy as jnp

        if self.name == "binary":
            k1, k2, k3 = jax.random.split(key, 3)
            density = jax.random.uniform(k1, shape[:-1] + (1,), minval=0.005, maxval=0.3)
            on = jax.random.uniform(k2, shape) < density
            return 0.5 * jax.random.uniform(k3, shape) + 0.5 * on
        z = jax.random.normal(key, shape) * scale
        if self.name == "nonneg":
            return jnp.abs(z)
        return self.project(z)


def stereographic_point(x: np.ndarray, bits: int = 40) -> list[Fraction]:
    """A rational point of the unit sphere near the direction of ``x``.

    Projects ``x/|x|`` stereographically from the pole farther from it,
    rounds the projection to multiples of ``2**-bits`` and maps back; the
    result satisfies ``sum(v**2) == 1`` exactly and keeps ``x``'s zeros.
    """
    x = np.asarray(x, dtype=np.float64)
    nrm = float(np.linalg.norm(x))
    if nrm == 0 or not np.isfinite(nrm):
        out = [Fraction(0)] * len(x)
        out[0] = Fraction(1)
        return out
    p = x / nrm
    j = int(np.argmax(np.abs(p)))
    sign = -1.0 if p[j] > 0 else 1.0  # project from the pole (sign * e_j), opposite to x's largest entry
    denom = 1.0 - sign * p[j]
    scale = 1 << bits
    y = [Fraction(int(round(float(v) / denom * scale)), scale) if i != j else Fraction(0) for i, v in enumerate(p)]
    s = sum((v * v for v in y), Fraction(0))
    out = [2 * v / (s + 1) for v in y]
    out[j] = Fraction(sign) * (s - 1) / (s + 1)
    return out


# ------------------------------------------------------------------ data
def _movielens(path: str, binary: bool) -> np.ndarray:
    data_file = os.path.join(path, "u.data") if os.path.isdir(path) else path
    if not os.path.exists(data_file):
        raise DataError(f"MovieLens path {path!r} has no u.data; pass the ml-100k folder or its u.data")
    try:
        table = np.loadtxt(data_file, dtype=np.int64, delimiter="\t", usecols=(0, 1, 2), ndmin=2)
    except (OSError, ValueError) as exc:
        raise DataError(f"{data_file!r} is not a MovieLens ratings file (user<TAB>item<TAB>rating<TAB>time): {exc}") from None
    if table.size == 0 or table[:, :2].min() < 1:
        raise DataError(f"{data_file!r} holds no ratings with 1-based user and item ids")
    users, items = int(table[:, 0].max()), int(table[:, 1].max())
    rows = np.zeros((users, items), dtype=np.float64)
    rows[table[:, 0] - 1, table[:, 1] - 1] = (table[:, 2] > 0) if binary else table[:, 2]
    return rows


def load_rows(spec: str) -> tuple[np.ndarray, str]:
    """Rows of a data matrix from ``PATH[#KEY]`` (``.npz``, ``.npy``, MovieLens-100K), as a float64 copy.

    Use :func:`load_rows_exact` when the values matter exactly.
    """
    rows, _, source = load_rows_exact(spec)
    return rows, source


def load_rows_exact(spec: str) -> tuple[np.ndarray, np.ndarray | None, str]:
    """``(float64 rows, stored rows or None, spec)``: the stored array is kept when float64 cannot hold it exactly."""
    path, _, key = spec.partition("#")
    if not path:
        raise InvalidArgument("domain 'data:' needs a path, e.g. data:ratings.npz or data:../shared/data/ml-100k")
    if not os.path.exists(path):
        raise DataError(f"data path {path!r} does not exist; pass an .npz, an .npy or a MovieLens-100K folder")
    if os.path.isdir(path) or os.path.basename(path) == "u.data":
        if key not in ("", "binary", "ratings"):
            raise InvalidArgument(f"MovieLens option #{key!r} is unknown; use #binary (implicit feedback) or #ratings")
        return _movielens(path, key == "binary"), None, spec
    try:
        if path.endswith(".npy"):
            arr = np.load(path, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as data:
                names = list(data.files)
                if key:
                    if key not in names:
                        raise DataError(f"{path!r} has arrays {names} but no {key!r}; pick one with data:{path}#KEY")
                    arr = data[key]
                elif len(names) == 1:
                    arr = data[names[0]]
                elif "X" in names:
                    arr = data["X"]
                else:
                    raise DataError(f"{path!r} holds arrays {names}; name the one to use with data:{path}#KEY")
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DataError(f"{path!r} holds Python objects (pickles), which latentcheck never loads; save plain arrays") from None
        raise DataError(f"{path!r} is not a readable .npz/.npy ({exc})") from None
    except OSError as exc:
        raise DataError(f"{path!r} is not a readable .npz/.npy ({exc})") from None
    reason = unreadable_reason(arr.dtype)
    if reason is not None:
        raise DataError(f"data array in {path!r}: {reason}")
    if arr.ndim != 2:
        raise DataError(f"data array in {path!r} has dtype {arr.dtype} and shape {arr.shape}; it must be a 2-D numeric matrix (rows = users)")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr if arr.dtype.itemsize > 8 else float64_copy(arr))):
        raise DataError(f"data array in {path!r} holds NaN or infinite values")
    rows = float64_copy(arr)
    if not np.all(np.isfinite(rows)):
        raise DataError(f"data array in {path!r} ({arr.dtype}) holds values beyond the float64 range; rescale the data")
    if fits_float64(arr):
        return rows, None, spec
    src = np.array(arr, copy=True)
    src.setflags(write=False)
    return rows, src, spec


def parse_domain(spec: "str | Domain") -> Domain:
    """A :class:`Domain` from ``reals``, ``nonneg``, ``binary``, ``sphere`` or ``data:PATH[#KEY]``.

    Example:
        >>> parse_domain("nonneg").name
        'nonneg'
    """
    if isinstance(spec, Domain):
        return spec
    if not isinstance(spec, str):
        raise InvalidArgument(f"domain={spec!r} must be a string such as 'reals' or 'data:ratings.npz'")
    text = spec.strip()
    aliases = {"real": "reals", "r": "reals", "orthant": "nonneg", "nonnegative": "nonneg", "bin": "binary", "unit-sphere": "sphere"}
    text = aliases.get(text.lower(), text)
    if text.lower() in DOMAINS:
        return Domain(text.lower())
    if text.startswith("data:"):
        rows, src, source = load_rows_exact(text[len("data:"):])
        if rows.shape[0] == 0:
            raise DataError(f"data {source!r} has no rows")
        rows.setflags(write=False)
        return Domain("data", rows, source, src)
    raise InvalidArgument(f"domain={spec!r} is unknown; use one of {', '.join(DOMAINS)} or data:PATH (an .npz, .npy or MovieLens folder)")
