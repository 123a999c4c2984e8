"""The device check of issue 20 (run by benchmarks/gpu_study.sh): one ML-20M-shaped synthetic epoch and the ML-100K part
of the default study, inside a wall-clock budget, with the device, times and versions written to JSON.

Nothing is estimated or copied: every time is measured here, on whatever device JAX sees, and the JSON names that
device (``--dry-run`` uses tiny sizes and is meant for a CPU: it shows that the script works, not a GPU figure).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from train_speed import measure, shaped_synthetic  # noqa: E402


def _nvidia_smi() -> str:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return "nvidia-smi not found"
    q = [exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"]
    return subprocess.run(q, capture_output=True, text=True, timeout=30).stdout.strip()


def epoch_part(dry: bool) -> dict:
    """Seconds per epoch of the real trainer on the ML-20M-shape (136,700 x 20,000, 10M ones; dry run: 2,000 x 2,000, 40k)."""
    shape = (2_000, 2_000, 40_000) if dry else (136_700, 20_000, 10_000_000)
    t0 = time.perf_counter()
    csr = shaped_synthetic(*shape)
    built = time.perf_counter() - t0
    r = measure(csr, (600, 200), 500, 2)  # the first epoch compiles; seconds_per_epoch is the second's
    return {"shape": {"users": shape[0], "items": shape[1], "interactions": int(csr.nnz)}, "layers": "I-600-200-600-I", "batch": 500,
            "build_seconds": built, "seconds_per_epoch": r["seconds_per_epoch"], "steps_per_epoch": r["steps_per_epoch"],
            "wall_seconds": time.perf_counter() - t0}


def study_part(dry: bool, data_root: str, out: str, budget: float) -> dict:
    """``latentcheck study --datasets ml-100k`` (its 60-minute defaults) under a timeout; dry run: a tiny synthetic study."""
    exe = [sys.executable, "-m", "latentcheck.checkers.cli"]
    if dry:
        args = ["study", "--seeds", "1", "--split-seeds", "1", "--epochs", "2", "--activations", "tanh,relu", "--lr", "1e-3",
                "--bracket-rounds", "0", "--lam-grid", "0,1e-3", "--hidden", "8", "--triples", "100", "--falsify-budget", "0", "--no-ease"]
    else:
        if not os.path.exists(os.path.join(data_root, "ml-100k", "u.data")):
            return {"skipped": f"ML-100K not found under {data_root}"}
        args = ["study", "--datasets", "ml-100k", "--data-root", data_root]
    cmd = exe + args + ["--out", out, "--log", os.path.join(out + ".log")]
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=max(1.0, budget))
        rc, finished = res.returncode, True
    except subprocess.TimeoutExpired:
        rc, finished = None, False
    lines = open(out + ".log").read().splitlines() if os.path.exists(out + ".log") else []
    return {"command": " ".join(args), "rc": rc, "finished": finished, "wall_seconds": time.perf_counter() - t0, "budget_seconds": budget,
            "progress_lines": len(lines), "last_lines": lines[-3:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "results", "gpu_study.json"))
    ap.add_argument("--budget", type=float, default=270.0, help="seconds for both parts together")
    ap.add_argument("--data-root", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--reserve", type=float, default=80.0, help="seconds of the budget kept for the ML-20M-shaped epoch")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args()
    t0 = time.perf_counter()
    import jax

    from latentcheck.checkers.study.experiment import environment

    env = environment()
    result = {"dry_run": a.dry_run, "device": env["device"], "jax_devices": [str(d) for d in jax.devices()], "nvidia_smi": _nvidia_smi(),
              "machine": env["machine"], "versions": env["versions"]}
    # the study first, stopped at its share; the epoch part (about a minute on a GPU: building 10M ones, compiling, 2 epochs) after it
    share = max(30.0, a.budget - a.reserve - (time.perf_counter() - t0))
    # the study's own output (encoders, plots, runs) goes to a scratch folder ($OUT on the device machine, else a temporary
    # one); the JSON keeps its command, exit code, times and last progress lines
    scratch = os.environ.get("OUT") or tempfile.mkdtemp(prefix="gpu-study-")
    result["ml100k_study"] = study_part(a.dry_run, a.data_root, os.path.join(scratch, "study-ml100k"), share)
    result["ml20m_epoch"] = epoch_part(a.dry_run)
    result["total_seconds"] = time.perf_counter() - t0
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out + ".tmp", "w") as fh:
        json.dump(result, fh, indent=2)
    os.replace(a.out + ".tmp", a.out)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
