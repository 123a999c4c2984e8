"""latentcheck's exceptions: one root, messages written for users.

Every message names the bad value, the broken constraint and the fix, on one
line, so the command line can print it as is and exit with code 2.
"""

from __future__ import annotations

__all__ = [
    "LatentcheckError",
    "InvalidArgument",
    "UnsafeExpression",
    "ExpressionSyntaxError",
    "UnknownActivation",
    "InvalidWeights",
    "ShapeMismatch",
    "NonFiniteWeights",
    "DataError",
    "NotExact",
]


class LatentcheckError(Exception):
    """Root of every error latentcheck raises on purpose."""


class InvalidArgument(LatentcheckError, ValueError):
    """A value given by the user is out of the allowed range or form."""


class ExpressionSyntaxError(InvalidArgument):
    """An activation expression could not be parsed."""


class UnsafeExpression(InvalidArgument):
    """An activation expression uses something the restricted parser refuses."""


class UnknownActivation(InvalidArgument):
    """A name that is neither a catalog activation nor a valid expression."""


class InvalidWeights(InvalidArgument):
    """A weight file or weight array is malformed."""


class ShapeMismatch(InvalidWeights):
    """Consecutive layers or a bias do not fit together."""


class NonFiniteWeights(InvalidWeights):
    """A weight or bias is NaN or infinite."""


class DataError(LatentcheckError, OSError):
    """A data file is missing, unreadable or in an unknown format."""


class NotExact(LatentcheckError):
    """Exact rational evaluation was asked for a transcendental activation."""
