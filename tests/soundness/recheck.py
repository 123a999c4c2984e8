"""An independent re-checker for latentcheck's certified results.

It shares no evaluation code with ``theorems/`` or ``counterexamples/``: it
reads the encoder's ``.npz`` itself with NumPy (every stored value exactly:
``as_integer_ratio`` of its own dtype, ``longdouble`` included, integers as
integers), parses the activation text itself (a small grammar; catalog names
map to its own formulas), and evaluates

* in Python :class:`~fractions.Fraction` s wherever the value is rational
  (``+ - * /``, integer powers, ``Abs Max Min`` and the exact points
  ``tanh(0) = 0``, ``exp(0) = 1``, ...), and
* in arb ball arithmetic (python-flint) at :data:`PREC` bits (over 100
  decimal digits) elsewhere; a ball decides a sign only when it excludes 0,
  and ``Max``/``Min`` return an operand exactly when the balls order them.

:func:`check_report` takes a falsify report (``latentcheck.falsify/1`` JSON)
and returns a list of :class:`Problem` s (empty when every certified claim is
confirmed). Float-only findings are reproduced in their runtime with this
module's own NumPy (IEEE) and JAX (XLA) evaluators.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable, Sequence

import numpy as np

#: Bits of the arb balls (about 120 decimal digits).
PREC = 400

__all__ = ["PREC", "Problem", "parse", "exact_array", "load_encoder", "load_rows", "evaluate", "never_zero",
           "encode", "float_zero_inputs", "check_report", "CATALOG"]


@dataclass(frozen=True)
class Problem:
    """One unconfirmed or refuted claim: ``kind`` names the class, ``text`` the evidence."""

    kind: str
    text: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}"


class Undefined(Exception):
    """The expression is undefined at the point (division by exact 0, log of a negative...)."""


# ------------------------------------------------------------------ exact inputs
def exact_scalar(v: Any) -> Fraction:
    """The exact rational value of one stored NumPy scalar (any float or integer dtype)."""
    v = np.asarray(v)[()]
    kind = np.asarray(v).dtype.kind
    if kind in "iub":
        return Fraction(int(v))
    if kind == "f":
        if not np.isfinite(v):
            raise ValueError(f"non-finite stored value {v!r}")
        num, den = v.as_integer_ratio()  # exact for float16/32/64 and longdouble
        return Fraction(int(num), int(den))
    raise ValueError(f"unsupported dtype {np.asarray(v).dtype}")


def exact_array(arr: np.ndarray) -> list:
    """Nested lists of exact Fractions, same shape as ``arr``."""
    arr = np.asarray(arr)
    if arr.ndim == 0:
        return exact_scalar(arr)
    return [exact_array(a) for a in arr]


@dataclass(frozen=True)
class ExactEncoder:
    """The encoder as read by the re-checker: exact weights and activation ASTs."""

    weights: tuple  # per layer: rows of Fractions, shape (out, in)
    biases: tuple  # per layer: Fractions, shape (out,)
    activations: tuple  # per layer: activation text
    asts: tuple
    raw: tuple  # per layer: (W, b) as stored (their own dtypes)

    @property
    def n(self) -> int:
        return len(self.weights[0][0])

    @property
    def m(self) -> int:
        return len(self.weights[-1])


def load_encoder(path: str, activation: str | None = None) -> ExactEncoder:
    """Read ``W0, b0, ...`` and ``activations`` from the .npz exactly."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    count = len([k for k in arrays if re.fullmatch(r"W\d+", k)])
    raw = tuple((arrays[f"W{i}"], arrays[f"b{i}"]) for i in range(count))
    if "activations" in arrays:
        acts = [str(a) for a in np.atleast_1d(arrays["activations"])]
    else:
        acts = [activation] * count
    if activation is not None:
        acts[-1] = activation
    return ExactEncoder(
        weights=tuple(exact_array(W) for W, _ in raw),
        biases=tuple(exact_array(b) for _, b in raw),
        activations=tuple(acts),
        asts=tuple(parse(a) for a in acts),
        raw=raw,
    )


def load_rows(path: str) -> list[tuple[Fraction, ...]]:
    """The rows of a ``.npy`` data file, exactly."""
    arr = np.load(path, allow_pickle=False)
    return [tuple(exact_array(r)) for r in np.atleast_2d(arr)]


# ------------------------------------------------------------------ the expression grammar
#: The re-checker's own definitions of the catalog activations.
CATALOG = {
    "relu": "Max(0, t)",
    "leaky_relu": "Max(t, t/100)",
    "elu": "Max(t, 0) + Min(exp(Min(t, 0)) - 1, 0)",  # exp of Min(t, 0): no overflow for huge t
    "gelu": "t/2*(1 + erf(t/sqrt(2)))",
    "silu": "t/(1 + exp(-t))",
    "tanh": "tanh(t)",
    "identity": "t",
    "sigmoid": "1/(1 + exp(-t))",
    "softplus": "log(1 + exp(t))",
    "hard_sigmoid": "Max(0, Min(1, t/6 + 1/2))",
    "softsign": "t/(1 + Abs(t))",
    "exp": "exp(t)",
    "relu6": "Min(Max(0, t), 6)",
    "hard_tanh": "Max(-1, Min(1, t))",
    "erf": "erf(t)",
}
FUNCS = ("exp", "log", "sqrt", "tanh", "sinh", "cosh", "sin", "cos", "erf", "Abs", "Max", "Min")
_ALIASES = {"abs": "Abs", "max": "Max", "min": "Min"}
_TOKEN = re.compile(r"\s*(?:(?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_]\w*)|(?P<op>\*\*|[-+*/(),]))")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise SyntaxError(f"cannot read {text[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


class _Parser:
    """Recursive descent with Python's precedence (``-a**b`` is ``-(a**b)``, ``**`` right-associative)."""

    def __init__(self, text: str) -> None:
        self.toks, self.i = _tokens(text), 0

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise SyntaxError(f"expected {value!r}, got {tok!r}")
        self.i += 1
        return tok

    def expr(self) -> tuple:
        node = self.term()
        while self.peek() and self.peek()[1] in "+-":
            op = self.take()[1]
            node = ("add" if op == "+" else "sub", node, self.term())
        return node

    def term(self) -> tuple:
        node = self.unary()
        while self.peek() and self.peek()[1] in ("*", "/"):
            op = self.take()[1]
            node = ("mul" if op == "*" else "div", node, self.unary())
        return node

    def unary(self) -> tuple:
        if self.peek() and self.peek()[1] in ("-", "+"):
            op = self.take()[1]
            inner = self.unary()
            return ("neg", inner) if op == "-" else inner
        return self.power()

    def power(self) -> tuple:
        base = self.atom()
        if self.peek() and self.peek()[1] == "**":
            self.take()
            return ("pow", base, self.unary())
        return base

    def atom(self) -> tuple:
        kind, val = self.take()
        if kind == "num":
            return ("num", Fraction(val))  # exact from the decimal text
        if kind == "op" and val == "(":
            node = self.expr()
            self.take(")")
            return node
        if kind == "name":
            if val == "t":
                return ("t",)
            if val in ("pi", "E"):
                return ("const", val)
            name = _ALIASES.get(val, val)
            if name not in FUNCS:
                raise SyntaxError(f"unknown name {val!r}")
            self.take("(")
            args = [self.expr()]
            while self.peek() and self.peek()[1] == ",":
                self.take(",")
                args.append(self.expr())
            self.take(")")
            return ("call", name, tuple(args))
        raise SyntaxError(f"unexpected {val!r}")


def parse(text: str) -> tuple:
    """The AST of an activation (catalog name or formula in ``t``)."""
    text = CATALOG.get(text.strip(), text)
    p = _Parser(text)
    node = p.expr()
    if p.peek() is not None:
        raise SyntaxError(f"trailing {p.peek()!r} in {text!r}")
    return node


def is_piecewise_rational(node: tuple) -> bool:
    """True when the AST uses only rational operations (values at rationals are rational)."""
    if node[0] == "const":
        return False
    if node[0] == "call":
        return node[1] in ("Abs", "Max", "Min") and all(is_piecewise_rational(a) for a in node[2])
    return all(is_piecewise_rational(c) for c in node[1:] if isinstance(c, tuple))


# ------------------------------------------------------------------ exact-or-ball evaluation
def _flint():
    import flint

    return flint


class precision:
    """Run the arb computations at :data:`PREC` bits and restore flint's global precision after."""

    def __enter__(self) -> "precision":
        import flint

        self.old = flint.ctx.prec
        flint.ctx.prec = PREC
        return self

    def __exit__(self, *exc: Any) -> None:
        import flint

        flint.ctx.prec = self.old


def ball(v: Any) -> Any:
    """An arb ball enclosing ``v`` (a Fraction or a ball)."""
    flint = _flint()
    if isinstance(v, Fraction):
        return flint.arb(flint.fmpq(v.numerator, v.denominator))
    return v


#: Exponents beyond this many bits are clamped (never materialise 2**(-10**7) as a Fraction).
_MAX_EXP = 20000


def bounds(b: Any) -> tuple[Fraction, Fraction] | None:
    """Rational ``lo <= b <= hi`` (exact ends of the ball, or conservative ones for extreme exponents); None
    when not finite or too large."""
    if isinstance(b, Fraction):
        return b, b
    if not b.is_finite():
        return None
    lo, hi = _arf(b.lower(), lower=True), _arf(b.upper(), lower=False)
    return None if lo is None or hi is None else (lo, hi)


def _arf(x: Any, lower: bool) -> Fraction | None:
    man, exp = x.mid().man_exp()
    man, exp = int(man), int(exp)
    if man == 0:
        return Fraction(0)
    if exp > _MAX_EXP:
        return None
    if exp + man.bit_length() < -_MAX_EXP:  # |x| < 2**-_MAX_EXP: round outward to 0 or -+2**-_MAX_EXP
        tiny = Fraction(1, 1 << _MAX_EXP)
        return (Fraction(0) if man > 0 else -tiny) if lower else (tiny if man > 0 else Fraction(0))
    return Fraction(man) * (Fraction(2) ** exp)


def _end_sign(x: Any) -> int:
    man = int(x.mid().man_exp()[0])
    return (man > 0) - (man < 0)


def sign(v: Any) -> int | None:
    """+1, -1, 0 when decided (0 only for an exact 0), None when the ball straddles or touches 0."""
    if isinstance(v, Fraction):
        return (v > 0) - (v < 0)
    if not v.is_finite():
        return None
    if _end_sign(v.lower()) == 1:
        return 1
    if _end_sign(v.upper()) == -1:
        return -1
    return None


def _is_int(v: Any) -> bool:
    return isinstance(v, Fraction) and v.denominator == 1


def _pow(a: Any, e: Any) -> Any:
    if _is_int(e):
        k = int(e)
        if isinstance(a, Fraction):
            if a == 0 and k < 0:
                raise Undefined("0 to a negative power")
            return a ** k
        return ball(a) ** k
    if isinstance(a, Fraction) and a == 0:
        if sign(e) == 1:
            return Fraction(0)
        raise Undefined("0 to a power that is not positive")
    s = sign(a)
    if s == -1:
        raise Undefined("a non-integer power of a negative number")
    if s is None:
        return _flint().arb("nan")  # undecided, not undefined
    return ball(a) ** ball(e)


def _extreme(args: Sequence[Any], greater: bool) -> Any:
    """``Max`` (greater) or ``Min``: the operand whose ball dominates every other one (exact if it is), else a hull."""
    bds = [bounds(a) for a in args]
    for i, a in enumerate(args):
        if bds[i] is None:
            continue
        lo, hi = bds[i]
        others = [bd for j, bd in enumerate(bds) if j != i]
        if all(bd is not None and (lo >= bd[1] if greater else hi <= bd[0]) for bd in others):
            return a
    if any(bd is None for bd in bds):
        return _flint().arb("nan")
    pick = max if greater else min
    return ball(pick(bd[0] for bd in bds)).union(ball(pick(bd[1] for bd in bds)))


_EXACT_AT = {  # f(q) for the rational points where a transcendental f is rational
    "exp": {Fraction(0): Fraction(1)},
    "tanh": {Fraction(0): Fraction(0)},
    "sinh": {Fraction(0): Fraction(0)},
    "sin": {Fraction(0): Fraction(0)},
    "erf": {Fraction(0): Fraction(0)},
    "cosh": {Fraction(0): Fraction(1)},
    "cos": {Fraction(0): Fraction(1)},
    "log": {Fraction(1): Fraction(0)},
}


def _exact_sqrt(q: Fraction) -> Fraction | None:
    if q < 0:
        return None
    a, b = math.isqrt(q.numerator), math.isqrt(q.denominator)
    return Fraction(a, b) if a * a == q.numerator and b * b == q.denominator else None


def _call(name: str, args: list) -> Any:
    if name == "Abs":
        a = args[0]
        if isinstance(a, Fraction):
            return abs(a)
        s = sign(a)
        return a if s == 1 else (-a if s == -1 else abs(ball(a)))
    if name == "Max":
        return _extreme(args, True)
    if name == "Min":
        return _extreme(args, False)
    a = args[0]
    if isinstance(a, Fraction):
        if a in _EXACT_AT.get(name, {}):
            return _EXACT_AT[name][a]
        if name == "sqrt" and _exact_sqrt(a) is not None:
            return _exact_sqrt(a)
    if name in ("log", "sqrt"):
        s = sign(a)
        if s is not None and (s < 0 or (name == "log" and s == 0)):
            raise Undefined(f"{name} of a number <= 0")
    b = ball(a)
    return getattr(b, name)() if name != "erf" else b.erf()


def evaluate(node: tuple, t: Any) -> Any:
    """The activation at ``t`` (Fraction or ball): a Fraction when exact, else an arb ball (maybe NaN)."""
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "t":
        return t
    if kind == "const":
        flint = _flint()
        return flint.arb.pi() if node[1] == "pi" else flint.arb(1).exp()
    if kind == "neg":
        return -evaluate(node[1], t)
    if kind == "call":
        return _call(node[1], [evaluate(a, t) for a in node[2]])
    a, b = evaluate(node[1], t), evaluate(node[2], t)
    if kind == "add":
        return a + b if isinstance(a, Fraction) and isinstance(b, Fraction) else ball(a) + ball(b)
    if kind == "sub":
        return a - b if isinstance(a, Fraction) and isinstance(b, Fraction) else ball(a) - ball(b)
    if kind == "mul":
        if (isinstance(a, Fraction) and a == 0 and _finite(b)) or (isinstance(b, Fraction) and b == 0 and _finite(a)):
            return Fraction(0)
        return a * b if isinstance(a, Fraction) and isinstance(b, Fraction) else ball(a) * ball(b)
    if kind == "div":
        if isinstance(b, Fraction) and b == 0:
            raise Undefined("division by 0")
        if isinstance(a, Fraction) and a == 0 and sign(b) in (1, -1):
            return Fraction(0)
        return a / b if isinstance(a, Fraction) and isinstance(b, Fraction) else ball(a) / ball(b)
    if kind == "pow":
        return _pow(a, b)
    raise ValueError(f"unknown node {node!r}")


def _finite(v: Any) -> bool:
    return isinstance(v, Fraction) or v.is_finite()


# ------------------------------------------------------------------ structural sign proofs
def _pos(n: tuple) -> bool:
    """Provably > 0 for every real t (where defined)."""
    k = n[0]
    if k == "num":
        return n[1] > 0
    if k == "const":
        return True
    if k == "call":
        name, args = n[1], n[2]
        if name in ("exp", "cosh"):
            return True
        if name in ("tanh", "sinh", "erf"):  # odd, increasing, 0 at 0
            return _pos(args[0])
        if name == "log":
            return _gt1(args[0])
        if name == "sqrt":
            return _pos(args[0])
        if name == "Max":
            return any(_pos(a) for a in args)
        if name == "Min":
            return all(_pos(a) for a in args)
        if name == "Abs":
            return _pos(args[0]) or _neg(args[0])
        return False
    if k == "add":
        return (_pos(n[1]) and _nn(n[2])) or (_nn(n[1]) and _pos(n[2])) or _dominates(n[1], n[2], 1) \
            or _dominates(n[2], n[1], 1)
    if k == "sub":
        return (_pos(n[1]) and _np(n[2])) or (_nn(n[1]) and _neg(n[2])) or _dominates(n[1], n[2], 1) \
            or _dominates(("neg", n[2]), n[1], 1)
    if k in ("mul", "div"):
        return (_pos(n[1]) and _pos(n[2])) or (_neg(n[1]) and _neg(n[2]))
    if k == "neg":
        return _neg(n[1])
    if k == "pow":
        e = n[2]
        return _pos(n[1]) or (e[0] == "num" and e[1].denominator == 1 and e[1] % 2 == 0 and (_pos(n[1]) or _neg(n[1])))
    return False


def _bound(n: tuple) -> Fraction | None:
    """A rational ``B`` with ``|n| <= B`` for every real t, when the structure gives one."""
    k = n[0]
    if k == "num":
        return abs(n[1])
    if k == "call" and n[1] in ("tanh", "erf", "sin", "cos"):
        return Fraction(1)
    if k == "neg":
        return _bound(n[1])
    if k in ("add", "sub", "mul"):
        a, b = _bound(n[1]), _bound(n[2])
        if a is None or b is None:
            return None
        return a + b if k != "mul" else a * b
    if k == "call" and n[1] in ("Max", "Min", "Abs"):
        bs = [_bound(a) for a in n[2]]
        return None if any(b is None for b in bs) else max(bs)
    return None


def _dominates(c: tuple, rest: tuple, sign_: int) -> bool:
    """``c`` is a literal with ``sign_ * c > |rest|`` for every t (so ``c +- rest`` has the sign of ``c``)."""
    b, v = _bound(rest), _literal(c)
    return v is not None and b is not None and sign_ * v > b


def _literal(n: tuple) -> Fraction | None:
    """The value of a literal or a negated literal."""
    if n[0] == "num":
        return n[1]
    if n[0] == "neg" and n[1][0] == "num":
        return -n[1][1]
    return None


def _neg(n: tuple) -> bool:
    """Provably < 0 for every real t (where defined)."""
    k = n[0]
    if k == "num":
        return n[1] < 0
    if k == "neg":
        return _pos(n[1])
    if k == "call" and n[1] in ("tanh", "sinh", "erf"):
        return _neg(n[2][0])
    if k == "call" and n[1] == "Min":
        return any(_neg(a) for a in n[2])
    if k == "call" and n[1] == "Max":
        return all(_neg(a) for a in n[2])
    if k == "add":
        return (_neg(n[1]) and _np(n[2])) or (_np(n[1]) and _neg(n[2])) or _dominates(n[1], n[2], -1) \
            or _dominates(n[2], n[1], -1)
    if k == "sub":
        return (_neg(n[1]) and _nn(n[2])) or (_np(n[1]) and _pos(n[2])) or _dominates(n[1], n[2], -1) \
            or _dominates(("neg", n[2]), n[1], -1)
    if k in ("mul", "div"):
        return (_pos(n[1]) and _neg(n[2])) or (_neg(n[1]) and _pos(n[2]))
    return False


def _nn(n: tuple) -> bool:
    """Provably >= 0."""
    k = n[0]
    if _pos(n):
        return True
    if k == "num":
        return n[1] >= 0
    if k == "neg":
        return _np(n[1])
    if k == "call" and n[1] == "Abs":
        return True
    if k == "call" and n[1] == "Max":
        return any(_nn(a) for a in n[2])
    if k == "call" and n[1] == "Min":
        return all(_nn(a) for a in n[2])
    if k == "pow" and n[2][0] == "num" and n[2][1].denominator == 1 and n[2][1] % 2 == 0:
        return True
    if k == "add":
        return _nn(n[1]) and _nn(n[2])
    if k == "sub":
        return _nn(n[1]) and _np(n[2])
    if k in ("mul", "div"):
        return (_nn(n[1]) and _nn(n[2])) or (_np(n[1]) and _np(n[2]))
    return False


def _np(n: tuple) -> bool:
    """Provably <= 0."""
    k = n[0]
    if _neg(n):
        return True
    if k == "num":
        return n[1] <= 0
    if k == "neg":
        return _nn(n[1])
    if k == "call" and n[1] == "Min":
        return any(_np(a) for a in n[2])
    if k == "call" and n[1] == "Max":
        return all(_np(a) for a in n[2])
    if k == "add":
        return _np(n[1]) and _np(n[2])
    if k == "sub":
        return _np(n[1]) and _nn(n[2])
    if k in ("mul", "div"):
        return (_nn(n[1]) and _np(n[2])) or (_np(n[1]) and _nn(n[2]))
    return False


def _gt1(n: tuple) -> bool:
    """Provably > 1: ``c + p`` with ``c >= 1`` and ``p > 0`` (or ``c > 1`` and ``p >= 0``), or ``exp(p)``, ``p > 0``."""
    if n[0] == "num":
        return n[1] > 1
    if n[0] == "add":
        for a, b in ((n[1], n[2]), (n[2], n[1])):
            if a[0] == "num" and ((a[1] >= 1 and _pos(b)) or (a[1] > 1 and _nn(b))):
                return True
    if n[0] == "call" and n[1] == "exp":
        return _pos(n[2][0])
    return False


def never_zero(text: str) -> bool:
    """True when the re-checker proves ``s(t) != 0`` for every real ``t`` (structurally)."""
    node = parse(text)
    return _pos(node) or _neg(node)


# ------------------------------------------------------------------ the encoder in exact / ball arithmetic
def _affine(W: list, b: list, h: list) -> list:
    if all(isinstance(v, Fraction) for v in h):
        return [sum((w * v for w, v in zip(row, h) if w and v), Fraction(0)) + bi for row, bi in zip(W, b)]
    hb = [ball(v) for v in h]
    out = []
    for row, bi in zip(W, b):
        acc = ball(bi)
        for w, v in zip(row, hb):
            if w:
                acc = acc + ball(w) * v
        out.append(acc)
    return out


def encode(enc: ExactEncoder, x: Sequence[Fraction]) -> list:
    """``enc(x)`` coordinate by coordinate: Fractions where exact, balls elsewhere."""
    h: list = list(x)
    for W, b, node in zip(enc.weights, enc.biases, enc.asts):
        h = [evaluate(node, v) for v in _affine(W, b, h)]
    return h


# ------------------------------------------------------------------ float evaluation (own NumPy / JAX)
def np_dtype(name: str) -> Any:
    if name == "bfloat16":
        import ml_dtypes

        return ml_dtypes.bfloat16
    return np.dtype(name)


def _np_eval(node: tuple, t: np.ndarray, dt: Any) -> np.ndarray:
    """Op by op in ``dt`` (16-bit types computed in float32 and rounded after each operation)."""
    import scipy.special

    work = np.float32 if np.dtype(dt).itemsize == 2 else dt
    r = lambda v: np.asarray(np.asarray(v, dtype=work).astype(dt), dtype=work)  # noqa: E731
    kind = node[0]
    if kind == "num":
        return r(np.full(t.shape, float(node[1])))
    if kind == "t":
        return r(t)
    if kind == "const":
        return r(np.full(t.shape, math.pi if node[1] == "pi" else math.e))
    with np.errstate(all="ignore"):
        if kind == "neg":
            return r(-_np_eval(node[1], t, dt))
        if kind == "call":
            args = [_np_eval(a, t, dt) for a in node[2]]
            fn = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh,
                  "sin": np.sin, "cos": np.cos, "erf": scipy.special.erf, "Abs": np.abs}.get(node[1])
            if fn is not None:
                return r(fn(args[0]))
            red = np.maximum if node[1] == "Max" else np.minimum
            out = args[0]
            for a in args[1:]:
                out = red(out, a)
            return r(out)
        a, b = _np_eval(node[1], t, dt), _np_eval(node[2], t, dt)
        op = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power}[kind]
        return r(op(a, b))


def np_activation(text: str, t: np.ndarray, dtype: str) -> np.ndarray:
    """The activation in IEEE arithmetic (NumPy), ``t`` in ``dtype``."""
    dt = np_dtype(dtype)
    return _np_eval(parse(text), np.asarray(t, dtype=dt), dt).astype(dt)


def _jax_eval(node: tuple, t: Any, jnp: Any, dt: Any) -> Any:
    import jax.scipy.special as jsp

    kind = node[0]
    if kind == "num":
        return jnp.full(t.shape, float(node[1]), dtype=dt)
    if kind == "t":
        return t
    if kind == "const":
        return jnp.full(t.shape, math.pi if node[1] == "pi" else math.e, dtype=dt)
    if kind in ("div", "pow", "mul", "add", "sub", "neg") and not _has_t(node):
        # A rational constant such as 1/10**50 is one number, rounded once (as latentcheck and any JAX user
        # writing the constant get it), not a chain of rounded float operations.
        with precision():
            value = evaluate(node, Fraction(0))
        if isinstance(value, Fraction):
            return jnp.full(t.shape, float(value), dtype=dt)
    if kind == "neg":
        return -_jax_eval(node[1], t, jnp, dt)
    if kind == "call":
        args = [_jax_eval(a, t, jnp, dt) for a in node[2]]
        fn = {"exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt, "tanh": jnp.tanh, "sinh": jnp.sinh, "cosh": jnp.cosh,
              "sin": jnp.sin, "cos": jnp.cos, "erf": jsp.erf, "Abs": jnp.abs}.get(node[1])
        if fn is not None:
            return fn(args[0]).astype(dt)
        red = jnp.maximum if node[1] == "Max" else jnp.minimum
        out = args[0]
        for a in args[1:]:
            out = red(out, a)
        return out
    if kind == "pow" and node[1][0] == "pow" and node[2][0] == "num" and node[1][2][0] == "num" \
            and node[2][1].denominator == 1 and node[1][2][1].denominator == 1:
        # (a**j)**k is a**(j*k) in latentcheck's reading (sympy's normal form), and XLA rounds the two differently
        return _jax_eval(("pow", node[1][1], ("num", node[1][2][1] * node[2][1])), t, jnp, dt)
    if kind == "pow" and node[2][0] == "num" and node[2][1].denominator == 1:
        # x**k with an integer literal is lax.integer_pow in JAX (repeated multiplication), not a float power
        k = int(node[2][1])
        base = _jax_eval(node[1], t, jnp, dt)
        return (base ** k if k >= 0 else 1 / base ** (-k)).astype(dt)
    a, b = _jax_eval(node[1], t, jnp, dt), _jax_eval(node[2], t, jnp, dt)
    op = {"add": jnp.add, "sub": jnp.subtract, "mul": jnp.multiply, "div": jnp.divide, "pow": jnp.power}[kind]
    return op(a, b).astype(dt)


@functools.lru_cache(maxsize=256)
def _jitted_activation(text: str, dtype: str, affine: bool) -> Callable:
    """A jitted ``t -> s(t)`` (or ``(W, b, h) -> s(W h + b)``) in ``dtype``; built once per activation and dtype."""
    import jax
    import jax.numpy as jnp

    dt = jnp.dtype(dtype)
    lib = _jax_library(text)
    if lib is not None:
        act = lambda v: lib(v).astype(dt)  # noqa: E731
    else:
        node = parse(text)
        act = lambda v: _jax_eval(node, v, jnp, dt)  # noqa: E731
    if affine:
        return jax.jit(lambda W, b, h: act((W @ h + b).astype(dt)))
    return jax.jit(act)


def _jax_library(text: str) -> Callable | None:
    """JAX's own function for a catalog name (what a user's JAX model calls), else None."""
    import jax
    import jax.numpy as jnp

    return {
        "relu": jax.nn.relu, "sigmoid": jax.nn.sigmoid, "softplus": jax.nn.softplus, "silu": jax.nn.silu,
        "elu": jax.nn.elu, "gelu": lambda v: jax.nn.gelu(v, approximate=False), "tanh": jnp.tanh, "exp": jnp.exp,
        "hard_sigmoid": jax.nn.hard_sigmoid, "softsign": jax.nn.soft_sign, "relu6": jax.nn.relu6,
        "hard_tanh": jax.nn.hard_tanh, "leaky_relu": jax.nn.leaky_relu,
    }.get(text.strip())


def jax_activation(text: str, t: np.ndarray, dtype: str) -> np.ndarray:
    """The activation in XLA (JAX, jitted, default device), ``t`` in ``dtype``."""
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(dtype == "float64"):
        return np.asarray(_jitted_activation(text, dtype, False)(jnp.asarray(np.asarray(t, dtype=np_dtype(dtype)))))


#: Accumulation orders of ``W h + b`` that IEEE arithmetic allows (754 fixes no order for a dot product).
ACCUMULATIONS = ("dtype", "float32", "wide")


def _affine_float(W: np.ndarray, b: np.ndarray, h: np.ndarray, dt: Any, acc: str) -> np.ndarray:
    """``W h + b`` in ``dt``: accumulated in ``dt`` itself (left to right), in float32, or in long double
    (``wide``), rounded to ``dt`` at the end."""
    with np.errstate(all="ignore"):
        if acc in ("wide", "float32"):
            wt = np.longdouble if acc == "wide" else np.float32
            out = b.astype(wt)
            for j in range(W.shape[1]):
                out = (out + W[:, j].astype(wt) * wt(h[j])).astype(wt)
            return out.astype(np.float64).astype(dt)
        if np.dtype(dt).itemsize == 2:  # NumPy has no 16-bit BLAS: round after every operation
            out = b.astype(dt)
            for j in range(W.shape[1]):
                out = (out.astype(np.float32) + (W[:, j].astype(np.float32) * np.float32(h[j])).astype(dt)
                       .astype(np.float32)).astype(dt)
            return out
        return W @ h + b


def float_encode(enc: ExactEncoder, x: np.ndarray, dtype: str, runtime: str, acc: str = "dtype") -> np.ndarray:
    """``enc(x)`` in ``dtype``: ``runtime='ieee'`` with NumPy, ``'xla'`` with JAX (jitted, CPU)."""
    dt = np_dtype(dtype)
    h = np.asarray(x, dtype=np.float64).astype(dt)
    for (W, b), text in zip(enc.raw, enc.activations):
        Wd = np.asarray(W).astype(np.float64).astype(dt)
        bd = np.asarray(b).astype(np.float64).astype(dt)
        if runtime == "ieee":
            h = np_activation(text, _affine_float(Wd, bd, h, dt, acc), dtype)
        else:
            h = _jax_layer(Wd, bd, h, text, dtype)
    return np.asarray(h)


def _jax_layer(W: np.ndarray, b: np.ndarray, h: np.ndarray, text: str, dtype: str) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    with jax.enable_x64(dtype == "float64"):
        return np.asarray(_jitted_activation(text, dtype, True)(jnp.asarray(W), jnp.asarray(b), jnp.asarray(h)))


def all_finite(dtype: str) -> np.ndarray:
    """Every finite value of a 16-bit dtype."""
    dt = np_dtype(dtype)
    bits = np.arange(1 << 16, dtype=np.uint16).view(dt)
    return bits[np.isfinite(bits.astype(np.float32))]


def probes(text: str, dtype: str) -> np.ndarray:
    """Float inputs to try for a wide dtype: extremes, a log grid, and the float neighbours of every literal."""
    dt = np_dtype(dtype)
    fi = np.finfo(dt)
    vals = [0.0, float(fi.max), -float(fi.max), float(fi.tiny), -float(fi.tiny)]
    for e in range(-45, 39 if dtype != "float64" else 309, 1):
        vals += [10.0 ** e, -(10.0 ** e)]
    vals += list(np.linspace(-1000, 1000, 4001))
    lits = [v for v in _literals(parse(text))]
    for q in lits + [Fraction(0)]:
        for s in (1, -1):
            c = np.asarray(float(s * q), dtype=dt)
            vals += [float(c), float(np.nextafter(c, dt.type(np.inf))), float(np.nextafter(c, dt.type(-np.inf)))]
    with np.errstate(all="ignore"):
        out = np.asarray(vals, dtype=np.float64).astype(dt)
    return out[np.isfinite(out)]


def _children(node: tuple) -> list[tuple]:
    if node[0] == "call":
        return list(node[2])
    if node[0] in ("num", "t", "const"):
        return []
    return list(node[1:])


def _has_t(node: tuple) -> bool:
    return node[0] == "t" or any(_has_t(c) for c in _children(node))


def _literals(node: tuple) -> list[Fraction]:
    """The values (rounded to rationals) of every maximal constant subexpression, e.g. ``1/3``."""
    if not _has_t(node):
        try:
            with precision():
                v = evaluate(node, Fraction(0))
                bd = bounds(v)
        except (Undefined, ZeroDivisionError, ValueError):
            return []
        return [] if bd is None else [bd[0]]
    return [q for c in _children(node) for q in _literals(c)]


def float_zero_inputs(text: str, dtype: str, runtime: str) -> np.ndarray:
    """Float inputs where the activation rounds to exactly 0 (exhaustive for 16-bit dtypes, probes otherwise)."""
    ts = all_finite(dtype) if np.dtype(np_dtype(dtype)).itemsize == 2 else probes(text, dtype)
    vals = np_activation(text, ts, dtype) if runtime == "ieee" else jax_activation(text, ts, dtype)
    return ts[np.asarray(vals, dtype=np.float64) == 0]


# ------------------------------------------------------------------ checking a report
def _vec(strings: Sequence[str]) -> list[Fraction]:
    return [Fraction(str(s)) for s in strings]


def _in_domain(x: list[Fraction], domain: str, rows: list | None) -> str | None:
    """Why ``x`` is outside the domain, or None."""
    if domain == "nonneg" and any(v < 0 for v in x):
        return "a negative entry on the nonneg domain"
    if domain == "binary" and any(v not in (0, 1) for v in x):
        return "an entry outside {0, 1} on the binary domain"
    if domain == "sphere" and sum(v * v for v in x) != 1:
        return "|x|^2 != 1 on the sphere"
    if domain.startswith("data") and rows is not None and tuple(x) not in set(rows):
        return "a witness that is not one of the data rows (bit for bit)"
    return None


def _check_p3(enc: ExactEncoder, cx: dict, domain: str, rows: list | None) -> list[Problem]:
    x = _vec(cx["witness"]["x"])
    out = []
    if len(x) != enc.n:
        return [Problem("shape", f"witness has {len(x)} entries, encoder takes {enc.n}")]
    if all(v == 0 for v in x):
        out.append(Problem("p3-zero-input", "P3 witness x is the zero vector"))
    why = _in_domain(x, domain, rows)
    if why:
        out.append(Problem("domain", why))
    try:
        z = encode(enc, x)
    except Undefined as exc:
        return out + [Problem("p3-undefined", f"enc(x) is undefined in the reals: {exc}")]
    for j, zj in enumerate(z):
        s = sign(zj)
        if s == 0:
            continue
        if s is None:
            out.append(Problem("p3-unconfirmed", f"enc(x)[{j}] is not provably 0: ball {zj}"))
        else:
            out.append(Problem("p3-false", f"enc(x)[{j}] != 0 in the reals: {_show(zj)}"))
    return out


def _dot(a: list, b: list) -> Any:
    if all(isinstance(v, Fraction) for v in a + b):
        return sum((p * q for p, q in zip(a, b)), Fraction(0))
    acc = ball(Fraction(0))
    for p, q in zip(a, b):
        acc = acc + ball(p) * ball(q)
    return acc


def _check_p2(enc: ExactEncoder, cx: dict, domain: str, rows: list | None) -> list[Problem]:
    x, u, v = (_vec(cx["witness"][k]) for k in ("x", "u", "v"))
    out = []
    for name, vec in (("x", x), ("u", u), ("v", v)):
        why = _in_domain(vec, domain, rows)
        if why:
            out.append(Problem("domain", f"{name}: {why}"))
    if sum(p * q for p, q in zip(x, u)) > sum(p * q for p, q in zip(x, v)):
        out.append(Problem("p2-premise", "<x,u> > <x,v>: the premise of P2 fails"))
    try:
        ex, eu, ev = encode(enc, x), encode(enc, u), encode(enc, v)
    except Undefined as exc:
        return out + [Problem("p2-undefined", f"enc is undefined in the reals: {exc}")]
    diff = _dot(ex, eu) - _dot(ex, ev) if isinstance(_dot(ex, eu), Fraction) and isinstance(_dot(ex, ev), Fraction) \
        else ball(_dot(ex, eu)) - ball(_dot(ex, ev))
    s = sign(diff)
    if s is None:
        out.append(Problem("p2-unconfirmed", f"the latent difference is not provably > 0: {diff}"))
    elif s <= 0:
        out.append(Problem("p2-false", f"<enc x,enc u> - <enc x,enc v> = {_show(diff)} <= 0"))
    margin = cx.get("margin")
    if s == 1 and margin is not None:
        q = Fraction(str(margin))
        if cx["certified"] == "exact" and isinstance(diff, Fraction) and q != diff:
            out.append(Problem("p2-margin-exact", f"exact margin {_dec(q)} but the difference is {_dec(diff)}"))
        bd = bounds(diff)
        if bd is not None and q > bd[1]:
            out.append(Problem("p2-margin", f"margin {margin} exceeds the difference (at most {_dec(bd[1])})"))
    return out


def _dec(q: Fraction, digits: int = 30) -> str:
    """``q`` as a decimal with ``digits`` significant digits (for messages)."""
    import decimal

    with decimal.localcontext() as ctx:
        ctx.prec = digits
        return str(decimal.Decimal(q.numerator) / decimal.Decimal(q.denominator))


def _show(v: Any) -> str:
    """A short decimal view of a Fraction or a ball."""
    bd = bounds(v)
    if bd is None:
        return "NaN"
    if bd[0] == bd[1]:
        return f"{_dec(bd[0])} (exact)"
    return f"[{_dec(bd[0])}, {_dec(bd[1])}]"


def runtime_of(cx: dict) -> str | None:
    """The runtime a float-only finding names (``ieee`` / ``xla-cpu`` / ``xla-gpu``), else None."""
    for key in ("runtime", "float_runtime"):
        if cx.get(key):
            return str(cx[key])
    return None


def _reproduces(enc: ExactEncoder, cx: dict, dtype: str, runtime: str) -> bool:
    vecs = {k: np.array([float(q) for q in _vec(vs)]) for k, vs in cx["witness"].items()}
    for acc in (ACCUMULATIONS if runtime == "ieee" else ("dtype",)):
        z = {k: float_encode(enc, v, dtype, runtime, acc).astype(np.float64) for k, v in vecs.items()}
        if cx["property"] == "P3" and bool(np.all(z["x"] == 0)):
            return True
        if cx["property"] == "P2" and float(z["x"] @ z["u"]) > float(z["x"] @ z["v"]):
            return True
    return False


def _check_float_only(enc: ExactEncoder, cx: dict, dtype: str) -> list[Problem]:
    """A float-only finding must reproduce in the runtime it names (an unnamed one reads as IEEE)."""
    rt = runtime_of(cx)
    dt = cx.get("dtype") or dtype
    what = f"{cx['property']} float-only finding in {dt}"
    if rt is not None and rt.startswith("xla") and rt != "xla-cpu":
        return []  # only the CPU runtime is reproducible here
    if rt is not None:
        ok = _reproduces(enc, cx, dt, "ieee" if rt == "ieee" else "xla")
        return [] if ok else [Problem("float-only-not-reproduced", f"{what} does not reproduce in {rt}")]
    if _reproduces(enc, cx, dt, "ieee"):
        return []
    if _reproduces(enc, cx, dt, "xla"):
        return [Problem("float-only-runtime-unnamed", f"{what} holds in XLA (JAX) only, and the report names no runtime")]
    return [Problem("float-only-not-reproduced", f"{what} reproduces neither in IEEE (NumPy) nor in XLA (JAX)")]


def _check_none_exists(report: dict, enc: ExactEncoder, dtype: str) -> list[Problem]:
    text = enc.activations[-1]
    out = []
    if report.get("property") != "P3":
        return [Problem("none-exists-unconfirmed", "none-exists for P2 has no re-check")]
    if not never_zero(text):
        out.append(Problem("none-exists-unconfirmed", f"the re-checker cannot prove {text!r} is never 0 over the reals"))
    named = report.get("runtime") or report.get("float_runtime")
    runtimes = ["ieee", "xla"] if not named else (["ieee"] if named == "ieee" else ["xla"] if named == "xla-cpu" else [])
    for rt in runtimes:
        zeros = float_zero_inputs(text, dtype, rt)
        if zeros.size:
            out.append(Problem("none-exists-float-zero", f"{text!r} rounds to 0 in {dtype} ({rt}) at t = {zeros[:3].tolist()}"))
    return out


# ------------------------------------------------------------------ checking a classification
def _fraction(text: Any) -> Fraction | None:
    try:
        return Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        return None


def _value_sign(node: tuple, t: Fraction) -> int | None | str:
    try:
        return sign(evaluate(node, t))
    except (Undefined, ZeroDivisionError):
        return "undefined"


def _real_zero_evidence(node: tuple) -> str | None:
    """A rational point where ``s`` is exactly 0, or a sign change of a continuous ``s`` on a grid; else None."""
    points = sorted({Fraction(k, 4) for k in range(-200, 201)} | {q for q0 in _literals(node) for q in (q0, -q0)})
    continuous = not _has_div_by_t(node)
    last = None
    for t in points:
        s = _value_sign(node, t)
        if s == 0:
            return f"s({t}) = 0 exactly"
        if s in (1, -1):
            if continuous and last is not None and last[1] == -s:
                return f"s changes sign between {last[0]} and {t}"
            last = (t, s)
        else:
            last = None
    return None


def _has_div_by_t(node: tuple) -> bool:
    if node[0] == "div" and _has_t(node[2]):
        return True
    if node[0] == "pow" and (_has_t(node[2]) or (node[2][0] == "num" and node[2][1] < 0)):
        return True
    return any(_has_div_by_t(c) for c in _children(node))


def check_classification(payload: dict, text: str) -> list[Problem]:
    """Problems with a ``classify --json`` payload (class certificates and float-vanishing thresholds)."""
    with precision():
        return _check_classification(payload, text)


def _check_classification(payload: dict, text: str) -> list[Problem]:
    node = parse(text)
    out: list[Problem] = []
    cls = payload.get("class")
    if cls == "relu-like" and payload.get("half_line"):
        side, edge = payload["half_line"]
        c = _fraction(edge)
        step = -1 if side == "left" else 1
        for d in ((Fraction(0), Fraction(1, 7), Fraction(1), Fraction(10**6)) if c is not None else ()):
            s = _value_sign(node, c + step * d)
            if s != 0 and s is not None:
                out.append(Problem("classify-false", f"{text!r}: claimed 0 on the {side} of {edge}, but s({c + step * d}) is {s}"))
                break
    if cls == "tanh-like" and payload.get("zero") is not None:
        z = _fraction(payload["zero"])
        s = _value_sign(node, z) if z is not None else None
        if s in (1, -1, "undefined"):
            out.append(Problem("classify-false", f"{text!r}: claimed zero {payload['zero']} but s there is {s}"))
    if cls == "non-vanishing" and not never_zero(text):
        ev = _real_zero_evidence(node)
        kind = "classify-false" if ev else "classify-unconfirmed"
        out.append(Problem(kind, f"{text!r} classified non-vanishing: {ev or 'the re-checker cannot prove it'}"))
    out += _check_thresholds(payload.get("float_vanishing") or {}, text)
    return out


def _check_thresholds(thresholds: dict, text: str) -> list[Problem]:
    """``float_vanishing[dtype]``: the largest float input that rounds to 0 in XLA (None: no such input)."""
    out = []
    for dtype, thr in thresholds.items():
        wide = np.dtype(np_dtype(dtype)).itemsize > 2
        if thr is not None:
            val = abs(float(np.asarray(jax_activation(text, np.array([float(thr)]), dtype), dtype=np.float64)[0]))
            # XLA flushes subnormal results of arithmetic but may pass them through negation or max:
            # a subnormal result counts as the flush-to-zero reading of the claim.
            if val != 0 and not val < float(np.finfo(np_dtype(dtype)).tiny):
                out.append(Problem("classify-float-threshold", f"{text!r}: {dtype} threshold {thr} does not round to 0 in XLA"))
            if wide:
                continue
        zeros = float_zero_inputs(text, dtype, "xla")
        if thr is None and zeros.size:
            out.append(Problem("classify-float-threshold", f"{text!r}: no {dtype} threshold claimed, but XLA gives 0 at {zeros[:3].tolist()}"))
        if thr is not None and not wide and zeros.size and float(zeros.astype(np.float64).max()) != float(thr):
            out.append(Problem("classify-float-threshold", f"{text!r}: {dtype} largest XLA zero is {float(zeros.astype(np.float64).max())}, claimed {thr}"))
    return out


def check_report(report: dict, weights: str, data: str | None = None) -> list[Problem]:
    """Every problem with the certified (and float-only) claims of one falsify report."""
    with precision():
        return _check_report(report, weights, data)


def _check_report(report: dict, weights: str, data: str | None) -> list[Problem]:
    enc = load_encoder(weights)
    dtype = report.get("dtype", "float32")
    dom = report.get("domain", {})
    domain = dom.get("label", dom.get("name", "reals")) if isinstance(dom, dict) else str(dom)
    rows = load_rows(data) if data else None
    problems: list[Problem] = []
    status = report.get("status")
    certified = report.get("counterexamples", [])
    if status == "counterexample" and not certified:
        problems.append(Problem("status", "status 'counterexample' without a certified counterexample"))
    for cx in certified:
        if cx.get("certified") not in ("exact", "interval") or cx.get("real") is not True:
            problems.append(Problem("label", f"a certified entry labelled {cx.get('certified')!r}, real={cx.get('real')!r}"))
        check = _check_p3 if cx["property"] == "P3" else _check_p2
        problems += [Problem(p.kind, f"{cx['certified']} {cx['property']} ({cx.get('origin')}): {p.text}")
                     for p in check(enc, cx, domain, rows)]
    for cx in report.get("float_only", []):
        if cx.get("real"):
            problems.append(Problem("label", "a float-only entry marked real"))
        if cx["property"] == "P3":
            x = _vec(cx["witness"]["x"])
            why = _in_domain(x, domain, rows)
            if why:
                problems.append(Problem("domain", f"float-only: {why}"))
            elif any(x) and not _check_p3(enc, dict(cx, certified="exact"), domain, rows):
                problems.append(Problem("float-only-is-real", "a float-only P3 finding is an exact real counterexample"))
        problems += _check_float_only(enc, cx, dtype)
    if status == "none-exists":
        problems += _check_none_exists(report, enc, dtype)
    return problems
