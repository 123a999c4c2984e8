"""How long `latentcheck prove` takes: the whole catalog, per claim and end to end.

Goal (issue 2): the whole catalog in under 60 s on a 2-core machine.
Usage: python benchmarks/prove_speed.py [--repeats 3]   (prints a table, writes benchmarks/results/prove_speed.json)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    walls, per_claim = [], {}
    for i in range(args.repeats):
        json_path = out_dir / "prove_verdicts.tmp"
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "latentcheck.checkers.cli", "prove", "--json", str(json_path)],
                              cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:])
            raise SystemExit(f"latentcheck prove exited {proc.returncode}")
        walls.append(wall)
        for row in json.loads(json_path.read_text()):
            per_claim.setdefault(row["id"], []).append(row["seconds"])
        json_path.unlink()
    print(f"{'claim':24s} {'median s':>9s}")
    for cid, secs in per_claim.items():
        print(f"{cid:24s} {sorted(secs)[len(secs) // 2]:9.3f}")
    median_wall = sorted(walls)[len(walls) // 2]
    print(f"{'END TO END (process)':24s} {median_wall:9.3f}   goal < 60 s; runs: {', '.join(f'{w:.2f}' for w in walls)}")
    result = {
        "benchmark": "prove_speed",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "wall_seconds": walls,
        "median_wall_seconds": median_wall,
        "goal_seconds": 60,
        "per_claim_median_seconds": {k: sorted(v)[len(v) // 2] for k, v in per_claim.items()},
    }
    (out_dir / "prove_speed.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
