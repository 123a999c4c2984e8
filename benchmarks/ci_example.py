"""Wall time of the CI example (examples/ci): passing with sigmoid, failing with relu.

Goal (issue 5): both runs under 60 s on a 2-core machine.
Usage: python benchmarks/ci_example.py   (prints a table, writes benchmarks/results/ci_example.json)
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ci"


def run(activation: str) -> dict:
    with tempfile.TemporaryDirectory() as reports:
        env = {**os.environ, "LATENT_ACTIVATION": activation, "CI": "true"}
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              f"--latentcheck-report-dir={reports}"], cwd=EXAMPLE, env=env,
                             capture_output=True, text=True)
        seconds = time.perf_counter() - start
    last = [ln for ln in out.stdout.splitlines() if "passed" in ln or "failed" in ln][-1:]
    return {"activation": activation, "exit_code": out.returncode, "seconds": seconds,
            "summary": last[0] if last else "", "certified_in_message": "certified" in out.stdout}


def main() -> None:
    rows = [run("sigmoid"), run("relu")]
    print(f"{'activation':10s} {'exit':>4s} {'seconds':>8s}  summary")
    for r in rows:
        print(f"{r['activation']:10s} {r['exit_code']:4d} {r['seconds']:8.2f}  {r['summary']}")
    print("goal: both under 60 s; sigmoid exits 0, relu exits 1 with a certified counterexample")
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "ci_example.json").write_text(json.dumps({
        "benchmark": "ci_example", "goal_seconds": 60, "rows": rows,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()}}, indent=2) + "\n")


if __name__ == "__main__":
    main()
