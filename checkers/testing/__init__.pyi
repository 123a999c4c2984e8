"""latentcheck.checkers.testing's public names, each from the module that defines it (lazy_loader.attach_stub)."""

from .assertions import NonvanishingResult, OrderResult, assert_nonvanishing, assert_order_preserving
from .strategies import activations, binary, encoders, nonneg, reals, rows_of, sphere
