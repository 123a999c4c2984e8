"""The symbolic engine (sympy): identities that certify the theorems for symbolic weights.

Every function returns a list of ``(name, ok)`` pairs, one per identity, each
decided by ``sympy.expand``/``simplify`` reducing a difference to 0 for
symbolic entries. The logic that turns the identities into the theorem is in
each docstring and in ``docs/``.
"""

from __future__ import annotations

from ...theorems.symbols import sp, t_symbol

__all__ = [
    "symbolic_matrix",
    "cofactor_kernel",
    "t1_identities",
    "t3_identities",
    "t5_constant_identity",
    "t5_derivative_identity",
    "constant_encoder_identity",
]


def symbolic_matrix(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}{i}{j}", real=True))


def cofactor_kernel(W: sp.Matrix) -> sp.Matrix:
    """The generalised cross product of the rows of an ``m x (m+1)`` matrix: signed maximal minors."""
    m = W.rows
    return sp.Matrix([(-1) ** j * W[:, [c for c in range(m + 1) if c != j]].det() for j in range(m + 1)])


def _is_zero_matrix(M: sp.Matrix) -> bool:
    return all(sp.expand(v) == 0 for v in M)


def t1_identities(m: int) -> list[tuple[str, bool]]:
    """T1 for symbolic ``W`` (m x (m+1)), ``b``, ``t0``.

    With ``k`` the cofactor vector and ``G = W W^T``:
    (a) ``W k = 0``; (b) ``G adj(G) = det(G) I``; (c) ``det(G) = |k|^2`` (Cauchy-Binet);
    (d) ``W x_p = det(G) (t0 1 - b)`` for ``x_p = W^T adj(G) (t0 1 - b)``; (e) ``<x_p, k> = 0``.
    Full row rank means some maximal minor is nonzero, so ``k != 0`` and ``det G = |k|^2 > 0``;
    then ``x = x_p / det(G) + k`` satisfies ``W x + b = t0 1`` and ``|x|^2 >= |k|^2 > 0``.
    Larger ``n`` reduces to ``n = m + 1`` by keeping ``m + 1`` columns that hold a nonzero minor.
    """
    W = symbolic_matrix("w", m, m + 1)
    b = sp.Matrix(m, 1, lambda i, j: sp.Symbol(f"b{i}", real=True))
    t0 = sp.Symbol("t0", real=True)
    k = cofactor_kernel(W)
    G = W * W.T
    adj = G.adjugate()
    det = G.det()
    c = t0 * sp.ones(m, 1) - b
    xp = W.T * adj * c
    return [
        ("W k = 0", _is_zero_matrix(W * k)),
        ("G adj(G) = det(G) I", _is_zero_matrix(G * adj - det * sp.eye(m))),
        ("det(W W^T) = |k|^2", sp.expand(det - (k.T * k)[0]) == 0),
        ("W x_p = det(G) (t0 1 - b)", _is_zero_matrix(W * xp - det * c)),
        ("<x_p, k> = 0", sp.expand((xp.T * k)[0]) == 0),
    ]


def t3_identities(m: int) -> list[tuple[str, bool]]:
    """T3 for symbolic ``A`` (m x (m+1)), row-space coefficients ``c`` and scale ``e``.

    ``k`` the cofactor vector (``A k = 0``), ``r = A^T c``, ``x = r + k``, ``v = k``, ``u = e x``:
    ``<x,v> = |k|^2``, ``<x,u> = e |x|^2``, ``<Ax,Au> = e |A r|^2``, ``<Ax,Av> = 0``.
    Hence for ``0 < e < |k|^2/|x|^2`` and ``A r != 0``: ``<x,u> < <x,v>`` yet ``<Ax,Au> > <Ax,Av>``.
    (A rank-deficient ``A`` has a kernel vector too; the identities only use ``A k = 0``.)
    """
    A = symbolic_matrix("a", m, m + 1)
    cvec = sp.Matrix(m, 1, lambda i, j: sp.Symbol(f"c{i}", real=True))
    e = sp.Symbol("e", positive=True)
    k = cofactor_kernel(A)
    r = A.T * cvec
    x = r + k
    u = e * x
    v = k

    def ip(a: sp.Matrix, b: sp.Matrix) -> sp.Expr:
        return (a.T * b)[0]

    return [
        ("A k = 0", _is_zero_matrix(A * k)),
        ("<x,v> = |k|^2", sp.expand(ip(x, v) - ip(k, k)) == 0),
        ("<x,u> = e |x|^2", sp.expand(ip(x, u) - e * ip(x, x)) == 0),
        ("<Ax,Au> = e |Ar|^2", sp.expand(ip(A * x, A * u) - e * ip(A * r, A * r)) == 0),
        ("<Ax,Av> = 0", sp.expand(ip(A * x, A * v)) == 0),
    ]


def _sigmoid(z: sp.Expr) -> sp.Expr:
    return 1 / (1 + sp.exp(-z))


def t5_constant_identity() -> tuple[bool, str]:
    """For ``W = [[1,0,0],[-1,0,0]]``, ``b = 0``: ``<sigmoid(b), sigmoid(W u + b)> = 1/2`` for all ``u``."""
    u1 = sp.Symbol("u1", real=True)
    g = sp.Rational(1, 2) * _sigmoid(u1) + sp.Rational(1, 2) * _sigmoid(-u1)
    ok = sp.simplify(g - sp.Rational(1, 2)) == 0
    return ok, "<enc 0, enc u> = (sigmoid(u1) + sigmoid(-u1))/2, which sympy reduces to 1/2 for every u"


def t5_derivative_identity(m: int) -> list[tuple[str, bool]]:
    """Corrected T5 for symbolic ``W`` (m x (m+1)) and ``b``.

    ``d_i = sigmoid(b_i) sigmoid'(b_i) > 0``, ``w = W^T d``,
    ``g(tau) = <sigmoid(b), sigmoid(tau W w + b)>``: ``g'(0) = |W^T d|^2``.
    So ``W^T d != 0`` gives ``g(tau) > g(0)`` for small ``tau > 0``: with ``x = 0``,
    ``u = tau w``, ``v = 0``, ``<x,u> = <x,v>`` but ``<enc x,enc u> > <enc x,enc v>``.
    """
    W = symbolic_matrix("w", m, m + 1)
    b = [sp.Symbol(f"b{i}", real=True) for i in range(m)]
    tau = sp.Symbol("tau", real=True)
    d = sp.Matrix([_sigmoid(bi) * sp.diff(_sigmoid(bi), bi) for bi in b])
    w = W.T * d
    z = tau * (W * w)
    g = sum(_sigmoid(b[i]) * _sigmoid(z[i] + b[i]) for i in range(m))
    slope = sp.diff(g, tau).subs(tau, 0)
    target = (w.T * w)[0]
    return [("g'(0) = |W^T d|^2", sp.simplify(slope - target) == 0)]


def constant_encoder_identity(activation_expr: sp.Expr) -> tuple[bool, str]:
    """For ``W = 0`` and a symbolic ``b_i > 0``: ``s(0 x + b_i) = s(b_i)`` is free of ``x`` and nonzero."""

    bi = sp.Symbol("b_i", positive=True)
    x = sp.Symbol("x_j", real=True)
    value = activation_expr.subs(t_symbol(), 0 * x + bi)
    free = not value.has(x)
    nonzero = bool(value.is_positive) or bool(value.is_negative)
    return free and nonzero, f"s(0*x + b_i) = {sp.simplify(value)}: independent of x and nonzero for b_i > 0"
