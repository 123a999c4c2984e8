"""A/B of the exact-kernel change (issue 18 item 4): certify_speed's worker, ``latentcheck prove`` and the
latentcheck side of verify_vs_marabou (relu-64-32-8-unsat, relu-64-32-8-sat; no Marabou, no MILP), each run in
the BEFORE checkout and in this one as alternating subprocesses, wall and CPU seconds (the child's user +
system time) side by side, and the verdicts compared.

Usage: python benchmarks/kernel_ab.py --before DIR [--rounds 2]   (prints a table, writes
       benchmarks/results/kernel_ab.json)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERIFY_CASES = ["relu-64-32-8-unsat", "relu-64-32-8-sat"]
_VERIFY = """
import json, sys
sys.path.insert(0, "benchmarks")
import verify_vs_marabou as vm
out = {}
for name in %r:
    sizes, dom, shift, seed = vm.CASES[name]
    r = vm.run_latentcheck(vm.build(sizes, shift, seed), dom, 100.0)
    out[name] = {"verdict": r["verdict"], "seconds": r["seconds"], "cpu_seconds": r["cpu_seconds"]}
print(json.dumps(out))
""" % (VERIFY_CASES,)


def _timed(cmd: list[str], checkout: Path, ok: tuple[int, ...] = (0,)) -> tuple[subprocess.CompletedProcess, float, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "JAX_PLATFORMS": "cpu"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=str(checkout), timeout=3600)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in ok:
        raise SystemExit(f"error: {cmd[1:3]} failed in {checkout}: {proc.stderr.strip().splitlines()[-3:]}")
    return proc, wall, cpu


def _side(checkout: Path) -> dict:
    out: dict = {}
    proc, wall, cpu = _timed([sys.executable, str(checkout / "benchmarks" / "certify_speed.py"), "--worker"], checkout)
    out["certify"] = {"wall": wall, "cpu": cpu, "result": json.loads(proc.stdout.strip().splitlines()[-1])}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "prove.json"
        # exit 1: a verdict differs from the catalog (a timeout under load); the verdicts are compared below
        proc, wall, cpu = _timed([sys.executable, "-m", "latentcheck.checkers.cli", "prove", "--json", str(path)], checkout, (0, 1))
        rows = json.loads(path.read_text())
    out["prove"] = {"wall": wall, "cpu": cpu, "exit": proc.returncode, "verdicts": {r["id"]: r["verdict"] for r in rows}}
    proc, wall, cpu = _timed([sys.executable, "-c", _VERIFY], checkout)
    out["verify"] = {"wall": wall, "cpu": cpu, "cases": json.loads(proc.stdout.strip().splitlines()[-1])}
    return out


def _statuses(side: dict) -> list:
    res = side["certify"]["result"]
    return ([(r["activation"], r["n"], r["m"], r["p3_status"], r["p2_status"]) for r in res["rows"]]
            + [(f["property"], f["activation"], f["n"], f["status"]) for f in res["falsify"]])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    sides: dict[str, list[dict]] = {"before": [], "after": []}
    order = [("before", Path(args.before)), ("after", ROOT)]
    for r in range(args.rounds):  # interleaved, alternating which goes first, so load hits both alike
        for name, path in order if r % 2 == 0 else order[::-1]:
            sides[name].append(_side(path))
            print(f"round {r + 1}/{args.rounds}: {name} done (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
    table = {}
    for part in ("certify", "prove", "verify"):
        table[part] = {name: {"wall_median": statistics.median(s[part]["wall"] for s in runs),
                              "cpu_median": statistics.median(s[part]["cpu"] for s in runs)} for name, runs in sides.items()}
        b, a = table[part]["before"], table[part]["after"]
        print(f"{part:8s} wall {b['wall_median']:8.1f} -> {a['wall_median']:8.1f} s   cpu {b['cpu_median']:8.1f} -> {a['cpu_median']:8.1f} s")
    same = {
        "certify_statuses": all(_statuses(s) == _statuses(sides["before"][0]) for s in sides["before"] + sides["after"]),
        "prove_verdicts": all(s["prove"]["verdicts"] == sides["before"][0]["prove"]["verdicts"] for s in sides["after"]),
        "prove_exits": {name: [s["prove"]["exit"] for s in runs] for name, runs in sides.items()},
        "verify_verdicts": all({k: v["verdict"] for k, v in s["verify"]["cases"].items()}
                               == {k: v["verdict"] for k, v in sides["before"][0]["verify"]["cases"].items()} for s in sides["after"]),
    }
    print("same verdicts:", same)
    for name, runs in sides.items():
        for s in runs:
            rows = s["certify"]["result"]["rows"]
            print(name, "certify ms (p3_check p3_certify p2_check p2_certify, summed over cases):",
                  " ".join(f"{sum(r[t] for r in rows) * 1e3:.1f}" for t in ("p3_check", "p3_certify", "p2_check", "p2_certify")),
                  "| verify:", {k: (v["verdict"], round(v["seconds"], 2)) for k, v in s["verify"]["cases"].items()},
                  "| prove verdicts:", sorted(set(s["prove"]["verdicts"].values())), len(s["prove"]["verdicts"]))
    out = {"method": f"before ({args.before}) and after ({ROOT}) alternating, {args.rounds} rounds, medians; CPU = child "
                     "user+system seconds", "load_end": os.getloadavg(), "table": table, "same": same, "runs": sides}
    path = ROOT / "benchmarks" / "results" / "kernel_ab.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=1, default=str) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    main()
