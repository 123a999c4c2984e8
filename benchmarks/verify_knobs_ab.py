"""A/B of the verify engine's tuning constants, each case in its own process, both arms in one run.

    python benchmarks/verify_knobs_ab.py [--limit 100] [--seeds 5] [--out benchmarks/results/verify_knobs_ab.json]

Arms: ``before`` sets the constants this session changed back to their old values (HiGHS simplex scaling on,
derived bounds kept from a 0.1% gain, a 0.3 s first box search slot); ``after`` is the engine as it is. Cases:
the box cases of ``verify_vs_peers.py`` plus ``--seeds`` more random encoders of each unsatisfiable shape (the
tree sizes of one instance move with the LP's vertex order, so one instance says little). Per case and arm: the
verdict, tree nodes, LPs, derived bounds, the solve's CPU seconds and the whole process's CPU seconds (start-up
included). Verdicts must agree (a certified verdict in one arm and ``unknown`` in the other is reported).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from verify_vs_peers import CASES, _children_cpu, build, compile_package  # noqa: E402

ARMS = {
    "before": {"scale": 1, "min_gain": 1e-3, "search_cap": 0.3},
    "after": {},
}
SHAPES = [([64, 32, 8], 4.0), ([64, 64, 32, 8], 6.0)]
WORKER = r"""
import json, sys, time
t0 = time.process_time()
cfg = json.loads(sys.argv[1])
from latentcheck.checkers.verify import highs_lp as H, run as R, tighten as T, verify
from latentcheck.theorems.formats import load_encoder
arm = cfg["arm"]
if "scale" in arm:
    H._SCALE_STRATEGY = arm["scale"]
if "min_gain" in arm:
    T._MIN_GAIN = arm["min_gain"]
if "search_cap" in arm:
    R._SEARCH_CAP = arm["search_cap"]
enc = load_encoder(cfg["weights"])
t1 = time.process_time()
res = verify(enc, "p3", domain=cfg["domain"], timeout=cfg["limit"])
t2 = time.process_time()
s = res.stats
print(json.dumps({"verdict": res.verdict, "nodes": s.get("nodes"), "lps": s.get("lps"),
                  "derived_bounds": s.get("derived_bounds"), "solve_cpu": round(t2 - t1, 3),
                  "startup_cpu": round(t1 - t0, 3)}))
"""


def run_arm(weights: str, domain: str, arm: dict, limit: float) -> dict:
    cfg = json.dumps({"weights": weights, "domain": domain, "arm": arm, "limit": limit})
    c0, t = _children_cpu(), time.perf_counter()
    out = subprocess.run([sys.executable, "-c", WORKER, cfg], capture_output=True, text=True, timeout=limit + 120)
    res = {"process_cpu": round(_children_cpu() - c0, 3), "wall": round(time.perf_counter() - t, 3)}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        res.update(verdict="ERROR", reason=(out.stderr or out.stdout)[-300:])
    else:
        res.update(json.loads(lines[-1]))
    return res


def cases(seeds: int, tmp: str):
    for name, (sizes, dom, shift, seed, _truth) in CASES.items():
        if dom.startswith("box"):
            path = os.path.join(tmp, f"{name}.npz")
            build(sizes, shift, seed, path)
            yield name, path, dom
    for sizes, shift in SHAPES:
        for seed in range(1, seeds + 1):
            name = f"box-{'-'.join(map(str, sizes))}-shift{shift:g}-seed{seed}"
            path = os.path.join(tmp, f"{name}.npz")
            build(sizes, shift, seed, path)
            yield name, path, "box:-1,1"


def _cell(r: dict) -> str:
    return f"{r['verdict']:8s} {str(r.get('nodes')):>6s} {r.get('solve_cpu', float('nan')):6.2f} / {r['process_cpu']:6.2f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=100.0)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "verify_knobs_ab.json"))
    args = ap.parse_args(argv)
    compile_package()
    rows = []
    print(f"{'case':36s} | {'before: verdict nodes solve/process CPU s':>42s} | {'after':>42s}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, path, dom in cases(args.seeds, tmp):
            row = {"case": name, "domain": dom}
            for arm, knobs in ARMS.items():
                row[arm] = run_arm(path, dom, knobs, args.limit)
            rows.append(row)
            print(f"{name:36s} | {_cell(row['before']):>42s} | {_cell(row['after']):>42s}", flush=True)
    out = {"benchmark": "verify_knobs_ab", "arms": ARMS, "limit_seconds": args.limit, "machine": platform.machine(),
           "cpus": os.cpu_count(), "python": platform.python_version(), "load_average_at_end": os.getloadavg(),
           "note": "one process per case and arm; process_cpu includes start-up (imports, model loading)",
           "rows": rows}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp_path = args.out + ".tmp"
    with open(tmp_path, "w") as fh:
        json.dump(out, fh, indent=1)
    os.replace(tmp_path, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
