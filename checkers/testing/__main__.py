"""``python -m latentcheck.checkers.testing REPORT.json``: re-check the counterexample of an assertion's report.

Loads the report and the encoder saved beside it (``encoder.npz``) and checks
the witness again: outside floating point (exact rationals or intervals) for
a certified counterexample, in the report's dtype for a float-only one.

Exit codes: 1 the counterexample is confirmed (like the failing test), 0 it
no longer holds, 2 the report cannot be re-checked (say why on stderr).
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
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

    from latentcheck.theorems import Encoder, check_flip, check_zero

    enc = Encoder.load(path.parent / weights)
    vecs = {k: [Fraction(v) for v in vals] for k, vals in cx["witness"].items()}
    dtype = cx.get("dtype") or report.get("dtype", "float32")
    if cx["certified"] in ("exact", "interval"):
        pc = check_zero(enc, vecs["x"]) if cx["property"] == "P3" else check_flip(enc, vecs["x"], vecs["u"], vecs["v"])
        print(f"{cx['property']} counterexample re-checked ({pc.certified}): {'confirmed' if pc.violates else 'NOT confirmed'}; {pc.detail}")
        return 1 if pc.violates else 0
    from latentcheck.counterexamples.certify import float_encode

    if cx["property"] == "P3":
        z = float_encode(enc, np.array([[float(v) for v in vecs["x"]]]), dtype)[0]
        ok = bool(np.all(z == 0))
        print(f"P3 float-only counterexample in {dtype}: enc(x) {'is' if ok else 'is NOT'} exactly 0 ({z.tolist()[:8]})")
        return 1 if ok else 0
    Z = float_encode(enc, np.array([[float(v) for v in vecs[k]] for k in ("x", "u", "v")]), dtype)
    gap = float(Z[0] @ Z[1] - Z[0] @ Z[2])
    print(f"P2 float-only flip in {dtype}: <enc x,enc u> - <enc x,enc v> = {gap:.6g} ({'confirmed' if gap > 0 else 'NOT confirmed'})")
    return 1 if gap > 0 else 0


if __name__ == "__main__":
    sys.exit(main())
