"""A restricted parser from user text to a sympy expression in one variable ``t``.

Nothing the user writes is ever executed: the text is parsed by Python's
``ast`` module (parsing runs no code), every node is checked against a small
whitelist, and the sympy expression is built node by node with sympy's
constructors. ``sympify``/``eval`` are never called on user text.

Numeric literals are read from their decimal text as exact rationals
(``1e-400`` is 10**-400, never the float 0.0). Expressions that can leave the
reals for a real ``t`` are refused, so the symbolic and float readings agree.

Allowed: numbers, ``t``, ``pi``, ``E``, the operators ``+ - * / **``, unary
``+ -``, and calls to ``exp log sqrt tanh sinh cosh sin cos erf Abs Max Min``
(``abs``, ``max``, ``min`` are accepted as spellings of the last three).
"""

from __future__ import annotations

import ast
import re
from typing import Any, Callable

from .errors import ExpressionSyntaxError, UnsafeExpression
from .symbols import sp, t_symbol
from .lower import interval_value

__all__ = ["T", "parse_expression", "MAX_EXPRESSION_LENGTH", "MAX_EXPONENT"]

MAX_EXPRESSION_LENGTH = 400
MAX_EXPONENT = 64
MAX_DEPTH = 40
_MAX_LITERAL = 10**12

#: The functions a formula may call: name -> the sympy constructor's name (``abs``, ``max``, ``min`` are spellings).
_FUNCTION_NAMES = {"exp": "exp", "log": "log", "sqrt": "sqrt", "tanh": "tanh", "sinh": "sinh", "cosh": "cosh",
                   "sin": "sin", "cos": "cos", "erf": "erf", "Abs": "Abs", "abs": "Abs", "Max": "Max", "max": "Max",
                   "Min": "Min", "min": "Min"}
_ARITY = {"Max": None, "max": None, "Min": None, "min": None}
_CONSTANT_NAMES = ("pi", "E", "t")


def _function(name: str) -> Callable[..., Any]:
    """The sympy constructor a formula's function name calls (sympy is imported on the first parse)."""
    return getattr(sp, _FUNCTION_NAMES[name])


def _constant(name: str) -> Any:
    return t_symbol() if name == "t" else getattr(sp, name)


_BINOPS = {
    ast.Add: lambda a, b: sp.Add(a, b),
    ast.Sub: lambda a, b: sp.Add(a, sp.Mul(-1, b)),
    ast.Mult: lambda a, b: sp.Mul(a, b),
    ast.Div: lambda a, b: sp.Mul(a, sp.Pow(b, -1)),
}


def _refuse(text: str, what: str) -> UnsafeExpression:
    return UnsafeExpression(
        f"expression {text!r} uses {what}, which is not allowed; write a formula in t "
        "with numbers, + - * / **, and exp log sqrt tanh sinh cosh sin cos erf Abs Max Min"
    )


_DECIMAL = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INTEGER = re.compile(r"\d+")
#: Largest decimal exponent a literal may carry (10**1200 is about 4000 bits).
_MAX_DECIMAL_EXPONENT = 1200


def _literal_text(node: ast.Constant, source: str) -> str:
    segment = ast.get_source_segment(source, node)
    return "" if segment is None else segment


def _exact_literal(raw: str, text: str) -> sp.Rational:
    """The exact rational a numeric literal's text denotes ('1e-400' -> 10**-400), never via float."""
    digits = raw.replace("_", "")
    if _INTEGER.fullmatch(digits):
        return sp.Integer(int(digits))
    if not _DECIMAL.fullmatch(digits):
        raise _refuse(text, f"the literal {raw!r} (write decimal numbers such as 3, 0.25 or 1e-5)")
    mantissa, _, exponent = digits.lower().partition("e")
    whole, _, frac = mantissa.partition(".")
    significant = (whole + frac).lstrip("0")
    power = int(exponent or "0") - len(frac)
    size = len(significant) + power  # decimal digits before the point
    if significant and (abs(power) > _MAX_DECIMAL_EXPONENT or size > _MAX_DECIMAL_EXPONENT):
        raise _refuse(text, f"the number {raw!r} (its exact value needs more than 4000 bits)")
    value = sp.Integer(int(significant or "0")) * sp.Rational(10) ** power
    return value


def _number(node: ast.Constant, text: str, source: str) -> sp.Expr:
    value = node.value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(text, f"the literal {value!r}")
    raw = _literal_text(node, source)
    if isinstance(value, int) and not _INTEGER.fullmatch(raw.replace("_", "")):
        raise _refuse(text, f"the literal {raw or value!r} (write integers in decimal)")
    exact = _exact_literal(raw, text)
    if abs(exact) > _MAX_LITERAL:
        raise _refuse(text, f"the number {raw!r} (larger than 1e12)")
    return exact


def _exponent_value(node: ast.AST, text: str, source: str) -> sp.Rational | None:
    """The exact value of a literal (possibly negated) exponent, else None."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return sign * _number(node, text, source)
    return None


def _build(node: ast.AST, text: str, depth: int, source: str) -> sp.Expr:
    if depth > MAX_DEPTH:
        raise _refuse(text, f"nesting deeper than {MAX_DEPTH}")
    if isinstance(node, ast.Constant):
        return _number(node, text, source)
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise _refuse(text, f"the name {node.id!r}")
        if node.id in _CONSTANT_NAMES:
            return _constant(node.id)
        raise _refuse(text, f"the unknown name {node.id!r} (the variable is t)")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _build(node.operand, text, depth + 1, source)
        return sp.Mul(-1, inner) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        if isinstance(node.op, ast.Pow):
            base = _build(node.left, text, depth + 1, source)
            exponent_literal = _exponent_value(node.right, text, source)
            exponent = _build(node.right, text, depth + 1, source)
            if exponent_literal is not None and abs(exponent_literal) > MAX_EXPONENT:
                raise _refuse(text, f"the exponent {exponent_literal} (at most {MAX_EXPONENT} in size)")
            if exponent_literal is None and not exponent.has(t_symbol()):
                raise _refuse(text, "an exponent that is a computed constant (write it as a number)")
            if exponent_literal is None and not base.is_number:
                raise _refuse(text, "a power whose base and exponent both depend on t")
            if isinstance(base, sp.Rational) and exponent_literal is not None:
                bits = max(abs(base.p), base.q).bit_length() * float(abs(exponent_literal))
                if bits > 4000:
                    raise _refuse(text, "a constant with more than 4000 bits")
            return sp.Pow(base, exponent)
        if type(node.op) in _BINOPS:
            left = _build(node.left, text, depth + 1, source)
            right = _build(node.right, text, depth + 1, source)
            return _BINOPS[type(node.op)](left, right)
        raise _refuse(text, f"the operator {type(node.op).__name__}")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name):
            raise _refuse(text, "a call of something that is not a plain function name (attribute access?)")
        name = node.func.id
        if name not in _FUNCTION_NAMES:
            raise _refuse(text, f"the function {name!r}")
        if node.keywords:
            raise _refuse(text, "keyword arguments")
        args = [_build(a, text, depth + 1, source) for a in node.args]
        if name in _ARITY:
            if len(args) < 2:
                raise ExpressionSyntaxError(f"expression {text!r}: {name} needs at least two arguments")
        elif len(args) != 1:
            raise ExpressionSyntaxError(f"expression {text!r}: {name} takes exactly one argument, got {len(args)}")
        return _function(name)(*args)
    if isinstance(node, ast.Attribute):
        raise _refuse(text, "attribute access")
    if isinstance(node, ast.Lambda):
        raise _refuse(text, "lambda")
    raise _refuse(text, f"a {type(node).__name__} construct")


def _short(node: sp.Expr) -> str:
    text = str(node)
    return text if len(text) <= 60 else text[:57] + "..."


def _provably(arg: sp.Expr, strict: bool) -> bool:
    """``arg > 0`` (strict) or ``arg >= 0`` for every real t: sympy's assumptions, else interval arithmetic on R."""
    known = arg.is_positive if strict else arg.is_nonnegative
    if known is not None:
        return bool(known)
    from mpmath import iv


    try:
        box = interval_value(arg, iv.mpf(["-inf", "inf"]))
    except Exception:  # no enclosure over the whole line: not proved
        return False
    low = box.a
    return bool(low > 0) if strict else bool(low >= 0)


def _leaves_reals(node: sp.Expr) -> str | None:
    """Why ``node`` may be non-real for some real ``t`` (its own step only), else None."""
    if node.is_Pow:
        base, exponent = node.args
        if exponent.is_Integer:
            if exponent.is_negative and not (base.is_nonzero or _provably(base, True) or _provably(-base, True)):
                return f"the division by {_short(base)} (not provably nonzero for every real t)"
            return None
        strict = bool(exponent.has(t_symbol()) or exponent.is_negative)
        ok, need = _provably(base, strict), ("> 0" if strict else ">= 0")
        return None if ok else f"the power {_short(node)} (its base {_short(base)} is not provably {need} for every real t)"
    if isinstance(node, sp.log):
        arg = node.args[0]
        return None if _provably(arg, True) else f"{_short(node)} (its argument {_short(arg)} is not provably > 0 for every real t)"
    if node.is_number and (node.has(sp.I) or node.has(sp.zoo, sp.nan)):
        return f"the non-real constant {_short(node)}"
    return None


def _check_real(expr: sp.Expr, text: str) -> None:
    """Refuse expressions that can leave the real numbers (sympy and floats would then disagree)."""
    for node in sp.preorder_traversal(expr):
        why = _leaves_reals(node)
        if why is not None:
            raise UnsafeExpression(
                f"expression {text!r} can leave the real numbers at {why}; the float and the symbolic "
                "readings would disagree there. Make the argument provably in range, e.g. sqrt(t**2 + 1), "
                "sqrt(Abs(t)) or log(1 + exp(t))"
            )


def parse_expression(text: str) -> sp.Expr:
    """Parse ``text`` (a formula in ``t``) into a sympy expression, executing nothing.

    Example:
        >>> parse_expression("1/(1+exp(-t))")
        1/(1 + exp(-t))

    Raises:
        UnsafeExpression: the text uses anything outside the whitelist
            (attribute access, imports, dunder names, lambdas, huge exponents,
            non-decimal literals...), or can leave the real numbers (``sqrt``,
            ``log`` or a fractional power of an argument not provably in range
            for every real ``t``).
        ExpressionSyntaxError: the text is not a formula.
    """
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"expression must be a string, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise ExpressionSyntaxError("expression is empty; give a formula in t such as 'tanh(t)'")
    if len(stripped) > MAX_EXPRESSION_LENGTH:
        raise _refuse(text[:40] + "...", f"more than {MAX_EXPRESSION_LENGTH} characters")
    if "__" in stripped:
        raise _refuse(text, "a dunder name")
    try:
        source = stripped.replace("^", "**")
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionSyntaxError(
            f"expression {text!r} is not a formula ({exc.msg}); write e.g. 'Max(0, t - 1)'"
        ) from None
    result = _build(tree.body, text, 0, source)
    _check_real(result, text)
    huge = [a for a in sp.preorder_traversal(result) if isinstance(a, sp.Rational) and max(abs(a.p), a.q).bit_length() > 4000]
    if huge:
        raise _refuse(text, "a constant with more than 4000 bits")
    return result


def __getattr__(name: str) -> Any:
    """``T``, the variable (re-exported from :mod:`latentcheck.theorems.symbols`, built on first access)."""
    if name == "T":
        return t_symbol()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
