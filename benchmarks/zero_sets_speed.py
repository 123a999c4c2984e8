"""How long the float zero sets take per activation (16-bit exhaustive, float32/float64 certified).

Goal (issue 8): `classify` stays at a few seconds per activation; each float32/float64
analysis is bounded (node and time budget in checkers.float_vanishing).
Usage: python benchmarks/zero_sets_speed.py   (prints a table, writes benchmarks/results/zero_sets_speed.json)
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ["relu", "tanh", "sigmoid", "softplus", "exp", "gelu", "silu", "exp(-t**2)", "1/(1+exp(t))",
         "(t - 1/3)**2 + 1/10**50", "Max(0, t) + 1e-30"]


def main() -> None:
    import jax  # noqa: F401  (import time is not part of the figures)

    from latentcheck.checkers.float_vanishing import DTYPES, RUNTIMES, _zero_keys
    from latentcheck.theorems.activations import get_activation

    rows = []
    for name in CASES:
        act = get_activation(name)
        row: dict = {"activation": name, "seconds": {}, "decided": {}}
        for dtype in DTYPES:
            for runtime in RUNTIMES:
                start = time.perf_counter()
                keys = _zero_keys(act, dtype, runtime)
                row["seconds"][f"{dtype}/{runtime}"] = round(time.perf_counter() - start, 3)
                row["decided"][f"{dtype}/{runtime}"] = keys is not None
        row["total_seconds"] = round(sum(row["seconds"].values()), 3)
        rows.append(row)
        undecided = [k for k, v in row["decided"].items() if not v]
        print(f"{name:28s} {row['total_seconds']:7.2f} s   undecided: {', '.join(undecided) or '-'}")
    out = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                       "load_average": list(os.getloadavg())}, "rows": rows}
    path = ROOT / "benchmarks" / "results" / "zero_sets_speed.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=2))
    tmp.replace(path)


if __name__ == "__main__":
    main()
