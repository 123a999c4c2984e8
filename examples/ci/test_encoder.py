"""latentcheck in CI: fail when a user can be encoded as zero, or similarity order flips too often."""
from latentcheck.checkers.testing import assert_nonvanishing, assert_order_preserving
from encoder import encoder


def test_no_user_is_encoded_as_zero():
    # P3 on implicit feedback {0,1}^12: any user with an interaction keeps a nonzero code.
    assert_nonvanishing(encoder(), domain="binary")


def test_similarity_order_flip_rate_is_bounded():
    # T4: no bottleneck encoder keeps every order, so bound the measured flip rate.
    assert_order_preserving(encoder(), domain="binary", tolerance=0.95)
