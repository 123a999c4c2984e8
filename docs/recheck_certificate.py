#!/usr/bin/env python3
"""Re-check a ``latentcheck verify`` certificate (or a falsify report) with rationals only.

This file is a pointer: the re-checker ships in the package as
``latentcheck/counterexamples/recheck.py`` (source: ``counterexamples/recheck.py``),
run as ``latentcheck recheck FILE [--encoder PATH] [--model PATH]``. It imports
nothing else of latentcheck and needs only the standard library and NumPy's
``.npz`` reader, so it can also be copied and run on its own. This script loads
that module by path (no latentcheck import) and runs it::

    python docs/recheck_certificate.py OUT/certificate.json [--encoder OUT/encoder.npz] [--model MODEL]

What it checks and its exit codes: docs/verify.md ("Re-checking a certificate").
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_SRC = Path(__file__).resolve().parents[1] / "counterexamples" / "recheck.py"
_spec = importlib.util.spec_from_file_location("latentcheck_recheck_standalone", _SRC)
_mod = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _mod
_spec.loader.exec_module(_mod)

Rejected = _mod.Rejected
recheck = _mod.recheck
recheck_l2 = _mod.recheck_l2
recheck_report = _mod.recheck_report
recheck_path = _mod.recheck_path
CATALOG = _mod.CATALOG
main = _mod.main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
