"""Checks of option values, run before any work (one :class:`InvalidArgument` each).

Every message names the option, the bad value and the fix, so ``latentcheck``
prints it as one ``error:`` line and exits with code 2. The option groups
(:class:`~latentcheck.checkers.encoder_source.EncoderSource`,
:class:`~latentcheck.checkers.search_options.SearchOptions`) and the command
line (``cli/_args.py`` re-exports these) check their values with them, so each
kind of value is checked by one function.
"""

from __future__ import annotations

import math
from typing import Any, Optional

from ..theorems.errors import InvalidArgument

__all__ = ["positive_int", "nonneg_int", "positive_seconds", "nonneg_finite", "positive_finite", "finite",
           "fraction", "nonempty"]


def positive_int(value: Optional[int], option: str, example: str = "1") -> None:
    """``value`` is ``None`` or an int >= 1."""
    if value is not None and value < 1:
        raise InvalidArgument(f"{option} {value} must be at least 1, e.g. {option} {example}")


def nonneg_int(value: Optional[int], option: str, example: str = "0") -> None:
    """``value`` is ``None`` or an int >= 0."""
    if value is not None and value < 0:
        raise InvalidArgument(f"{option} {value} must be 0 or more, e.g. {option} {example}")


def finite(value: Optional[float], option: str, example: str = "1") -> None:
    """``value`` is ``None`` or a finite number (not NaN, not infinite)."""
    if value is not None and not math.isfinite(value):
        raise InvalidArgument(f"{option} {value!r} must be a finite number, e.g. {option} {example}")


def positive_finite(value: Optional[float], option: str, example: str = "1") -> None:
    """``value`` is ``None`` or a finite number > 0."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InvalidArgument(f"{option} {value!r} must be a positive, finite number, e.g. {option} {example}")


def positive_seconds(value: Optional[float], option: str, example: str = "10") -> None:
    """``value`` is ``None`` or a positive, finite number of seconds."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InvalidArgument(f"{option} {value!r} must be a positive, finite number of seconds, e.g. {option} {example}")


def nonneg_finite(value: Optional[float], option: str, example: str = "0") -> None:
    """``value`` is ``None`` or a finite number >= 0."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise InvalidArgument(f"{option} {value!r} must be a finite number >= 0, e.g. {option} {example}")


def fraction(value: Optional[float], option: str, example: str = "0.9") -> None:
    """``value`` is ``None`` or in ``(0, 1]``."""
    if value is not None and not (math.isfinite(value) and 0 < value <= 1):
        raise InvalidArgument(f"{option} {value!r} must lie in (0, 1], e.g. {option} {example}")


def nonempty(value: Any, option: str, example: str) -> None:
    """``value`` is ``None`` or a string with something besides blanks and commas."""
    if value is not None and not str(value).replace(",", "").strip():
        raise InvalidArgument(f"{option} {value!r} is empty; give a value, e.g. {option} {example}")
