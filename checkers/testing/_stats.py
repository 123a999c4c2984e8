"""Confidence bounds for a measured rate (Clopper-Pearson, with mpmath; SciPy where mpmath does not converge)."""

from __future__ import annotations

__all__ = ["clopper_pearson_upper", "clopper_pearson_lower"]


def _cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), via the regularized incomplete beta function.

    mpmath's series does not converge for large ``k`` and ``n`` (thousands of
    flips); SciPy's ``binom.cdf`` (the same function, in double precision) then answers.
    """
    import mpmath

    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 1.0 if k >= n else 0.0
    try:
        return float(mpmath.betainc(n - k, k + 1, 0, 1 - p, regularized=True))
    except (ValueError, ZeroDivisionError):
        from scipy.stats import binom

        return float(binom.cdf(k, n, p))


def clopper_pearson_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact upper bound on a binomial rate after ``k`` successes in ``n`` trials.

    The smallest ``p`` with ``P(X <= k | n, p) <= 1 - confidence``: with
    probability at least ``confidence`` the true rate is below it.

    Example:
        >>> round(clopper_pearson_upper(0, 1000), 6)  # 1 - 0.05**(1/1000)
        0.002991
    """
    if n <= 0:
        return 1.0
    if not 0 <= k <= n:
        raise ValueError(f"k={k!r} must lie between 0 and n={n!r}")
    if k == n:
        return 1.0
    alpha = 1.0 - confidence
    if k == 0:
        return 1.0 - alpha ** (1.0 / n)
    lo, hi = k / n, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _cdf(k, n, mid) > alpha:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12:
            break
    return hi


def clopper_pearson_lower(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact lower bound (by symmetry with :func:`clopper_pearson_upper`)."""
    if n <= 0 or k == 0:
        return 0.0
    return 1.0 - clopper_pearson_upper(n - k, n, confidence)

