"""latentcheck.checkers' public names, each from the module that defines it (lazy_loader.attach_stub)."""

from .domains import Domain, parse_domain
from .falsify import FalsifyResult, falsify
from .float_vanishing import float_vanishing_threshold, float_vanishing_thresholds, float_zero_sets
from .prove import CHECKS, Verdict, prove_all, prove_claim
from .smt import SmtResult, p2_constant_check, t4_m1_all_n
from .symbolic import t1_identities, t3_identities
from .verify import VerifyResult, verify
