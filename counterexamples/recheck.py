"""``latentcheck recheck``: re-check a certificate or a falsify report with rationals only.

Independent of the exact kernel on purpose: it does not use :mod:`latentcheck.theorems.exact_net` or
:mod:`latentcheck.theorems.pl` (the engines' one exact ``W x`` and PL form), so a bug there cannot hide
here. Standalone by design: this module imports nothing else of latentcheck, and
depends only on the standard library (``fractions`` for all arithmetic,
``json``, ``hashlib``), NumPy's ``.npz`` reader (``allow_pickle=False``;
every float16/32/64 or integer weight is taken at its exact value) and, for
smooth activations only, mpmath's interval arithmetic (``mpmath.iv``, outward
rounding) at rational points. No solver, no sympy, no python-flint. Run it as ``latentcheck recheck FILE`` or
``python -m latentcheck.counterexamples.recheck FILE`` (or copy this file).

What it checks:

* **verify certificates** (``latentcheck.verify-certificate/1`` and
  ``-l2/1``): the encoder file (``encoder.npz`` beside the certificate, or
  ``--encoder``) is bound to the certificate: its SHA-256, its layer sizes,
  its stored activation names, its recorded input normalisation and its keys
  (exactly ``W0, b0, ...``, ``activations``, ``latentcheck_*``) must match
  what the certificate claims; ``--model`` re-hashes the model file the
  encoder was read from against the certificate's ``model.sha256``. The
  piecewise-linear form of each catalog activation (relu, leaky_relu, relu6,
  hard_tanh, hard_sigmoid, identity) is compared with the catalog; a formula
  activation's form must be the function its stored text defines, re-derived
  here by a small parser (numbers, ``t``, ``+ - * /``, ``**``, ``Max``,
  ``Min``, ``Abs``; no sympy, no eval; other formulas are rejected).
  Then the argument that the trees cover every nonzero input, every derived
  bound and every leaf (interval bounds and Farkas combinations recomputed
  in exact rationals), as docs/verify.md describes.
* **smooth P3-eps certificates** (``latentcheck.verify-certificate-smooth/1``):
  the same binding; the window ``(A, C)`` around ``{t : |s(t)| < eps}``
  (``s(C) >= eps``, ``s(A) <= -eps`` in mpmath intervals, with this file's own
  monotonicity table); the cover of ``k = 1'x`` and each entry's unit or
  Farkas proof in Fractions (docs/verify.md).
* **falsify reports** (``latentcheck.falsify/1``): every counterexample
  labelled ``exact`` for P3 or P2 (P2-delta) is recomputed exactly (the
  weights embedded in the report, or ``--model``/``--encoder`` with a
  matching SHA-256, whose sizes and activations must be the report's): a P3
  witness must be a nonzero point of the domain that the encoder maps to
  exactly 0 (hidden activations: catalog piecewise-linear ones; the latent
  one any catalog activation whose zero set is known exactly); a P2 flip
  ``x, u, v`` in the domain must satisfy ``<x,v> - <x,u> >= delta |x|^2`` and
  ``<enc x, enc u> > <enc x, enc v>`` (every activation a catalog
  piecewise-linear one). ``interval`` counterexamples and other properties
  are listed as not re-checked here (they need interval arithmetic:
  ``latentcheck report`` re-checks them with latentcheck's own exact and
  interval code).

Output: ``OK: ...`` (exit 0), ``REJECTED: <reason>`` (exit 1: the
certificate or report does not hold, or is malformed), ``REJECTED: cannot
read ...`` (exit 2: the file is missing, not JSON, or the encoder file is
missing or unreadable), ``NOT RE-CHECKED: <reason>`` (exit 3: nothing in a
report could be re-checked with rationals alone). Never a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from fractions import Fraction

import numpy as np
from mpmath import iv
from mpmath.libmp import finf, fnan, fninf

__all__ = ["Rejected", "Unreadable", "recheck", "recheck_l2", "recheck_smooth", "recheck_report", "recheck_path",
           "main", "CATALOG", "SCHEMA", "SCHEMA_L2", "SCHEMA_SMOOTH", "REPORT_SCHEMA"]

SCHEMA = "latentcheck.verify-certificate/1"
SCHEMA_L2 = "latentcheck.verify-certificate-l2/1"
SCHEMA_SMOOTH = "latentcheck.verify-certificate-smooth/1"
REPORT_SCHEMA = "latentcheck.falsify/1"

CATALOG = {  # name -> (knots, values, slope left, slope right, offset)
    "relu": ([0], [0], 0, 1, 0),
    "leaky_relu": ([0], [0], Fraction(1, 100), 1, 0),
    "relu6": ([0, 6], [0, 6], 0, 0, 0),
    "hard_tanh": ([-1, 1], [-1, 1], 0, 0, 0),
    "hard_sigmoid": ([-3, 3], [0, 1], 0, 0, 0),
    "identity": ([], [], 1, 1, 0),
}

#: Latent activations that are not piecewise linear, with their exact zero set: the single point 0 (each is
#: strictly monotone or t * (positive function)). sigmoid, softplus and exp never vanish.
ZERO_ONLY_AT_0 = ("tanh", "elu", "gelu", "silu", "softsign", "erf")
NEVER_ZERO = ("sigmoid", "softplus", "exp")

#: Longest exact number accepted (characters): beyond it a "number" is an attack on the checker's time.
MAX_DIGITS = 4000
_RATIONAL = re.compile(r"-?\d+(/\d+)?")


class Rejected(Exception):
    """The certificate or report does not hold (or is malformed); the message is the reason."""


class Unreadable(Exception):
    """A file could not be read (missing, not JSON, not an .npz)."""


def need(cond: bool, why: str) -> None:
    if not cond:
        raise Rejected(why)


def Q(v: object) -> Fraction:
    """An exact rational from an int, a finite float or a string ``p`` / ``p/q``; anything else is rejected."""
    if isinstance(v, bool):
        raise Rejected(f"{v!r} is not a number")
    if isinstance(v, int):
        need(abs(v).bit_length() <= 4 * MAX_DIGITS, "a number in the certificate is too large")
        return Fraction(v)
    if isinstance(v, float):
        need(v == v and v not in (float("inf"), float("-inf")), f"{v!r} is not a finite number")
        return Fraction(v)
    need(isinstance(v, str), f"{type(v).__name__} {str(v)[:40]!r} is not a number (write it as a string 'p/q')")
    s = v.strip()
    need(len(s) <= MAX_DIGITS and _RATIONAL.fullmatch(s) is not None, f"{s[:40]!r} is not an exact rational 'p' or 'p/q'")
    num, _, den = s.partition("/")
    need(den == "" or int(den) != 0, f"{s[:40]!r} divides by zero")
    return Fraction(int(num), int(den) if den else 1)


def idx(v: object, n: int, what: str) -> int:
    """An index ``0 <= v < n`` (an int, not a bool nor a string)."""
    need(isinstance(v, int) and not isinstance(v, bool), f"{what} {str(v)[:40]!r} is not an integer index")
    need(0 <= v < n, f"{what} {v} is out of range 0..{n - 1}")
    return v


def seq(v: object, what: str, length: int | None = None) -> list:
    need(isinstance(v, list), f"{what} is not a list")
    need(length is None or len(v) == length, f"{what} has {len(v)} entries, not {length}")
    return v


def obj(v: object, what: str) -> dict:
    need(isinstance(v, dict), f"{what} is not a JSON object")
    return v


# ---------------------------------------------------------------- activation
class PL:
    """A continuous piecewise-linear function: knots, values at the knots, end slopes (offset when no knot)."""

    def __init__(self, d: object) -> None:
        d = obj(d, "an activation")
        self.k = [Q(v) for v in seq(d.get("knots"), "knots")]
        self.v = [Q(v) for v in seq(d.get("values"), "values", len(self.k))]
        self.sl, self.sr, self.c = Q(d.get("slope_left")), Q(d.get("slope_right")), Q(d.get("offset", "0"))
        need(all(a < b for a, b in zip(self.k, self.k[1:])), "knots must increase")
        need(bool(self.k) or self.sl == self.sr, "an affine activation has one slope")

    def same_as(self, spec: tuple) -> bool:
        knots, values, sl, sr, off = spec
        return (self.k == [Fraction(v) for v in knots] and self.v == [Fraction(v) for v in values]
                and self.sl == Fraction(sl) and self.sr == Fraction(sr) and (bool(self.k) or self.c == Fraction(off)))

    def __call__(self, t: Fraction) -> Fraction:
        if not self.k:
            return self.sl * t + self.c
        if t <= self.k[0]:
            return self.v[0] + self.sl * (t - self.k[0])
        if t >= self.k[-1]:
            return self.v[-1] + self.sr * (t - self.k[-1])
        i = max(i for i in range(len(self.k)) if self.k[i] <= t)
        return self.v[i] + (self.v[i + 1] - self.v[i]) * (t - self.k[i]) / (self.k[i + 1] - self.k[i])

    def test_points(self, lo: Fraction | None, hi: Fraction | None) -> list[Fraction]:
        pts = [p for p in self.k if (lo is None or p > lo) and (hi is None or p < hi)]
        pts += [p for p in (lo, hi) if p is not None]
        return pts or [Fraction(0)]

    def valid(self, a: Fraction, c: Fraction, sense: str, lo: Fraction | None, hi: Fraction | None) -> bool:
        """s(t) >= a t + c ('ge') or <= ('le') on [lo, hi]: a piecewise-linear gap is extreme at knots or ends."""
        need(sense in ("ge", "le"), f"sense {str(sense)[:20]!r} is not ge or le")
        sg = 1 if sense == "ge" else -1
        if any(sg * (self(p) - a * p - c) < 0 for p in self.test_points(lo, hi)):
            return False
        if lo is None and sg * (self.sl - a) > 0:
            return False
        return not (hi is None and sg * (self.sr - a) < 0)

    def span(self, lo: Fraction | None, hi: Fraction | None) -> tuple:
        vals = [self(p) for p in self.test_points(lo, hi)]
        mn, mx = min(vals), max(vals)
        if lo is None and self.sl != 0:
            mn, mx = (None, mx) if self.sl > 0 else (mn, None)
        if hi is None and self.sr != 0:
            mn, mx = (mn, None) if self.sr > 0 else (None, mx)
        return mn, mx

    def homogeneous(self) -> bool:
        return (not self.k and self.c == 0) or (self.k == [0] and self.v == [0])


# ---------------------------------------------------------------- files
def sha256_of(path: str) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise Unreadable(f"cannot read {path!r} ({exc.strerror or type(exc).__name__})") from None
    return h.hexdigest()


def exact_array(a: np.ndarray, name: str) -> list:
    """Nested lists of Fractions: float16/32/64 and integer arrays at their exact values."""
    need(a.dtype.kind in "fiu" and a.dtype.itemsize <= 8, f"{name} has dtype {a.dtype}, which this re-checker does not read")
    if a.dtype.kind == "f":
        need(bool(np.all(np.isfinite(a))), f"{name} holds NaN or infinite values")
        return np.vectorize(lambda v: Fraction(float(v)), otypes=[object])(a).tolist()
    return np.vectorize(lambda v: Fraction(int(v)), otypes=[object])(a).tolist()


_ALLOWED = re.compile(r"(W|b)(0|[1-9]\d*)|activations|latentcheck_\w+")


def read_encoder(path: str) -> dict:
    """The encoder file's layers (exact), activation names and recorded normalisation; every key accounted for."""
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: np.asarray(data[k]) for k in data.files}
    except Exception as exc:  # noqa: BLE001 - any failure to read the archive is "unreadable", never a traceback
        raise Unreadable(f"cannot read the encoder file {path!r} as .npz ({type(exc).__name__})") from None
    odd = sorted(k for k in arrays if not _ALLOWED.fullmatch(k))
    need(not odd, f"the encoder file holds keys {odd[:5]} that are not W<i>, b<i>, activations or latentcheck_*")
    L = len([k for k in arrays if k.startswith("W")])
    need(L >= 1 and all(f"W{i}" in arrays and f"b{i}" in arrays for i in range(L)) and
         len([k for k in arrays if k[0] == "b" and k[1:].isdigit()]) == L,
         f"the encoder file's layers are not exactly W0, b0, ..., W{L - 1}, b{L - 1}")
    W = [exact_array(arrays[f"W{i}"], f"W{i}") for i in range(L)]
    b = [exact_array(arrays[f"b{i}"], f"b{i}") for i in range(L)]
    for i in range(L):
        need(arrays[f"W{i}"].ndim == 2 and arrays[f"b{i}"].shape == (arrays[f"W{i}"].shape[0],), f"W{i}/b{i} shapes do not fit")
        need(i == 0 or arrays[f"W{i}"].shape[1] == arrays[f"W{i - 1}"].shape[0], f"W{i} does not take layer {i - 1}'s outputs")
    names = arrays.get("activations")
    need(names is not None and names.dtype.kind == "U", "the encoder file stores no activation names")
    names = [str(s) for s in np.atleast_1d(names).tolist()]
    need(len(names) == L, "the encoder file stores one activation name per layer")
    norm = arrays.get("latentcheck_normalise")
    sizes = [int(arrays["W0"].shape[1])] + [int(arrays[f"W{i}"].shape[0]) for i in range(L)]
    return {"W": W, "b": b, "names": names, "sizes": sizes,
            "normalise": "none" if norm is None else str(norm)}


def encoder_path_for(path: str, doc: dict, encoder: str | None) -> str:
    if encoder is not None:
        return encoder
    name = doc.get("encoder_file", "encoder.npz")
    need(isinstance(name, str) and os.path.basename(name) == name, "encoder_file must be a plain file name")
    return os.path.join(os.path.dirname(os.path.abspath(path)), name)


# ---------------------------------------------------------------- binding: the certificate names its model
def bind(cert: dict, enc: dict, enc_path: str, model: str | None, require_hash: bool) -> list[str]:
    """Check that the certificate's claims about the encoder are the file's; return notes."""
    notes = []
    claimed = cert.get("encoder_sha256")
    if require_hash or claimed is not None:
        need(isinstance(claimed, str), "the certificate names no encoder_sha256 (re-run latentcheck verify --out)")
        need(sha256_of(enc_path) == claimed, "the encoder file's SHA-256 differs from the certificate's encoder_sha256")
    L = len(enc["W"])
    need(cert.get("sizes") == enc["sizes"], f"the certificate claims sizes {str(cert.get('sizes'))[:80]}, the encoder file has {enc['sizes']}")
    names = seq(cert.get("activation_names"), "activation_names", L)
    need(names == enc["names"], f"the certificate claims activations {str(names)[:120]}, the encoder file stores {enc['names']}")
    inputs = obj(cert.get("inputs"), "inputs (the certificate's input semantics)")
    need(inputs.get("normalise") == enc["normalise"],
         f"the certificate claims input normalisation {str(inputs.get('normalise'))[:20]!r}, the encoder file records {enc['normalise']!r}")
    notes += bind_model(cert, model)
    return notes


def bind_model(doc: dict, model: str | None) -> list[str]:
    """``--model``: the model file the encoder was read from must have the SHA-256 the certificate records."""
    rec = doc.get("model")
    if model is None:
        if isinstance(rec, dict) and rec.get("sha256"):
            return [f"model file {str(rec.get('path'))[:200]} (SHA-256 {str(rec['sha256'])[:64]}) not re-hashed; pass --model PATH"]
        return []
    need(isinstance(rec, dict) and isinstance(rec.get("sha256"), str),
         "--model given, but the certificate records no SHA-256 of a model file to compare it with")
    need(sha256_of(model) == rec["sha256"], f"--model {model!r} has another SHA-256 than the certificate's model file")
    return [f"model file {model} matches the recorded SHA-256"]


def activations_for(cert: dict, names: list[str], L: int) -> tuple[list, list[str]]:
    """The certificate's piecewise-linear forms; catalog names must have the catalog's knots, a formula's form
    must be the function the formula stored in the encoder file defines (:func:`formula_pl`)."""
    act = [PL(a) for a in seq(cert.get("activations"), "activations", L)]
    notes = []
    for i, (name, a) in enumerate(zip(names, act)):
        if name in CATALOG:
            need(a.same_as(CATALOG[name]), f"layer {i}: the knots given for {name} are wrong")
        else:
            need(same_function(a, formula_pl(name)), f"layer {i}: the form given for {name[:80]!r} is not that formula")
            notes.append(f"layer {i}: activation {name[:80]!r} re-derived from its formula (knots {[str(v) for v in a.k][:8]})")
    return act, notes


# ---------------------------------------------------------------- formula activations
# A formula activation (``Max(0, t - 1)``, ``Abs(t) - 1``, ...) is re-derived here from the text the encoder
# file stores, without sympy and without eval: numbers (read exactly, ``0.1`` is 1/10), ``t``, ``+ - * /``
# (products and quotients with a constant side only), ``**`` (a constant integer exponent: ``f**1``, ``f**0``,
# ``c**k``), parentheses, ``Max``, ``Min`` and ``Abs`` (or ``max``, ``min``, ``abs``). Anything else is
# rejected: the certificate's form of it could not be checked.
MAX_FORMULA = 400
_FTOKEN = re.compile(r"\s*(?:(\d(?:_?\d)*\.?(?:\d(?:_?\d)*)?(?:[eE][-+]?\d{1,3})?|\.\d(?:_?\d)*(?:[eE][-+]?\d{1,3})?)"
                     r"|([A-Za-z_]\w*)|(\*\*|\^|[-+*/(),]))")
#: The encoder's own reader (theorems/expr.py) refuses literals above 1e12 and constants of more than 4000 bits;
#: so does this one. Brackets and calls nest at most 100 deep here (Python's parser stops near 200 brackets; 100
#: keeps this recursive reader well inside the interpreter's stack).
_MAX_LITERAL, _MAX_BITS, _MAX_NEST = Fraction(10) ** 12, 4000, 100


def _ftokens(text: str) -> list[tuple[str, object]]:
    need(len(text) <= MAX_FORMULA, f"activation formula {text[:40]!r}... is too long to re-check")
    out, pos, text = [], 0, text.rstrip()
    while pos < len(text):
        m = _FTOKEN.match(text, pos)
        need(m is not None, f"activation formula {text[:80]!r} cannot be re-checked here (at {text[pos:pos + 12]!r}: "
             "only numbers, t, + - * /, Max, Min and Abs are read)")
        num, name, op = m.groups()
        need(num is None or len(num) <= 60, f"activation formula {text[:80]!r}: a number is too long")
        if num is not None:
            num = num.replace("_", "")
            need(Fraction(num) <= _MAX_LITERAL, f"activation formula {text[:80]!r}: a number above 1e12")
        out.append(("num", Fraction(num)) if num else ("name", name) if name else ("op", "**" if op == "^" else op))
        pos = m.end()
    return out + [("end", None)]


def _fval(f: tuple, t: Fraction) -> Fraction:
    """Value at ``t`` of ``f = (knots, values, slope_left, slope_right)`` (at least one knot)."""
    K, V, sl, sr = f
    if t <= K[0]:
        return V[0] + sl * (t - K[0])
    if t >= K[-1]:
        return V[-1] + sr * (t - K[-1])
    i = max(i for i in range(len(K)) if K[i] <= t)
    return V[i] + (V[i + 1] - V[i]) * (t - K[i]) / (K[i + 1] - K[i])


def _fcomb(f: tuple, g: tuple, a: Fraction, b: Fraction) -> tuple:
    """``a f + b g``."""
    K = sorted(set(f[0]) | set(g[0]))
    return K, [a * _fval(f, k) + b * _fval(g, k) for k in K], a * f[2] + b * g[2], a * f[3] + b * g[3]


def _fmax(f: tuple, g: tuple) -> tuple:
    """``max(f, g)``: the union of the knots and every crossing (between knots ``f - g`` is affine)."""
    K = sorted(set(f[0]) | set(g[0]))
    d = [_fval(f, k) - _fval(g, k) for k in K]
    cross = [k0 + (k1 - k0) * d0 / (d0 - d1) for k0, k1, d0, d1 in zip(K, K[1:], d, d[1:]) if d0 * d1 < 0]
    if f[2] != g[2] and K[0] - d[0] / (f[2] - g[2]) < K[0]:
        cross.append(K[0] - d[0] / (f[2] - g[2]))
    if f[3] != g[3] and K[-1] - d[-1] / (f[3] - g[3]) > K[-1]:
        cross.append(K[-1] - d[-1] / (f[3] - g[3]))
    K = sorted(set(K) | set(cross))
    left, right = K[0] - 1, K[-1] + 1  # beyond the outer knots no crossing: the larger side there wins
    sl = f[2] if _fval(f, left) >= _fval(g, left) else g[2]
    sr = f[3] if _fval(f, right) >= _fval(g, right) else g[3]
    return K, [max(_fval(f, k), _fval(g, k)) for k in K], sl, sr


def _fconst(f: tuple) -> Fraction | None:
    return f[1][0] if f[2] == 0 and f[3] == 0 and len(set(f[1])) == 1 else None


class _Formula:
    """Recursive descent over the tokens: sum := term (('+'|'-') term)*, term := unary (('*'|'/') unary)*,
    unary := ('-'|'+') unary | power, power := atom ('**' unary)?,
    atom := number | t | (Max|Min|Abs) '(' sum (',' sum)* ')' | '(' sum ')'."""

    def __init__(self, text: str) -> None:
        self.text, self.toks, self.i, self.depth = text, _ftokens(text), 0, 0

    def peek(self) -> tuple[str, object]:
        return self.toks[self.i]

    def take(self, kind: str, value: object = None) -> object:
        k, v = self.toks[self.i]
        need(k == kind and (value is None or v == value), f"activation formula {self.text[:80]!r} cannot be read")
        self.i += 1
        return v

    def sum(self) -> tuple:
        f = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            sign = Fraction(1) if self.take("op") == "+" else Fraction(-1)
            f = _fcomb(f, self.term(), Fraction(1), sign)
        return f

    def term(self) -> tuple:
        f = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op, g = self.take("op"), self.unary()
            cf, cg = _fconst(f), _fconst(g)
            if op == "*":
                need(cf is not None or cg is not None, f"activation formula {self.text[:80]!r}: a product of two "
                     "non-constant terms is not piecewise linear")
                f = _fcomb(g, g, cf, Fraction(0)) if cf is not None else _fcomb(f, f, cg, Fraction(0))
            else:
                need(cg is not None and cg != 0, f"activation formula {self.text[:80]!r}: only division by a nonzero constant is read")
                f = _fcomb(f, f, 1 / cg, Fraction(0))
        return f

    def unary(self) -> tuple:
        if self.peek() in (("op", "-"), ("op", "+")):
            sign = Fraction(-1) if self.take("op") == "-" else Fraction(1)
            f = self.unary()
            return _fcomb(f, f, sign, Fraction(0))
        return self.power()

    def power(self) -> tuple:
        f = self.atom()
        if self.peek() != ("op", "**"):
            return f
        self.i += 1
        e, c = _fconst(self.unary()), _fconst(f)
        need(e is not None and e.denominator == 1 and (e >= 0 or c not in (None, 0)) and abs(e) <= 64,
             f"activation formula {self.text[:80]!r}: only a constant integer exponent is read")
        if c is not None:
            size = max(abs(c.numerator), c.denominator).bit_length() * abs(int(e))
            need(size <= _MAX_BITS, f"activation formula {self.text[:80]!r}: a constant with more than 4000 bits")
            return [Fraction(0)], [c ** int(e)], Fraction(0), Fraction(0)
        need(e in (0, 1), f"activation formula {self.text[:80]!r}: a power of t other than 0 or 1 is not piecewise linear")
        return f if e == 1 else ([Fraction(0)], [Fraction(1)], Fraction(0), Fraction(0))

    def atom(self) -> tuple:
        self.depth += 1
        try:
            need(self.depth <= _MAX_NEST, f"activation formula {self.text[:80]!r} is nested too deeply")
            return self._atom()
        finally:
            self.depth -= 1

    def _atom(self) -> tuple:
        kind, v = self.peek()
        if kind == "num":
            self.i += 1
            return [Fraction(0)], [v], Fraction(0), Fraction(0)
        if kind == "op" and v == "(":
            self.i += 1
            f = self.sum()
            self.take("op", ")")
            return f
        name = self.take("name")
        if name == "t":
            return [Fraction(0)], [Fraction(0)], Fraction(1), Fraction(1)
        need(name in ("Max", "Min", "Abs", "max", "min", "abs"), f"activation formula {self.text[:80]!r}: "
             f"{str(name)[:20]!r} cannot be re-checked here (only Max, Min, Abs)")
        name = name.capitalize()
        self.take("op", "(")
        args = [self.sum()]
        while self.peek() == ("op", ","):
            self.i += 1
            args.append(self.sum())
        self.take("op", ")")
        if name == "Abs":
            need(len(args) == 1, "Abs takes one argument")
            return _fmax(args[0], _fcomb(args[0], args[0], Fraction(-1), Fraction(0)))
        sign = Fraction(1) if name == "Max" else Fraction(-1)  # Min(f, g) = -Max(-f, -g)
        out = _fcomb(args[0], args[0], sign, Fraction(0))
        for g in args[1:]:
            out = _fmax(out, _fcomb(g, g, sign, Fraction(0)))
        return _fcomb(out, out, sign, Fraction(0))


def formula_pl(text: str) -> tuple:
    """The exact piecewise-linear function a formula activation defines: ``(knots, values, slope_left,
    slope_right)``; :class:`Rejected` when the text is outside the language above."""
    need(isinstance(text, str), "an activation name is not a string")
    parser = _Formula(text)
    f = parser.sum()
    parser.take("end")
    return f


def same_function(a: "PL", f: tuple) -> bool:
    """Whether the certificate's form ``a`` and ``f`` are the same function: equal at every knot of either and
    with the same end slopes (beyond the outermost knot both are affine)."""
    pts = sorted(set(a.k) | set(f[0]))
    return all(a(p) == _fval(f, p) for p in pts) and a.sl == f[2] and a.sr == f[3]


# ---------------------------------------------------------------- bounds
def meet(a: Fraction | None, b: Fraction | None, lower: bool) -> Fraction | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if lower else min(a, b)


def affine_bounds(W: list, b: list, lo: list, hi: list) -> tuple[list, list]:
    zl, zu = [], []
    for row, bi in zip(W, b):
        lw_, up_ = bi, bi
        for w, a, c in zip(row, lo, hi):
            if w == 0:
                continue
            lw, uw = (a, c) if w > 0 else (c, a)  # w*x is smallest at lw
            lw_ = None if (lw_ is None or lw is None) else lw_ + w * lw
            up_ = None if (up_ is None or uw is None) else up_ + w * uw
        zl.append(lw_)
        zu.append(up_)
    return zl, zu


def box_of(net: tuple, xlo: list, xhi: list, clamps: dict) -> dict | None:
    """Exact bounds of x, z_k, h_k in a leaf (h of the latent layer is 0); None when the leaf is empty."""
    W, b, act = net
    xlo = [meet(v, clamps.get(("x", i), (None, None))[0], True) for i, v in enumerate(xlo)]
    xhi = [meet(v, clamps.get(("x", i), (None, None))[1], False) for i, v in enumerate(xhi)]
    if any(a is not None and c is not None and a > c for a, c in zip(xlo, xhi)):
        return None
    box = {"x": (xlo, xhi), "z": [], "h": []}
    lo, hi = xlo, xhi
    for k in range(len(W)):
        zl, zu = affine_bounds(W[k], b[k], lo, hi)
        for j in range(len(zl)):
            cl, cu = clamps.get(("z", k, j), (None, None))
            zl[j], zu[j] = meet(zl[j], cl, True), meet(zu[j], cu, False)
            if zl[j] is not None and zu[j] is not None and zl[j] > zu[j]:
                return None
        box["z"].append((zl, zu))
        spans = [act[k].span(a, c) for a, c in zip(zl, zu)]
        lo, hi = [s[0] for s in spans], [s[1] for s in spans]
        if k == len(W) - 1:
            if any((a is not None and a > 0) or (c is not None and c < 0) for a, c in zip(lo, hi)):
                return None
            lo, hi = [Fraction(0)] * len(lo), [Fraction(0)] * len(hi)
        box["h"].append((lo, hi))
    return box


def unit(net: tuple, row: list, what: str) -> tuple[int, int]:
    """``(k, j)`` of a row or split: a layer index and a unit index inside it, both checked."""
    W = net[0]
    k = idx(row[1], len(W), f"{what}: layer")
    return k, idx(row[2], len(W[k]), f"{what}: unit")


def combine(net: tuple, box: dict, rows: list, allow_sum: bool) -> tuple[dict, Fraction]:
    """Sum of multiplier * row: ``{variable: coefficient}`` and ``d`` with sum <= d at every feasible point."""
    W, b, act = net
    r: dict = {}
    d = Fraction(0)

    def add(var: tuple, val: Fraction) -> None:
        r[var] = r.get(var, Fraction(0)) + val

    for row in seq(rows, "a leaf's rows"):
        need(isinstance(row, list) and row and row[0] in ("aff", "hull", "sum"), f"unknown row {str(row)[:60]}")
        if row[0] == "aff":
            seq(row, "an aff row", 4)
            k, j = unit(net, row, "aff row")
            mu = Q(row[3])
            add(("z", k, j), mu)
            for i, w in enumerate(W[k][j]):
                if w != 0:
                    add(("x", i) if k == 0 else ("h", k - 1, i), -mu * w)
            d += mu * b[k][j]
        elif row[0] == "hull":
            seq(row, "a hull row", 7)
            k, j = unit(net, row, "hull row")
            a, c, sense, y = Q(row[3]), Q(row[4]), row[5], Q(row[6])
            need(y >= 0, f"negative multiplier on a hull row of unit ({k},{j})")
            zl, zu = box["z"][k][0][j], box["z"][k][1][j]
            need(act[k].valid(a, c, sense, zl, zu), f"hull row of unit ({k},{j}) is not valid on [{zl}, {zu}]")
            sg = 1 if sense == "le" else -1
            add(("h", k, j), sg * y)
            add(("z", k, j), -sg * y * a)
            d += sg * y * c
        else:
            seq(row, "a sum row", 2)
            need(allow_sum, "the sum row is valid on the binary domain only")
            y = Q(row[1])
            need(y >= 0, "negative multiplier on the sum row")
            for i in range(len(box["x"][0])):
                add(("x", i), -y)
            d -= y
    return r, d


def min_over_box(box: dict, r: dict, skip: tuple | None = None) -> Fraction | None:
    total = Fraction(0)
    for var, coef in r.items():
        if coef == 0 or var == skip:
            continue
        if var[0] == "x":
            lo, hi = box["x"][0][var[1]], box["x"][1][var[1]]
        else:
            lo, hi = box[var[0]][var[1]][0][var[2]], box[var[0]][var[1]][1][var[2]]
        end = lo if coef > 0 else hi
        if end is None:
            return None
        total += coef * end
    return total


# ---------------------------------------------------------------- the P3 certificate
def domain_box(dom: object, n: int) -> tuple[list, list]:
    dom = obj(dom, "domain")
    kind = dom.get("kind")
    if kind == "box":
        lo, hi = Q(dom.get("lo")), Q(dom.get("hi"))
        need(lo <= hi, "the domain box is empty")
        return [lo] * n, [hi] * n
    if kind == "binary":
        return [Fraction(0)] * n, [Fraction(1)] * n
    if kind == "nonneg":
        return [Fraction(0)] * n, [None] * n
    need(kind == "reals", f"unknown domain {str(kind)[:40]!r}")
    return [None] * n, [None] * n


def forward(net: tuple, x: list) -> list:
    W, b, act = net
    h = x
    for k in range(len(W)):
        h = [act[k](sum((w * v for w, v in zip(row, h)), Fraction(0)) + bi) for row, bi in zip(W[k], b[k])]
    return h


def cone_ok(net: tuple) -> bool:
    W, b, act = net
    return all(v == 0 for bk in b for v in bk) and all(a.homogeneous() for a in act)


def cases(cert: dict, net: tuple, n: int) -> list:
    lo, hi = domain_box(cert.get("domain"), n)
    nz = obj(cert.get("nonzero"), "nonzero")
    has0 = all((a is None or a <= 0) and (c is None or c >= 0) for a, c in zip(lo, hi))
    kind = nz.get("kind")
    if kind == "binary-sum":
        need(cert["domain"].get("kind") == "binary", "binary-sum needs the binary domain")
        return [(lo, hi, True)]
    if kind == "zero-outside-domain":
        need(not has0, "0 is in the domain")
        return [(lo, hi, False)]
    if kind == "enc0-nonzero":
        need(not has0 or any(v != 0 for v in forward(net, [Fraction(0)] * n)), "enc(0) = 0")
        return [(lo, hi, False)]
    need(kind == "cone", f"unknown nonzero argument {str(kind)[:40]!r}")
    need(has0, "the cone argument needs 0 in the domain")
    need(cone_ok(net), "the cone argument needs zero biases and positively homogeneous activations")
    want = {(i, 1) for i in range(n) if hi[i] is None or hi[i] > 0} | {(i, -1) for i in range(n) if lo[i] is None or lo[i] < 0}
    got = []
    for c in seq(nz.get("cases"), "the cone cases"):
        c = seq(c, "a cone case", 2)
        need(c[1] in (1, -1) and not isinstance(c[1], bool), f"cone case sign {str(c[1])[:20]!r} is not 1 or -1")
        got.append((idx(c[0], n, "cone case coordinate"), c[1]))
    need(set(got) == want and len(got) == len(set(got)), "the cone cases do not cover every allowed coordinate and sign")
    out = []
    for i, s in got:
        cl = [Fraction(-1) if (a is None or a < 0) else Fraction(0) for a in lo]
        ch = [Fraction(1) if (c is None or c > 0) else Fraction(0) for c in hi]
        cl[i] = ch[i] = Fraction(s)
        out.append((cl, ch, False))
    return out


def check_bound(net: tuple, lo: list, hi: list, clamps: dict, entry: object, allow_sum: bool) -> None:
    entry = seq(entry, "a derived bound", 5)
    k = idx(entry[0], len(net[0]), "derived bound: layer")
    j = idx(entry[1], len(net[0][k]), "derived bound: unit")
    sense, value = entry[2], Q(entry[3])
    need(sense in ("le", "ge"), f"derived bound sense {str(sense)[:20]!r} is not le or ge")
    box = box_of(net, lo, hi, clamps)
    if box is not None:  # an empty box makes every bound true
        r, d = combine(net, box, entry[4], allow_sum)
        var = ("z", k, j)
        rho = r.get(var, Fraction(0))
        rest = min_over_box(box, r, skip=var)
        need(rest is not None, f"derived bound on z[{k}][{j}] leans on an unbounded variable")
        if sense == "le":
            need(rho > 0 and (d - rest) / rho <= value, f"derived bound z[{k}][{j}] <= {value} does not follow")
        else:
            need(rho < 0 and (d - rest) / rho >= value, f"derived bound z[{k}][{j}] >= {value} does not follow")
    old = clamps.get(("z", k, j), (None, None))
    clamps[("z", k, j)] = (meet(old[0], value, True), old[1]) if sense == "ge" else (old[0], meet(old[1], value, False))


def split_of(net: tuple, node: dict, binary: bool, n: int) -> tuple[tuple, tuple]:
    var = seq(node.get("split"), "a split")
    need(len(var) >= 2 and var[0] in ("x", "z"), f"unknown split {str(var)[:60]}")
    if var[0] == "x":
        need(binary, "x splits are valid on the binary domain only")
        return ("x", idx(var[1], n, "x split")), ((None, Fraction(0)), (Fraction(1), None))
    seq(var, "a z split", 4)
    k, j = unit(net, var, "z split")
    beta = Q(var[3])
    return ("z", k, j), ((None, beta), (beta, None))


def check_leaf(net: tuple, lo: list, hi: list, node: dict, path: dict, allow_sum: bool, leaves: int) -> None:
    box = box_of(net, lo, hi, path)
    if node.get("leaf") == "interval":
        need(box is None, f"leaf {leaves}: the exact interval bounds do not empty it")
        return
    need(node.get("leaf") == "farkas", f"leaf {leaves}: kind {str(node.get('leaf'))[:40]!r} is not a proof")
    if box is None:
        return
    r, d = combine(net, box, node.get("rows"), allow_sum)
    low = min_over_box(box, r)
    need(low is not None, f"leaf {leaves}: the combination leans on an unbounded variable")
    need(low > d, f"leaf {leaves}: no contradiction ({float(low)} <= {float(d)})")


def check_tree(net: tuple, lo: list, hi: list, allow_sum: bool, tree: object, binary: bool) -> int:
    tree = obj(tree, "a tree")
    clamps: dict = {}
    for entry in seq(tree.get("bounds", []), "a tree's bounds"):
        check_bound(net, lo, hi, clamps, entry, allow_sum)
    leaves, stack = 0, [(tree.get("root"), dict(clamps))]
    while stack:
        node, path = stack.pop()
        node = obj(node, "a tree node")
        if "split" in node:
            key, cuts = split_of(net, node, binary, len(lo))
            for side, (a, c) in zip(("le", "ge"), cuts):
                old = path.get(key, (None, None))
                stack.append((node.get(side), {**path, key: (meet(old[0], a, True), meet(old[1], c, False))}))
            continue
        leaves += 1
        check_leaf(net, lo, hi, node, path, allow_sum, leaves)
    return leaves


def recheck(cert: object, encoder_path: str, model: str | None = None, require_hash: bool = False) -> tuple[int, list[str]]:
    """Re-check a P3 certificate against its encoder file: ``(leaves, notes)``; raises :class:`Rejected`."""
    cert = obj(cert, "the certificate")
    need(cert.get("schema") == SCHEMA, "unknown schema")
    need(cert.get("property") == "p3", "not a P3 certificate")
    need(cert.get("normalise", "none") == "none", "only un-normalised inputs are defined by this schema")
    enc = read_encoder(encoder_path)
    notes = bind(cert, enc, encoder_path, model, require_hash)
    L = len(enc["W"])
    act, more = activations_for(cert, enc["names"], L)
    net = (enc["W"], enc["b"], act)
    if cert["inputs"]["normalise"] != "none":  # the proof is about enc(x); it carries over to enc(x/|x|) only for a cone
        need(cert["inputs"]["normalise"] == "l2" and cone_ok(net),
             "the proof is about un-normalised inputs; it covers normalised ones only for zero biases and "
             "positively homogeneous activations")
    n = enc["sizes"][0]
    cs = cases(cert, net, n)
    trees = seq(cert.get("trees"), "trees", len(cs))
    binary = cert["domain"].get("kind") == "binary"
    leaves = sum(check_tree(net, lo, hi, s, t, binary) for (lo, hi, s), t in zip(cs, trees))
    return leaves, notes + more


# ================================================================ l2-normalised binary users (schema -l2/1)
# The encoder sees x/|x|_2; for positively homogeneous activations enc(x/s) = enc_s(x)/s where enc_s has
# every bias b replaced by s*b, s = sqrt(1'x). Checked: the cover of k = 1'x = 1..n, each entry's s box
# and cuts (valid for s = sqrt(k) for every k in the range), and each entry's proof (unit or tree).
def l2_sign(a: Fraction, b: Fraction, k: int) -> int:
    """Sign of a + b*sqrt(k), exactly: compare squares when a and b have opposite signs."""
    import math

    r = math.isqrt(k)
    if r * r == k:
        v = a + b * r
        return (v > 0) - (v < 0)
    if a >= 0 and b >= 0:
        return 1 if (a > 0 or b > 0) else 0
    if a <= 0 and b <= 0:
        return -1
    return (1 if a > 0 else -1) if a * a > b * b * k else (1 if b > 0 else -1)


def l2_slopes(d: object, name: str) -> tuple[Fraction, Fraction]:
    """(slope for t < 0, slope for t > 0) of a positively homogeneous activation; catalog names checked."""
    a = PL(d)
    need(a.homogeneous(), f"activation {name[:80]}: not positively homogeneous")
    if name in CATALOG:
        need(a.same_as(CATALOG[name]), f"the knots given for {name} are wrong")
    else:
        need(same_function(a, formula_pl(name)), f"the form given for {name[:80]!r} is not that formula")
    return a.sl, a.sr


def l2_entry(e: object, n: int) -> tuple:
    e = obj(e, "a cover entry")
    kr, sr = seq(e.get("k"), "an entry's k range", 2), seq(e.get("s"), "an entry's s range", 2)
    need(all(isinstance(v, int) and not isinstance(v, bool) for v in kr), "an entry's k range is not two integers")
    klo, khi = kr
    need(1 <= klo <= khi <= n, f"range {klo}..{khi} outside 1..{n}")
    slo, shi = Q(sr[0]), Q(sr[1])
    need(slo >= 0 and slo * slo <= klo, f"s_lo {slo} above sqrt({klo})")
    need(shi >= 0 and shi * shi >= khi, f"s_hi {shi} below sqrt({khi})")
    cuts = []
    for cut in seq(e.get("cuts", []), "an entry's cuts"):
        sense, a, c = seq(cut, "a cut", 3)
        a, c = Q(a), Q(c)
        if sense == "ge":  # line below sqrt at both ends of the range; sqrt is concave
            for k in (klo, khi):
                v = a + c * k
                need(v <= 0 or v * v <= k, f"cut s >= {a} + {c}*k fails at k = {k}")
        else:
            need(sense == "le" and c > 0, "an upper cut needs a positive slope")
            need(4 * a * c >= 1, f"cut s <= {a} + {c}*k is below sqrt somewhere")  # min of a + c k - sqrt(k) is a - 1/(4c)
        cuts.append((sense, a, c))
    return klo, khi, slo, shi, cuts


def l2_apply(sl: Fraction, sr: Fraction, t: Fraction) -> Fraction:
    return sr * t if t > 0 else sl * t


def l2_layer(Wk: list, bk: list, slo: Fraction, shi: Fraction, lo: list, hi: list, clamp: dict, k: int) -> tuple | None:
    zl, zh = [], []
    for j, (row, bj) in enumerate(zip(Wk, bk)):
        a = sum((w * (lo[i] if w > 0 else hi[i]) for i, w in enumerate(row) if w), Fraction(0)) + min(bj * slo, bj * shi)
        c = sum((w * (hi[i] if w > 0 else lo[i]) for i, w in enumerate(row) if w), Fraction(0)) + max(bj * slo, bj * shi)
        clo, chi = clamp.get((k, j), (None, None))
        a = a if clo is None else max(a, clo)
        c = c if chi is None else min(c, chi)
        if a > c:
            return None
        zl.append(a)
        zh.append(c)
    return zl, zh


def l2_box(W: list, b: list, slopes: list, rng: tuple, xfix: dict, zclamp: dict) -> dict | None:
    """Per-variable exact bounds on a leaf, or None when the leaf holds no point."""
    klo, khi, slo, shi = rng
    n = len(W[0][0])
    xlo = [Fraction(xfix.get(i, 0)) for i in range(n)]
    xhi = [Fraction(xfix.get(i, 1)) for i in range(n)]
    if sum(xlo) > khi or sum(xhi) < klo:
        return None
    lo, hi = xlo, xhi
    zs, hs = [], []
    for k, (Wk, bk) in enumerate(zip(W, b)):
        z = l2_layer(Wk, bk, slo, shi, lo, hi, zclamp, k)
        if z is None:
            return None
        sl, sr = slopes[k]
        hl = [min([l2_apply(sl, sr, a), l2_apply(sl, sr, c)] + ([Fraction(0)] if a < 0 < c else [])) for a, c in zip(*z)]
        hh = [max([l2_apply(sl, sr, a), l2_apply(sl, sr, c)] + ([Fraction(0)] if a < 0 < c else [])) for a, c in zip(*z)]
        if k == len(W) - 1:
            if any(a > 0 or c < 0 for a, c in zip(hl, hh)):
                return None
            hl, hh = [Fraction(0)] * len(hl), [Fraction(0)] * len(hh)
        zs.append(z)
        hs.append((hl, hh))
        lo, hi = hl, hh
    return {"x": (xlo, xhi), "s": (slo, shi), "z": zs, "h": hs}


def l2_row(net: tuple, box: dict, row: object, rng: tuple, cuts: list, add) -> Fraction:
    """Add one row's multiple to the combination (through ``add``); return its right-hand side."""
    W, b, slopes = net
    need(isinstance(row, list) and row and row[0] in ("aff", "hull", "ksum", "scut"), f"unknown row {str(row)[:60]}")
    if row[0] == "aff":  # mu * (z_kj - W_kj . h_{k-1} - b_kj s) = 0
        seq(row, "an aff row", 4)
        k, j = unit((W,), row, "aff row")
        mu = Q(row[3])
        add(("z", k, j), mu)
        for i, w in enumerate(W[k][j]):
            if w:
                add(("x", i) if k == 0 else ("h", k - 1, i), -mu * w)
        add(("s",), -mu * b[k][j])
        return Fraction(0)
    if row[0] == "hull":
        seq(row, "a hull row", 7)
        k, j = unit((W,), row, "hull row")
        a, c, sense, y = Q(row[3]), Q(row[4]), row[5], Q(row[6])
        need(y >= 0 and sense in ("ge", "le"), "negative multiplier or unknown sense")
        lo, hi = box["z"][k][0][j], box["z"][k][1][j]
        sg = 1 if sense == "ge" else -1
        pts = [lo, hi] + ([Fraction(0)] if lo < 0 < hi else [])
        need(all(sg * (l2_apply(*slopes[k], p) - a * p - c) >= 0 for p in pts), f"line {str(row[:6])[:80]} invalid on the leaf")
        add(("z", k, j), sg * y * a)
        add(("h", k, j), -sg * y)
        return -sg * y * c
    seq(row, f"a {row[0]} row", 3)
    y = Q(row[2])
    need(y >= 0, "negative multiplier")
    n = len(box["x"][0])
    if row[0] == "ksum":
        need(row[1] in ("ge", "le"), "a ksum row is ge or le")
        sg = -1 if row[1] == "ge" else 1
        for i in range(n):
            add(("x", i), sg * y)
        return sg * y * (rng[0] if row[1] == "ge" else rng[1])
    sense, a, c = cuts[idx(row[1], len(cuts), "scut row: cut")]
    sg = 1 if sense == "ge" else -1
    for i in range(n):
        add(("x", i), sg * y * c)
    add(("s",), -sg * y)
    return -sg * y * a


def l2_farkas(net: tuple, box: dict, rows: object, rng: tuple, cuts: list) -> None:
    coef: dict = {}

    def add(var: tuple, v: Fraction) -> None:
        coef[var] = coef.get(var, Fraction(0)) + v

    d = sum((l2_row(net, box, row, rng, cuts, add) for row in seq(rows, "a leaf's rows")), Fraction(0))
    low = Fraction(0)
    for var, r in coef.items():
        if var[0] == "x":
            lo, hi = box["x"][0][var[1]], box["x"][1][var[1]]
        elif var[0] == "s":
            lo, hi = box["s"]
        else:
            lo, hi = box[var[0]][var[1]][0][var[2]], box[var[0]][var[1]][1][var[2]]
        low += r * (lo if r > 0 else hi)
    need(low > d, f"no contradiction ({float(low)} <= {float(d)})")


def l2_tree(net: tuple, root: object, rng: tuple, cuts: list) -> int:
    W = net[0]
    leaves, todo = 0, [(root, {}, {})]
    while todo:
        node, xfix, zclamp = todo.pop()
        node = obj(node, "a tree node")
        if "split" in node:
            sp = seq(node["split"], "a split")
            need(len(sp) >= 2 and sp[0] in ("x", "z"), f"bad split {str(sp)[:60]}")
            if sp[0] == "x":
                i = idx(sp[1], len(W[0][0]), "x split")
                need(i not in xfix, f"x[{i}] split twice")
                todo += [(node.get("le"), {**xfix, i: 0}, zclamp), (node.get("ge"), {**xfix, i: 1}, zclamp)]
            else:
                key = unit((W,), seq(sp, "a z split", 3), "z split")
                lo, hi = zclamp.get(key, (None, None))
                todo.append((node.get("le"), xfix, {**zclamp, key: (lo, Fraction(0) if hi is None else min(hi, Fraction(0)))}))
                todo.append((node.get("ge"), xfix, {**zclamp, key: (Fraction(0) if lo is None else max(lo, Fraction(0)), hi)}))
            continue
        leaves += 1
        box = l2_box(W, net[1], net[2], rng, xfix, zclamp)
        if box is not None and node.get("leaf") == "point":  # one user (every input fixed), not encoded as 0
            need(len(xfix) == len(W[0][0]), "a point leaf must fix every input")
            need(not l2_user_zero(net, [xfix[i] for i in range(len(W[0][0]))]), "a point leaf's user is encoded as exactly 0")
        elif box is not None:
            need(node.get("leaf") == "farkas", "a non-empty leaf without Farkas rows")
            l2_farkas(net, box, node.get("rows"), rng, cuts)
    return leaves


def l2_user_zero(net: tuple, x: list) -> bool:
    """Whether the binary user ``x`` is encoded as exactly 0 under l2: ``enc_s(x)`` as pairs ``a + c sqrt(k)``
    (layer by layer: ``z = W h + b s``, then the activation's slope on the sign of ``z``), all signs 0."""
    W, b, slopes = net
    k = sum(x)
    if k == 0:
        return False
    ha, hc = [Fraction(v) for v in x], [Fraction(0)] * len(x)
    for Wk, bk, (sl, sr) in zip(W, b, slopes):
        za = [sum((w * v for w, v in zip(row, ha) if w), Fraction(0)) for row in Wk]
        zc = [sum((w * v for w, v in zip(row, hc) if w), Fraction(0)) + bj for row, bj in zip(Wk, bk)]
        ms = [sr if l2_sign(a, c, k) >= 0 else sl for a, c in zip(za, zc)]
        ha, hc = [m * a for m, a in zip(ms, za)], [m * c for m, c in zip(ms, zc)]
    return all(l2_sign(a, c, k) == 0 for a, c in zip(ha, hc))


def l2_unit(W: list, b: list, slopes: list, proof: dict, klo: int, khi: int) -> int:
    """z_j >= (sum of the k smallest weights) + sqrt(k) b_j > 0 for every k in the range, so h_j != 0."""
    need(len(W) == 1 and slopes[0][1] != 0, "a unit proof needs one layer and s(t) != 0 for t > 0")
    j = idx(proof.get("j"), len(W[0]), "unit proof: unit")
    row = sorted(W[0][j])
    acc = sum(row[:klo - 1], Fraction(0))
    for k in range(klo, khi + 1):
        acc += row[k - 1]
        need(l2_sign(acc, b[0][j], k) > 0, f"unit {j} does not stay positive for {k} items")
    return khi - klo + 1


def recheck_l2(cert: object, encoder_path: str, model: str | None = None, require_hash: bool = False) -> tuple[int, list[str]]:
    """Re-check an l2 certificate against its encoder file: ``(units and leaves, notes)``; raises :class:`Rejected`."""
    cert = obj(cert, "the certificate")
    need(cert.get("schema") == SCHEMA_L2 and cert.get("property") == "p3", "unknown schema")
    need(cert.get("normalise") == "l2" and obj(cert.get("domain"), "domain").get("kind") == "binary",
         "l2 certificates are for binary users")
    enc = read_encoder(encoder_path)
    notes = bind(cert, enc, encoder_path, model, require_hash)
    need(enc["normalise"] == "l2", f"the encoder file records input normalisation {enc['normalise']!r}, not l2")
    W, b, L, n = enc["W"], enc["b"], len(enc["W"]), enc["sizes"][0]
    slopes = [l2_slopes(a, nm) for a, nm in zip(seq(cert.get("activations"), "activations", L), enc["names"])]
    covered, count = set(), 0
    for e in seq(cert.get("cover"), "cover"):
        klo, khi, slo, shi, cuts = l2_entry(e, n)
        covered.update(range(klo, khi + 1))
        proof = obj(e.get("proof"), "an entry's proof")
        if proof.get("kind") == "unit":
            count += l2_unit(W, b, slopes, proof, klo, khi)
        else:
            need(proof.get("kind") == "tree", "unknown proof kind")
            count += l2_tree((W, b, slopes), proof.get("root"), (klo, khi, slo, shi), cuts)
    missing = sorted(set(range(1, n + 1)) - covered)
    need(not missing, f"k = {missing[0] if missing else 0} is not covered")
    return count, notes


# ================================================================ smooth activations, P3-eps (schema -smooth/1)
# enc(x) = s(W x / S + b) on binary users, S = sqrt(1'x) (l2), K (divide:K) or 1 (none). Checked: the window
# (A, C) contains {t : |s(t)| < eps} (interval values at A and C, monotonicity below), the cover of k = 1'x,
# and each entry's proof: a unit whose row fails for every user with k items, or Farkas multipliers.
#: strictly increasing on the whole line (calculus: positive derivative)
SMOOTH_WHOLE = ("tanh", "sigmoid", "softplus", "elu")
#: strictly increasing on [0, inf) only (they dip below 0 for t < 0)
SMOOTH_FROM_0 = ("gelu", "silu")
IV_PREC = 160


def iv_of(q: Fraction):
    return iv.mpf(q.numerator) / iv.mpf(q.denominator)


def iv_erf_nonneg(y):
    """An interval containing erf(y) for a point interval y >= 0 (mpmath's iv.erf does not converge):
    erf(y) = 2/sqrt(pi) exp(-y^2) sum_n 2^n y^(2n+1) / (1*3*...*(2n+1)), all terms positive; the tail after
    term t is at most t * r / (1 - r), r the (decreasing) ratio 2 y^2 / (2n + 3) once it is below 1/2."""
    total, term, n = iv.mpf(0), y, 0
    while True:
        total += term
        ratio = 2 * y * y / (2 * n + 3)
        term = term * ratio
        n += 1
        if ratio.b < 0.5 and term.b < iv.mpf(2) ** (-IV_PREC):
            break
        need(n < 100000, "erf series did not converge")
    tail = term * 2  # ratio < 1/2 from here on: the rest is at most 2 * term
    pref = 2 / iv.sqrt(iv.pi) * iv.exp(-y * y)
    return iv.mpf([(pref * total).a, (pref * (total + tail)).b])


def iv_act(name: str, q: Fraction):
    """An mpmath interval containing ``s(q)`` for the rational ``q``."""
    t = iv_of(q)
    if name == "tanh":
        e = iv.exp(2 * t)
        return 1 - 2 / (e + 1)
    if name == "sigmoid":
        return 1 / (1 + iv.exp(-t))
    if name == "softplus":
        return iv.log(1 + iv.exp(t))
    if name == "elu":
        return t if q > 0 else iv.expm1(t)
    if name == "gelu":
        e = iv_erf_nonneg(abs(t) / iv.sqrt(2))
        return t * (1 + (e if q >= 0 else -e)) / 2
    need(name == "silu", f"activation {name[:60]!r} is not one this re-checker evaluates")
    return t / (1 + iv.exp(-t))


def iv_ends(v) -> tuple[Fraction, Fraction]:
    """The interval's ends as exact Fractions (a non-finite end is rejected)."""
    out = []
    for raw in v._mpi_:
        need(raw not in (finf, fninf, fnan), "an interval value is not finite")
        sign, man, exp, _ = raw
        f = Fraction(int(man)) * (Fraction(2) ** int(exp))
        out.append(-f if sign else f)
    return out[0], out[1]


def smooth_window(name: str, eps: Fraction, win: dict) -> tuple:
    win = obj(win, "window")
    lo = None if win.get("lo") is None else Q(win["lo"])
    hi = None if win.get("hi") is None else Q(win["hi"])
    need(name in SMOOTH_WHOLE + SMOOTH_FROM_0, f"activation {name[:60]!r} is not a smooth activation this re-checker knows")
    old = iv.prec
    iv.prec = IV_PREC
    try:
        if hi is not None:
            need(name in SMOOTH_WHOLE or hi >= 0, f"{name} is not increasing from {hi}")
            need(iv_ends(iv_act(name, hi))[0] >= eps, f"{name}(window hi) >= eps does not hold")
        if lo is not None:
            need(name in SMOOTH_WHOLE, f"{name} is not increasing on the whole line: no lower window end")
            need(iv_ends(iv_act(name, lo))[1] <= -eps, f"{name}(window lo) <= -eps does not hold")
    finally:
        iv.prec = old
    return lo, hi


def smooth_S(normalise: str) -> Fraction | None:
    if normalise == "l2":
        return None
    if normalise == "none":
        return Fraction(1)
    need(isinstance(normalise, str) and normalise.startswith("divide:"), f"normalisation {str(normalise)[:30]!r} unknown")
    return Q(normalise.split(":", 1)[1])


def smooth_entry(e: object, n: int, S: Fraction | None) -> tuple:
    if S is None:
        return l2_entry(e, n)
    e = obj(e, "a cover entry")
    kr = seq(e.get("k"), "an entry's k range", 2)
    need(all(isinstance(v, int) and not isinstance(v, bool) for v in kr), "an entry's k range is not two integers")
    need(1 <= kr[0] <= kr[1] <= n, f"range {kr[0]}..{kr[1]} outside 1..{n}")
    sr = seq(e.get("s"), "an entry's s range", 2)
    need(Q(sr[0]) == S and Q(sr[1]) == S and not e.get("cuts"), f"s must be exactly {S} for this normalisation")
    return kr[0], kr[1], S, S, []


def smooth_sign(a: Fraction, c: Fraction, k: int, S: Fraction | None) -> int:
    """Sign of a + c * S_k."""
    if S is None:
        return l2_sign(a, c, k)
    v = a + c * S
    return (v > 0) - (v < 0)


def smooth_unit(W: list, b: list, ends: tuple, S: Fraction | None, proof: dict, klo: int, khi: int) -> None:
    j = idx(proof.get("j"), len(W), "unit proof: unit")
    side = proof.get("side")
    need(side in ("lo", "hi"), "a unit proof's side is lo or hi")
    end = ends[1] if side == "hi" else ends[0]
    need(end is not None, f"unit proof on side {side} without that window end")
    row = sorted(W[j], reverse=(side == "lo"))
    acc = sum(row[:klo - 1], Fraction(0))
    for k in range(klo, khi + 1):
        acc += row[k - 1]
        need(smooth_sign(acc, b[j] - end, k, S) == (1 if side == "hi" else -1), f"unit {j} does not close k = {k}")


def smooth_items(W: list, b: list, ends: tuple, S: Fraction) -> None:
    """k = 1: every single item i has a unit j with W_ji / S + b_j outside (A, C)."""
    A, C = ends
    for i in range(len(W[0])):
        need(any((C is not None and W[j][i] / S + b[j] >= C) or (A is not None and W[j][i] / S + b[j] <= A)
                 for j in range(len(W))), f"the user with item {i} alone is not closed")


def smooth_tree(W: list, b: list, ends: tuple, rng: tuple, cuts: list, root: object) -> int:
    """A branching on x_i (le: x_i = 0, ge: x_i = 1): every leaf empty by counting, or closed by Farkas rows."""
    n = len(W[0])
    todo, leaves = [(root, {})], 0
    while todo:
        node, fix = todo.pop()
        node = obj(node, "a tree node")
        if "split" in node:
            i = idx(node["split"], n, "x split")
            need(i not in fix, f"x[{i}] split twice")
            todo += [(node.get("le"), {**fix, i: 0}), (node.get("ge"), {**fix, i: 1})]
            continue
        leaves += 1
        ones = sum(fix.values())
        if node.get("empty") is True:
            need(ones > rng[1] or ones + n - len(fix) < rng[0], "an empty leaf is not empty")
        else:
            smooth_farkas(W, b, ends, rng, cuts, node.get("farkas"), fix)
    return leaves


def smooth_farkas(W: list, b: list, ends: tuple, rng: tuple, cuts: list, rows: object, fix: dict | None = None) -> None:
    klo, khi, slo, shi = rng
    m, n = len(W), len(W[0])
    cx = [Fraction(0)] * n
    cs, d = Fraction(0), Fraction(0)
    for row in seq(rows, "a Farkas proof's rows"):
        need(isinstance(row, list) and len(row) == 3 and row[0] in ("lo", "hi", "ksum", "scut"), f"unknown row {str(row)[:60]}")
        y = Q(row[2])
        need(y >= 0, "negative multiplier")
        if row[0] in ("lo", "hi"):  # lo: W_j x - (A - b_j) S >= 0; hi: (C - b_j) S - W_j x >= 0
            j = idx(row[1], m, f"{row[0]} row: unit")
            end = ends[0] if row[0] == "lo" else ends[1]
            need(end is not None, f"a {row[0]} row without that window end")
            sg = 1 if row[0] == "lo" else -1
            for i, w in enumerate(W[j]):
                if w:
                    cx[i] += sg * y * w
            cs -= sg * y * (end - b[j])
        elif row[0] == "ksum":
            need(row[1] in ("ge", "le"), "a ksum row is ge or le")
            sg = 1 if row[1] == "ge" else -1
            cx = [v + sg * y for v in cx]
            d += y * klo if sg > 0 else -y * khi
        else:
            sense, a, c = cuts[idx(row[1], len(cuts), "scut row: cut")]
            sg = 1 if sense == "ge" else -1  # ge: S - c 1'x >= a; le: c 1'x - S >= -a
            cs += sg * y
            cx = [v - sg * y * c for v in cx]
            d += sg * y * a
    fix = fix or {}
    top = sum(((v if fix[i] else 0) if i in fix else max(v, 0) for i, v in enumerate(cx)), Fraction(0))
    top += max(cs * slo, cs * shi)
    need(top < d, f"no contradiction on k = {klo}..{khi} ({float(top)} >= {float(d)})")


def smooth_box_case(W: list, b: list, ends: tuple, lo: Fraction, hi: Fraction, case: object, rho: Fraction,
                    proof: dict) -> None:
    """A box case (x_i >= rho or x_i <= -rho, or the whole box): empty, or Farkas rows over the case's box."""
    n = len(W[0])
    blo, bhi = [lo] * n, [hi] * n
    if case is not None:
        i, sg = seq(case, "a case", 2)
        i = idx(i, n, "case coordinate")
        need(sg in (1, -1), "a case's sign is 1 or -1")
        if sg > 0:
            blo[i] = max(lo, rho)
        else:
            bhi[i] = min(hi, -rho)
    if proof.get("kind") == "empty":
        need(any(a > c for a, c in zip(blo, bhi)), "an empty case is not empty")
        return
    need(proof.get("kind") == "farkas", "unknown proof kind")
    cx, d = [Fraction(0)] * n, Fraction(0)
    for row in seq(proof.get("rows"), "a case's rows"):
        need(isinstance(row, list) and len(row) == 3 and row[0] in ("lo", "hi"), f"unknown row {str(row)[:60]}")
        j, y = idx(row[1], len(W), "row unit"), Q(row[2])
        need(y >= 0, "negative multiplier")
        end = ends[0] if row[0] == "lo" else ends[1]
        need(end is not None, f"a {row[0]} row without that window end")
        sg = 1 if row[0] == "lo" else -1  # lo: W_j x >= A - b_j; hi: -W_j x >= b_j - C
        for i, w in enumerate(W[j]):
            if w:
                cx[i] += sg * y * w
        d += sg * y * (end - b[j])
    top = sum((c * (bhi[i] if c > 0 else blo[i]) for i, c in enumerate(cx) if c), Fraction(0))
    need(top < d, f"case {case}: no contradiction ({float(top)} >= {float(d)})")


def recheck_smooth_box(cert: dict, enc: dict, ends: tuple, eps: Fraction, r: Fraction) -> int:
    dom = cert["domain"]
    lo, hi = Q(dom.get("lo")), Q(dom.get("hi"))
    need(lo <= hi and cert.get("normalise") == "none", "box certificates are for un-normalised inputs")
    W, b, n = enc["W"][0], enc["b"][0], enc["sizes"][0]
    rho = Q(cert.get("rho"))
    entries = seq(cert.get("cases"), "cases")
    cases = [None if obj(c, "a case entry").get("case") is None else tuple(seq(c["case"], "a case", 2)) for c in entries]
    if r == 0:
        need(None in cases, "r = 0 needs the case of the whole box")
    else:  # every x with |x|_2 >= r has some |x_i| >= r / sqrt(n) >= rho
        need(rho >= 0 and rho * rho * n <= r * r, "rho is not at most r / sqrt(n)")
        need(set(cases) >= {(i, sg) for i in range(n) for sg in (1, -1)}, "the cases do not cover every coordinate and sign")
    for c in entries:
        smooth_box_case(W, b, ends, lo, hi, c.get("case"), rho, obj(c.get("proof"), "a case's proof"))
    return len(cases)


def recheck_smooth(cert: object, encoder_path: str, model: str | None = None, require_hash: bool = False) -> tuple[int, list[str]]:
    """Re-check a smooth P3-eps certificate against its encoder file: ``(k covered, notes)``; raises :class:`Rejected`."""
    cert = obj(cert, "the certificate")
    need(cert.get("schema") == SCHEMA_SMOOTH and cert.get("property") == "p3-eps", "unknown schema")
    kind = obj(cert.get("domain"), "domain").get("kind")
    need(kind in ("binary", "box"), "smooth certificates are for binary users or a box")
    enc = read_encoder(encoder_path)
    notes = bind(cert, enc, encoder_path, model, require_hash)
    need(len(enc["W"]) == 1, "smooth certificates are for one-layer encoders")
    need(cert.get("normalise") == enc["normalise"], "the certificate's normalise is not the encoder file's")
    W, b, n = enc["W"][0], enc["b"][0], enc["sizes"][0]
    eps, r = Q(cert.get("eps")), Q(cert.get("r"))
    need(eps > 0 and r >= 0, "eps must be > 0 and r >= 0")
    ends = smooth_window(enc["names"][0], eps, cert.get("window"))
    if kind == "box":
        return recheck_smooth_box(cert, enc, ends, eps, r), notes
    S = smooth_S(cert["normalise"])
    covered: set = set()
    for e in seq(cert.get("cover"), "cover"):
        klo, khi, slo, shi, cuts = smooth_entry(e, n, S)
        proof = obj(e.get("proof"), "an entry's proof")
        if proof.get("kind") == "items":
            need(klo == khi == 1, "an items proof is for k = 1 only")
            smooth_items(W, b, ends, Fraction(1) if S is None else S)  # sqrt(1) = 1 exactly
        elif proof.get("kind") == "unit":
            smooth_unit(W, b, ends, S, proof, klo, khi)
        elif proof.get("kind") == "tree":
            smooth_tree(W, b, ends, (klo, khi, slo, shi), cuts, proof.get("root"))
        else:
            need(proof.get("kind") == "farkas", "unknown proof kind")
            smooth_farkas(W, b, ends, (klo, khi, slo, shi), cuts, proof.get("rows"))
        covered.update(range(klo, khi + 1))
    first = max(1, -((-r.numerator * r.numerator) // (r.denominator * r.denominator)))  # ceil(r^2)
    missing = [k for k in range(first, n + 1) if k not in covered]
    need(not missing, f"k = {missing[0] if missing else 0} is not covered")
    return len(covered), notes


# ================================================================ falsify reports: exact P3 witnesses
def report_weights(report: dict, encoder: str | None, model: str | None) -> dict:
    """The report's encoder, exactly: its embedded weights, or an encoder file whose SHA-256 the report records."""
    rec = obj(report.get("encoder"), "encoder")
    path = encoder or model
    if path is None:
        layers = seq(report.get("weights"), "weights (the report embeds no exact weights; pass --encoder PATH)")
        need(bool(layers), "the report embeds no layers")
        W = [[[Q(v) for v in seq(r, "a weight row")] for r in seq(obj(layer, "a layer").get("W"), "W")] for layer in layers]
        b = [[Q(v) for v in seq(layer.get("b"), "b", len(Wk))] for layer, Wk in zip(layers, W)]
        need(all(Wk and all(len(r) == len(Wk[0]) for r in Wk) for Wk in W), "a weight matrix is empty or ragged")
        need(all(len(W[k][0]) == len(W[k - 1]) for k in range(1, len(W))), "the layers' shapes do not chain")
        names = [layer.get("activation") for layer in layers]
        enc = {"W": W, "b": b, "names": names, "sizes": [len(W[0][0])] + [len(Wk) for Wk in W]}
    else:
        enc = read_encoder(path)
        sums = {rec.get("weights_sha256"), obj(report.get("model", {}), "model").get("sha256")} - {None}
        need(sha256_of(path) in sums, f"{path!r} is not the file the report names (SHA-256 differs or none recorded)")
    need(rec.get("sizes") == enc["sizes"], f"the report claims sizes {str(rec.get('sizes'))[:80]}, the weights have {enc['sizes']}")
    need(rec.get("activations") == enc["names"], f"the report claims activations {str(rec.get('activations'))[:120]}, the weights have {enc['names']}")
    return enc


def latent_zero(name: str, t: Fraction) -> bool:
    """Whether the latent activation ``name`` is exactly 0 at ``t`` (catalog activations only)."""
    if name in CATALOG:
        knots, values, sl, sr, off = CATALOG[name]
        return PL({"knots": knots, "values": values, "slope_left": sl, "slope_right": sr, "offset": off})(t) == 0
    if name in ZERO_ONLY_AT_0:
        return t == 0
    need(name in NEVER_ZERO, f"latent activation {name[:60]!r} is not one this re-checker knows")
    return False


def scaled_input(x: list, normalise: str, cone: bool) -> list:
    """The encoder's input for the data row ``x`` (``None``: l2 of a non-cone encoder, not decidable in rationals)."""
    if normalise == "none":
        return x
    if normalise.startswith("divide:"):
        k = Fraction(normalise.split(":", 1)[1])
        need(k > 0, "divide:K needs K > 0")
        return [v / k for v in x]
    need(normalise == "l2", f"unknown input normalisation {normalise[:40]!r}")
    return x if cone else None  # enc(x/|x|) = enc(x)/|x| for a cone; else sqrt is irrational


def _catalog_pl(name: str) -> PL:
    return PL(dict(zip(("knots", "values", "slope_left", "slope_right", "offset"), CATALOG[name])))


def _vector(c: dict, name: str, dom: object, n: int) -> list:
    """A witness vector, exactly, checked to lie in the report's exact domain."""
    x = [Q(v) for v in seq(obj(c.get("witness"), "witness").get(name), f"witness {name}", n)]
    lo, hi = domain_box(dom, n)
    need(all((a is None or a <= v) and (h is None or v <= h) for v, a, h in zip(x, lo, hi)), f"witness {name} is outside the domain")
    need(dom.get("kind") != "binary" or all(v in (0, 1) for v in x), f"witness {name} is not binary")
    return x


def _pre_latent(enc: dict, x: list, normalise: str) -> list | None:
    """The latent pre-activations of the data row ``x`` exactly (hidden activations: catalog PL ones), or None
    when l2 normalisation makes them irrational."""
    hidden = [_catalog_pl(nm) for nm in enc["names"][:-1]]
    cone = all(v == 0 for bk in enc["b"] for v in bk) and all(a.homogeneous() for a in hidden)
    h = scaled_input(x, normalise, cone)
    if h is None:
        return None
    for k in range(len(enc["W"])):
        z = [sum((w * v for w, v in zip(row, h)), Fraction(0)) + bi for row, bi in zip(enc["W"][k], enc["b"][k])]
        h = [hidden[k](t) for t in z] if k < len(enc["W"]) - 1 else z
    return h


def _exact_domain(dom: object) -> bool:
    return isinstance(dom, dict) and dom.get("kind") in ("box", "binary", "nonneg", "reals")


def p3_witness(enc: dict, c: dict, dom: object, normalise: str) -> str | None:
    """Re-check one exact P3 witness: ``None`` when it holds, else why it is not re-checked (raises when wrong)."""
    if any(nm not in CATALOG for nm in enc["names"][:-1]):
        return "hidden activations that are not catalog piecewise-linear ones"
    if not _exact_domain(dom):
        return "the report records no exact domain (box, binary, nonneg or reals) to check membership in"
    x = _vector(c, "x", dom, enc["sizes"][0])
    need(any(v != 0 for v in x), "the witness is the zero vector")
    z = _pre_latent(enc, x, normalise)
    if z is None:
        return "l2-normalised inputs to an encoder with biases (values in Q(sqrt k))"
    need(all(latent_zero(enc["names"][-1], t) for t in z), "the witness is not encoded as exactly 0")
    return None


def p2_witness(enc: dict, c: dict, dom: object, normalise: str, delta: Fraction) -> str | None:
    """Re-check one exact P2 (or P2-delta) flip: ``<x,v> - <x,u> >= delta |x|^2`` and ``<zx,zu> > <zx,zv>``."""
    if any(nm not in CATALOG for nm in enc["names"]):
        return "activations that are not catalog piecewise-linear ones"
    if not _exact_domain(dom):
        return "the report records no exact domain (box, binary, nonneg or reals) to check membership in"
    x, u, v = (_vector(c, nm, dom, enc["sizes"][0]) for nm in ("x", "u", "v"))
    dot = lambda a, b: sum((p * q for p, q in zip(a, b)), Fraction(0))  # noqa: E731
    need(dot(x, v) - dot(x, u) >= delta * dot(x, x), "the flip's premise <x,v> - <x,u> >= delta |x|^2 fails")
    pre = [_pre_latent(enc, w, normalise) for w in (x, u, v)]
    if any(p is None for p in pre):
        return "l2-normalised inputs to an encoder with biases (values in Q(sqrt k))"
    act = _catalog_pl(enc["names"][-1])
    zx, zu, zv = ([act(t) for t in p] for p in pre)
    need(dot(zx, zu) > dot(zx, zv), "the encoder does not flip the order: <enc x, enc u> <= <enc x, enc v>")
    return None


def _delta(report: dict) -> Fraction:
    """P2's premise margin: 0, or ``delta`` of a ``P2-delta:D`` report."""
    spec = str(report.get("property", ""))
    return Q(spec.split(":", 1)[1]) if spec.upper().startswith("P2-DELTA:") else Fraction(0)


def embedded_note(report: dict) -> str:
    """Witnesses checked against the report's embedded weights say nothing about a model file until it is bound."""
    rec = report.get("model") if isinstance(report.get("model"), dict) else {}
    named = f" the model file {str(rec.get('path'))[:200]} (SHA-256 {str(rec.get('sha256'))[:64]})" if rec.get("sha256") else " a model file"
    return (f"witnesses re-checked against the weights embedded in the report, which are not bound to{named}; "
            "pass --model PATH (or --encoder PATH) to re-check them against the file")


def recheck_report(report: object, encoder: str | None = None, model: str | None = None) -> tuple[int, list[str]]:
    """Re-check a falsify report's exact P3 counterexamples: ``(re-checked, notes)``; raises :class:`Rejected`."""
    report = obj(report, "the report")
    need(str(report.get("schema", "")).startswith("latentcheck.falsify/"), "unknown schema")
    cxs = seq(report.get("counterexamples", []), "counterexamples")
    need(cxs or report.get("status") != "counterexample", "the report claims a counterexample but lists none")
    enc = report_weights(report, encoder, model) if cxs else None
    normalise = str(obj(report.get("inputs", {"normalise": "none"}), "inputs").get("normalise", "none"))
    done, notes = 0, bind_model(report, model) if model is not None else []
    if cxs and encoder is None and model is None:
        notes.append(embedded_note(report))
    for k, c in enumerate(cxs, 1):
        c = obj(c, "a counterexample")
        label, prop = c.get("certified"), str(c.get("property", "")).upper()
        need(label in ("exact", "interval"), f"counterexample {k}: label {str(label)[:30]!r} is not exact or interval")
        need(prop == str(report.get("property", "")).upper(), f"counterexample {k} is for {prop[:30]}, not the report's property")
        kind = "P3" if prop == "P3" else "P2" if prop == "P2" or prop.startswith("P2-DELTA:") else None
        if label != "exact" or kind is None:
            notes.append(f"counterexample {k} ({label} {prop[:20]}) not re-checked: needs interval arithmetic or "
                         "another property's rules; `latentcheck report` re-checks it")
            continue
        dom = obj(report.get("domain", {}), "domain").get("certificate")
        why = p3_witness(enc, c, dom, normalise) if kind == "P3" else p2_witness(enc, c, dom, normalise, _delta(report))
        if why is not None:
            notes.append(f"counterexample {k} not re-checked: {why}")
            continue
        done += 1
    return done, notes


# ================================================================ the command
def load_json(path: str) -> object:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(512 * 1024 * 1024 + 1)
    except OSError as exc:
        raise Unreadable(f"cannot read {path!r} ({exc.strerror or type(exc).__name__})") from None
    if len(raw) > 512 * 1024 * 1024:
        raise Unreadable(f"{path!r} is larger than 512 MiB")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, numbers too long, nested too deep
        raise Unreadable(f"cannot read {path!r} as JSON ({type(exc).__name__}: {str(exc)[:80]})") from None


def recheck_path(path: str, encoder: str | None = None, model: str | None = None) -> tuple[int, str]:
    """Re-check the certificate or report at ``path``: ``(exit code, one line)``; never raises."""
    try:
        doc = load_json(path)
        need(isinstance(doc, dict), f"the file holds a JSON {type(doc).__name__}, not a certificate or report object")
        schema = doc.get("schema")
        if isinstance(schema, str) and schema.startswith("latentcheck.falsify/"):
            return _report_line(doc, encoder, model)
        need(schema in (SCHEMA, SCHEMA_L2, SCHEMA_SMOOTH), f"unknown schema {str(schema)[:60]!r}")
        enc = encoder_path_for(path, doc, encoder)
        fn = {SCHEMA_L2: recheck_l2, SCHEMA_SMOOTH: recheck_smooth}.get(schema, recheck)
        leaves, notes = fn(doc, enc, model, require_hash=True)
        dom = doc["domain"]["kind"]
        if schema == SCHEMA_SMOOTH:
            what = "values of k = 1'x" if dom == "binary" else "cases of the box"
            head = (f"OK: P3-eps (eps = {doc['eps']}, r = {doc['r']}) holds on {dom} ({doc['inputs']['normalise']} input "
                    f"normalisation): {leaves} {what} re-checked in exact rationals and mpmath intervals")
            return 0, "\n".join([head] + [f"note: {n}" for n in notes])
        head = f"OK: P3 holds on {dom} ({doc['inputs']['normalise']} input normalisation): {leaves} leaves re-checked in exact rationals"
        return 0, "\n".join([head] + [f"note: {n}" for n in notes])
    except Unreadable as exc:
        return 2, f"REJECTED: {exc}"
    except Rejected as exc:
        return 1, f"REJECTED: {exc}"
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, ZeroDivisionError, OverflowError,
            RecursionError, MemoryError) as exc:  # a malformed certificate the checks above did not name
        return 1, f"REJECTED: malformed ({type(exc).__name__}: {str(exc)[:120]})"


def _report_line(doc: dict, encoder: str | None, model: str | None) -> tuple[int, str]:
    done, notes = recheck_report(doc, encoder, model)
    lines = [f"note: {n}" for n in notes]
    total = len(doc.get("counterexamples", []))
    if total == 0:
        return 0, "\n".join([f"OK: the report lists no certified counterexample (status {str(doc.get('status'))[:30]})"] + lines)
    if done == 0:
        return 3, "\n".join([f"NOT RE-CHECKED: none of the {total} certified counterexample(s) is within this "
                             "re-checker's reach; run latentcheck report"] + lines)
    return 0, "\n".join([f"OK: {done} of {total} certified counterexample(s) re-checked in exact rationals"] + lines)


def main(argv: list[str] | None = None) -> int:
    """``recheck FILE [--encoder PATH] [--model PATH]``; prints one verdict line (and notes), returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    opts: dict[str, str] = {}
    rest = []
    while argv:
        a = argv.pop(0)
        if a in ("--encoder", "--model") and argv:
            opts[a[2:]] = argv.pop(0)
        else:
            rest.append(a)
    if len(rest) != 1:
        print("error: give one certificate or report file; usage: recheck FILE [--encoder PATH] [--model PATH]")
        return 2
    code, text = recheck_path(rest[0], opts.get("encoder"), opts.get("model"))
    try:
        print(text, flush=True)
    except OSError:  # a closed pipe or a full disk: the exit code still tells
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
    return code


if __name__ == "__main__":
    sys.exit(main())
