"""latentcheck verify beside Marabou (maraboupy 2.0.0) and a plain MILP on the same P3 queries.

Usage (from the repository root, with the project's virtualenv)::

    python benchmarks/verify_vs_marabou.py [--limit 100] [--cases NAME,NAME] [--engines new,old]
        [--skip-marabou] [--skip-milp] [--out FILE]

``--engines``: latentcheck configurations run one after the other in this
process on every case (``ENGINES``: ``new`` = the defaults, ``old`` = interval
bounds, LP bound tightening and LP leaves only, as before issue 19, and the
optional stages); the first is compared with the peers, the others recorded
beside it (``latentcheck_ab``, ``cpu_speedup_vs_old_engine``).

The query: is there an input ``x`` in the domain, ``x != 0``, with
``enc(x) = 0``? For the box cases below ``enc(0) != 0``, so every solver
answers the plain feasibility question ``exists x in box: enc(x) = 0`` (the
latent ReLU outputs fixed to 0); on ``binary`` the nonzero users are
``x in {0,1}^n, sum(x) >= 1``.

* latentcheck: ``latentcheck.checkers.verify`` (bounds, certified LP bound tightening,
  branch and bound with Farkas leaves, exact re-check); "certified" means a
  certificate re-checked in rationals (proved) or an exact rational input
  (refuted).
* plain MILP: HiGHS through ``scipy.optimize.milp``, big-M from interval
  bounds, answers in floating point with tolerances (never certified).
* Marabou: maraboupy 2.0.0 in its own virtualenv
  (``benchmarks/.venv-marabou``, gitignored; created on first use with
  ``pip install maraboupy==2.0.0 numpy``), one worker, run as a subprocess;
  binary inputs as disjunctions ``x_i = 0 or x_i = 1``. Floating point, not
  certified.

Each tool gets ``--limit`` seconds per case (a timeout counts as the limit).
Writes ``benchmarks/results/verify_vs_marabou.json``. Machine: whatever runs
it (the committed figures: a shared 2-core x86_64 CPU, no GPU).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

# latentcheck is imported where it is used: marabou_query and plain_milp_point also run in Marabou's venv
# (benchmarks/verify_vs_peers.py's worker), which has NumPy and maraboupy only.

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.environ.get("LATENTCHECK_MARABOU_VENV", os.path.join(HERE, ".venv-marabou"))
VPY = os.path.join(VENV, "bin", "python")

# name -> (sizes, domain, latent bias shift, seed); the shift added to the latent bias makes P3 hold (unsat)
CASES = {
    "relu-64-32-8-unsat": ([64, 32, 8], "box:-1,1", 4.0, 0),
    "relu-64-48-16-unsat": ([64, 48, 16], "box:-1,1", 6.0, 0),
    "relu-128-64-16-unsat": ([128, 64, 16], "box:-1,1", 6.0, 0),
    "relu-64-64-32-8-unsat": ([64, 64, 32, 8], "box:-1,1", 6.0, 0),
    "relu-256-128-32-unsat": ([256, 128, 32], "box:-1,1", 6.0, 0),
    "relu-64-32-8-sat": ([64, 32, 8], "box:-1,1", 1.5, 0),
    "relu-1682-64-binary": ([1682, 64], "binary", 0.0, 0),
    "relu-1682-64-32-binary": ([1682, 64, 32], "binary", 0.0, 0),
}


def build(sizes, shift, seed):
    sys.path.insert(0, ROOT)
    from latentcheck.theorems.encoder import Encoder

    e = Encoder.random(sizes, "relu", seed=seed)
    Ws = [l.W for l in e.layers]
    bs = [l.b.copy() for l in e.layers]
    bs[-1] = bs[-1] + shift
    return Encoder.from_arrays(Ws, bs, "relu")


# --------------------------------------------------------------------------- Marabou side (runs in its venv)
def marabou_query(MarabouCore, Ws: list, bs: list, lo: float, hi: float, binary: bool):
    """The P3 query as a Marabou InputQuery: x in [lo, hi]^n (binary: x_i = 0 or 1, sum >= 1), latent ReLUs at 0."""
    n, L = Ws[0].shape[1], len(Ws)
    nv = n + sum(2 * W.shape[0] for W in Ws)
    ipq = MarabouCore.InputQuery()
    ipq.setNumberOfVariables(nv)
    for i in range(n):
        ipq.setLowerBound(i, lo)
        ipq.setUpperBound(i, hi)
    prev, nxt = list(range(n)), n
    for k, (W, b) in enumerate(zip(Ws, bs)):
        zs = list(range(nxt, nxt + W.shape[0]))
        hs = list(range(nxt + W.shape[0], nxt + 2 * W.shape[0]))
        nxt += 2 * W.shape[0]
        for j in range(W.shape[0]):
            eq = MarabouCore.Equation()
            eq.addAddend(1.0, zs[j])
            for i, w in enumerate(W[j].tolist()):
                if w != 0.0:
                    eq.addAddend(-w, prev[i])
            eq.setScalar(float(b[j]))
            ipq.addEquation(eq)
            MarabouCore.addReluConstraint(ipq, zs[j], hs[j])
            ipq.setLowerBound(hs[j], 0.0)
            if k == L - 1:
                ipq.setUpperBound(hs[j], 0.0)
        prev = hs
    if binary:
        for i in range(n):
            d0, d1 = MarabouCore.Equation(), MarabouCore.Equation()
            d0.addAddend(1.0, i)
            d0.setScalar(0.0)
            d1.addAddend(1.0, i)
            d1.setScalar(1.0)
            MarabouCore.addDisjunctionConstraint(ipq, [[d0], [d1]])
        s = MarabouCore.Equation(MarabouCore.Equation.GE)
        for i in range(n):
            s.addAddend(1.0, i)
        s.setScalar(1.0)
        ipq.addEquation(s)
    return ipq


def marabou_worker(cfg_path: str) -> None:
    from maraboupy import Marabou, MarabouCore

    with open(cfg_path) as fh:
        cfg = json.load(fh)
    data = np.load(cfg["weights"], allow_pickle=False)
    L = len([k for k in data.files if k.startswith("W")])
    Ws = [data[f"W{i}"] for i in range(L)]
    bs = [data[f"b{i}"] for i in range(L)]
    ipq = marabou_query(MarabouCore, Ws, bs, cfg["lo"], cfg["hi"], cfg["binary"])
    opts = Marabou.createOptions(timeoutInSeconds=int(cfg["limit"]), verbosity=0, numWorkers=1)
    t = time.perf_counter()
    code, vals, stats = MarabouCore.solve(ipq, opts, "")
    secs = time.perf_counter() - t
    print(json.dumps({"verdict": code, "seconds": secs, "timed_out": bool(stats.hasTimedOut())}))


def run_marabou(enc, dom: str, limit: float) -> dict:
    if not os.path.exists(VPY):
        try:
            subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
            subprocess.run([VPY, "-m", "pip", "install", "-q", "maraboupy==2.0.0", "numpy"], check=True)
        except (subprocess.CalledProcessError, OSError) as exc:
            return {"verdict": "not-run", "reason": f"maraboupy 2.0.0 could not be installed: {exc}"}
    with tempfile.TemporaryDirectory() as tmp:
        w = os.path.join(tmp, "w.npz")
        from latentcheck import save_encoder

        save_encoder(enc, w)
        lo, hi = (0.0, 1.0) if dom == "binary" else tuple(float(v) for v in dom[4:].split(","))
        cfg = {"weights": w, "lo": lo, "hi": hi, "binary": dom == "binary", "limit": limit}
        with open(os.path.join(tmp, "cfg.json"), "w") as fh:
            json.dump(cfg, fh)
        t = time.perf_counter()
        c0 = _children_cpu()
        try:
            out = subprocess.run([VPY, os.path.abspath(__file__), "--marabou-worker", os.path.join(tmp, "cfg.json")],
                                 capture_output=True, text=True, timeout=limit + 60)
        except subprocess.TimeoutExpired:
            return {"verdict": "TIMEOUT", "seconds": limit, "timed_out": True}
        cpu = _children_cpu() - c0
        lines = [l for l in out.stdout.splitlines() if l.startswith("{")]
        if not lines:
            return {"verdict": "ERROR", "seconds": time.perf_counter() - t, "reason": (out.stderr or out.stdout)[-400:]}
        res = json.loads(lines[-1])
        res["cpu_seconds"] = cpu  # the whole worker process (start-up and model building included)
        if res.get("timed_out"):
            res["verdict"], res["seconds"] = "TIMEOUT", float(limit)
        return res


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


# --------------------------------------------------------------------------- plain MILP (big-M from interval bounds)
def plain_milp_point(Ws: list, bs: list, dom: str, limit: float) -> tuple[str, "np.ndarray | None"]:
    """``(verdict, x)``: ``sat`` with the MILP's input, ``unsat``, ``TIMEOUT`` or ``status-K`` (floating point)."""
    import scipy.sparse as sps
    from scipy.optimize import Bounds, LinearConstraint, milp

    Ws = [np.asarray(W, dtype=np.float64) for W in Ws]
    bs = [np.asarray(b, dtype=np.float64) for b in bs]
    n = Ws[0].shape[1]
    binary = dom == "binary"
    lo, hi = (0.0, 1.0) if binary else tuple(float(v) for v in dom[4:].split(","))
    nv, offs = n, []
    for W in Ws:
        m = W.shape[0]
        offs.append((nv, nv + m, nv + 2 * m))
        nv += 3 * m
    vlo, vhi, integ = np.full(nv, -np.inf), np.full(nv, np.inf), np.zeros(nv)
    vlo[:n], vhi[:n] = lo, hi
    if binary:
        integ[:n] = 1
    blocks, lbs, ubs = [], [], []
    hl, hu = np.full(n, lo), np.full(n, hi)
    for k, (W, b) in enumerate(zip(Ws, bs)):
        zo, ho, do = offs[k]
        m = W.shape[0]
        zl = np.maximum(W, 0) @ hl + np.minimum(W, 0) @ hu + b
        zu = np.maximum(W, 0) @ hu + np.minimum(W, 0) @ hl + b
        prev = 0 if k == 0 else offs[k - 1][1]
        i = np.arange(m)
        E = sps.lil_matrix((m, nv))
        E[:, prev:prev + W.shape[1]] = -W
        E[i, zo + i] = 1
        blocks.append(E.tocsr()); lbs.append(b); ubs.append(b)
        R = sps.lil_matrix((3 * m, nv))
        R[i, ho + i] = 1; R[i, zo + i] = -1
        R[m + i, ho + i] = 1; R[m + i, zo + i] = -1; R[m + i, do + i] = -np.minimum(zl, 0)
        R[2 * m + i, ho + i] = 1; R[2 * m + i, do + i] = -np.maximum(zu, 0)
        blocks.append(R.tocsr())
        lbs.append(np.concatenate([np.zeros(m), np.full(2 * m, -np.inf)]))
        ubs.append(np.concatenate([np.full(m, np.inf), -np.minimum(zl, 0), np.zeros(m)]))
        vlo[zo:zo + m], vhi[zo:zo + m] = zl, zu
        vlo[ho:ho + m], vhi[ho:ho + m] = 0, np.maximum(zu, 0) if k < len(Ws) - 1 else 0
        vlo[do:do + m], vhi[do:do + m], integ[do:do + m] = 0, 1, 1
        hl, hu = np.maximum(zl, 0), np.maximum(zu, 0)
    if binary:
        blocks.append(sps.csr_matrix((np.ones(n), (np.zeros(n, int), np.arange(n))), shape=(1, nv)))
        lbs.append([1.0]); ubs.append([np.inf])
    A = sps.vstack(blocks).tocsr()
    res = milp(np.zeros(nv), constraints=LinearConstraint(A, np.concatenate(lbs), np.concatenate(ubs)),
               integrality=integ, bounds=Bounds(vlo, vhi), options={"time_limit": float(limit)})
    verdict = {0: "sat", 2: "unsat"}.get(res.status, "TIMEOUT" if res.status == 1 else f"status-{res.status}")
    return verdict, (res.x[:n] if verdict == "sat" and res.x is not None else None)


def plain_milp(enc, dom: str, limit: float) -> dict:
    t, c = time.perf_counter(), time.process_time()
    verdict, _x = plain_milp_point([l.W for l in enc.layers], [l.b for l in enc.layers], dom, limit)
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    return {"verdict": verdict, "seconds": float(limit) if verdict == "TIMEOUT" else secs, "cpu_seconds": cpu}


#: Engine configurations for an A/B run (``--engines``): the bound cascade of ``verify.bab`` and its strong branching.
ENGINES = {
    "new": None,  # the defaults of checkers/verify/bab.py
    "old": {"CASCADE": ("interval", "lp"), "STRONG_K": 1},  # interval bounds and LP leaves only (before issue 19)
    "invprop": {"CASCADE": ("interval", "invprop", "crown", "lp"), "STRONG_K": 1},
    "crown-tighten": {"CASCADE": ("interval", "crown", "crown-tighten", "lp"), "STRONG_K": 1},
    "alpha": {"CASCADE": ("interval", "crown", "alpha", "lp"), "STRONG_K": 1},
    "crown": {"CASCADE": ("interval", "crown", "lp"), "STRONG_K": 1},
    "strong2": {"CASCADE": ("interval", "crown", "lp"), "STRONG_K": 2},
}


def _clear_line_caches() -> None:
    """The engine's in-process caches of hull lines, value ranges and line picks (measured: without this the
    second engine run on a case saves about 0.7 CPU s on binary 1682-64 from the first one's work)."""
    from latentcheck.checkers.verify import bab, bound_methods, bounds

    bab._HULLS.clear()
    bab._hull_cached.cache_clear()
    bounds._range_cached.cache_clear()
    bound_methods._PICKS.clear()


def run_latentcheck(enc, dom: str, limit: float, engine: str = "new") -> dict:
    sys.path.insert(0, ROOT)
    from latentcheck.checkers.verify import verify

    import highspy  # noqa: F401  (imports before the clock, as the MILP's scipy import is)
    from latentcheck.checkers.verify import bab, bound_cache, highs_lp, milp_search  # noqa: F401

    saved = {k: getattr(bab, k) for k in ("CASCADE", "STRONG_K")}
    for k, v in (ENGINES[engine] or {}).items():
        setattr(bab, k, v)
    bound_cache.clear()  # every case and engine cold: no bounds from an earlier query, no cached hull lines
    _clear_line_caches()
    t, c = time.perf_counter(), time.process_time()
    try:
        res = verify(enc, "p3", domain=dom, timeout=limit)
    finally:
        for k, v in saved.items():
            setattr(bab, k, v)
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    return {"verdict": res.verdict, "seconds": float(limit) if res.verdict == "unknown" else secs, "cpu_seconds": cpu,
            "certified": res.verdict in ("proved", "refuted"), "engine": engine, "stats": res.stats, "reason": res.reason}


def _ratio(a: dict, b: dict) -> float | None:
    """How many times faster ``a`` answered than ``b`` (a timeout counts as the limit); None when ``a`` did not answer."""
    if a.get("verdict") in ("unknown", "TIMEOUT", "ERROR", "not-run") or not a.get("seconds"):
        return None
    return round(float(b.get("seconds", 0.0)) / float(a["seconds"]), 2) if b.get("seconds") else None


def _cpu_ratio(a: dict, b: dict) -> float | None:
    """``b``'s CPU seconds over ``a``'s, when both decided (None otherwise)."""
    done = ("proved", "refuted", "sat", "unsat")
    if a.get("verdict") not in done or b.get("verdict") not in done or not a.get("cpu_seconds"):
        return None
    return round(float(b["cpu_seconds"]) / float(a["cpu_seconds"]), 2)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=100.0)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--marabou-worker", default=None)
    ap.add_argument("--engines", default="new", help="latentcheck configurations, comma separated: " + ",".join(ENGINES)
                    + " (the first is compared with the peers; the others are recorded beside it, same process)")
    ap.add_argument("--skip-marabou", action="store_true", help="do not run (or install) Marabou")
    ap.add_argument("--skip-milp", action="store_true", help="do not run the plain MILP")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "verify_vs_marabou.json"))
    args = ap.parse_args(argv)
    if args.marabou_worker:
        marabou_worker(args.marabou_worker)
        return
    rows = []
    for name in args.cases.split(","):
        sizes, dom, shift, seed = CASES[name]
        enc = build(sizes, shift, seed)
        row = {"case": name, "sizes": sizes, "domain": dom, "latent_bias_shift": shift, "seed": seed}
        engines = args.engines.split(",")
        row["latentcheck"] = run_latentcheck(enc, dom, args.limit, engines[0])
        row["latentcheck_ab"] = {e: run_latentcheck(enc, dom, args.limit, e) for e in engines[1:]}
        row["plain_milp"] = {"verdict": "not-run"} if args.skip_milp else plain_milp(enc, dom, args.limit)
        row["marabou"] = {"verdict": "not-run"} if args.skip_marabou else run_marabou(enc, dom, args.limit)
        row["speedup_vs_marabou"] = _ratio(row["latentcheck"], row["marabou"])
        row["speedup_vs_plain_milp"] = _ratio(row["latentcheck"], row["plain_milp"])
        row["cpu_speedup_vs_plain_milp"] = _cpu_ratio(row["latentcheck"], row["plain_milp"])
        row["cpu_speedup_vs_old_engine"] = _cpu_ratio(row["latentcheck"], row["latentcheck_ab"].get("old", {}))
        rows.append(row)
        lc, pm, mb = row["latentcheck"], row["plain_milp"], row["marabou"]
        for e, r in [(engines[0], lc)] + list(row["latentcheck_ab"].items()):
            st = r["stats"]
            print(f"{name:26s} [{e}] {r['verdict']:>9s} {r['seconds']:7.1f}s ({r['cpu_seconds']:6.1f} cpu) nodes {st.get('nodes')} "
                  f"LPs {st.get('lps')} crown-closed {st.get('crown_closed')} crown-splits {st.get('crown_splits')}", flush=True)
        print(f"{name:26s} latentcheck {lc['verdict']:>9s} {lc['seconds']:7.1f}s ({lc['cpu_seconds']:6.1f} cpu) | "
              f"plain MILP {pm['verdict']:>7s} {pm.get('seconds', float('nan')):7.1f}s ({pm.get('cpu_seconds', float('nan')):6.1f} cpu) | "
              f"Marabou {mb['verdict']:>7s} {mb.get('seconds', float('nan')):7.1f}s ({mb.get('cpu_seconds', float('nan')):6.1f} cpu) | "
              f"x{row['speedup_vs_marabou']} vs Marabou, x{row['speedup_vs_plain_milp']} vs MILP", flush=True)
    out = {"benchmark": "verify_vs_marabou", "limit_seconds": args.limit, "machine": platform.machine(),
           "cpus": os.cpu_count(), "python": platform.python_version(),
           "note": "latentcheck answers are certified (exact certificate or exact input); plain MILP and Marabou answer in "
                   "floating point. seconds: wall clock (a timeout or unknown counts as the limit); cpu_seconds: CPU time of "
                   "the process (Marabou: its worker process, start-up included), the fairer figure on a shared machine. "
                   "speedup: the other tool's seconds over latentcheck's",
           "rows": rows}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    from latentcheck.theorems.files import atomic_write_text

    atomic_write_text(args.out, json.dumps(out, indent=1))  # the project's one atomic writer
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
