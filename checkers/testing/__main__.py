"""``python -m latentcheck.checkers.testing REPORT.json``: re-check the counterexample of an assertion's report.

Loads the report and the encoder saved beside it (``encoder.npz``) and checks
the witness again: outside floating point (exact rationals or intervals) for
a certified counterexample, in the report's dtype for a float-only one.

Exit codes: 1 the counterexample is confirmed (like the failing test), 0 it
no longer holds, 2 the report cannot be re-checked (say why on stderr), 4 an
internal error (one line; ``--debug`` for the traceback), 130 Ctrl-C.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path
from ...counterexamples.candidate import certify_candidate
from ...counterexamples.certify import float_encode
from ...theorems import Encoder
from ...theorems.errors import LatentcheckError
from ...theorems.properties import get_property
from .._exit import INTERNAL, INTERRUPTED, debug_requested, internal_error_line
from ...theorems.formats import load_encoder


def main(argv: list[str] | None = None) -> int:
    """The re-check's exit code; an unexpected exception is exit 4 with one line, never 1 (see ``_exit``)."""

    args = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main([a for a in args if a != "--debug"])
    except KeyboardInterrupt:
        return INTERRUPTED
    except LatentcheckError as exc:  # a malformed report or encoder file: bad input
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug is exit 4, not "confirmed"
        if debug_requested(args):
            import traceback

            traceback.print_exception(exc)
        print(internal_error_line(exc), file=sys.stderr)
        return INTERNAL


def _main(args: list[str]) -> int:
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 2 if not args or args[0] not in ("-h", "--help") else 0
    path = Path(args[0])
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        print(f"error: cannot read report {str(path)!r} ({exc}); pass the report.json an assertion wrote", file=sys.stderr)
        return 2
    cx = report.get("counterexample")
    weights = report.get("encoder", {}).get("weights")
    if not cx:
        print(f"error: {path} holds no counterexample (a rate failure: rerun {report.get('command', 'the test')})", file=sys.stderr)
        return 2
    if not weights:
        print(f"error: {path} comes from a plain callable, which cannot be re-loaded; rerun: {report.get('command')}", file=sys.stderr)
        return 2
    import numpy as np


    enc = load_encoder(path.parent / weights)
    vecs = {k: [Fraction(v) for v in vals] for k, vals in cx["witness"].items()}
    dtype = cx.get("dtype") or report.get("dtype", "float32")
    prop = get_property(cx["property"])
    vectors = [vecs[k] for k in prop.names]
    if cx["certified"] in ("exact", "interval") and enc.inputs.normalise != "none":  # the witness of enc(N(x))

        cert = certify_candidate(prop, enc, vectors, dtype=None)
        print(f"{cx['property']} counterexample re-checked ({cert.status}, input normalisation {enc.inputs.normalise}): "
              f"{'confirmed' if cert.certified else 'NOT confirmed'}; {cert.detail}")
        return 1 if cert.certified else 0
    if cx["certified"] in ("exact", "interval"):
        pc = prop.check(enc, vectors)
        print(f"{cx['property']} counterexample re-checked ({pc.certified}): {'confirmed' if pc.violates else 'NOT confirmed'}; {pc.detail}")
        return 1 if pc.violates else 0

    points = [np.array([float(v) for v in vec]) for vec in vectors]
    Z = float_encode(enc, np.stack(points), dtype)
    ok = prop.float_violates(points, list(Z))
    print(f"{prop.id} float-only {prop.what} in {dtype}: {'confirmed' if ok else 'NOT confirmed'} "
          f"(latents {[z.tolist()[:8] for z in Z]})")
    return 1 if ok else 0


if __name__ == "__main__":
    sys.exit(main())
