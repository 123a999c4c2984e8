"""latentcheck.counterexamples: certified counterexamples, shrinking and reports.

Public API (stable)::

    from latentcheck.counterexamples import Counterexample, write_report
    from latentcheck.counterexamples import certify_zero, certify_flip, shrink, render_markdown, load_report
    from latentcheck.counterexamples import recheck_path   # latentcheck recheck: (exit code, OK/REJECTED line)

A :class:`Counterexample` holds an exact witness (rational strings) and a
label: ``exact`` or ``interval`` (a real counterexample) or ``float-only``
(a rounding hazard of one dtype, never a counterexample to the property).
"""

from .certificate import binding_record, check_certificate
from .recheck import recheck_path
from .certify import Certification, certify_flip, certify_zero, float_encode, to_counterexample
from .report import SCHEMA, load_report, render_markdown, strip_timings, write_report
from .shrink import shrink
from .types import CERTIFIED, EXACT, FLOAT_ONLY, INTERVAL, UNDECIDED, Counterexample, format_fraction, parse_fraction
from ._certifier import certifier, certifier_for

# The certifiers that live in files of their own, registered by property class on import (see _certifier.py).
from . import certifier_p2_delta, certifier_p3_eps  # noqa: F401,E402

__all__ = [
    "certifier",
    "certifier_for",
    "Counterexample",
    "CERTIFIED",
    "EXACT",
    "INTERVAL",
    "FLOAT_ONLY",
    "UNDECIDED",
    "format_fraction",
    "parse_fraction",
    "Certification",
    "certify_zero",
    "certify_flip",
    "float_encode",
    "to_counterexample",
    "shrink",
    "SCHEMA",
    "write_report",
    "render_markdown",
    "load_report",
    "strip_timings",
    "check_certificate",
    "binding_record",
    "recheck_path",
]
