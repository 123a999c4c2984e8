"""Build docs/gallery/: real reports (Markdown with their plots) from latentcheck's own commands.

Every page is the output of a command run by this script, with the command,
its exit code and its wall time above it; nothing is written by hand. Run
from the repository root (about two minutes on a 2-core CPU):

    python docs/make_gallery.py            # everything
    python docs/make_gallery.py --only falsify-relu-p3,ci-example

Exit code 0 when every command gave the exit code it should (``falsify``
exits 1 when it finds a certified counterexample, like a failing test).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"


@dataclass(frozen=True)
class Entry:
    """One gallery page: a command, the exit code it should give, and what it shows."""

    name: str
    title: str
    argv: tuple[str, ...]
    expect_rc: int
    about: str
    out_dir: bool = True  # the command writes report.md (and plots) into docs/gallery/<name>/
    cwd: str = "."
    env: tuple[tuple[str, str], ...] = ()
    needs: str = ""  # a path (with {ml100k}) that must exist, else the entry is skipped (licensed data is not shipped)


#: MovieLens 100K (not in the repository: its licence forbids redistribution); override with ML100K_DIR.
ML100K = Path(os.environ.get("ML100K_DIR", str(ROOT.parent / "shared" / "data" / "ml-100k")))


ENTRIES = (
    Entry("prove", "Every theorem and claim, with verdicts", ("latentcheck", "prove", "--markdown", "{out}/verdicts.md"), 0,
          "The catalog: the theorems of docs/theory.md and the paper's claims, each proved, refuted (with a certified witness) or unknown.",
          out_dir=False),
    Entry("falsify-relu-p3", "ReLU bottleneck: certified zero vectors (T1)",
          ("latentcheck", "falsify", "--property", "p3", "--layers", "1682,64", "--activation", "relu", "--budget", "3",
           "--seed", "0", "--out", "{out}"), 1,
          "A random 1682 -> 64 ReLU encoder maps nonzero inputs to the zero code; the witnesses are exact rationals."),
    Entry("falsify-tanh-p3", "tanh bottleneck: zero vectors on an affine subspace (T1)",
          ("latentcheck", "falsify", "--property", "p3", "--layers", "1682,64", "--activation", "tanh", "--budget", "3",
           "--seed", "0", "--out", "{out}"), 1,
          "tanh has an isolated zero: the exact repair solves W x + b = 0 in rationals."),
    Entry("falsify-sigmoid-p3-float16", "sigmoid in float16: a rounding hazard, not a real zero (T2)",
          ("latentcheck", "falsify", "--property", "p3", "--layers", "1682,64", "--activation", "sigmoid", "--dtype", "float16",
           "--budget", "3", "--seed", "0", "--out", "{out}"), 0,
          "Over the reals sigmoid never vanishes (T2), but float16 rounds sigmoid(t) to 0 for t <= -11.09: labelled float-only."),
    Entry("falsify-sigmoid-p2", "sigmoid bottleneck: ordering flips (T4)",
          ("latentcheck", "falsify", "--property", "p2", "--layers", "1682,64", "--activation", "sigmoid", "--budget", "3",
           "--seed", "0", "--out", "{out}"), 1,
          "Every non-constant bottleneck encoder flips some similarity order, sigmoid included."),
    Entry("study-synthetic", "A small study: Mult-DAE with three latent activations (synthetic data)",
          ("latentcheck", "study", "--seeds", "1", "--epochs", "20", "--activations", "sigmoid,relu,tanh", "--falsify-budget", "1",
           "--out", "{out}"), 0,
          "Accuracy and latent properties per activation on latentcheck's generated data set (no download)."),
    Entry("audit", "Auditing an exported encoder (the study's ReLU Mult-DAE)",
          ("latentcheck", "audit", "--weights", "{gallery}/study-synthetic/encoders/multdae-relu-seed0.npz", "--triples", "5000",
           "--falsify-budget", "1"), 0,
          "Zero latents, dead units, ordering concordance and certified counterexamples on the users the encoder serves "
          "(the weights come from the study entry and are not kept in the repository: rerun this script to get them).",
          out_dir=False),
    Entry("ci-example", "examples/ci with a ReLU latent layer: the CI failure a team would see",
          ("pytest", "-q", "--latentcheck-seed", "0", "--latentcheck-report-dir", "{out}/reports"), 1,
          "The example's dozen-line test file, run with LATENT_ACTIVATION=relu: a certified, shrunk counterexample and "
          "the command that reproduces it.",
          out_dir=False, cwd="examples/ci", env=(("LATENT_ACTIVATION", "relu"),)),
    Entry("study-ml100k-relu", "A ReLU Mult-DAE trained on MovieLens 100K (the encoder the next page verifies)",
          ("latentcheck", "study", "--data", "{ml100k}", "--activations", "relu", "--split-seeds", "1", "--seeds", "1",
           "--lr", "3e-3", "--lam", "0", "--max-steps", "3000", "--falsify-budget", "0", "--no-ease", "--out", "{out}"), 0,
          "Mult-DAE (1417 -> 200 ReLU encoder with biases, l2-normalised binary users) on ML-100K; skipped when the "
          "data is absent (set ML100K_DIR). The trained weights are not kept in the repository.", needs="{ml100k}/u.data"),
    Entry("verify-ml100k-l2", "verify on the trained ML-100K ReLU encoder: can a binary user be encoded as 0?",
          ("latentcheck", "verify", "--weights", "{gallery}/study-ml100k-relu/encoders/multdae-relu-split98765-seed0.npz",
           "--domain", "binary", "--timeout", "300", "--out", "{out}"), 1,
          "All 2^1417 - 1 binary users, each seen as x/|x|_2 (the file says l2): a user encoded as exactly 0 "
          "(checked in Q(sqrt k)), or a certificate that none is.", out_dir=False, needs="{ml100k}/u.data"),
)
PRUNE = ("study-synthetic", "study-ml100k-relu", "verify-ml100k-l2")


def _words(entry: Entry) -> list[str]:
    """The command as run, with paths relative to its working directory (so reports hold no absolute paths)."""
    here = ROOT / entry.cwd
    out = os.path.relpath(GALLERY / entry.name, here)
    gallery = os.path.relpath(GALLERY, here)
    return [a.replace("{out}", out).replace("{gallery}", gallery).replace("{ml100k}", str(ML100K)) for a in entry.argv]


def _argv(entry: Entry) -> list[str]:
    args = _words(entry)
    if args[0] == "latentcheck":
        return [sys.executable, "-m", "latentcheck.checkers.cli", *args[1:]]
    if args[0] == "pytest":
        return [sys.executable, "-m", "pytest", *args[1:]]
    return args


def _shown(entry: Entry) -> str:
    env = " ".join(f"{k}={v}" for k, v in entry.env)
    prefix = f"cd {entry.cwd} && " if entry.cwd != "." else ""
    return prefix + (env + " " if env else "") + " ".join(_words(entry))


def run(entry: Entry) -> tuple[bool, str]:
    if entry.needs and not Path(entry.needs.replace("{ml100k}", str(ML100K))).exists():
        return True, f"{entry.name}: skipped ({entry.needs.replace('{ml100k}', str(ML100K))} is absent)"
    out = GALLERY / entry.name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = dict(os.environ, COLUMNS="110", NO_COLOR="1", TERM="dumb", **dict(entry.env))
    env.pop("PYTEST_ADDOPTS", None)
    t0 = time.perf_counter()
    proc = subprocess.run(_argv(entry), cwd=ROOT / entry.cwd, capture_output=True, text=True, env=env, timeout=600)
    seconds = time.perf_counter() - t0
    ok = proc.returncode == entry.expect_rc
    console = (proc.stdout + proc.stderr).replace(str(ROOT) + "/", "").replace(str(ROOT), ".")
    lines = [
        f"# {entry.title}",
        "",
        entry.about,
        "",
        f"```bash\n{_shown(entry)}\n```",
        "",
        f"Exit code {proc.returncode} (expected {entry.expect_rc}), {seconds:.1f} s on {os.cpu_count()} CPU cores. "
        "Produced by `python docs/make_gallery.py`.",
        "",
    ]
    report = out / "report.md"
    if entry.out_dir and report.exists():
        demoted = re.sub(r"^(#+) ", r"#\1 ", report.read_text(), flags=re.MULTILINE)
        lines += ["## The report", "", f"From [`report.md`](report.md) (machine-readable: [`report.json`](report.json)):", "", demoted, ""]
    elif (out / "verdicts.md").exists():
        lines += ["## The report", "", (out / "verdicts.md").read_text(), ""]
    elif (out / "verdict.json").exists():
        lines += ["## The verdict", "", "From [`verdict.json`](verdict.json):", "", "```json",
                  _verdict_summary((out / "verdict.json").read_text()), "```", ""]
    lines += ["## Console output", "", "```text", console.rstrip()[-12000:], "```", ""]
    (out / "README.md").write_text("\n".join(lines))
    return ok, f"{entry.name}: exit {proc.returncode} (expected {entry.expect_rc}) in {seconds:.1f} s"


def _verdict_summary(text: str) -> str:
    """verify's verdict.json with a long counterexample shortened to the indices of its nonzero coordinates."""
    import json

    data = json.loads(text)
    x = data.get("counterexample")
    if x and len(x) > 20:
        data["counterexample"] = f"{len(x)} coordinates; nonzero at {[i for i, v in enumerate(x) if v != '0']}"
    return json.dumps(data, indent=2)


def _prune(name: str) -> None:
    """Drop bulky artefacts the pages do not show (trained weights), keeping the gallery small."""
    enc = GALLERY / name / "encoders"
    if enc.exists():
        shutil.rmtree(enc)
    if (GALLERY / name / "encoder.npz").exists():  # verify --out copies the weights next to a certificate
        (GALLERY / name / "encoder.npz").unlink()


#: Runs kept as recorded (their output folders are committed; the script does not rerun them).
RECORDED = [
    ("study-default", "The default two-dataset study: MovieLens-100K and Last.fm (what docs/study.md reports)",
     "latentcheck study --datasets default",
     "tanh, sigmoid and ReLU latents, weight decay tuned per split by a bracketing search, 2 splits x 2 seeds, EASE and "
     "popularity alongside: the pre-registered analysis (TOST at the declared margin, cluster bootstrap), per-user "
     "scores for latentcheck study-stats, and the latent audit."),
    ("study-ml100k-tuned", "Superseded: the earlier tuned Mult-DAE study on MovieLens-100K",
     "latentcheck study --data ../shared/data/ml-100k",
     "Five latent activations tuned on one split with one seed per trial, no bracketing, no per-user scores; "
     "kept as a record, not quoted."),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build docs/gallery from latentcheck's own commands.")
    parser.add_argument("--only", default="", help="comma-separated entry names (default: all)")
    args = parser.parse_args(argv)
    chosen = [e for e in ENTRIES if not args.only or e.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {e.name for e in ENTRIES}
    if unknown:
        print(f"error: --only names {sorted(unknown)} are not gallery entries; choose from {', '.join(e.name for e in ENTRIES)}", file=sys.stderr)
        return 2
    GALLERY.mkdir(parents=True, exist_ok=True)
    results = []
    for entry in chosen:
        ok, line = run(entry)
        print(("ok   " if ok else "FAIL ") + line, flush=True)
        results.append((entry, ok, line))
    for entry in chosen:
        if entry.name in PRUNE:
            _prune(entry.name)
    index = ["# Gallery", "",
             "Real reports from latentcheck's own commands, regenerated by `python docs/make_gallery.py`.", "",
             "| page | command | what it shows |", "|---|---|---|"]
    for entry in ENTRIES:
        if (GALLERY / entry.name / "README.md").exists():
            index.append(f"| [{entry.title}]({entry.name}/README.md) | `{_shown(entry)}` | {entry.about} |")
    index += ["", "Recorded runs, too long to regenerate here (each page gives its command, machine and time):", "",
              "| page | command | what it shows |", "|---|---|---|"]
    index += [f"| [{title}]({name}/README.md) | `{cmd}` | {about} |" for name, title, cmd, about in RECORDED
              if (GALLERY / name / "README.md").exists()]
    (GALLERY / "README.md").write_text("\n".join(index) + "\n")
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
