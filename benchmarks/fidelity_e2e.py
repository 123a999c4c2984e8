"""End-to-end fidelity: one ReLU Mult-DAE saved five ways gets one verdict from every command.

Usage (from the repository root, with the project's virtualenv)::

    python benchmarks/fidelity_e2e.py [--data ../shared/data/ml-100k] [--max-steps 200] [--torch-python PATH]

Issue 17's "Done when": a ReLU Mult-DAE trained and saved by ``study``, by plain
PyTorch (state dict, safetensors, ONNX with ``F.normalize``) and by RecBole gives
the same verdict from ``falsify``, ``verify``, ``audit`` and the assertions.

1. ``latentcheck study`` trains a small ReLU Mult-DAE (one split, one seed, fixed
   lr 3e-3, lam 0, ``--max-steps``) and exports its encoder (``.npz``: W0, b0,
   relu, ``latentcheck_normalise = l2``, the item ids).
2. ``benchmarks/_fidelity_torch_export.py`` (run with a Python that has torch,
   onnx and safetensors: ``--torch-python``, else ``$FIDELITY_TORCH_PYTHON``,
   else this Python if it imports torch, else ``../models/.venv``) puts the same
   weights (float32: the study's values are float32 values) in a plain PyTorch
   Mult-DAE (``F.normalize`` -> Linear -> ReLU, Linear decoder) and saves a
   state dict, safetensors, a whole-model ONNX export, and RecBole's MultiDAE
   checkpoint layout (``encoder.mlp_layers.1.*``, ``model: MultiDAE``,
   ``activations: [relu]``: RecBole's own MultiDAE hard-codes tanh, so this is the
   study's ReLU weights in RecBole's layout, not a RecBole-trained model; no
   ``[PAD]`` column, so the function is the same). It also writes torch's own
   encoder forward on random inputs.
3. Each file goes through ``falsify -p p3 --domain binary``, ``verify --domain
   binary``, ``audit --data`` (its P3 part) and ``assert_nonvanishing``; a plain
   state dict / safetensors file stores neither the activation nor the
   normalisation, so those get ``--activations relu --input-normalise l2`` (the
   table says what each saw); files without item ids get ``--item-order``.
4. Asserts that every file gets the same verdict per command, the same float
   latents as torch's forward (relative 1e-6) and the same exact weights.

Without the data directory a small synthetic ratings file is used (said so).
Writes ``benchmarks/results/fidelity_e2e.json`` atomically; wall and CPU seconds
(this process and its children) per step.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np
from latentcheck import load_encoder

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COMMANDS = ("falsify", "verify", "audit", "assert")
RTOL = 1e-6


# --------------------------------------------------------------------------- agreement logic (pure numpy)


def latent_mismatches(latents: dict[str, np.ndarray], reference: str, rtol: float = RTOL) -> list[str]:
    """Names of files whose latents differ from ``latents[reference]`` by more than ``rtol`` (relative to its max)."""
    ref = np.asarray(latents[reference], dtype=np.float64)
    scale = max(float(np.max(np.abs(ref))), np.finfo(np.float64).tiny)
    bad = []
    for name, z in latents.items():
        z = np.asarray(z, dtype=np.float64)
        if z.shape != ref.shape:
            bad.append(f"{name}: latent shape {z.shape} != {ref.shape} of {reference}")
        elif not np.all(np.isfinite(z)) or float(np.max(np.abs(z - ref))) > rtol * scale:
            err = float(np.max(np.abs(z - ref))) / scale if np.all(np.isfinite(z)) else float("inf")
            bad.append(f"{name}: latents differ from {reference} by {err:.3g} (relative) > {rtol:g}")
    return bad


def weight_mismatches(weights: dict[str, list[tuple[np.ndarray, np.ndarray]]], reference: str) -> list[str]:
    """Names of files whose (W, b) per layer are not exactly the reference's values."""
    ref = weights[reference]
    bad = []
    for name, layers in weights.items():
        if len(layers) != len(ref):
            bad.append(f"{name}: {len(layers)} layers, {reference} has {len(ref)}")
            continue
        for i, ((W, b), (W0, b0)) in enumerate(zip(layers, ref)):
            if np.shape(W) != np.shape(W0) or not (np.array_equal(np.asarray(W, np.float64), np.asarray(W0, np.float64))
                                                   and np.array_equal(np.asarray(b, np.float64), np.asarray(b0, np.float64))):
                bad.append(f"{name}: layer {i} weights are not exactly those of {reference}")
    return bad


def verdict_mismatches(rows: dict[str, dict[str, str]]) -> list[str]:
    """One line per command whose verdict is not the same for every file (``rows[file][command]``)."""
    bad = []
    for command in COMMANDS:
        seen = {name: row.get(command) for name, row in rows.items()}
        if len(set(seen.values())) > 1:
            bad.append(f"{command}: " + ", ".join(f"{k}={v}" for k, v in seen.items()))
    return bad


def normalised(x: np.ndarray, normalise: str) -> np.ndarray:
    """Rows of ``x`` as the encoder sees them (``none`` or ``l2``; a zero row stays zero)."""
    if normalise == "none":
        return x
    if normalise != "l2":
        raise ValueError(f"normalisation {normalise!r} is not used by this benchmark")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


# --------------------------------------------------------------------------- running things


class Clock:
    """Wall and CPU seconds (this process plus its finished children) of a block."""

    def __enter__(self) -> "Clock":
        self.w0, self.c0 = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.wall, self.cpu = time.perf_counter() - self.w0, _cpu() - self.c0


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def latentcheck_exe() -> str:
    here = os.path.join(os.path.dirname(sys.executable), "latentcheck")
    return here if os.path.exists(here) else (shutil.which("latentcheck") or "latentcheck")


def run_cli(args: list[str], timeout: float = 900) -> tuple[int, dict, str]:
    """Run ``latentcheck ARGS --json``: exit code, parsed JSON (or {}), last stderr line."""
    proc = subprocess.run([latentcheck_exe(), *args, "--json"], capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    try:
        doc = json.loads(proc.stdout) if proc.stdout.strip() else {}
    except json.JSONDecodeError:
        doc = {}
    tail = (proc.stderr.strip().splitlines() or [""])[-1]
    return proc.returncode, doc, tail


def torch_python(explicit: str | None) -> str | None:
    """A Python that imports torch, onnx and safetensors, or None."""
    candidates = [explicit, os.environ.get("FIDELITY_TORCH_PYTHON"), sys.executable,
                  os.path.join(os.path.dirname(ROOT), "models", ".venv", "bin", "python"),
                  "/work/wt/models/.venv/bin/python"]
    for py in candidates:
        if py and os.path.exists(py):
            ok = subprocess.run([py, "-c", "import torch, onnx, safetensors"], capture_output=True,
                                env={**os.environ, "PYTHONNOUSERSITE": "1"}).returncode == 0
            if ok:
                return py
    return None


# --------------------------------------------------------------------------- the steps


def synthetic_data(work: str, users: int = 300, items: int = 150, seed: int = 0) -> str:
    """A MovieLens-style ``u.data`` (user item rating time) with popular and rare items."""
    rng = np.random.default_rng(seed)
    pop = rng.zipf(1.6, size=items).astype(float)
    pop /= pop.sum()
    lines = []
    for u in range(1, users + 1):
        k = int(rng.integers(8, 30))
        for i in rng.choice(items, size=k, replace=False, p=pop):
            lines.append(f"{u}\t{i + 1}\t{int(rng.integers(3, 6))}\t{880000000 + len(lines)}")
    folder = os.path.join(work, "synthetic-ml")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "u.data"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return folder


def train_study(data: str, work: str, max_steps: int) -> str:
    """Run ``latentcheck study`` (small, ReLU) and return its exported encoder."""
    out = os.path.join(work, "study")
    args = ["study", "--data", data, "--activations", "relu", "--split-seeds", "1", "--seeds", "1", "--bracket-rounds", "0",
            "--tune-seeds", "1", "--lr", "3e-3", "--lam", "0", "--max-steps", str(max_steps), "--falsify-budget", "0",
            "--no-ease", "--out", out]
    proc = subprocess.run([latentcheck_exe(), *args], capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"study exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    folder = os.path.join(out, "encoders")
    files = sorted(f for f in os.listdir(folder) if f.endswith(".npz"))
    if len(files) != 1:
        raise RuntimeError(f"expected one exported encoder in {folder}, found {files}")
    return os.path.join(folder, files[0])


def export_torch(py: str, npz: str, work: str, inputs: str) -> dict[str, str]:
    """Write the PyTorch / safetensors / ONNX / RecBole-layout files (torch in a subprocess)."""
    with np.load(npz, allow_pickle=False) as d:
        ids = [str(int(i)) for i in d["latentcheck_input_ids"]]
    out = {k: os.path.join(work, v) for k, v in [("state_dict", "multdae_state.pt"), ("safetensors", "multdae.safetensors"),
                                                 ("onnx", "multdae.onnx"), ("recbole", "multdae_recbole.pt"),
                                                 ("torch_latents", "torch_latents.npy")]}
    job = os.path.join(work, "torch_job.json")
    with open(job, "w") as fh:
        json.dump({"npz": npz, "out": out, "inputs": inputs, "input_names": ids, "seed": 0}, fh)
    proc = subprocess.run([py, os.path.join(HERE, "_fidelity_torch_export.py"), job], capture_output=True, text=True,
                          env={**os.environ, "PYTHONNOUSERSITE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"torch export exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return out


def recbole_python(explicit: str | None) -> str | None:
    """A Python that imports recbole (``--recbole-python``, ``$FIDELITY_RECBOLE_PYTHON``, benchmarks/.venv-recbole), or None."""
    candidates = [explicit, os.environ.get("FIDELITY_RECBOLE_PYTHON"), os.path.join(HERE, ".venv-recbole", "bin", "python"),
                  os.path.join(os.path.dirname(ROOT), "trainspeed", "benchmarks", ".venv-recbole", "bin", "python")]
    for py in candidates:
        if py and os.path.exists(py) and subprocess.run([py, "-c", "import recbole, torch"], capture_output=True).returncode == 0:
            return py
    return None


def recbole_atomic(data: str, work: str) -> str:
    """RecBole's atomic file ``ml100k.inter`` of the ratings above 3.5 (raw ids as tokens, as the study binarises)."""
    folder = os.path.join(work, "ml100k")
    os.makedirs(folder, exist_ok=True)
    rows = np.loadtxt(os.path.join(data, "u.data"), dtype=np.int64, usecols=(0, 1, 2))
    rows = rows[rows[:, 2] > 3.5]
    with open(os.path.join(folder, "ml100k.inter"), "w") as fh:
        fh.write("user_id:token\titem_id:token\n")
        fh.writelines(f"{u}\t{i}\n" for u, i in rows[:, :2].tolist())
    return work


def train_recbole(py: str, data: str, work: str, epochs: int) -> dict:
    """RecBole's MultiDAE trained as it is (tanh) and with ReLU (one argument patched); their re-saved checkpoints."""
    cfg = {"data_path": recbole_atomic(data, work), "load_col": {"inter": ["user_id", "item_id"]}, "epochs": epochs,
           "train_batch_size": 256, "learning_rate": 1e-3, "mlp_hidden_size": [], "latent_dimension": 64, "dropout_prob": 0.5,
           "eval_args": {"split": {"RS": [0.8, 0.1, 0.1]}, "group_by": "user", "order": "RO", "mode": "full"},
           "metrics": ["NDCG"], "topk": [100], "valid_metric": "NDCG@100", "seed": 0, "reproducibility": True, "device": "cpu",
           "use_gpu": False, "show_progress": False, "checkpoint_dir": os.path.join(work, "ckpt"), "train_neg_sample_args": None,
           "log_wandb": False, "save_dataset": False, "save_dataloaders": False}
    job = os.path.join(work, "recbole_job.json")
    with open(job, "w") as fh:
        json.dump({"config": cfg, "activations": ["tanh", "relu"], "out_prefix": os.path.join(work, "recbole-trained")}, fh)
    proc = subprocess.run([py, os.path.join(HERE, "_fidelity_recbole.py"), job], capture_output=True, text=True, cwd=work,
                          env={**os.environ, "PYTHONNOUSERSITE": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"RecBole training exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def file_specs(npz: str, files: dict[str, str], item_order: str) -> dict[str, dict[str, Any]]:
    """Per file: its path, the extra CLI options it needs, and the same as Python options."""
    plain = {"cli": ["--activations", "relu", "--input-normalise", "l2"], "py": {"activations": ["relu"]}, "normalise": "l2",
             "audit": ["--item-order", item_order]}
    return {
        "study .npz": {"path": npz, "cli": [], "py": {}, "normalise": None, "audit": []},
        "torch state dict .pt": {"path": files["state_dict"], **plain},
        "safetensors": {"path": files["safetensors"], **plain},
        "ONNX (F.normalize)": {"path": files["onnx"], "cli": [], "py": {}, "normalise": None, "audit": ["--item-order", item_order]},
        # RecBole trains on every interaction, so its checkpoints read as threshold 0; the study binarised at 3.5.
        "RecBole layout .pt": {"path": files["recbole"], "cli": [], "py": {}, "normalise": None, "audit": ["--threshold", "3.5"]},
    }


def check_falsify(spec: dict, budget: float) -> dict:
    rc, doc, tail = run_cli(["falsify", "-p", "p3", "--domain", "binary", "--model", spec["path"], *spec["cli"],
                             "--budget", str(budget), "--seed", "0", "--no-plots"])
    inputs = doc.get("inputs") or {}
    return {"exit": rc, "verdict": doc.get("status", f"no JSON ({tail})"), "normalise": inputs.get("normalise"),
            "tensors": _tensors(doc), "sizes": (doc.get("encoder") or {}).get("sizes")}


def check_verify(spec: dict, timeout: float) -> dict:
    rc, doc, tail = run_cli(["verify", "--domain", "binary", "--model", spec["path"], *spec["cli"], "--timeout", str(timeout)])
    return {"exit": rc, "verdict": doc.get("verdict", f"no JSON ({tail})"), "normalise": (doc.get("inputs") or {}).get("normalise"),
            "tensors": _tensors(doc)}


def _tensors(doc: dict) -> Any:
    """The tensors a command's JSON says it read (``encoder.provenance.tensors_used``)."""
    return ((doc.get("encoder") or {}).get("provenance") or {}).get("tensors_used")


def check_audit(spec: dict, data: str) -> dict:
    rc, doc, tail = run_cli(["audit", "--model", spec["path"], "--data", data, *spec["cli"], *spec["audit"], "--certify", "1"])
    p3 = ((doc.get("falsifier") or {}).get("P3") or {}).get("status")
    verdict = f"zero_rows={doc.get('zero_rows')}; P3 search {p3}" if doc else f"no JSON ({tail})"
    return {"exit": rc, "verdict": verdict, "normalise": doc.get("normalisation"),
            "matched_columns": (doc.get("inputs") or {}).get("matched_columns"), "tensors": _tensors(doc)}


def check_assert(spec: dict, budget: float, report_dir: str) -> dict:
    """``assert_nonvanishing`` on the file read by ``load_encoder`` (normalisation: the file's, or l2 stated)."""
    from latentcheck import assert_nonvanishing
    from latentcheck.theorems import Encoder

    enc = load_encoder(spec["path"], **spec["py"])
    try:
        assert_nonvanishing(enc, domain="binary", budget=budget, seed=0, report_dir=report_dir, input_normalise=spec["normalise"])
        verdict = "held"
    except AssertionError as exc:
        verdict = "counterexample" if "counterexample" in str(exc).lower() or "zero" in str(exc).lower() else f"failed: {str(exc)[:80]}"
    return {"exit": None, "verdict": verdict, "normalise": spec["normalise"] or enc.inputs.normalise}


def float_and_exact(specs: dict, x: np.ndarray) -> tuple[dict, dict, dict]:
    """Per file: latentcheck's float64 forward on the normalised inputs, its layers' (W, b), what it read."""
    from latentcheck.theorems import Encoder

    latents, weights, read = {}, {}, {}
    for name, spec in specs.items():
        enc = load_encoder(spec["path"], **spec["py"])
        norm = spec["normalise"] or enc.inputs.normalise
        latents[name] = enc(normalised(x, norm))
        weights[name] = [(layer.W, layer.b) for layer in enc.layers]
        prov = enc.provenance
        read[name] = {"normalise": norm, "normalise_from": "option" if spec["normalise"] else enc.inputs.origin,
                      "format": getattr(prov, "format", None), "tensors_used": list(getattr(prov, "tensors_used", ()) or ()),
                      "activations": [layer.activation.name for layer in enc.layers], "stored_dtype": enc.stored_dtype}
    return latents, weights, read


def random_inputs(n: int, seed: int = 0, rows: int = 64) -> np.ndarray:
    """Binary rows (density 2-20%) and nonnegative rating rows, none zero."""
    rng = np.random.default_rng(seed)
    binary = (rng.random((rows, n)) < rng.uniform(0.02, 0.2, size=(rows, 1))).astype(np.float64)
    binary[:, 0] = np.where(binary.sum(axis=1) == 0, 1.0, binary[:, 0])
    ratings = rng.integers(0, 6, size=(rows, n)) * (rng.random((rows, n)) < 0.1)
    ratings[:, 1] = np.where(ratings.sum(axis=1) == 0, 5, ratings[:, 1])
    return np.vstack([binary, ratings.astype(np.float64)])


# --------------------------------------------------------------------------- driver


def run_core(data: str, work: str, py: str, max_steps: int, budget: float, timeout: float,
             log: Callable[[str], None] = print) -> dict:
    """Train, export, check every file with every command; return the result document (no asserting)."""
    timings: dict[str, dict[str, float]] = {}
    with Clock() as c:
        npz = train_study(data, work, max_steps)
    timings["study"] = {"wall": c.wall, "cpu": c.cpu}
    with np.load(npz, allow_pickle=False) as d:
        n, ids = d["W0"].shape[1], [str(int(i)) for i in d["latentcheck_input_ids"]]
    x = random_inputs(n)
    xpath = os.path.join(work, "inputs.npy")
    np.save(xpath, x)
    with Clock() as c:
        files = export_torch(py, npz, work, xpath)
    timings["torch export"] = {"wall": c.wall, "cpu": c.cpu}
    item_order = os.path.join(work, "item_order.txt")
    with open(item_order, "w") as fh:
        fh.write("\n".join(ids) + "\n")
    specs = file_specs(npz, files, item_order)
    results = {}
    for name, spec in specs.items():
        log(f"checking {name} ...")
        results[name] = check_file(spec, data, budget, timeout, work)
    latents, weights, read = float_and_exact(specs, x)
    latents["torch forward"] = np.load(files["torch_latents"])
    verdicts = {name: {cmd: str(r[cmd]["verdict"]) + f" (exit {r[cmd]['exit']})" for cmd in COMMANDS} for name, r in results.items()}
    return {"data": data, "npz": npz, "n_inputs": int(n), "files": {k: v["path"] for k, v in specs.items()},
            "options": {k: v["cli"] + v["audit"] for k, v in specs.items()}, "results": results, "read": read, "timings": timings,
            "problems": verdict_mismatches(verdicts) + latent_mismatches(latents, "torch forward")
            + weight_mismatches(weights, "study .npz") + normalisation_problems(results, read) + tensor_problems(results, read),
            "random_inputs": int(x.shape[0])}


def check_file(spec: dict, data: str, budget: float, timeout: float, work: str) -> dict[str, dict]:
    """Every command on one file, each with its wall and CPU seconds."""
    out = {}
    for command, fn in [("falsify", lambda s: check_falsify(s, budget)), ("verify", lambda s: check_verify(s, timeout)),
                        ("audit", lambda s: check_audit(s, data)),
                        ("assert", lambda s: check_assert(s, budget, os.path.join(work, "assert-reports")))]:
        with Clock() as c:
            out[command] = fn(spec)
        out[command].update(wall=round(c.wall, 2), cpu=round(c.cpu, 2))
    return out


def tensor_problems(results: dict, read: dict) -> list[str]:
    """Every command that names the tensors it read names those the Python reader used."""
    return [f"{name}: {cmd} read {r[cmd].get('tensors')}, the file's encoder is {read[name]['tensors_used']}"
            for name, r in results.items() for cmd in ("falsify", "verify", "audit")
            if r[cmd].get("tensors") is not None and list(r[cmd]["tensors"]) != list(read[name]["tensors_used"])]


def normalisation_problems(results: dict, read: dict, expected: str = "l2") -> list[str]:
    """Every command must have seen the Mult-DAE's l2 normalisation."""
    bad = [f"{name}: {cmd} saw normalisation {r[cmd].get('normalise')!r}" for name, r in results.items() for cmd in COMMANDS
           if r[cmd].get("normalise") != expected]
    return bad + [f"{name}: read with normalisation {r['normalise']!r}" for name, r in read.items() if r["normalise"] != expected]


def run_recbole_part(py: str, data: str, work: str, epochs: int, budget: float, timeout: float,
                     log: Callable[[str], None] = print) -> dict:
    """RecBole-trained MultiDAEs (tanh as RecBole builds it; ReLU patched): every command, and RecBole's forward vs ours."""
    from latentcheck.theorems import Encoder

    with Clock() as c:
        trained = train_recbole(py, data, work, epochs)
    doc: dict[str, Any] = {"timing": {"wall": c.wall, "cpu": c.cpu}, "torch": trained["torch"], "models": {}, "problems": []}
    for act, info in trained["models"].items():
        name = f"RecBole-trained {act}"
        log(f"checking {name} ...")
        spec = {"path": info["path"], "cli": [], "py": {}, "normalise": None, "audit": ["--threshold", "3.5"]}
        enc = load_encoder(info["path"])
        x = np.load(info["path"][:-3] + "-inputs.npy")
        ours = {"latentcheck": enc(normalised(x, enc.inputs.normalise)), "RecBole forward": np.load(info["path"][:-3] + "-latents.npy")}
        doc["problems"] += latent_mismatches(ours, "RecBole forward")
        acts = [layer.activation.name for layer in enc.layers]
        if acts[-1] != act:
            doc["problems"].append(f"{name}: latentcheck read latent activation {acts[-1]!r}, RecBole trained {act!r}")
        results = check_file(spec, data, budget, timeout, work)
        doc["problems"] += normalisation_problems({name: results}, {name: {"normalise": enc.inputs.normalise}})
        doc["models"][name] = {**info, "activations_read": acts, "sizes": enc.sizes, "results": results,
                               "tensors_used": list(enc.provenance.tensors_used), "folded": list(enc.provenance.folded)}
    return doc


def print_table(doc: dict) -> None:
    print(f"\ndata: {doc['data']}{' (SYNTHETIC: the ML-100K directory is absent)' if doc.get('synthetic') else ''}")
    head = f"| {'file':<22} | {'falsify p3 binary':<26} | {'verify binary':<18} | {'audit (P3 part)':<40} | {'assert_nonvanishing':<20} | {'normalise':<9} | {'tensors read':<40} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for name, r in doc["results"].items():
        cells = [f"{r[c]['verdict']} (exit {r[c]['exit']})" if r[c]["exit"] is not None else str(r[c]["verdict"]) for c in COMMANDS]
        tensors = ",".join(doc["read"][name]["tensors_used"])[:40]
        print(f"| {name:<22} | {cells[0]:<26} | {cells[1]:<18} | {cells[2]:<40} | {cells[3]:<20} | {doc['read'][name]['normalise']:<9} | {tensors:<40} |")
    rb = doc.get("recbole_trained")
    if isinstance(rb, dict):
        print("\nRecBole-trained MultiDAEs (their own weights: verdicts are about other functions, not compared with the rows above)")
        for name, m in rb["models"].items():
            r = m["results"]
            cells = [f"{r[c]['verdict']} (exit {r[c]['exit']})" if r[c]["exit"] is not None else str(r[c]["verdict"]) for c in COMMANDS]
            print(f"| {name:<22} | {cells[0]:<26} | {cells[1]:<18} | {cells[2]:<40} | {cells[3]:<20} | {r['falsify']['normalise']!s:<9} | "
                  f"{','.join(m['tensors_used'])[:40]:<40} |")
        print(f"RecBole training: {rb['timing']['wall']:.1f} s wall, {rb['timing']['cpu']:.1f} s CPU (torch {rb['torch']})")
        for p in rb["problems"]:
            print("  - RecBole: " + p)
    elif rb:
        print(f"\nRecBole-trained MultiDAEs: {rb}")
    for step, t in doc["timings"].items():
        print(f"{step}: {t['wall']:.1f} s wall, {t['cpu']:.1f} s CPU")
    print("problems: " + ("none: every file gets the same verdict per command, the same latents as torch's forward "
                          f"(relative {RTOL:g}) and exactly the study's weights" if not doc["problems"] else ""))
    for p in doc["problems"]:
        print("  - " + p)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(os.path.dirname(ROOT), "shared", "data", "ml-100k"))
    ap.add_argument("--max-steps", type=int, default=200)
    ap.add_argument("--budget", type=float, default=5.0, help="seconds for each falsify / assertion search")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds for each verify")
    ap.add_argument("--torch-python", default=None)
    ap.add_argument("--recbole-python", default=None)
    ap.add_argument("--recbole-epochs", type=int, default=3, help="epochs of the RecBole-trained MultiDAEs (0 skips them)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "fidelity_e2e.json"))
    args = ap.parse_args()
    py = torch_python(args.torch_python)
    if py is None:
        print("error: no Python with torch, onnx and safetensors; pass --torch-python PATH", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="fidelity-e2e-") as work, Clock() as total:
        synthetic = not os.path.exists(os.path.join(args.data, "u.data"))
        data = synthetic_data(work) if synthetic else args.data
        if synthetic:
            print(f"note: {args.data} is absent; using a small SYNTHETIC ratings file")
        doc = run_core(data, work, py, args.max_steps, args.budget, args.timeout)
        rb = recbole_python(args.recbole_python) if args.recbole_epochs > 0 else None
        doc["recbole_trained"] = run_recbole_part(rb, data, work, args.recbole_epochs, args.budget, args.timeout) if rb else \
            "skipped: no Python with RecBole (--recbole-python) or --recbole-epochs 0"
    doc.update(synthetic=synthetic, torch_python=py, total={"wall": total.wall, "cpu": total.cpu},
               load_average=list(os.getloadavg()), cpus=os.cpu_count(), command=" ".join(sys.argv))
    print_table(doc)
    from latentcheck.checkers._io import atomic_write_text

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    atomic_write_text(args.out, json.dumps(doc, indent=2, default=str) + "\n")
    print(f"wrote {args.out}")
    rb = doc["recbole_trained"]
    return 1 if doc["problems"] or (isinstance(rb, dict) and rb["problems"]) else 0


if __name__ == "__main__":
    sys.exit(main())
