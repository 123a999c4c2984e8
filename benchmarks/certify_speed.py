"""Certification time per candidate, before and after a change (issue 9 item 7: python-flint numerics).

Goal (issue 9): certification is at least 2x faster per candidate. Cases: one-layer encoders
``n-m`` (64-16, 256-64, 1682-200) with float32 weights and relu / tanh / sigmoid / softplus
latents; P3 candidates (float32 ``x`` with every pre-activation negative, so relu is an exact
zero that needs every latent coordinate, the others are decided nonzero) and P2 triples (float32
``x, u, v`` with the premise ``<x,u> <= <x,v>``, the latent difference decided exactly or by
balls). Timed: ``check_zero_fast`` / ``check_flip_fast`` (the exact or ball decision) and
``certify_zero`` / ``certify_flip`` (plus the float re-evaluation in float32), median over the
candidates with warm caches; and a short ``falsify`` run (fixed rounds, so fixed work).

The machine is a shared 2-core CPU under load, so BEFORE (``--before DIR``, a checkout of the old
code) and AFTER (this checkout) run as alternating subprocesses, ``--rounds`` times each, and the
table shows the median over rounds: load hits both sides alike.

Usage: python benchmarks/certify_speed.py [--before /work/main] [--rounds 3]
       (prints a table, writes benchmarks/results/certify_speed.json)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SIZES = [(64, 16), (256, 64), (1682, 200)]
ACTS = ["relu", "tanh", "sigmoid", "softplus"]
CANDIDATES = 5


# ------------------------------------------------------------------ worker (runs in the checkout under test)
def _encoder(n: int, m: int, act: str, xs: np.ndarray) -> object:
    """A float32 one-layer encoder whose biases put every pre-activation of every ``xs`` row below -1."""
    from latentcheck.theorems.encoder import Encoder

    rng = np.random.default_rng(n * 1000 + m)
    W = (rng.standard_normal((m, n)) / np.sqrt(n)).astype(np.float32)
    top = (W.astype(np.float64) @ xs.astype(np.float64).T).max(axis=1)
    b = (-top - 1.0).astype(np.float32)
    return Encoder.from_arrays([W], [b], act)


def _triples(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        x, u, v = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
        if float(np.dot(x.astype(np.float64), u)) > float(np.dot(x.astype(np.float64), v)):
            u, v = v, u
        out.append((x, u, v))
    return out


def _median_time(fn, items) -> float:
    fn(items[0])  # warm caches (integer weights, compiled activation, XLA) on a candidate not timed
    times = []
    for it in items[1:]:
        t0 = time.perf_counter()
        fn(it)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _case(n: int, m: int, act: str) -> dict:
    from latentcheck.counterexamples.fast import as_qvec, check_flip_fast, check_zero_fast
    from latentcheck.counterexamples.certify import certify_flip, certify_zero

    rng = np.random.default_rng(7)
    xs = rng.standard_normal((CANDIDATES + 1, n)).astype(np.float32)
    enc = _encoder(n, m, act, xs)
    trip = _triples(n, CANDIDATES + 1, 11)
    row = {"n": n, "m": m, "activation": act}
    row["p3_check"] = _median_time(lambda x: check_zero_fast(enc, as_qvec(x)), list(xs))
    row["p3_certify"] = _median_time(lambda x: certify_zero(enc, x, dtype="float32"), list(xs))
    row["p2_check"] = _median_time(lambda t: check_flip_fast(enc, *(as_qvec(v) for v in t)), trip)
    row["p2_certify"] = _median_time(lambda t: certify_flip(enc, *t, dtype="float32"), trip)
    row["p3_status"] = certify_zero(enc, xs[0], dtype="float32").status
    row["p2_status"] = certify_flip(enc, *trip[0], dtype="float32").status
    return row


def _falsify_case(prop: str, act: str, n: int, m: int) -> dict:
    from latentcheck import Encoder, falsify

    enc = Encoder.random([n, m], act, seed=3)
    enc = Encoder.from_arrays([np.asarray(enc.layers[0].W, np.float32)], [np.asarray(enc.layers[0].b, np.float32)], act)
    t0 = time.perf_counter()
    res = falsify(enc, prop, budget=120.0, seed=0, restarts=32, max_rounds=2, max_counterexamples=2,
                  max_shrink_checks=40)
    wall = time.perf_counter() - t0
    st = res.stats
    return {"property": prop, "activation": act, "n": n, "m": m, "status": res.status, "wall": wall,
            "certify_seconds": st.certify_seconds, "shrink_seconds": st.shrink_seconds,
            "candidates_checked": st.candidates_checked, "shrink_checks": st.shrink_checks,
            "certified": st.certified}


FALSIFY = [("p2", "sigmoid", 1682, 64), ("p3", "relu", 1682, 64), ("p2", "tanh", 256, 32)]


def worker() -> None:
    import jax  # noqa: F401  (import time is not part of the figures)

    rows = [_case(n, m, act) for n, m in SIZES for act in ACTS]
    fal = [_falsify_case(*c) for c in FALSIFY]
    print(json.dumps({"rows": rows, "falsify": fal}))


# ------------------------------------------------------------------ driver
def _run(checkout: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout), "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker"], capture_output=True, text=True,
                         env=env, timeout=1800, cwd=str(checkout))
    if out.returncode != 0:
        raise SystemExit(f"error: the worker failed in {checkout}: {out.stderr.strip().splitlines()[-3:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_rows(runs: list[dict], key: str, fields: list[str]) -> list[dict]:
    out = []
    for i, row in enumerate(runs[0][key]):
        r = dict(row)
        for f in fields:
            r[f] = statistics.median(run[key][i][f] for run in runs)
        out.append(r)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true")
    ap.add_argument("--before", default="/work/main")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if args.worker:
        return worker()
    sides: dict[str, list[dict]] = {"before": [], "after": []}
    for r in range(args.rounds):  # interleaved (and alternating which goes first) so load hits both alike
        order = [("before", Path(args.before)), ("after", ROOT)]
        for name, path in order if r % 2 == 0 else order[::-1]:
            sides[name].append(_run(path))
            print(f"round {r + 1}/{args.rounds}: {name} done", file=sys.stderr, flush=True)
    timed = ["p3_check", "p3_certify", "p2_check", "p2_certify"]
    med = {k: _median_rows(v, "rows", timed) for k, v in sides.items()}
    fal = {k: _median_rows(v, "falsify", ["wall", "certify_seconds", "shrink_seconds"]) for k, v in sides.items()}
    print(f"{'case':22s} " + " ".join(f"{t + ' ms b/a':>24s}" for t in timed) + "  status b/a")
    table = []
    for b, a in zip(med["before"], med["after"]):
        case = f"{b['activation']} {b['n']}-{b['m']}"
        cells = " ".join(f"{b[t] * 1e3:8.2f} {a[t] * 1e3:7.2f} {b[t] / a[t]:5.1f}x" for t in timed)
        same = "same" if (b["p3_status"], b["p2_status"]) == (a["p3_status"], a["p2_status"]) else "DIFFER"
        print(f"{case:22s} {cells}  {a['p3_status']}/{a['p2_status']} {same}")
        table.append({"case": case, "before_s": {t: b[t] for t in timed}, "after_s": {t: a[t] for t in timed},
                      "speedup": {t: b[t] / a[t] for t in timed}, "status_before": [b["p3_status"], b["p2_status"]],
                      "status_after": [a["p3_status"], a["p2_status"]]})
    for b, a in zip(fal["before"], fal["after"]):
        print(f"falsify {b['property']} {b['activation']} {b['n']}-{b['m']}: wall {b['wall']:.2f} -> {a['wall']:.2f} s, "
              f"certify {b['certify_seconds']:.3f} -> {a['certify_seconds']:.3f} s, shrink {b['shrink_seconds']:.3f} -> "
              f"{a['shrink_seconds']:.3f} s, status {b['status']} / {a['status']}, checked {b['candidates_checked']} / "
              f"{a['candidates_checked']}")
    geo = {t: float(np.exp(np.mean([np.log(r["speedup"][t]) for r in table]))) for t in timed}
    print("geometric-mean speedup: " + ", ".join(f"{t} {v:.2f}x" for t, v in geo.items()))
    out = {"what": "seconds per candidate (median over candidates, then median over rounds)",
           "method": f"before ({args.before}) and after ({ROOT}) as alternating subprocesses, {args.rounds} rounds each, "
                     "medians over rounds, so load on the shared machine hits both alike",
           "machine": f"{platform.machine()} {os.cpu_count()} cores (shared, under load), load {os.getloadavg()[0]:.1f}",
           "rows": table, "geometric_mean_speedup": geo,
           "falsify": [{"before": b, "after": a} for b, a in zip(fal["before"], fal["after"])]}
    path = ROOT / "benchmarks" / "results" / "certify_speed.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(out, indent=2) + "\n")
    tmp.replace(path)


if __name__ == "__main__":
    main()
