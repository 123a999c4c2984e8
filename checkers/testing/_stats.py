"""Confidence bounds for a measured rate: exact (Clopper-Pearson) one-sided bounds from ``scipy.stats.beta``."""

from __future__ import annotations

__all__ = ["clopper_pearson_upper", "clopper_pearson_lower"]


def _check(k: int, n: int, confidence: float) -> None:
    if not 0 <= k <= n:
        raise ValueError(f"k={k!r} must lie between 0 and n={n!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r} must lie in (0, 1)")


def clopper_pearson_upper(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact upper bound on a binomial rate after ``k`` successes in ``n`` trials.

    The ``p`` with ``P(X <= k | n, p) = 1 - confidence``, i.e. the ``confidence``
    quantile of ``Beta(k + 1, n - k)``: with probability at least ``confidence``
    the true rate is below it.

    Example:
        >>> round(clopper_pearson_upper(0, 1000), 6)  # 1 - 0.05**(1/1000)
        0.002991
    """
    if n <= 0:
        return 1.0
    _check(k, n, confidence)
    if k == n:
        return 1.0
    from scipy.stats import beta

    return float(beta.ppf(confidence, k + 1, n - k))


def clopper_pearson_lower(k: int, n: int, confidence: float = 0.95) -> float:
    """One-sided exact lower bound: the ``1 - confidence`` quantile of ``Beta(k, n - k + 1)``."""
    if n <= 0 or k == 0:
        return 0.0
    _check(k, n, confidence)
    from scipy.stats import beta

    return float(beta.ppf(1.0 - confidence, k, n - k + 1))
