"""``latentcheck.checkers.verify``: decide P3 exactly for piecewise-linear encoders.

    from latentcheck.checkers.verify import verify
    res = verify(encoder, "p3", domain="box:-1,1", timeout=60)
    res.verdict        # 'proved' | 'refuted' | 'proved-float' | 'unknown'
    res.certificate    # for 'proved' by branch and bound: re-checkable JSON (docs/verify.md)
"""

from .api import VERDICTS, VerifyResult, parse_verify_domain, verify

__all__ = ["verify", "VerifyResult", "VERDICTS", "parse_verify_domain"]
