"""``latentcheck prove``: every theorem and claim of the catalogue with a verdict.

:mod:`.checks` holds the checks and :func:`prove_all`; :mod:`.symbolic` (sympy) and :mod:`.smt` (z3) the
proofs they call; :mod:`.t4_domains`, :mod:`.t4_gram` and :mod:`.t4_grid` the T4 steps.
"""

from .checks import CHECKS, PROVED, REFUTED, UNKNOWN, Verdict, all_claims, find_claim, prove_all, prove_claim

__all__ = ["Verdict", "CHECKS", "prove_claim", "prove_all", "all_claims", "find_claim", "PROVED", "REFUTED", "UNKNOWN"]
