"""Complete verification of P3 for piecewise-linear encoders (``latentcheck verify``).

:func:`verify` returns a :class:`VerifyResult`; ``proved`` verdicts carry a
certificate re-checked in exact rationals (:mod:`latentcheck.counterexamples.certificate`).
"""

from latentcheck.checkers.verifier.api import VERDICTS, VerifyResult, parse_verify_domain, verify

__all__ = ["verify", "VerifyResult", "VERDICTS", "parse_verify_domain"]
