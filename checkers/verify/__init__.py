"""``latentcheck.checkers.verify``: decide P3 exactly for piecewise-linear encoders.

    from latentcheck.checkers.verify import verify
    res = verify(encoder, "p3", domain="box:-1,1", timeout=60)
    res.verdict        # 'proved' | 'refuted' | 'proved-float' | 'unknown'
    res.certificate    # for 'proved' by branch and bound: re-checkable JSON (docs/verify.md)
    verify(encoder, "p3-eps:1/100", domain="binary")   # one-layer smooth encoders: |enc(x)|_inf >= eps
    verify_min_latent(encoder, domain="binary").min_latent  # certified bounds on min |enc(x)|_inf
"""

from .api import VERDICTS, VerifyResult, parse_verify_domain, verify, verify_min_latent

__all__ = ["verify", "verify_min_latent", "VerifyResult", "VERDICTS", "parse_verify_domain"]
