"""latentcheck verify beside a plain MILP, Marabou and alpha-beta-CROWN on the P3 cases of issue 19, one run.

Usage (from the repository root, with the project's virtualenv)::

    python benchmarks/verify_vs_peers.py [--limit 100] [--cases NAME,NAME] [--trained] [--no-marabou]
        [--tools latentcheck,milp,marabou,abcrown] [--abcrown DIR] [--out FILE]

The query: is there an input ``x`` in the domain, ``x != 0``, with ``enc(x) = 0``? (On the box cases
``enc(0) != 0``, so every tool answers ``exists x in box: enc(x) = 0``; on ``binary`` the nonzero users are
``x in {0,1}^n, sum(x) >= 1``.)

Every tool runs in a process of its own (``--worker``), so its CPU seconds (``RUSAGE_CHILDREN``: start-up,
imports and model building included) are measured beside its wall seconds, with ``--limit`` seconds per case:

* latentcheck: ``latentcheck.checkers.verify`` (search portfolio, bounds, branch and bound, exact re-check).
* plain MILP: HiGHS through ``scipy.optimize.milp`` with big-M from interval bounds (floating point).
* Marabou: maraboupy 2.0.0 in ``benchmarks/.venv-marabou`` (gitignored; created on first use with
  ``pip install maraboupy==2.0.0 numpy``), one worker; binary inputs as disjunctions (floating point).
* alpha-beta-CROWN: not on PyPI. A checkout in ``benchmarks/.abcrown`` (gitignored; or ``--abcrown DIR``) with its
  auto_LiRPA submodule (``git clone --recursive https://github.com/Verified-Intelligence/alpha-beta-CROWN
  benchmarks/.abcrown``; an extracted snapshot may carry its commits in ``.latentcheck-commit``); its environment is
  ``ABCROWN_PYTHON`` or ``benchmarks/.venv-abcrown``, created on first use with CPU torch (``ABCROWN_TORCH``, default
  ``torch==2.13.0+cpu``; ``ABCROWN_PIP_ARGS`` for an index) and pyyaml, sortedcontainers, packaging, tqdm, appdirs,
  psutil, graphviz, numpy. What it imports at module top but never uses here (torchvision, whose wheels are CUDA
  builds, onnx, onnxruntime, onnxoptimizer, onnx2pytorch, skl2onnx, pandas, gurobipy) comes from the stubs in
  ``benchmarks/abcrown_stubs`` (any use raises). Its per-row bounds cannot close the conjunction ``z_j <= 0 for all
  j``, so the network it gets (``abcrown_maxtree_model``, torch Linear + ReLU, no ONNX) outputs ``max_j z_j`` (the
  latent pre-activations, as a tree of ``max(a, b) = b + relu(a - b)``) and the VNN-LIB query asserts the input box
  and ``Y_0 <= 0``: its "unsafe" (sat) is a point with ``enc(x) = 0``, its "safe" (unsat) says there is none. One run
  of its ``ABCROWN`` class (what ``abcrown.py --config`` runs: PGD, alpha-CROWN, beta-CROWN branch and bound on the
  ReLUs), ``device: cpu``, one torch thread, ``bab.timeout`` = the limit; ``domains``: the branch-and-bound domains it
  visited (0: decided before branching). ``binary``: it has no integer inputs, so it runs on the relaxation
  ``[0,1]^n`` (``sum(x) >= 1`` is no box either): an unsat there holds for the binary users too; a witness that is
  not 0/1 is reported as ``fractional`` (no answer for the binary query). Without a checkout the column says
  ``not-run`` with the reason; no number is ever made up.

The check of each verdict, done here without the tool's own code: a witness (latentcheck's exact rational input,
the MILP's, Marabou's and alpha-beta-CROWN's float points) is evaluated exactly in Fractions by the standalone re-checker's forward
pass (``counterexamples/recheck.py``, loaded by path); a latentcheck proof's certificate is re-checked by
``recheck`` from the same file. Float verdicts without a witness (``unsat``) cannot be checked and say so.

``--trained`` adds the trained ML-100K Mult-DAE encoders (1417-200 and 1417-600-200, ReLU and leaky ReLU in every
layer, l2-normalised binary users): they are trained first (``train``, through the API) into ``benchmarks/.cache``
(a minute or two per encoder on 2 cores; skipped when ``../shared/data/ml-100k`` is absent). The peers do not take
the l2-normalised query (``x/|x|_2`` is not piecewise linear), so their columns say ``not-run`` there.

Writes ``benchmarks/results/verify_vs_peers.json`` (or ``--out``; atomically) and prints a table.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import platform
import re
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from fractions import Fraction

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV = os.environ.get("LATENTCHECK_MARABOU_VENV", os.path.join(HERE, ".venv-marabou"))
VPY = os.path.join(VENV, "bin", "python")
CACHE = os.path.join(HERE, ".cache")
ABCROWN_DIR = os.path.join(HERE, ".abcrown")  # default checkout (gitignored)
ABC_VENV = os.environ.get("LATENTCHECK_ABCROWN_VENV", os.path.join(HERE, ".venv-abcrown"))
ABC_STUBS = os.path.join(HERE, "abcrown_stubs")
# CPU torch (the build on this project's machines; elsewhere set ABCROWN_TORCH and ABCROWN_PIP_ARGS, e.g.
# "--extra-index-url https://download.pytorch.org/whl/cpu"), and what alpha-beta-CROWN imports that is not stubbed.
ABC_TORCH = os.environ.get("ABCROWN_TORCH", "torch==2.13.0+cpu")
ABC_PACKAGES = ["numpy", "pyyaml", "sortedcontainers", "packaging", "tqdm", "appdirs", "psutil", "graphviz"]
ML100K = os.environ.get("ML100K_DIR", os.path.join(ROOT, "..", "shared", "data", "ml-100k"))

# name -> (sizes, domain, latent bias shift, seed, truth known before this run or None). Encoder.random(sizes,
# "relu", seed) with the shift added to the latent biases (a larger shift makes P3 hold). "sat" truths are
# exact witnesses found by latentcheck (re-checked below); "unsat" ones are re-checked certificates.
CASES = {
    "box-64-32-8-sat": ([64, 32, 8], "box:-1,1", 1.5, 0, "sat"),
    "box-64-32-8-unsat": ([64, 32, 8], "box:-1,1", 4.0, 0, "unsat"),
    "box-64-64-32-8-unsat": ([64, 64, 32, 8], "box:-1,1", 6.0, 0, "unsat"),
    "box-64-48-16": ([64, 48, 16], "box:-1,1", 4.0, 0, None),
    # issue 19's missed case: shift 1.45 is satisfiable (a sum-of-infeasibilities walk finds it); the plain MILP
    # ran out of 40 s on it (shifts 1.0: MILP 0.3 s; 1.25-1.5: MILP timeouts; 2.0: MILP unsat in 36 s).
    "box-128-64-16-sat": ([128, 64, 16], "box:-1,1", 1.45, 0, "sat"),
    "box-256-128-32": ([256, 128, 32], "box:-1,1", 6.0, 0, None),
    "binary-1682-64": ([1682, 64], "binary", 0.0, 0, "sat"),
    "binary-1682-200-64": ([1682, 200, 64], "binary", 0.0, 0, None),
    "binary-400-64": ([400, 64], "binary", 0.0, 0, None),
    "binary-400-64-16": ([400, 64, 16], "binary", 0.0, 0, None),
}
TRAINED = {  # name -> (hidden sizes, latent activation)
    "ml100k-1417-200-relu-l2": ("200", "relu"),
    "ml100k-1417-200-leaky-l2": ("200", "leaky_relu"),
    "ml100k-1417-600-200-relu-l2": ("600,200", "relu"),
    "ml100k-1417-600-200-leaky-l2": ("600,200", "leaky_relu"),
}


def _recheck_module():
    """The standalone re-checker (no latentcheck import), loaded by its path as docs/recheck_certificate.py does."""
    spec = importlib.util.spec_from_file_location("verify_vs_peers_recheck", os.path.join(ROOT, "counterexamples", "recheck.py"))
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def compile_package() -> None:
    """Byte-compile latentcheck's sources once, as an installed package has them: with PYTHONDONTWRITEBYTECODE
    set (this project's sessions set it) every worker would otherwise compile every module it imports (about
    0.15 CPU s of its start-up; the peers' site-packages are compiled at install)."""
    for d in ("theorems", "counterexamples", "checkers", "latentcheck"):
        compileall.compile_dir(os.path.join(ROOT, d), quiet=1)


# --------------------------------------------------------------------------- encoders
def build(sizes: list, shift: float, seed: int, path: str) -> None:
    sys.path.insert(0, ROOT)
    from latentcheck.theorems.encoder import Encoder
    from latentcheck.theorems.formats import save_encoder

    e = Encoder.random(sizes, "relu", seed=seed)
    bs = [layer.b.copy() for layer in e.layers]
    bs[-1] = bs[-1] + shift
    save_encoder(Encoder.from_arrays([layer.W for layer in e.layers], bs, "relu"), path)


def train(hidden: str, act: str, steps: int) -> str | None:
    """A trained Mult-DAE encoder, every layer ``act`` (cached under benchmarks/.cache); None when ML-100K is absent.

    Trained through the API, not ``latentcheck study``: the study's Mult-DAE has
    tanh hidden layers (Liang et al.), so its 1417-600-200 encoder is not
    piecewise linear and verify can only say unknown. Here the hidden layers
    use the latent activation too (a ReLU Mult-DAE throughout), trained as the
    study trains (Liang split 98765, dropout 0.5, Adam 3e-3, no weight decay,
    batch 500, ``steps`` optimiser steps, best validation NDCG@100 kept), and
    saved with the study's input semantics (l2-normalised binary users).
    """
    if not os.path.isdir(ML100K):
        return None
    path = os.path.join(CACHE, f"ml100k-{hidden.replace(',', '-')}-{act}-{steps}-all-{act}.npz")
    if os.path.exists(path):
        return path
    sys.path.insert(0, ROOT)
    from latentcheck.checkers.study.audit import save_encoder
    from latentcheck.checkers.study.data import liang_split, load_ratings
    from latentcheck.checkers.study.models import MultDAE
    from latentcheck.checkers.study.train import TrainConfig, train_multdae

    split = liang_split(load_ratings(ML100K))
    sizes = tuple(int(h) for h in hidden.split(","))
    model = MultDAE(n_items=split.n_items, hidden=sizes, latent=act, hidden_activation=act, dropout=0.5, lam=0.0)
    spe = -(-split.train.n_rows // 500)
    res = train_multdae(model, split, TrainConfig(epochs=max(1, steps // spe), batch_size=500, lr=3e-3, seed=0, eval_every=5))
    os.makedirs(CACHE, exist_ok=True)
    save_encoder(path, model.encoder(res.params), normalise="l2", rows="users", values="binary", input_ids=split.item_ids, threshold=3.5)
    print(f"trained {os.path.basename(path)}: validation NDCG@100 {res.val.get('NDCG@100', float('nan')):.4f}, best epoch {res.best_epoch}")
    return path


# --------------------------------------------------------------------------- workers (one process per tool)
def worker_latentcheck(cfg: dict) -> dict:
    sys.path.insert(0, ROOT)
    from latentcheck.checkers.verify import verify
    from latentcheck.theorems.formats import load_encoder
    from latentcheck.theorems.encoder import Encoder

    enc = load_encoder(cfg["weights"])
    t = time.perf_counter()
    res = verify(enc, "p3", domain=cfg["domain"], timeout=cfg["limit"])
    out = {"verdict": res.verdict, "solve_seconds": time.perf_counter() - t, "method": res.method,
           "reason": res.reason, "stats": res.stats, "counterexample": res.counterexample}
    if res.certificate is not None:
        with open(cfg["cert"], "w") as fh:
            json.dump(res.certificate, fh)
        out["certificate"] = cfg["cert"]
    return out


def _box(domain: str) -> tuple[float, float]:
    return (0.0, 1.0) if domain == "binary" else tuple(float(v) for v in domain[4:].split(","))


def worker_milp(cfg: dict) -> dict:
    sys.path.insert(0, HERE)
    from verify_vs_marabou import plain_milp_point

    data = np.load(cfg["weights"], allow_pickle=False)
    L = len([k for k in data.files if k.startswith("W")])
    Ws, bs = [data[f"W{i}"] for i in range(L)], [data[f"b{i}"] for i in range(L)]
    t = time.perf_counter()
    verdict, x = plain_milp_point(Ws, bs, cfg["domain"], cfg["limit"])
    return {"verdict": verdict, "solve_seconds": time.perf_counter() - t, "x": None if x is None else x.tolist()}


def worker_marabou(cfg: dict) -> dict:
    """Runs in Marabou's venv (NumPy and maraboupy only)."""
    from maraboupy import Marabou, MarabouCore

    sys.path.insert(0, HERE)
    from verify_vs_marabou import marabou_query

    data = np.load(cfg["weights"], allow_pickle=False)
    L = len([k for k in data.files if k.startswith("W")])
    Ws, bs = [data[f"W{i}"] for i in range(L)], [data[f"b{i}"] for i in range(L)]
    lo, hi = _box(cfg["domain"])
    ipq = marabou_query(MarabouCore, Ws, bs, lo, hi, cfg["domain"] == "binary")
    opts = Marabou.createOptions(timeoutInSeconds=int(cfg["limit"]), verbosity=0, numWorkers=1)
    t = time.perf_counter()
    code, vals, stats = MarabouCore.solve(ipq, opts, "")
    n = Ws[0].shape[1]
    x = [float(vals[i]) for i in range(n)] if code == "sat" else None
    return {"verdict": "TIMEOUT" if stats.hasTimedOut() else code, "solve_seconds": time.perf_counter() - t, "x": x}


def _npz_layers(weights: str) -> tuple[list, list]:
    data = np.load(weights, allow_pickle=False)
    L = len([k for k in data.files if k.startswith("W")])
    return [data[f"W{i}"] for i in range(L)], [data[f"b{i}"] for i in range(L)]


def maxtree_levels(m: int) -> list:
    """``[(S, D), ...]``: ``v -> S v + relu(D v)`` level by level turns ``v`` (length ``m``) into ``[max_j v_j]``.

    Each level pairs ``(a, b)`` as ``max(a, b) = b + relu(a - b)``: row ``i`` of ``D`` is ``e_a - e_b`` and of
    ``S`` is ``e_b``; an odd last entry is carried (``S`` row ``e_last``, ``D`` row zero).
    """
    levels = []
    while m > 1:
        k = (m + 1) // 2
        S, D = np.zeros((k, m)), np.zeros((k, m))
        for i in range(m // 2):
            D[i, 2 * i], D[i, 2 * i + 1], S[i, 2 * i + 1] = 1.0, -1.0, 1.0
        if m % 2:
            S[k - 1, m - 1] = 1.0
        levels.append((S, D))
        m = k
    return levels


def abcrown_maxtree_model(weights: str):
    """The torch network alpha-beta-CROWN verifies (its ``Customized(...)`` model loader calls this by path):
    ``x -> max_j z_j(x)`` with ``z`` the latent pre-activations of the ReLU encoder in ``weights``; ``enc(x) = 0``
    exactly when that maximum is ``<= 0``. Linear and ReLU layers only (no ONNX)."""
    import torch

    nn = torch.nn
    dt = torch.get_default_dtype()
    Ws, bs = _npz_layers(weights)

    def linear(W, b=None):  # always with a bias (zero in the tree): its branching heuristics read a ReLU's
        lin = nn.Linear(W.shape[1], W.shape[0])  # input layer's bias and reject a bias-free MatMul
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(np.asarray(W, dtype=np.float64), dtype=dt))
            lin.bias.copy_(torch.as_tensor(np.zeros(W.shape[0]) if b is None else np.asarray(b, dtype=np.float64), dtype=dt))
        return lin

    class MaxTree(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.ModuleList(linear(W, b) for W, b in zip(Ws, bs))
            self.enc_relu = nn.ModuleList(nn.ReLU() for _ in Ws[:-1])
            levels = maxtree_levels(Ws[-1].shape[0])
            self.S = nn.ModuleList(linear(S) for S, _ in levels)
            self.D = nn.ModuleList(linear(D) for _, D in levels)
            self.tree_relu = nn.ModuleList(nn.ReLU() for _ in levels)

        def forward(self, x):
            for lin, act in zip(self.enc, self.enc_relu):
                x = act(lin(x))
            v = self.enc[-1](x)
            for s, d, act in zip(self.S, self.D, self.tree_relu):
                v = s(v) + act(d(v))
            return v

    return MaxTree().eval()


def abcrown_vnnlib(n: int, lo: float, hi: float) -> str:
    """The VNN-LIB query: its asserts describe the region alpha-beta-CROWN searches (``sat``/unsafe: a point there
    exists; ``unsat``/safe: none does), here ``x in [lo, hi]^n`` and ``y_0 = max_j z_j <= 0``."""
    lines = ["; latentcheck P3 as a max-tree: is there x in the box with max_j z_j(x) <= 0 (enc(x) = 0)?"]
    lines += [f"(declare-const X_{i} Real)" for i in range(n)] + ["(declare-const Y_0 Real)"]
    for i in range(n):
        lines += [f"(assert (>= X_{i} {lo!r}))", f"(assert (<= X_{i} {hi!r}))"]
    return "\n".join(lines + ["(assert (<= Y_0 0.0))", ""])


def _abcrown_config(cfg: dict, tmp: str, n: int) -> str:
    """alpha-beta-CROWN's YAML (written as JSON, which YAML reads): CPU, its default pipeline (PGD attack,
    alpha-CROWN, then beta-CROWN branch and bound on ReLUs), ``bab.timeout`` = the benchmark's limit."""
    conf = {
        "general": {"device": "cpu", "save_adv_example": True, "complete_verifier": "bab", "seed": 0,
                    "results_file": os.path.join(tmp, "abcrown_results.pkl")},
        "model": {"name": f'Customized("{os.path.abspath(__file__)}", "abcrown_maxtree_model", weights="{cfg["weights"]}")',
                  "input_shape": [-1, n]},
        "specification": {"vnnlib_path": os.path.join(tmp, "p3.vnnlib")},
        "attack": {"cex_path": os.path.join(tmp, "cex.txt")},
        "bab": {"timeout": float(cfg["limit"])},
    }
    path = os.path.join(tmp, "abcrown.yaml")
    with open(path, "w") as fh:
        json.dump(conf, fh, indent=1)
    return path


def parse_abcrown_cex(text: str, n: int) -> list | None:
    """The input of alpha-beta-CROWN's counterexample file (``((X_0 v) (X_1 v) ... (Y_0 v))``), or None."""
    vals = {int(i): float(v) for i, v in re.findall(r"\(\s*X_(\d+)\s+([-+0-9.eE]+|nan|inf)\s*\)", text)}
    if sorted(vals) != list(range(n)) or not all(np.isfinite(list(vals.values()))):
        return None
    return [vals[i] for i in range(n)]


def abcrown_verdict(summary: dict, elapsed: float, limit: float) -> str:
    """Its status words (``safe``, ``safe-incomplete``, ``unsafe-pgd``, ``unsafe-bab``, ``unknown``, '... (timed
    out)') as the benchmark's: unsafe = a point of the query exists (sat), safe = none (unsat)."""
    statuses = [s for s, idx in summary.items() if idx]
    if len(statuses) != 1:
        return "unknown"
    s = statuses[0]
    if "unsafe" in s:
        return "sat"
    if "safe" in s:
        return "unsat"
    return "TIMEOUT" if elapsed >= limit else "unknown"


def worker_abcrown(cfg: dict) -> dict:
    """Runs in alpha-beta-CROWN's venv: its ABCROWN class (what ``abcrown.py --config`` runs), one CPU thread."""
    cv = os.path.join(cfg["abcrown_dir"], "complete_verifier")
    sys.path[:0] = [ABC_STUBS, cv]
    import torch

    torch.set_num_threads(1)
    from abcrown import ABCROWN

    Ws, _ = _npz_layers(cfg["weights"])
    n = Ws[0].shape[1]
    lo, hi = _box(cfg["domain"])
    with tempfile.TemporaryDirectory(prefix="abcrown-p3-") as tmp:
        with open(os.path.join(tmp, "p3.vnnlib"), "w") as fh:
            fh.write(abcrown_vnnlib(n, lo, hi))
        conf = _abcrown_config(cfg, tmp, n)
        t = time.perf_counter()
        solver = ABCROWN(args=["--config", conf])
        summary = solver.main()
        elapsed = time.perf_counter() - t
        verdict = abcrown_verdict(dict(summary), elapsed, cfg["limit"])
        x = None
        cex = os.path.join(tmp, "cex.txt")
        if verdict == "sat" and os.path.exists(cex):
            with open(cex) as fh:
                x = parse_abcrown_cex(fh.read(), n)
    out = {"verdict": verdict, "solve_seconds": elapsed, "x": x, "status": sorted(k for k, v in summary.items() if v),
           "domains": sum(int(item[2]) for item in getattr(solver.logger, "bab_ret", []))}  # 0: no branch and bound
    if cfg["domain"] == "binary":
        out["relaxation"] = "the box [0,1]^n (no integer inputs; sum(x) >= 1 not expressible as a box)"
        if verdict == "sat" and not (x is not None and all(min(abs(v), abs(v - 1)) <= 1e-6 for v in x)):
            out["verdict"] = "fractional"  # a point of the relaxation, not a 0/1 user
    return out


TOOLS = ("latentcheck", "milp", "marabou", "abcrown")
WORKERS = {"latentcheck": worker_latentcheck, "milp": worker_milp, "marabou": worker_marabou,
           "abcrown": worker_abcrown}


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_tool(tool: str, python: str, cfg: dict, tmp: str) -> dict:
    """One tool on one case, in its own process: its answer plus wall and CPU seconds of that process."""
    path = os.path.join(tmp, f"{tool}.json")
    with open(path, "w") as fh:
        json.dump(cfg, fh)
    t, c0 = time.perf_counter(), _children_cpu()
    try:
        out = subprocess.run([python, os.path.abspath(__file__), "--worker", tool, path], capture_output=True, text=True,
                             timeout=cfg["limit"] + 120)
    except subprocess.TimeoutExpired:
        return {"verdict": "TIMEOUT", "wall_seconds": time.perf_counter() - t, "cpu_seconds": None,
                "reason": "killed after the limit + 120 s"}
    res = {"wall_seconds": round(time.perf_counter() - t, 3), "cpu_seconds": round(_children_cpu() - c0, 3)}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        res.update(verdict="ERROR", reason=(out.stderr or out.stdout)[-400:])
        return res
    res.update(json.loads(lines[-1]))
    return res


# --------------------------------------------------------------------------- checks (standalone, exact)
def _exact_net(RC, weights: str) -> tuple:
    enc = RC.read_encoder(weights)
    acts = []
    for name in enc["names"]:
        knots, values, sl, sr, off = RC.CATALOG[name]
        acts.append(RC.PL({"knots": [str(v) for v in knots], "values": [str(v) for v in values],
                           "slope_left": str(sl), "slope_right": str(sr), "offset": str(off)}))
    return (enc["W"], enc["b"], acts), enc["normalise"]


def check_point(RC, weights: str, domain: str, x: list | None, exact_input: bool) -> dict:
    """Whether ``x`` (exact strings, or floats read exactly) is a nonzero domain point with ``enc(x) = 0`` exactly."""
    if x is None:
        return {"checked": False, "why": "no witness returned"}
    net, norm = _exact_net(RC, weights)
    if norm == "l2" and domain == "binary":
        return check_point_l2(RC, net, x)
    if norm != "none":
        return {"checked": False, "why": f"normalise {norm}: not checked here"}
    xs = [Fraction(v) if exact_input else Fraction(float(v)) for v in x]
    lo, hi = (Fraction(v) for v in _box(domain))
    if domain == "binary":
        xs = [Fraction(round(v)) for v in xs] if not exact_input else xs
    inside = any(xs) and all(lo <= v <= hi for v in xs)
    zero = inside and all(v == 0 for v in RC.forward(net, xs))
    return {"checked": True, "exact_zero": bool(zero), "how": "exact Fraction forward pass (counterexamples/recheck.py)"
            + ("" if exact_input else "; the float point read exactly" + (", rounded to 0/1" if domain == "binary" else ""))}


def check_point_l2(RC, net: tuple, x: list) -> dict:
    """Whether the binary user ``x`` is encoded as exactly 0 when the encoder sees ``x/|x|_2``, in ``Q(sqrt k)``.

    Every value is ``a + b sqrt(k)`` with rational ``a, b`` (``k = 1'x``); for positively homogeneous
    activations ``enc(x / sqrt k) = enc_s(x) / sqrt k`` with the biases scaled by ``sqrt k``, and a unit's
    sign is decided exactly (the re-checker's ``l2_sign``). Written here, apart from latentcheck's own test.
    """
    Ws, bs, acts = net
    xs = [Fraction(v) for v in x]
    if any(v not in (0, 1) for v in xs) or not any(xs):
        return {"checked": True, "exact_zero": False, "how": "not a nonzero binary user"}
    k = int(sum(xs))
    h = [(v, Fraction(0)) for v in xs]
    for W, b, act in zip(Ws, bs, acts):
        if not act.homogeneous():
            return {"checked": False, "why": "an activation that is not positively homogeneous"}
        nz = [i for i, (a, c) in enumerate(h) if a or c]
        z = [(sum((row[i] * h[i][0] for i in nz), Fraction(0)), sum((row[i] * h[i][1] for i in nz), Fraction(0)) + bj)
             for row, bj in zip(W, b)]
        h = [(act.sr * a, act.sr * c) if RC.l2_sign(a, c, k) > 0 else (act.sl * a, act.sl * c) for a, c in z]
    zero = all(RC.l2_sign(a, c, k) == 0 for a, c in h)
    return {"checked": True, "exact_zero": bool(zero), "how": f"exact forward pass in Q(sqrt {k}) (benchmark's own, signs by recheck.l2_sign)"}


def check_certificate(RC, weights: str, cert_path: str) -> dict:
    with open(cert_path) as fh:
        cert = json.load(fh)
    fn = RC.recheck_l2 if cert.get("schema") == RC.SCHEMA_L2 else RC.recheck
    try:
        leaves, _notes = fn(cert, weights)
    except RC.Rejected as exc:
        return {"checked": True, "ok": False, "why": str(exc)[:300]}
    return {"checked": True, "ok": True, "leaves": leaves, "how": f"{fn.__name__}() of counterexamples/recheck.py"}


def check(RC, tool: str, res: dict, weights: str, domain: str) -> dict:
    v = res.get("verdict")
    if tool == "latentcheck" and v == "refuted":
        return check_point(RC, weights, domain, res.get("counterexample"), True)
    if tool == "latentcheck" and v == "proved" and res.get("certificate"):
        return check_certificate(RC, weights, res["certificate"])
    if v == "sat":
        return check_point(RC, weights, domain, res.get("x"), False)
    if v == "unsat":
        return {"checked": False, "why": "a floating-point 'unsat' carries no certificate"}
    if v == "fractional":
        return {"checked": False, "why": "a point of the [0,1]^n relaxation that is not a 0/1 user: no answer for binary"}
    return {"checked": False, "why": "no answer"}


# --------------------------------------------------------------------------- peers that may be absent
def peer_venv(venv: str, packages: list[str], done: str) -> tuple[str | None, str]:
    """A peer's virtualenv at ``venv`` with ``packages``, made on first use; ``done`` is the file whose presence
    says it is ready (written after the install when it is not the python itself). ``(python or None, why not)``."""
    py = os.path.join(venv, "bin", "python")
    if os.path.exists(done):
        return py, ""
    try:
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([py, "-m", "pip", "install", "-q", *packages], check=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        return None, f"{' '.join(packages[:2])} could not be installed: {exc}"
    if done != py:
        with open(done, "w") as fh:
            fh.write(" ".join(packages) + "\n")
    return py, ""


def marabou_python() -> tuple[str | None, str]:
    return peer_venv(VENV, ["maraboupy==2.0.0", "numpy"], VPY)


def abcrown_python(directory: str | None) -> tuple[str | None, str]:
    """alpha-beta-CROWN's python and checkout, or None and why not (never a made-up number).

    The checkout is ``directory`` (``--abcrown``) or ``benchmarks/.abcrown``; its environment is ``ABCROWN_PYTHON``
    or ``benchmarks/.venv-abcrown``, created on first use (CPU torch plus the few packages it imports that are not
    stubbed in ``benchmarks/abcrown_stubs``; a marker file says the install finished).
    """
    d = os.path.abspath(directory or ABCROWN_DIR)
    if not os.path.isfile(os.path.join(d, "complete_verifier", "abcrown.py")):
        return None, (f"no alpha-beta-CROWN checkout at {d} (it is not on PyPI: git clone --recursive "
                      f"https://github.com/Verified-Intelligence/alpha-beta-CROWN {d}, or --abcrown DIR)")
    if not os.path.isfile(os.path.join(d, "complete_verifier", "auto_LiRPA", "__init__.py")):
        return None, f"the checkout at {d} lacks its auto_LiRPA submodule (git submodule update --init there)"
    if os.environ.get("ABCROWN_PYTHON"):
        return os.environ["ABCROWN_PYTHON"], ""
    return peer_venv(ABC_VENV, [ABC_TORCH, *ABC_PACKAGES, *shlex.split(os.environ.get("ABCROWN_PIP_ARGS", ""))],
                     os.path.join(ABC_VENV, ".latentcheck-ready"))


# --------------------------------------------------------------------------- main
def _row(name: str, weights: str, domain: str, meta: dict, tools: dict, args, RC, tmp: str) -> dict:
    row = dict(meta, case=name, domain=domain)
    cfg = {"weights": weights, "domain": domain, "limit": args.limit, "cert": os.path.join(tmp, f"{name}.cert.json"),
           "abcrown_dir": os.path.abspath(args.abcrown or ABCROWN_DIR)}
    for tool, python in tools.items():
        if isinstance(python, str) and python.startswith("not-run"):
            row[tool] = {"verdict": "not-run", "reason": python[len("not-run: "):]}
            continue
        res = run_tool(tool, python, cfg, tmp)
        res["check"] = check(RC, tool, res, weights, domain)
        res.pop("x", None)
        if isinstance(res.get("counterexample"), list):
            res["counterexample_nonzero"] = sum(1 for v in res["counterexample"] if Fraction(v) != 0)
            res.pop("counterexample")
        row[tool] = res
    return row


def _fmt(res: dict) -> str:
    v = res.get("verdict", "?")
    if v == "not-run":
        return f"{'not-run':>9s} {'':>15s}"
    ok = res.get("check", {})
    mark = "+" if ok.get("exact_zero") or ok.get("ok") else ("!" if ok.get("checked") else " ")
    cpu = res.get("cpu_seconds")
    return f"{v:>8s}{mark} {res.get('wall_seconds', 0):6.1f}s/{cpu if cpu is not None else float('nan'):5.1f}c"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=100.0)
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--trained", action="store_true", help="add the trained ML-100K encoders (trains them first)")
    ap.add_argument("--trained-steps", type=int, default=3000)
    ap.add_argument("--trained-cases", default=",".join(TRAINED), help="which trained encoders (with --trained)")
    ap.add_argument("--no-marabou", action="store_true")
    ap.add_argument("--tools", default=",".join(TOOLS), help="which tools run (the others say not-run)")
    ap.add_argument("--abcrown", default=None, help="alpha-beta-CROWN checkout (default benchmarks/.abcrown)")
    ap.add_argument("--worker", nargs=2, default=None)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "verify_vs_peers.json"))
    args = ap.parse_args(argv)
    if args.worker:
        tool, cfg_path = args.worker
        with open(cfg_path) as fh:
            print(json.dumps(WORKERS[tool](json.load(fh))), flush=True)
        return
    compile_package()
    RC = _recheck_module()
    tools = _tools(args)
    rows = []
    print(f"{'case':30s} {'truth':>6s} | {'latentcheck':>25s} | {'plain MILP':>25s} | {'Marabou':>25s} | alpha-beta-CROWN")
    with tempfile.TemporaryDirectory() as tmp:
        for name, weights, domain, meta, peers in _all_cases(args, tmp):
            row = _row(name, weights, domain, meta, tools if peers else {
                "latentcheck": sys.executable, "milp": "not-run: l2-normalised query", "marabou": "not-run: l2-normalised query",
                "abcrown": "not-run: l2-normalised query"}, args, RC, tmp)
            rows.append(row)
            print(f"{name:30s} {str(meta.get('truth')):>6s} | {_fmt(row['latentcheck'])} | {_fmt(row['milp'])} | "
                  f"{_fmt(row['marabou'])} | {_fmt(row['abcrown'])}", flush=True)
    print_effort(rows)
    _write(args, rows, tools)


def _effort(row: dict) -> tuple[str, str]:
    """How far each branch and bound went: latentcheck's nodes and LPs (open nodes when unknown, how a refutation
    was found), alpha-beta-CROWN's domains."""
    lc, ab = row.get("latentcheck", {}), row.get("abcrown", {})
    st = lc.get("stats") or {}
    how = lc.get("method", "")
    open_nodes = re.search(r"(\d+) open nodes", lc.get("reason", "") or "")
    left = f"{st.get('nodes', 0)} nodes, {st.get('lps', 0)} LPs" + (f", {open_nodes.group(1)} open" if open_nodes else "")
    if lc.get("verdict") == "refuted" and how != "branch-and-bound":
        left = f"no tree ({how})"
    right = "not run" if ab.get("verdict", "not-run") == "not-run" else f"{ab.get('domains', '?')} domains ({ab.get('verdict')})"
    return left, right


def print_effort(rows: list) -> None:
    print(f"\n{'case':30s} | {'latentcheck tree':>34s} | alpha-beta-CROWN branch and bound")
    for row in rows:
        left, right = _effort(row)
        print(f"{row['case']:30s} | {left:>34s} | {right}")


def _tools(args) -> dict:
    """tool -> the python that runs its worker, or ``not-run: <reason>``."""
    chosen = set(args.tools.split(","))
    if chosen - set(TOOLS):
        raise SystemExit(f"error: unknown tool(s) {sorted(chosen - set(TOOLS))}; choose from {','.join(TOOLS)}")
    tools = {t: "not-run: not selected (--tools)" for t in TOOLS}
    for t in ("latentcheck", "milp"):
        if t in chosen:
            tools[t] = sys.executable
    if "marabou" in chosen:
        mpy, why = (None, "--no-marabou") if args.no_marabou else marabou_python()
        tools["marabou"] = mpy or f"not-run: {why}"
    if "abcrown" in chosen:
        apy, why = abcrown_python(args.abcrown)
        tools["abcrown"] = apy or f"not-run: {why}"
    return tools


def abcrown_version(directory: str | None) -> str | None:
    """The checkout's commit: ``git rev-parse HEAD`` in a clone, else its ``.latentcheck-commit`` note (an
    extracted snapshot has no .git; write the commits there), else None."""
    d = os.path.abspath(directory or ABCROWN_DIR)
    try:
        out = subprocess.run(["git", "-C", d, "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and os.path.isdir(os.path.join(d, ".git")):
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    note = os.path.join(d, ".latentcheck-commit")
    if os.path.isfile(note):
        with open(note) as fh:
            return " ; ".join(ln.strip() for ln in fh if ln.strip())
    return None


def _all_cases(args, tmp: str):
    for name in [c for c in args.cases.split(",") if c]:
        sizes, dom, shift, seed, truth = CASES[name]
        path = os.path.join(tmp, f"{name}.npz")
        build(sizes, shift, seed, path)
        yield name, path, dom, {"sizes": sizes, "latent_bias_shift": shift, "seed": seed, "truth": truth}, True
    if args.trained:
        for name, (hidden, act) in [(k, TRAINED[k]) for k in args.trained_cases.split(",") if k]:
            path = train(hidden, act, args.trained_steps)
            if path is None:
                print(f"{name}: skipped (no ML-100K data at {ML100K})")
                continue
            yield name, path, "binary", {"sizes": [1417] + [int(h) for h in hidden.split(",")], "activation": act,
                                         "normalise": "l2", "truth": None, "weights_file": path}, False


def _write(args, rows: list, tools: dict) -> None:
    out = {"benchmark": "verify_vs_peers", "limit_seconds": args.limit, "machine": platform.machine(),
           "cpus": os.cpu_count(), "load_average_at_end": os.getloadavg(), "python": platform.python_version(),
           "tools": {k: (v if isinstance(v, str) and v.startswith("not-run") else "run") for k, v in tools.items()},
           "abcrown_checkout": abcrown_version(args.abcrown) if tools["abcrown"] and not tools["abcrown"].startswith("not-run") else None,
           "note": "one run; wall_seconds and cpu_seconds of each tool's own process (start-up, imports and model "
                   "building included; a shared machine makes wall seconds noisy, CPU seconds are the fairer figure). "
                   "latentcheck's refuted/proved are certified (checked again here: exact forward pass of the witness, "
                   "recheck() of the certificate); plain MILP, Marabou and alpha-beta-CROWN answer in floating point: "
                   "their witness is read exactly and checked, their 'unsat' cannot be. alpha-beta-CROWN decides "
                   "max_j z_j <= 0 over the box (binary: over the relaxation [0,1]^n, where a witness that is not 0/1 "
                   "is 'fractional'; its 'unsat' there holds for the binary users too). '+' in the printed table: "
                   "the check passed; '!': it failed.",
           "rows": rows}
    # imported here, not at the top: the Marabou and alpha-beta-CROWN workers run this file in environments that
    # lack latentcheck's dependencies (sympy, z3, ...)
    sys.path.insert(0, ROOT)
    from latentcheck.theorems.files import atomic_write_text

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    atomic_write_text(args.out, json.dumps(out, indent=1))  # the project's one atomic writer
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
