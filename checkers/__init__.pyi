"""latentcheck.checkers' public names, each from the module that defines it (lazy_loader.attach_stub).

``falsify`` and ``verify`` come from their engine packages, not from the same-named modules
``checkers/falsify.py`` and ``checkers/verify.py``: so ``import latentcheck.checkers.falsify as f`` is the module
(lazy_loader replaces a package attribute only when a name comes from a module of the same name)."""

from .domains import Domain, parse_domain
from .falsifier import FalsifyResult, falsify
from .float_vanishing import float_vanishing_threshold, float_vanishing_thresholds, float_zero_sets
from .prove import CHECKS, Verdict, prove_all, prove_claim
from .smt import SmtResult, p2_constant_check, t4_m1_all_n
from .symbolic import t1_identities, t3_identities
from .verifier import VerifyResult, verify
