"""latentcheck falsify vs the searches a user would otherwise write (a benchmark, not a test).

Peers, on the same encoders in one process:

* **hypothesis**: a ``@given`` test over ``hypothesis.extra.numpy.arrays`` that
  certifies every float failure with the same exact / interval check;
* **numpy**: a plain batched NumPy random search (Gaussian candidates,
  batches of 4096, float32), certifying float hits the same way.

For each case: time to the first *certified* counterexample (float-only hits
do not count; for the sigmoid P3 float16 case the target is a float-only
zero, which is what exists), and encoder evaluations per second. Each peer
gets ``--peer-budget`` seconds; "not found" is reported as such, and the
ratio is then a lower bound. latentcheck runs after a warm-up on a tiny
encoder (imports and first compilations excluded; stated in the output).

Usage: python benchmarks/falsify_vs_peers.py [--peer-budget 10] [--out benchmarks/results/falsify_vs_peers.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from checkers.falsify import environment, falsify
from counterexamples.certify import certify_flip, certify_zero
from theorems import Encoder

CASES = [
    ("relu 1682-64 P3", [1682, 64], "relu", "p3", "float32"),
    ("tanh 1682-64 P3", [1682, 64], "tanh", "p3", "float32"),
    ("relu 1682-600-64 P3", [1682, 600, 64], "relu", "p3", "float32"),
    ("sigmoid 1682-64 P2", [1682, 64], "sigmoid", "p2", "float32"),
    ("sigmoid 1682-64 P3 float16", [1682, 64], "sigmoid", "p3", "float16"),
]


def _hit(res, want_float: bool) -> bool:
    return bool(res.counterexamples) or (want_float and bool(res.float_only))


def run_latentcheck(enc: Encoder, prop: str, dtype: str, budget: float) -> dict:
    t = time.perf_counter()
    res = falsify(enc, prop, dtype=dtype, budget=budget, seed=0, shrink=False, max_counterexamples=1)
    wall = time.perf_counter() - t
    want_float = prop == "p3" and enc.activation.name == "sigmoid"
    found = _hit(res, want_float)
    label = (res.counterexamples or res.float_only)[0].certified if found else None
    first = res.stats.first_certified_seconds if res.counterexamples else (wall if found else None)
    evs = res.stats.evaluations / res.stats.search_seconds if res.stats.search_seconds > 0 else None
    return {"found": found, "seconds": first, "wall": wall, "evaluations": res.stats.evaluations,
            "evals_per_s": evs, "label": label, "origin": (res.counterexamples or res.float_only)[0].origin if found else None}


def _check(enc: Encoder, prop: str, dtype: str, pts: list[np.ndarray]):
    from fractions import Fraction

    vecs = [[Fraction(float(v)) for v in p] for p in pts]
    if prop == "p3":
        return certify_zero(enc, vecs[0], dtype=dtype)
    return certify_flip(enc, *vecs, dtype=dtype)


def _float_candidate(enc: Encoder, prop: str, dtype: str, pts: list[np.ndarray]) -> bool:
    z = enc(np.stack(pts).astype(np.float32), dtype=np.float32) if dtype != "float16" else enc(np.stack(pts), dtype=np.float16)
    if prop == "p3":
        return bool(np.all(z[0] == 0)) and bool(np.any(pts[0] != 0))
    x, u, v = pts
    return bool(x @ u <= x @ v and z[0] @ z[1] > z[0] @ z[2])


def run_numpy(enc: Encoder, prop: str, dtype: str, budget: float, want_float: bool) -> dict:
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    evals = 0
    np_dtype = np.float16 if dtype == "float16" else np.float32
    while time.perf_counter() - t0 < budget:
        B = 4096
        if prop == "p3":
            X = (rng.normal(size=(B, enc.n)) * rng.lognormal(0, 1.5, size=(B, 1))).astype(np.float32)
            Z = enc(X, dtype=np_dtype)
            evals += B
            for i in np.nonzero(np.all(Z == 0, axis=1))[0][:4]:
                c = _check(enc, prop, dtype, [X[i].astype(np.float64)])
                if c.certified or (want_float and c.status == "float-only"):
                    return {"found": True, "seconds": time.perf_counter() - t0, "evaluations": evals,
                            "evals_per_s": evals / (time.perf_counter() - t0), "label": c.status}
        else:
            X, U, V = (rng.normal(size=(3, B // 3, enc.n)) * rng.lognormal(0, 1, size=(3, B // 3, 1))).astype(np.float32)
            ZX, ZU, ZV = enc(X, dtype=np_dtype), enc(U, dtype=np_dtype), enc(V, dtype=np_dtype)
            evals += 3 * (B // 3)
            prem = np.sum(X * U, 1) <= np.sum(X * V, 1)
            flip = np.sum(ZX * ZU, 1) > np.sum(ZX * ZV, 1)
            for i in np.nonzero(prem & flip)[0][:4]:
                c = _check(enc, prop, dtype, [X[i].astype(np.float64), U[i].astype(np.float64), V[i].astype(np.float64)])
                if c.certified:
                    return {"found": True, "seconds": time.perf_counter() - t0, "evaluations": evals,
                            "evals_per_s": evals / (time.perf_counter() - t0), "label": c.status}
    el = time.perf_counter() - t0
    return {"found": False, "seconds": None, "evaluations": evals, "evals_per_s": evals / el, "label": None}


def run_hypothesis(enc: Encoder, prop: str, dtype: str, budget: float, want_float: bool) -> dict:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    state = {"evals": 0, "first": None, "label": None}
    t0 = time.perf_counter()
    elems = st.floats(-1e3, 1e3, width=32, allow_nan=False, allow_infinity=False)
    vec = arrays(np.float32, enc.n, elements=elems)
    k = 1 if prop == "p3" else 3

    class _Stop(Exception):
        pass

    @settings(max_examples=10**6, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    @given(st.tuples(*([vec] * k)))
    def search(pts):
        if time.perf_counter() - t0 > budget:
            raise _Stop()
        pts = [np.asarray(p, dtype=np.float64) for p in pts]
        state["evals"] += k
        if _float_candidate(enc, prop, dtype, pts):
            c = _check(enc, prop, dtype, pts)
            if c.certified or (want_float and c.status == "float-only"):
                state["first"] = time.perf_counter() - t0
                state["label"] = c.status
                raise _Stop()

    try:
        search()
    except _Stop:
        pass
    except Exception:  # Hypothesis may surface health or flaky errors: the search simply ends
        pass
    el = time.perf_counter() - t0
    return {"found": state["first"] is not None, "seconds": state["first"], "evaluations": state["evals"],
            "evals_per_s": state["evals"] / el, "label": state["label"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-budget", type=float, default=10.0, help="seconds per peer per case")
    ap.add_argument("--budget", type=float, default=10.0, help="latentcheck budget per case")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "falsify_vs_peers.json")
    args = ap.parse_args()

    for act, prop in (("relu", "p3"), ("tanh", "p3"), ("sigmoid", "p2")):  # warm-up: imports, first compilations
        falsify(Encoder.random([40, 6], act, seed=0), prop, budget=2, seed=0, shrink=False)
    falsify(Encoder.random([40, 8, 4], "relu", seed=0), "p3", budget=2, seed=0, shrink=False)

    rows = []
    for name, sizes, act, prop, dtype in CASES:
        enc = Encoder.random(sizes, act, seed=0)
        want_float = prop == "p3" and act == "sigmoid"
        ours = run_latentcheck(enc, prop, dtype, args.budget)
        npy = run_numpy(enc, prop, dtype, args.peer_budget, want_float)
        hyp = run_hypothesis(enc, prop, dtype, args.peer_budget, want_float)
        rows.append({"case": name, "latentcheck": ours, "numpy": npy, "hypothesis": hyp})
        print(name, json.dumps(rows[-1]), flush=True)

    def fmt(r: dict) -> str:
        return f"{r['seconds']:.3f} s" if r["found"] else "not found"

    def ratio(ours: dict, peer: dict, budget: float) -> str:
        if not ours["found"]:
            return "n/a"
        if peer["found"]:
            return f"{peer['seconds'] / ours['seconds']:.0f}x"
        return f">{budget / ours['seconds']:.0f}x"

    print()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, CPU only (no GPU lent to this task); "
          f"latentcheck timed after a warm-up; peers {args.peer_budget:g} s each")
    head = "| case | latentcheck first certified | label | hypothesis | numpy | vs hypothesis | vs numpy | evals/s ours (search) | hypothesis | numpy |"
    print(head)
    print("|" + "---|" * 10)
    for r in rows:
        o, h, n = r["latentcheck"], r["hypothesis"], r["numpy"]
        ev = lambda d: f"{d['evals_per_s']:.3g}" if d.get("evals_per_s") else "-"
        print(f"| {r['case']} | {fmt(o)} | {o['label']} | {fmt(h)} | {fmt(n)} | {ratio(o, h, args.peer_budget)} | "
              f"{ratio(o, n, args.peer_budget)} | {ev(o)} | {ev(h)} | {ev(n)} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    env = environment()
    args.out.write_text(json.dumps({"machine": {"cpu_count": __import__("os").cpu_count(), "platform": platform.platform(),
                                                "gpu": None}, **env, "peer_budget_seconds": args.peer_budget,
                                    "rows": rows}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
