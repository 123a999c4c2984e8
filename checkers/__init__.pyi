"""latentcheck.checkers' public names, each from the module that defines it (lazy_loader.attach_stub).

The engines' entry points ``falsify`` and ``verify`` are not names here: ``latentcheck.checkers.falsify`` and
``latentcheck.checkers.verify`` are the engine packages (the functions are ``latentcheck.falsify`` and
``latentcheck.verify``, or ``latentcheck.checkers.falsify.falsify``), so a name never shadows a package."""

from .encoder_source import EncoderSource
from .falsify import FalsifyResult
from .float_vanishing import float_vanishing_threshold, float_vanishing_thresholds, float_zero_sets
from .prove.checks import CHECKS, Verdict, prove_all, prove_claim
from .prove.smt import SmtResult, p2_constant_check, t4_m1_all_n
from .prove.symbolic import t1_identities, t3_identities
from .search_options import FalsifyOptions, SearchOptions, VerifyOptions
from .verify import VerifyResult
