"""latentcheck falsify vs the searches a user would otherwise write (a benchmark, not a test).

Peers, on the same encoders in one process:

* **hypothesis**: a ``@given`` test over ``hypothesis.extra.numpy.arrays`` that
  certifies every float failure with the same exact / interval check;
* **numpy**: a plain batched NumPy random search (Gaussian candidates,
  batches of 4096, float32), certifying float hits the same way.

For each case: time to the first *certified* counterexample (float-only hits
do not count; for the sigmoid P3 float16 case the target is a float-only
zero, which is what exists). latentcheck's time is the wall time of the whole
``falsify(..., shrink=False, max_counterexamples=1)`` call (the certificate is
in hand a fraction of a millisecond before it returns), measured

* **cold**: in a fresh process, the first call (after the library imports,
  which are timed separately: Python, NumPy, JAX, SciPy, SymPy, latentcheck);
  it includes the classification of the activation, JIT compilation and every
  first-use cache;
* **warm**: later calls in the same process, each on a freshly built encoder
  with the same weights (nothing cached per encoder object); the median of
  ``--repeats`` calls (the minimum is reported too: the machine may be shared).

A peer that finds nothing within its budget is reported as "not found in B
s"; the ratio is then a lower bound (B / ours). Hypothesis gets
``--hypothesis-budget`` (default 60 s) and NumPy ``--numpy-budget`` (default
20 s) per case; both stop at their first certified counterexample. The
encoder evaluations per second of each peer are printed, and for latentcheck
the throughput of its jitted JAX search loop on the same encoder (it is not
needed in these cases: the theorems' constructions certify first).

Usage: python benchmarks/falsify_vs_peers.py [--hypothesis-budget 60] [--numpy-budget 20]
       [--repeats 7] [--out benchmarks/results/falsify_vs_peers.json]
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

CASES = [
    ("relu 1682-64 P3", [1682, 64], "relu", "p3", "float32"),
    ("tanh 1682-64 P3", [1682, 64], "tanh", "p3", "float32"),
    ("relu 1682-600-64 P3", [1682, 600, 64], "relu", "p3", "float32"),
    ("sigmoid 1682-64 P2", [1682, 64], "sigmoid", "p2", "float32"),
    ("sigmoid 1682-64 P3 float16", [1682, 64], "sigmoid", "p3", "float16"),
]


def _imports() -> float:
    """Import the library stack (what any first call of the tool needs); returns seconds."""
    t = time.perf_counter()
    import jax  # noqa: F401
    import scipy.linalg  # noqa: F401
    import scipy.optimize  # noqa: F401
    import sympy  # noqa: F401

    import latentcheck.checkers.falsify  # noqa: F401
    from latentcheck import counterexamples  # noqa: F401
    from latentcheck import theorems  # noqa: F401

    jax.devices()
    return time.perf_counter() - t


def _want_float(act: str, prop: str) -> bool:
    return prop == "p3" and act == "sigmoid"


def run_latentcheck(enc, act: str, prop: str, dtype: str, budget: float) -> dict:
    from latentcheck.checkers.falsify import falsify

    t = time.perf_counter()
    res = falsify(enc, prop, dtype=dtype, budget=budget, seed=0, shrink=False, max_counterexamples=1)
    wall = time.perf_counter() - t
    hits = res.counterexamples or (res.float_only if _want_float(act, prop) else ())
    return {"found": bool(hits), "seconds": wall if hits else None, "wall": wall,
            "first_certified_inside": res.stats.first_certified_seconds,
            "label": hits[0].certified if hits else None, "origin": hits[0].origin if hits else None,
            "nonzeros": hits[0].nonzeros if hits else None, "status": res.status}


def _cold_case(name: str) -> None:
    """Child process: imports, then the first falsify call on this case; prints one JSON line."""
    t_imp = _imports()
    from latentcheck.theorems import Encoder

    _, sizes, act, prop, dtype = next(c for c in CASES if c[0] == name)
    enc = Encoder.random(sizes, act, seed=0)
    out = run_latentcheck(enc, act, prop, dtype, 10.0)
    out["import_seconds"] = t_imp
    print(json.dumps(out))


def run_cold(name: str) -> dict:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    proc = subprocess.run([sys.executable, __file__, "--cold-case", name], capture_output=True, text=True, env=env,
                          cwd=root, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"cold run of {name!r} failed: {proc.stderr[-2000:]}")
    return json.loads(lines[-1])


def search_throughput(enc, prop: str, restarts: int = 256, steps: int = 20) -> float:
    """Evaluations per second of latentcheck's jitted search loop (one round, after compilation)."""
    import jax
    import jax.numpy as jnp

    from latentcheck.theorems.domains import parse_domain
    from latentcheck.checkers.falsify import p2_search, p3_search, run_round, zero_target
    from latentcheck.checkers.falsify._pipeline import _classification

    dom = parse_domain("reals")
    if prop == "p3":
        tgt = zero_target(_classification(enc.activation), enc.activation, "float32")
        if tgt.kind == "none":
            return float("nan")
        search = p3_search(enc, tgt, dom, restarts=restarts)
        shape = (restarts, enc.n)
    else:
        search = p2_search(enc, dom, restarts=restarts)
        shape = (restarts, 3, enc.n)
    rnd = run_round(search, steps)
    args = (jnp.zeros(shape, jnp.float32), jnp.zeros(restarts, bool))
    jax.block_until_ready(rnd(jax.random.PRNGKey(0), *args).best_loss)  # compile
    t = time.perf_counter()
    st = rnd(jax.random.PRNGKey(1), *args)
    jax.block_until_ready(st.best_loss)
    return int(st.evaluations) / (time.perf_counter() - t)


def _check(enc, prop: str, dtype: str, pts: list[np.ndarray]):
    from latentcheck.counterexamples.certify import certify_flip, certify_zero

    pts = [np.asarray(p, dtype=np.float64) for p in pts]  # certified at their exact (dyadic) values
    if prop == "p3":
        return certify_zero(enc, pts[0], dtype=dtype)
    return certify_flip(enc, *pts, dtype=dtype)


def _float_candidate(enc, prop: str, dtype: str, pts: list[np.ndarray]) -> bool:
    z = enc(np.stack(pts).astype(np.float32), dtype=np.float32) if dtype != "float16" else enc(np.stack(pts), dtype=np.float16)
    if prop == "p3":
        return bool(np.all(z[0] == 0)) and bool(np.any(pts[0] != 0))
    x, u, v = pts
    return bool(x @ u <= x @ v and z[0] @ z[1] > z[0] @ z[2])


def run_numpy(enc, prop: str, dtype: str, budget: float, want_float: bool) -> dict:
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
                c = _check(enc, prop, dtype, [X[i]])
                if c.certified or (want_float and c.status == "float-only"):
                    el = time.perf_counter() - t0
                    return {"found": True, "seconds": el, "searched_seconds": el, "budget": budget,
                            "evaluations": evals, "evals_per_s": evals / el, "label": c.status}
        else:
            X, U, V = (rng.normal(size=(3, B // 3, enc.n)) * rng.lognormal(0, 1, size=(3, B // 3, 1))).astype(np.float32)
            ZX, ZU, ZV = enc(X, dtype=np_dtype), enc(U, dtype=np_dtype), enc(V, dtype=np_dtype)
            evals += 3 * (B // 3)
            prem = np.sum(X * U, 1) <= np.sum(X * V, 1)
            flip = np.sum(ZX * ZU, 1) > np.sum(ZX * ZV, 1)
            for i in np.nonzero(prem & flip)[0][:4]:
                c = _check(enc, prop, dtype, [X[i], U[i], V[i]])
                if c.certified:
                    el = time.perf_counter() - t0
                    return {"found": True, "seconds": el, "searched_seconds": el, "budget": budget,
                            "evaluations": evals, "evals_per_s": evals / el, "label": c.status}
    el = time.perf_counter() - t0
    return {"found": False, "seconds": None, "searched_seconds": el, "budget": budget, "evaluations": evals,
            "evals_per_s": evals / el, "label": None}


def run_hypothesis(enc, prop: str, dtype: str, budget: float, want_float: bool) -> dict:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.extra.numpy import arrays

    state = {"evals": 0, "first": None, "label": None, "stopped": "budget", "error": None}
    t0 = time.perf_counter()
    elems = st.floats(-1e3, 1e3, width=32, allow_nan=False, allow_infinity=False)
    vec = arrays(np.float32, enc.n, elements=elems)
    k = 1 if prop == "p3" else 3

    class _Stop(Exception):
        pass

    @settings(max_examples=10**7, deadline=None, database=None, derandomize=True,
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
        state["stopped"] = "max_examples"
    except _Stop:
        pass
    except Exception as exc:  # Hypothesis may surface health or flaky errors: the search simply ends, and we say so
        state["stopped"] = "error"
        state["error"] = f"{type(exc).__name__}: {str(exc)[:200]}"
    el = time.perf_counter() - t0
    return {"found": state["first"] is not None, "seconds": state["first"], "searched_seconds": el, "budget": budget,
            "stopped": state["stopped"] if state["first"] is None else "found", "error": state["error"],
            "evaluations": state["evals"], "evals_per_s": state["evals"] / el, "label": state["label"]}


def _ratio(ours: float | None, peer: dict) -> tuple[str, float | None, bool]:
    """(text, value, is_lower_bound)."""
    if ours is None or ours <= 0:
        return "n/a", None, False
    if peer["found"]:
        r = peer["seconds"] / ours
        return f"{r:.0f}x", r, False
    r = peer["searched_seconds"] / ours
    return f">{r:.0f}x", r, True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hypothesis-budget", type=float, default=60.0, help="seconds for the Hypothesis search per case")
    ap.add_argument("--numpy-budget", type=float, default=20.0, help="seconds for the NumPy random search per case")
    ap.add_argument("--budget", type=float, default=10.0, help="latentcheck budget per case")
    ap.add_argument("--repeats", type=int, default=7, help="warm latentcheck calls per case (median and min reported)")
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "falsify_vs_peers.json")
    ap.add_argument("--cold-case", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.cold_case:
        _cold_case(args.cold_case)
        return

    cases = [c for c in CASES if not args.cases or c[0] in args.cases.split(",")]
    load_before = os.getloadavg()
    t_start = time.perf_counter()
    colds = {name: run_cold(name) for name, *_ in cases}  # fresh processes first, one per case

    t_imp = _imports()
    from latentcheck.checkers.falsify import environment
    from latentcheck.theorems import Encoder

    # Warm latentcheck timings for every case first, before any peer runs (the peers leave BLAS threads and
    # garbage behind that would disturb millisecond timings), then the search-loop throughput, then the peers.
    ours_by_case = {}
    for name, sizes, act, prop, dtype in cases:
        run_latentcheck(Encoder.random(sizes, act, seed=0), act, prop, dtype, args.budget)  # warm-up for this case
        warm = [run_latentcheck(Encoder.random(sizes, act, seed=0), act, prop, dtype, args.budget) for _ in range(args.repeats)]
        walls = [w["wall"] for w in warm]
        ours = dict(warm[0])
        ours.update({"seconds": statistics.median(walls) if ours["found"] else None, "warm_min": min(walls),
                     "warm_walls": walls, "cold": colds[name], "search_loop_evals_per_s": None})
        ours_by_case[name] = ours
    for name, sizes, act, prop, dtype in cases:
        try:
            ours_by_case[name]["search_loop_evals_per_s"] = search_throughput(Encoder.random(sizes, act, seed=0), prop)
        except Exception as exc:  # throughput is informative only
            ours_by_case[name]["search_loop_error"] = f"{type(exc).__name__}: {exc}"
    rows = []
    for name, sizes, act, prop, dtype in cases:
        want_float = _want_float(act, prop)
        enc = Encoder.random(sizes, act, seed=0)
        ours = ours_by_case[name]
        npy = run_numpy(enc, prop, dtype, args.numpy_budget, want_float)
        hyp = run_hypothesis(enc, prop, dtype, args.hypothesis_budget, want_float)
        row = {"case": name, "latentcheck": ours, "hypothesis": hyp, "numpy": npy}
        for peer in ("hypothesis", "numpy"):
            for kind, t in (("warm", ours["seconds"]), ("cold", colds[name]["seconds"])):
                text, val, lower = _ratio(t, row[peer])
                row[f"ratio_{peer}_{kind}"] = {"text": text, "value": val, "lower_bound": lower}
        rows.append(row)
        print(name, json.dumps({k: v for k, v in row.items() if k != "latentcheck"}, default=str), flush=True)

    def peer_txt(p: dict) -> str:
        return f"{p['seconds']:.3f} s" if p["found"] else f"not found in {p['searched_seconds']:.0f} s"

    def ms(t: float | None) -> str:
        return "-" if t is None else (f"{t * 1e3:.1f} ms" if t < 1 else f"{t:.2f} s")

    print()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores, no GPU; load average before {load_before[0]:.2f}, "
          f"after {os.getloadavg()[0]:.2f}; imports {t_imp:.2f} s (not in any time below)")
    print("| case | latentcheck cold | warm median (min) | label | Hypothesis @given | NumPy random | vs Hypothesis warm / cold |"
          " vs NumPy warm / cold | evals/s: Hypothesis, NumPy, latentcheck search loop |")
    print("|" + "---|" * 9)
    for r in rows:
        o, h, n = r["latentcheck"], r["hypothesis"], r["numpy"]
        print(f"| {r['case']} | {ms(o['cold']['seconds'])} | {ms(o['seconds'])} ({ms(o['warm_min'])}) | {o['label']} | {peer_txt(h)} | {peer_txt(n)} | "
              f"{r['ratio_hypothesis_warm']['text']} / {r['ratio_hypothesis_cold']['text']} | "
              f"{r['ratio_numpy_warm']['text']} / {r['ratio_numpy_cold']['text']} | "
              f"{h['evals_per_s']:.3g}, {n['evals_per_s']:.3g}, {o['search_loop_evals_per_s'] or float('nan'):.3g} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    env = environment()
    doc = {
        "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(), "gpu": None,
                    "load_average_before": list(load_before), "load_average_after": list(os.getloadavg())},
        **env,
        "definitions": {
            "latentcheck_seconds": "wall time of falsify(shrink=False, max_counterexamples=1) until it returns with the certified "
                                   "(for sigmoid P3 float16: float-only) counterexample",
            "cold": "fresh process, first call, after the library imports (import_seconds, not included)",
            "warm": "median over repeats in one process, a freshly built encoder (same weights) per call",
            "ratio": "peer seconds / latentcheck seconds; when the peer found nothing, its searched seconds / ours (a lower bound)",
        },
        "hypothesis_budget_seconds": args.hypothesis_budget,
        "numpy_budget_seconds": args.numpy_budget,
        "import_seconds_main_process": t_imp,
        "total_seconds": time.perf_counter() - t_start,
        "rows": rows,
    }
    args.out.write_text(json.dumps(doc, indent=2, default=float) + "\n")
    print(f"wrote {args.out} ({doc['total_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
