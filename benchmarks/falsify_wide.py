"""Wall time and peak memory of ``latentcheck falsify`` on wide latent layers (no bottleneck).

Goal (issue 8): ``W`` of 20000x10 and 100000x10 (n = 10 inputs, m outputs) finish
within ``--budget`` plus start-up, with a result and no MemoryError, for every
property and domain. Start-up is measured as the wall time of the same command
on a 10x3 encoder with a tiny budget; the XLA compilation of the search round
(reported as ``compile_seconds``) is start-up too and does not count against
the budget.
Usage: python benchmarks/falsify_wide.py [BUDGET]   (prints a table, writes benchmarks/results/falsify_wide.json)
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CASES = [
    ("p3", "relu", "reals"), ("p3", "relu", "nonneg"), ("p3", "relu", "binary"), ("p3", "relu", "sphere"),
    ("p3", "tanh", "reals"), ("p2", "relu", "reals"), ("p2", "sigmoid", "binary"),
]


def run(weights: str, prop: str, act: str, domain: str, budget: float) -> dict:
    cmd = [sys.executable, "-m", "latentcheck.checkers.cli", "falsify", "-p", prop, "--weights", weights, "--activation", act,
           "--domain", domain, "--budget", str(budget), "--json"]
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=600)
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    try:
        data = json.loads(out.stdout)
        status, seconds = data["status"], data["stats"]["timing"]["seconds"]
        compile_s = data["stats"]["timing"].get("compile_seconds")
    except (json.JSONDecodeError, KeyError):
        status, seconds, compile_s = f"exit {out.returncode}: {out.stderr.strip().splitlines()[-1:]}", None, None
    return {"property": prop, "activation": act, "domain": domain, "exit_code": out.returncode, "status": status,
            "wall_seconds": round(wall, 2), "falsify_seconds": seconds, "compile_seconds": compile_s, "peak_rss_mb_at_most": round(max(peak, before) / 1024, 1),
            "memory_error": "MemoryError" in out.stderr}


def main() -> None:
    budget = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        rng = np.random.default_rng(0)
        small = os.path.join(tmp, "w10.npz")
        np.savez(small, W0=rng.standard_normal((3, 10)), b0=np.zeros(3))
        startup = run(small, "p3", "relu", "reals", 0.05)["wall_seconds"]
        for m in (20000, 100000):
            path = os.path.join(tmp, f"w{m}.npz")
            np.savez(path, W0=rng.standard_normal((m, 10)), b0=np.zeros(m))
            for prop, act, dom in CASES:
                r = run(path, prop, act, dom, budget)
                r["m"], r["n"] = m, 10
                rows.append(r)
                print(f"m={m:6d} {prop} {act:8s} {dom:7s} exit {r['exit_code']} wall {r['wall_seconds']:6.2f} s "
                      f"(falsify {r['falsify_seconds']} s, of which XLA compile {r['compile_seconds']} s) {r['status']}", flush=True)
    print(f"budget {budget} s; start-up (10x3 encoder, budget 0.05 s) {startup:.2f} s; "
          f"goal: falsify seconds - compile <= budget (+ a short grace per stage), no MemoryError")
    out = ROOT / "benchmarks" / "results" / "falsify_wide.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"budget": budget, "startup_seconds": startup, "rows": rows,
                               "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"}, indent=2) + "\n")


if __name__ == "__main__":
    main()
