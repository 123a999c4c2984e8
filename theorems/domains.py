"""Input domains of the falsifier: where ``x`` (and ``u, v``) may live.

THEORY.md states P2 and P3 over a domain ``D``. The falsifier supports:

* ``reals``: ``R^n`` (the theorems' default);
* ``nonneg``: the orthant ``R_{>=0}^n`` (explicit ratings);
* ``binary``: ``{0,1}^n`` (implicit feedback); searched through the
  relaxation ``[0,1]^n``, then rounded and re-checked;
* ``sphere``: the unit sphere ``|x| = 1``; exact witnesses are rational
  points of the sphere, made by stereographic projection of rationals;
* ``box:LO,HI``: the box ``[LO, HI]^n``, bounds read as exact rationals from their text;
* ``data:PATH``: the rows of a data matrix, from an ``.npz`` (``data:F.npz``
  takes its only array or key ``X``; ``data:F.npz#KEY`` names one), an
  ``.npy``, or MovieLens-100K (its folder or ``u.data``; append ``#binary``
  for implicit feedback). Rows are used as they are: nothing is searched
  between them. They are read exactly from their stored dtype (integers stay
  integers, every IEEE float is a dyadic rational); a witness on a data domain
  is one of the rows, bit for bit. ``rows`` is a float64 copy for search.

Each domain is one class (:class:`Reals`, :class:`Nonneg`, :class:`Binary`,
:class:`Sphere`, :class:`Box`, :class:`Data`, all :class:`Domain`): it decides
membership exactly, rounds a float point to an exact rational point of the
domain, samples and projects float points (for projected gradient search, in
JAX) and says what it can do through capability attributes (``is_cone``,
``is_finite``, ...), so no caller compares domain names.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from .errors import DataError, InvalidArgument
from .exact_arrays import exact_scalars, fits_float64, float64_copy, unreadable_reason

__all__ = ["Domain", "Reals", "Nonneg", "Binary", "Sphere", "Box", "Data", "DOMAINS", "domain_forms", "parse_domain", "sample_row_triples", "load_rows", "load_rows_exact", "stereographic_point"]

#: Names of the built-in (continuous or binary) domains.
DOMAINS = ("reals", "nonneg", "binary", "sphere")


class Domain:
    """An input domain: exact membership, exact rounding of float points, sampling and projection (JAX).

    ``Domain(name, ...)`` builds the subclass registered under ``name`` (``Domain("data", rows, source)``
    gives a :class:`Data`). Capabilities are attributes, so callers never compare names:

    * ``is_whole``: all of ``R^n``; ``is_orthant``: ``R_{>=0}^n``; ``is_binary``: ``{0,1}^n``;
      ``is_sphere``: the unit sphere; ``is_finite``: finitely many rows (nothing between them is searched);
    * ``is_cone``: closed under multiplication by ``t > 0``; ``is_symmetric``: ``x in D`` implies ``-x in D``;
    * ``allows_rounding``: a coordinate rounded to a short rational stays in the domain (or is re-checked).

    Attributes:
        name: ``reals``, ``nonneg``, ``binary``, ``sphere``, ``box`` or ``data`` (for reports; compare capabilities).
        rows: for ``data``: the rows, float64, shape ``(N, n)``; else ``None``.
        source: for ``data``: where the rows came from.
        rows_src: for ``data``: the stored rows when float64 cannot hold them exactly; else ``None``.
    """

    name = ""
    #: How ``parse_domain`` reads it (``box:LO,HI``); the name for the domains without parameters.
    syntax = ""
    rows: np.ndarray | None = None
    source: str | None = None
    rows_src: np.ndarray | None = None
    is_whole = is_orthant = is_binary = is_sphere = is_finite = is_cone = is_symmetric = allows_rounding = False
    #: Adam step of the search on this domain (``None``: scaled to the first layer's row norms).
    search_lr: float | None = None

    def __new__(cls, name: str | None = None, *args: Any, **kwargs: Any) -> "Domain":
        if cls is Domain:
            sub = _CLASSES.get(str(name))
            if sub is None:
                raise InvalidArgument(f"domain name {name!r} is unknown; use one of {', '.join(_CLASSES)}")
            cls = sub
        return object.__new__(cls)

    def __init__(self, name: str | None = None) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.label!r})"

    @property
    def label(self) -> str:
        """The domain as the command line spells it."""
        return self.name

    @property
    def contains_zero(self) -> bool:
        """Whether ``0`` is in the domain (the zero user of T5)."""
        return True

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label}

    def check_dimension(self, n: int) -> None:
        """Raise :class:`InvalidArgument` when the domain's points cannot have length ``n``."""

    def coordinate_bounds(self, n: int) -> tuple[list, list] | None:
        """Exact per-coordinate bounds ``(lo[n], hi[n])`` (``None`` entries: unbounded) when the domain is a
        product of intervals (binary: its relaxation ``[0,1]^n``, with integrality on top); ``None`` otherwise
        (the sphere, rows of data), which ``latentcheck verify`` does not decide."""
        return None

    def certificate_form(self) -> dict[str, str]:
        """How a verify certificate records the domain (``{"kind": ...}``, with ``lo``/``hi`` for a box)."""
        return {"kind": self.name}

    # ------------------------------------------------------------- exact
    def contains(self, x: Sequence[Fraction]) -> bool:
        """Exact membership of a rational point."""
        return True

    def contains_sparse(self, num: Sequence[int], den: int, x: Any) -> bool:
        """Exact membership of ``x = num / den`` on its support (the nonzero entries; ``x`` the full vector object,
        whose ``fractions()`` gives every entry)."""
        return self.contains(x.fractions())

    def round_float(self, x: np.ndarray) -> np.ndarray | None:
        """A float64 array whose exact value is the domain point a float point stands for (``None``: not a float array)."""
        return np.asarray(x, dtype=np.float64)

    def to_exact(self, x: np.ndarray, bits: int = 40) -> list[Fraction]:
        """Round a float point to an exact rational point of the domain."""
        r = self.round_float(x)
        return [Fraction(float(v)) for v in r]

    # ------------------------------------------------------------- float / JAX
    def project(self, x: Any) -> Any:
        """Project a JAX array of points (last axis ``n``) into the domain (relaxed for binary)."""
        return x

    def sample(self, key: Any, shape: tuple[int, ...], scale: Any = 1.0) -> Any:
        """Random starting points (JAX), ``shape[-1] = n``; ``scale`` broadcasts over the batch."""
        import jax

        return self.project(jax.random.normal(key, shape) * scale)

    def discretize(self, x: Any) -> Any:
        """Float points (JAX) of the domain itself from relaxed ones (identity except for binary)."""
        return x


class Reals(Domain):
    """``R^n`` (the theorems' default)."""

    name = "reals"
    is_whole = is_cone = is_symmetric = allows_rounding = True

    def coordinate_bounds(self, n: int) -> tuple[list, list]:
        return [None] * n, [None] * n

    def contains_sparse(self, num: Sequence[int], den: int, x: Any) -> bool:
        return True


class Nonneg(Domain):
    """The orthant ``R_{>=0}^n`` (explicit ratings)."""

    name = "nonneg"
    is_orthant = is_cone = allows_rounding = True

    def coordinate_bounds(self, n: int) -> tuple[list, list]:
        return [Fraction(0)] * n, [None] * n

    def contains(self, x: Sequence[Fraction]) -> bool:
        return all(v >= 0 for v in x)

    def contains_sparse(self, num: Sequence[int], den: int, x: Any) -> bool:
        return all(a > 0 for a in num)

    def round_float(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        return np.where(x > 0, x, 0.0)

    def project(self, x: Any) -> Any:
        import jax.numpy as jnp

        return jnp.maximum(x, 0)

    def sample(self, key: Any, shape: tuple[int, ...], scale: Any = 1.0) -> Any:
        import jax
        import jax.numpy as jnp

        return jnp.abs(jax.random.normal(key, shape) * scale)


class Binary(Domain):
    """``{0,1}^n`` (implicit feedback), searched through the relaxation ``[0,1]^n``, then rounded."""

    name = "binary"
    is_binary = True

    def coordinate_bounds(self, n: int) -> tuple[list, list]:
        return [Fraction(0)] * n, [Fraction(1)] * n
    search_lr = 0.05

    def contains(self, x: Sequence[Fraction]) -> bool:
        return all(v == 0 or v == 1 for v in x)

    def contains_sparse(self, num: Sequence[int], den: int, x: Any) -> bool:
        return all(a == den for a in num)

    def round_float(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) >= 0.5).astype(np.float64)

    def project(self, x: Any) -> Any:
        import jax.numpy as jnp

        return jnp.clip(x, 0, 1)

    def sample(self, key: Any, shape: tuple[int, ...], scale: Any = 1.0) -> Any:
        import jax

        k1, k2, k3 = jax.random.split(key, 3)
        density = jax.random.uniform(k1, shape[:-1] + (1,), minval=0.005, maxval=0.3)
        u = jax.random.uniform(k3, shape)
        on = (jax.random.uniform(k2, shape) < density).astype(u.dtype)
        return 0.5 * u + 0.5 * on

    def discretize(self, x: Any) -> Any:
        return (x >= 0.5).astype(x.dtype)


class Sphere(Domain):
    """The unit sphere ``|x| = 1``; exact points are rational points of the sphere (stereographic projection)."""

    name = "sphere"
    is_sphere = is_symmetric = True
    search_lr = 0.02

    @property
    def contains_zero(self) -> bool:
        return False

    def contains(self, x: Sequence[Fraction]) -> bool:
        return sum((v * v for v in x), Fraction(0)) == 1

    def contains_sparse(self, num: Sequence[int], den: int, x: Any) -> bool:
        return sum(a * a for a in num) == den * den

    def round_float(self, x: np.ndarray) -> None:
        return None

    def to_exact(self, x: np.ndarray, bits: int = 40) -> list[Fraction]:
        return stereographic_point(x, bits)

    def project(self, x: Any) -> Any:
        import jax.numpy as jnp

        nrm = jnp.sqrt(jnp.sum(x * x, axis=-1, keepdims=True))
        return x / jnp.maximum(nrm, jnp.finfo(x.dtype).tiny)


#: The largest |LO|, |HI| of ``box:LO,HI``: the largest finite float64 (the search converts the bounds).
MAX_BOX_BOUND = Fraction(np.finfo(np.float64).max.item())


def _magnitude(q: Fraction) -> str:
    """A short text for a possibly huge rational (``1e400`` is not printed with 400 digits)."""
    text = str(q)
    if len(text) <= 30:
        return text
    sign = "-" if q < 0 else ""
    digits = len(str(abs(q.numerator))) - len(str(q.denominator))
    return f"about {sign}1e{digits}"


class Box(Domain):
    """The box ``[lo, hi]^n`` with exact rational bounds read from the text ``box:LO,HI``."""

    name = "box"
    syntax = "box:LO,HI"
    allows_rounding = True  # a rounded point is re-checked for membership like every candidate

    def __init__(self, name: str | None = "box", lo: Any = -1, hi: Any = 1) -> None:
        self.lo, self.hi = Fraction(lo), Fraction(hi)
        for value in (self.lo, self.hi):
            if abs(value) > MAX_BOX_BOUND:
                raise InvalidArgument(f"box bound {_magnitude(value)} is too large: the search runs in floating point, "
                                      f"so |LO| and |HI| must be at most {float(MAX_BOX_BOUND)!r} (the largest float64)")
        if self.lo > self.hi:
            raise InvalidArgument(f"box:{self.lo},{self.hi} has LO > HI; write box:LO,HI with LO <= HI")
        self.is_cone = self.lo == 0 and self.hi == 0
        self.is_symmetric = self.lo == -self.hi

    @property
    def label(self) -> str:
        return f"box:{_short(self.lo)},{_short(self.hi)}"

    @property
    def contains_zero(self) -> bool:
        return self.lo <= 0 <= self.hi

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "lo": _short(self.lo), "hi": _short(self.hi)}

    def contains(self, x: Sequence[Fraction]) -> bool:
        return all(self.lo <= v <= self.hi for v in x)

    def coordinate_bounds(self, n: int) -> tuple[list, list]:
        return [self.lo] * n, [self.hi] * n

    def certificate_form(self) -> dict[str, str]:
        return {"kind": "box", "lo": str(self.lo), "hi": str(self.hi)}

    def round_float(self, x: np.ndarray) -> None:
        return None

    def to_exact(self, x: np.ndarray, bits: int = 40) -> list[Fraction]:
        return [min(self.hi, max(self.lo, Fraction(float(v)))) for v in np.asarray(x, dtype=np.float64)]

    def project(self, x: Any) -> Any:
        import jax.numpy as jnp

        return jnp.clip(x, float(self.lo), float(self.hi))

    def sample(self, key: Any, shape: tuple[int, ...], scale: Any = 1.0) -> Any:
        import jax

        return jax.random.uniform(key, shape, minval=float(self.lo), maxval=float(self.hi))


class Data(Domain):
    """The rows of a data matrix, read exactly from their stored dtype; nothing between them is searched."""

    name = "data"
    syntax = "data:PATH[#KEY]"
    is_finite = True

    def __init__(self, name: str | None = "data", rows: np.ndarray | None = None, source: str | None = None,
                 rows_src: np.ndarray | None = None) -> None:
        if rows is None or np.ndim(rows) != 2:
            raise InvalidArgument("a data domain needs its rows as a 2-D array (rows = users)")
        self.rows, self.source, self.rows_src = rows, source, rows_src

    @property
    def label(self) -> str:
        return f"data:{self.source}"

    @property
    def contains_zero(self) -> bool:
        src = self.rows if self.rows_src is None else self.rows_src
        return bool(np.any(np.all(src == 0, axis=1)))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "rows": int(self.rows.shape[0]), "columns": int(self.rows.shape[1])}

    def check_dimension(self, n: int) -> None:
        if self.rows.shape[1] != n:
            raise InvalidArgument(
                f"domain {self.label!r} has rows of length {self.rows.shape[1]} but the encoder takes n={n}; "
                "use data whose columns are the encoder's inputs"
            )

    def exact_row(self, i: int) -> list[Fraction]:
        """Row ``i`` of the data at its stored value, as exact rationals."""
        src = self.rows if self.rows_src is None else self.rows_src
        return [Fraction(v) for v in exact_scalars(src[int(i)]).tolist()]

    def contains(self, x: Sequence[Fraction]) -> bool:
        # The float64 copies of equal rows are equal, so a float64 match narrows the candidates; each is then
        # compared at its stored value.
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

    def sample_triples(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """``(count, 3)`` row indices, the three of each triple distinct, uniform over such triples (seeded by ``rng``)."""
        return sample_row_triples(int(self.rows.shape[0]), count, rng, label=self.label)


def sample_row_triples(n_rows: int, count: int, rng: np.random.Generator, *, label: str = "the data") -> np.ndarray:
    """``(count, 3)`` indices of distinct rows out of ``n_rows``, uniform over such triples (redrawn until distinct).

    The one triple sampler: the data domain and ``latentcheck audit`` both draw through it, so the same seed
    gives the same triples in both.
    """
    if n_rows < 3:
        raise InvalidArgument(f"{label} has {n_rows} rows; triples of distinct rows need at least 3")
    t = rng.integers(0, n_rows, size=(int(count), 3))
    bad = (t[:, 0] == t[:, 1]) | (t[:, 0] == t[:, 2]) | (t[:, 1] == t[:, 2])
    while np.any(bad):
        t[bad] = rng.integers(0, n_rows, size=(int(bad.sum()), 3))
        bad = (t[:, 0] == t[:, 1]) | (t[:, 0] == t[:, 2]) | (t[:, 1] == t[:, 2])
    return t.astype(np.int64)


_CLASSES: dict[str, type] = {cls.name: cls for cls in (Reals, Nonneg, Binary, Sphere, Box, Data)}


def domain_forms(products_only: bool = False) -> tuple[str, ...]:
    """Every way to write a domain for :func:`parse_domain` (``reals``, ..., ``box:LO,HI``, ``data:PATH[#KEY]``);
    with ``products_only``, those that are products of intervals (their class gives ``coordinate_bounds``:
    what ``latentcheck verify`` decides). Help texts are made from this, so they list what the parser reads."""
    return tuple(cls.syntax or cls.name for cls in _CLASSES.values()
                 if not products_only or cls.coordinate_bounds is not Domain.coordinate_bounds)


def _short(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


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
    except EOFError:
        raise DataError(f"{path!r} is empty; pass an .npz, an .npy or a MovieLens-100K folder with rows") from None
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


_ALIASES = {"real": "reals", "r": "reals", "orthant": "nonneg", "nonnegative": "nonneg", "bin": "binary",
            "unit-sphere": "sphere"}


def parse_domain(spec: "str | Domain") -> Domain:
    """A :class:`Domain` from ``reals``, ``nonneg``, ``binary``, ``sphere``, ``box:LO,HI`` or ``data:PATH[#KEY]``.

    Example:
        >>> parse_domain("nonneg").name
        'nonneg'
        >>> parse_domain("box:-1/2,1").contains([Fraction(-1, 2), Fraction(1)])
        True
    """
    if isinstance(spec, Domain):
        return spec
    if not isinstance(spec, str):
        raise InvalidArgument(f"domain={spec!r} must be a string such as 'reals' or 'data:ratings.npz'")
    text = spec.strip()
    text = _ALIASES.get(text.lower(), text)
    if text.lower() in DOMAINS:
        return _CLASSES[text.lower()]()
    if text.lower().startswith("box:"):
        return _parse_box(spec, text[len("box:"):])
    if text.startswith("data:"):
        rows, src, source = load_rows_exact(text[len("data:"):])
        if rows.shape[0] == 0:
            raise DataError(f"data {source!r} has no rows")
        rows.setflags(write=False)
        return Data("data", rows, source, src)
    raise InvalidArgument(f"domain={spec!r} is unknown; use one of {', '.join(DOMAINS)}, box:LO,HI or data:PATH "
                          "(an .npz, .npy or MovieLens folder)")


def _parse_box(spec: str, body: str) -> Box:
    """``box:LO,HI``: two exact rationals from their text (``-1/2``, ``0.1`` = 1/10), ``LO <= HI``."""
    parts = [p.strip() for p in body.split(",")]
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = (Fraction(p) for p in parts)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"domain {spec!r} must read box:LO,HI with two numbers, e.g. box:-1,1") from None
    return Box("box", lo, hi)
