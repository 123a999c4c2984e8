"""``latentcheck study``: train autoencoder recommenders with each latent activation and report accuracy and P1-P3.

The options become one :class:`~latentcheck.checkers.study.experiment.StudyConfig` (checked here first
with the options' names, then by the config itself); ``--architecture`` picks Mult-DAE, Mult-VAE or
I-AutoRec (it was ``--model``, which in ``falsify``, ``verify`` and ``audit`` names a model file).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from typing import Annotated, Any, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from ._args import make_console, finite, nonempty, nonneg_finite, nonneg_int, positive_finite, positive_int
from .. import _exit  # _exit.poll_interrupt looked up at each call (tests plant a Ctrl-C there)
from .._io import check_output_dir
from ..study import experiment
from ..study.experiment import (DEFAULT_ACTIVATIONS, DEFAULT_AUTOREC_PAIRS, MODELS, StudyConfig, StudyProgress,
                                split_activation_list)
from ..study.ablation import parse_widths
from ..study.datasets import parse_datasets
from ..study.multi import ablation_for, plan_study, resolve_all, run_datasets, single
from ..study.plan import plan_config
from ..study.progress import LineProgress, TeeProgress
from ..study.report import _ci, _json_clean
from ...theorems.errors import InvalidArgument

__all__ = ["study"]

_Data = Annotated[Optional[str], typer.Option("--data", help="MovieLens directory or ratings file (u.data, ratings.dat, ratings.csv). Default: a small SYNTHETIC set.")]
_Activations = Annotated[Optional[str], typer.Option("--activations", help="Comma-separated latent activations (catalog names or formulas in t). "
                                                   f"Default {','.join(DEFAULT_ACTIVATIONS)}; for autorec g/f pairs, default {','.join(DEFAULT_AUTOREC_PAIRS)}.")]
_Seeds = Annotated[int, typer.Option("--seeds", help="Training seeds per activation and split (seeds seed..seed+N-1).")]
_Seed = Annotated[int, typer.Option("--seed", help="First seed.")]
_Epochs = Annotated[Optional[int], typer.Option("--epochs", help="multdae/multvae: epoch cap instead of --max-steps; autorec: training epochs (default 250).")]
_Hidden = Annotated[Optional[str], typer.Option("--hidden", help="Mult-DAE encoder sizes, e.g. 200 (I-200-I) or 600,200 (I-600-200-600-I); AutoRec hidden size.")]
_BatchSize = Annotated[Optional[int], typer.Option("--batch-size", help="Rows per step (default 500 for multdae, full batch up to 2048 for autorec).")]
_Lr = Annotated[Optional[float], typer.Option("--lr", help="Adam learning rate (default 1e-3 multdae, 1e-2 autorec).")]
_Lam = Annotated[Optional[float], typer.Option("--lam", help="Weight decay (multdae default 0.01; autorec: fixed lambda instead of the validation grid 3,10,30,100,300).")]
_EvalEvery = Annotated[int, typer.Option("--eval-every", help="Validate every N epochs; the best validation epoch is kept.")]
_Triples = Annotated[int, typer.Option("--triples", help="Triples of users sampled for the ordering audit.")]
_Certify = Annotated[int, typer.Option("--certify", help="Zero rows and flips per run to certify in exact/interval arithmetic.")]
_FalsifyBudget = Annotated[float, typer.Option("--falsify-budget", help="Seconds per property for the falsifier on the data domain (first seed only; 0 skips).")]
_NoEase = Annotated[bool, typer.Option("--no-ease", help="Skip the EASE and popularity rows.")]
_Out = Annotated[str, typer.Option("--out", help="Output directory for report.json, report.md, PNG plots and encoders.")]
_AsJson = Annotated[bool, typer.Option("--json", help="Print the summary as JSON instead of tables.")]
_Columns = Annotated[Optional[str], typer.Option("--columns", help="USER,ITEM[,VALUE] columns (header names or 0-based indices) of a delimited text or Parquet --data file.")]
_Threshold = Annotated[Optional[float], typer.Option("--threshold", help="Keep rows with VALUE > T as positives (default 3.5 for MovieLens, 0 for other files; no VALUE: every row).")]
_MinUserItems = Annotated[int, typer.Option("--min-user-items", help="Drop users with fewer kept interactions.")]
_SplitSeeds = Annotated[int, typer.Option("--split-seeds", help="multdae/multvae: user splits (seeds 98765..), each with --seeds training seeds.")]
_Patience = Annotated[Optional[int], typer.Option("--patience", help="multdae/multvae: stop after this many optimiser steps without a better validation NDCG@100 (default 1000; 0: no early stopping).")]
_MaxSteps = Annotated[Optional[int], typer.Option("--max-steps", help="multdae/multvae: cap on optimiser steps (default 50000); runs stopped by it are flagged.")]
_LrGrid = Annotated[Optional[str], typer.Option("--lr-grid", help="multdae/multvae: learning rates tuned per activation (default 1e-3,3e-3; --lr fixes one).")]
_LamGrid = Annotated[Optional[str], typer.Option("--lam-grid", help="multdae/multvae: weight decays tuned per activation (default 0,1e-3,1e-2; --lam fixes one).")]
_DropoutGrid = Annotated[Optional[str], typer.Option("--dropout-grid", help="multdae/multvae: input dropout rates tuned per activation (default 0.5).")]
_Search = Annotated[str, typer.Option("--search", help="grid (every combination) or random:N (N seeded draws over the grids' ranges, the same for every activation).")]
_AnnealSteps = Annotated[Optional[int], typer.Option("--anneal-steps", help="multvae: fixed total_anneal_steps, beta = min(0.2, step / N) (Liang et al.'s default and this option's old default: 200000). Default: scaled by --anneal-fraction.")]
_AnnealFraction = Annotated[float, typer.Option("--anneal-fraction", help="multvae: beta reaches 0.2 after this fraction of the run's expected length (1900 steps + --patience, at most the cap), unless --anneal-steps is given.")]
_Executor = Annotated[Optional[str], typer.Option("--executor", help="inprocess (default) or ray[:ADDRESS] (optional extra 'ray').")]
_Resume = Annotated[bool, typer.Option("--resume", help="Reuse finished runs stored under --out/runs.")]
_Log = Annotated[Optional[str], typer.Option("--log", help="Also write one line per finished task (what, metric averaged over its seeds, time, ETA) to this file. "
                                          "When stderr is not a terminal these lines go to stderr instead of the progress bars.")]
_TuneSeeds = Annotated[int, typer.Option("--tune-seeds", help="multdae/multvae: training seeds per tuning trial (its score is their mean validation NDCG@100).")]
_BracketRounds = Annotated[int, typer.Option("--bracket-rounds", help="multdae/multvae: rounds of widening an axis whose best value is at an edge (0: the fixed grid only).")]
_BracketAxes = Annotated[str, typer.Option("--bracket-axes", help="multdae/multvae: axes the search may widen (lr, lam, dropout, width = latent size), or none.")]
_Margin = Annotated[float, typer.Option("--margin", help="multdae/multvae: pre-registered equivalence margin on test NDCG@100 (absolute) for the TOST; recorded in the report before any run.")]
#: What each --architecture is (the names are the study's, ``MODELS``).
ARCHITECTURES = {"multdae": "Mult-DAE (implicit feedback, ranking)", "multvae": "Mult-VAE (implicit feedback, ranking)",
                 "autorec": "I-AutoRec (explicit ratings, RMSE)"}
_Architecture = Annotated[str, typer.Option("--architecture", help="; ".join(f"{m}: {ARCHITECTURES.get(m, m)}" for m in MODELS)
                                            + ". Tuned per activation, early stopping (multdae, multvae).")]
_Datasets = Annotated[Optional[str], typer.Option("--datasets", help="Named real data sets instead of --data: default (= ml-100k,lastfm) or a comma-separated subset, "
                                                "found under --data-root; each runs into OUT/NAME with the 60-minute defaults for the options not given (docs/study.md).")]
_DataRoot = Annotated[Optional[str], typer.Option("--data-root", help="Folder holding ml-100k/ and lastfm-2k/ (default ../shared/data, relative to the working directory).")]
_MinItemUsers = Annotated[int, typer.Option("--min-item-users", help="Drop items with fewer positive users before the user filter (1: keep every item; --datasets lastfm: 10).")]
_Plan = Annotated[bool, typer.Option("--plan", help="Print the number of training runs and the estimated CPU and wall minutes (per-step costs measured here on the data's first split), then stop.")]
_Ablation = Annotated[Optional[str], typer.Option("--ablation", help="Latent widths, e.g. 16,64,200: run the mechanism ablation (width x activation; exact-zero users, dead units, "
                                                "P2-delta rates, accuracy, within-activation regressions) instead of the study; --lr (3e-3), --lam (0), --epochs (300), --seeds apply.")]
_RenamedModel = Annotated[Optional[str], typer.Option("--model", hidden=True, help="Renamed --architecture.")]


def study(
    ctx: typer.Context,
    data: _Data = None,
    architecture: _Architecture = "multdae",
    activations: _Activations = None,
    seeds: _Seeds = 3,
    seed: _Seed = 0,
    epochs: _Epochs = None,
    hidden: _Hidden = None,
    batch_size: _BatchSize = None,
    lr: _Lr = None,
    lam: _Lam = None,
    eval_every: _EvalEvery = 5,
    triples: _Triples = 20000,
    certify: _Certify = 1,
    falsify_budget: _FalsifyBudget = 2.0,
    no_ease: _NoEase = False,
    out: _Out = "runs/study",
    as_json: _AsJson = False,
    columns: _Columns = None,
    threshold: _Threshold = None,
    min_user_items: _MinUserItems = 5,
    split_seeds: _SplitSeeds = 3,
    patience: _Patience = None,
    max_steps: _MaxSteps = None,
    lr_grid: _LrGrid = None,
    lam_grid: _LamGrid = None,
    dropout_grid: _DropoutGrid = None,
    search: _Search = "grid",
    anneal_steps: _AnnealSteps = None,
    anneal_fraction: _AnnealFraction = 0.1,
    executor: _Executor = None,
    resume: _Resume = False,
    log: _Log = None,
    tune_seeds: _TuneSeeds = 2,
    bracket_rounds: _BracketRounds = 4,
    bracket_axes: _BracketAxes = "lr,lam,dropout,width",
    margin: _Margin = 0.01,
    datasets: _Datasets = None,
    data_root: _DataRoot = None,
    min_item_users: _MinItemUsers = 1,
    plan: _Plan = False,
    ablation: _Ablation = None,
    model: _RenamedModel = None,
) -> None:
    """Train autoencoder recommenders with each latent activation and seed; report accuracy and latent properties."""
    if model is not None:
        raise InvalidArgument(f"--model was renamed --architecture; use --architecture {model if model.lower() in MODELS else 'multdae'} "
                              "(--model names a model file in falsify, verify and audit)")
    _check_study_options(data, architecture, activations, seeds, seed, epochs, hidden, batch_size, lr, lam, eval_every,
                         triples, certify, falsify_budget, out)
    _check_study_extra_options(columns, threshold, min_user_items, split_seeds, patience, max_steps, search,
                               anneal_steps, executor)
    _check_study_analysis_options(log, margin, tune_seeds, bracket_rounds, bracket_axes, anneal_fraction)
    _check_study_dataset_options(datasets, data_root, min_item_users, ablation)
    cfg = StudyConfig(
        data=data, model=architecture.lower(), activations=split_activation_list(activations) if activations else (), seeds=seeds,
        seed=seed, epochs=epochs, hidden=_hidden_sizes(hidden), batch_size=batch_size, lr=lr, lam=lam, eval_every=eval_every,
        triples=triples, certify=certify, falsify_budget=falsify_budget, ease=not no_ease, out=out, columns=columns,
        threshold=threshold, min_user_items=min_user_items, split_seeds=split_seeds, patience=patience, max_steps=max_steps,
        lr_grid=_floats("--lr-grid", lr_grid, low_ok=False), lam_grid=_floats("--lam-grid", lam_grid),
        dropout_grid=_floats("--dropout-grid", dropout_grid, high=1.0), search=search, anneal_steps=anneal_steps,
        executor=executor, resume=resume, margin=margin, tune_seeds=tune_seeds, bracket_rounds=bracket_rounds,
        bracket_axes=_bracket_axes(bracket_axes), anneal_fraction=anneal_fraction, min_item_users=min_item_users,
    )
    console = make_console(stderr=as_json)  # logs: wide enough for the tables
    if datasets is not None or plan or ablation is not None:
        _run_extended(ctx, cfg, datasets, data_root, plan, ablation, as_json, console, log)
        return
    report, paths = _run_study_cooperatively(cfg, console, log)
    if as_json:
        typer.echo(json.dumps({"summary": _json_clean(report["summary"]), "files": paths, "synthetic": report["meta"]["synthetic"]}, indent=2))
        return
    _print_summary(console, report, paths)


def _run_extended(ctx: Any, cfg: Any, datasets: Optional[str], root: Optional[str], plan: bool, ablation: Optional[str], as_json: bool,
                  console: Any, log: Optional[str]) -> None:
    """``--datasets``, ``--plan`` and ``--ablation``: the work is in checkers/study (multi.py, plan.py, ablation.py)."""
    # by name: typer >= 0.16 vendors click, whose ParameterSource is not click's
    given = frozenset(k for k in ctx.params if getattr(ctx.get_parameter_source(k), "name", "DEFAULT") not in ("DEFAULT", "DEFAULT_MAP"))
    if datasets:
        items = resolve_all(plan_config(cfg, given), parse_datasets(datasets), root)
    else:
        items = single(cfg)
    if plan:
        result = plan_study(items)
        typer.echo(json.dumps(_json_clean(result), indent=2) if as_json else "\n".join(result["lines"]))
        return
    with _exit.cooperative(), _study_progress(console, log) as prog:
        result = ablation_for(items, ablation, given, prog) if ablation else run_datasets(items, cfg.out, prog)[1]
    typer.echo(json.dumps(_json_clean(result), indent=2) if as_json else "\n".join(f"{k}: {v}" for k, v in result.items()))


def _check_study_dataset_options(datasets: Optional[str], data_root: Optional[str], min_item_users: int, ablation: Optional[str]) -> None:
    """``--datasets``, ``--data-root``, ``--min-item-users`` and ``--ablation``, checked before any data is read."""
    positive_int(min_item_users, "--min-item-users", "10")
    if datasets is not None:
        parse_datasets(datasets)
    if data_root is not None and not data_root.strip():
        raise InvalidArgument("--data-root is empty; give the folder holding ml-100k/ and lastfm-2k/, e.g. ../shared/data")
    if data_root is not None and datasets is None:
        raise InvalidArgument("--data-root needs --datasets NAMES (it is where the named data sets are looked for)")
    if ablation is not None:
        parse_widths(ablation)


def _hidden_sizes(hidden: Optional[str]) -> tuple[int, ...]:
    """``--hidden 600,200`` as sizes (``()`` without it); anything else is refused with exit 2."""
    if not hidden:
        return ()
    try:
        hid = tuple(int(h) for h in hidden.split(",") if h.strip())
    except ValueError:
        raise InvalidArgument(f"--hidden {hidden!r} must be comma-separated positive sizes such as 600,200") from None
    if not hid or any(h < 1 for h in hid):
        raise InvalidArgument(f"--hidden {hidden!r} must be comma-separated positive sizes such as 600,200")
    return hid


def _run_study_cooperatively(cfg: Any, console: Any, log: Optional[str]) -> tuple[dict, dict]:
    """Run the study; a first Ctrl-C stops it between epochs, and then how to ``--resume`` is said."""
    try:
        with _exit.cooperative(), _study_progress(console, log) as prog:
            return experiment.run_study(cfg, prog)
    except KeyboardInterrupt:
        _say_how_to_resume(cfg)
        raise


def _say_how_to_resume(cfg: Any) -> None:
    """After Ctrl-C: how many finished runs are stored under ``--out``/runs and how to go on from them."""
    store = os.path.join(cfg.out, "runs")
    done = len([f for f in os.listdir(store) if f.endswith(".json") and not f.startswith(".")]) if os.path.isdir(store) else 0
    if cfg.model == "autorec":
        line = "interrupted (Ctrl-C): autorec runs are not stored, so nothing can be resumed; rerun the command"
    else:
        line = (f"interrupted (Ctrl-C): {done} finished run(s) are stored under {store}; rerun the same command with "
                f"--resume to reuse them")
    print(line, file=sys.stderr, flush=True)


def _floats(option: str, text: Optional[str], low: float = 0.0, low_ok: bool = True, high: float = float("inf")) -> tuple[float, ...]:
    """A comma-separated grid of finite numbers in ``[low, high)`` (``(low, high)`` without ``low_ok``); None gives ()."""
    if text is None:
        return ()
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        values = ()
    if not values or not all(math.isfinite(v) and (v > low or (low_ok and v == low)) and v < high for v in values):
        bound = f"{'>=' if low_ok else '>'} {low:g}" + (f" and < {high:g}" if math.isfinite(high) else "")
        raise InvalidArgument(f"{option} {text!r} must be comma-separated finite numbers {bound}, such as 1e-3,3e-3")
    return values


def _check_study_options(data: Optional[str], architecture: str, activations: Optional[str], seeds: int, seed: int,
                         epochs: Optional[int], hidden: Optional[str], batch_size: Optional[int], lr: Optional[float],
                         lam: Optional[float], eval_every: int, triples: int, certify: int, falsify_budget: float,
                         out: str) -> None:
    """Every ``study`` option checked before any data is read or any training starts."""
    nonempty(data, "--data", "../shared/data/ml-100k")
    if data is not None and not os.path.exists(data):
        raise InvalidArgument(f"--data {data!r} does not exist; give a MovieLens folder or ratings file")
    if architecture.lower() not in MODELS:
        raise InvalidArgument(f"--architecture {architecture!r} must be {', '.join(MODELS[:-1])} or {MODELS[-1]}")
    nonempty(activations, "--activations", "tanh,relu")
    positive_int(seeds, "--seeds", "5")
    nonneg_int(seed, "--seed")
    positive_int(epochs, "--epochs", "400")
    nonempty(hidden, "--hidden", "600,200")
    positive_int(batch_size, "--batch-size", "500")
    positive_finite(lr, "--lr", "0.001")
    nonneg_finite(lam, "--lam", "0.01")
    positive_int(eval_every, "--eval-every", "5")
    positive_int(triples, "--triples", "20000")
    nonneg_int(certify, "--certify", "1")
    nonneg_finite(falsify_budget, "--falsify-budget", "2")
    check_output_dir(out, "--out")


def _check_study_extra_options(columns: Optional[str], threshold: Optional[float], min_user_items: int, split_seeds: int,
                               patience: Optional[int], max_steps: Optional[int], search: str, anneal_steps: Optional[int],
                               executor: Optional[str]) -> None:
    """The study's data, tuning and executor options, checked before any data is read."""
    nonempty(columns, "--columns", "user,item,rating")
    finite(threshold, "--threshold", "3.5")
    positive_int(min_user_items, "--min-user-items", "5")
    positive_int(split_seeds, "--split-seeds", "3")
    nonneg_int(patience, "--patience")
    positive_int(max_steps, "--max-steps", "50000")
    positive_int(anneal_steps, "--anneal-steps", "200000")
    nonempty(executor, "--executor", "inprocess")
    if search != "grid" and not re.fullmatch(r"random:[1-9][0-9]*", search):
        raise InvalidArgument(f"--search {search!r} must be grid or random:N with N >= 1, e.g. random:6")


def _bracket_axes(text: str) -> tuple[str, ...]:
    """``--bracket-axes``: comma-separated names among lr, lam, dropout, width, or ``none``."""
    names = tuple(a.strip() for a in text.split(",") if a.strip())
    if names == ("none",):
        return ()
    if not names or not set(names) <= {"lr", "lam", "dropout", "width"} or len(set(names)) != len(names):
        raise InvalidArgument(f"--bracket-axes {text!r} must list distinct names among lr, lam, dropout, width (or none), e.g. lr,lam")
    return names


def _check_study_analysis_options(log: Optional[str], margin: float, tune_seeds: int, bracket_rounds: int, bracket_axes: str,
                                  anneal_fraction: float) -> None:
    """``--log``, ``--margin``, the bracketing search's options and ``--anneal-fraction``, checked before any work."""
    _check_study_log_margin(log, margin)
    positive_int(tune_seeds, "--tune-seeds", "2")
    nonneg_int(bracket_rounds, "--bracket-rounds")
    _bracket_axes(bracket_axes)
    if not (0 < anneal_fraction <= 1):
        raise InvalidArgument(f"--anneal-fraction {anneal_fraction!r} must be in (0, 1], e.g. 0.1")


def _check_study_log_margin(log: Optional[str], margin: float) -> None:
    """``--log`` must name a file in an existing folder; ``--margin`` must be a finite number in (0, 1)."""
    if log is not None:
        folder = os.path.dirname(os.path.abspath(log)) if log.strip() else ""
        if not log.strip() or os.path.isdir(log) or not os.path.isdir(folder):
            raise InvalidArgument(f"--log {log!r} must name a file in an existing folder, e.g. --log runs/study.log")
    if not (math.isfinite(margin) and 0 < margin < 1):
        raise InvalidArgument(f"--margin {margin!r} must be a number in (0, 1), the equivalence margin on NDCG@100, e.g. 0.01")


def _study_progress(console: Any, log: Optional[str]) -> Any:
    """Live bars on a terminal, else one line per finished task on stderr; with ``--log`` the same lines also go to the file."""
    parts: list[Any] = [_RichProgress(console) if sys.stderr.isatty() else LineProgress([sys.stderr])]
    if log:
        parts.append(_LogFile(log))
    return TeeProgress(parts + [_InterruptPoll()])


class _RichProgress(StudyProgress):
    """Live progress bars on a terminal: the whole study and the run in progress."""

    def __init__(self, console: Any) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"), console=console, transient=False,
        )
        self.total = None
        self.run_task = None

    def __enter__(self) -> "_RichProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.__exit__(*exc)

    def start(self, total_runs: int, description: str) -> None:
        self.total = self.progress.add_task(description, total=total_runs, info="")
        self.n_total = total_runs

    def run_start(self, label: str, epochs: int) -> None:
        if self.run_task is not None:
            self.progress.remove_task(self.run_task)
        self.run_task = self.progress.add_task(f"  {label}", total=epochs, info="")

    def epoch(self, epoch: int, info: dict) -> None:
        _exit.poll_interrupt()  # a recorded Ctrl-C stops the study here, between epochs
        extra = ""
        for k in ("val_NDCG@100", "val_RMSE"):
            if k in info:
                extra = f"{k[4:]} {info[k]:.4f}"
        self.progress.update(self.run_task, completed=epoch, info=extra)

    def run_end(self, label: str, result: dict) -> None:
        _exit.poll_interrupt()
        test = result.get("test", {})
        msg = ", ".join(f"{k} {v:.4f}" for k, v in test.items() if k in ("NDCG@100", "Recall@20", "RMSE"))
        if self.total is not None:
            self.progress.update(self.total, advance=1, info=f"last: {label} {msg}")

    def add_total(self, runs: int) -> None:
        if self.total is not None:
            self.n_total += runs
            self.progress.update(self.total, total=self.n_total)

    def message(self, text: str) -> None:
        self.progress.console.print(text, highlight=False, markup=False)


class _InterruptPoll:
    """Progress hooks that only poll for a recorded Ctrl-C, between epochs and runs, whatever the display is."""

    def __enter__(self) -> "_InterruptPoll":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        if name in ("epoch", "run_end"):
            return lambda *a, **k: _exit.poll_interrupt()
        return lambda *a, **k: None


class _LogFile:
    """A :class:`LineProgress` writing to ``path`` (truncated at the start), closed on exit."""

    def __init__(self, path: str) -> None:
        self.fh = open(path, "w", encoding="utf-8")
        self.lines = LineProgress([self.fh])

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lines, name)


def _print_summary(console: Any, report: dict, paths: dict) -> None:
    meta = report["meta"]
    if meta["synthetic"]:
        console.print("[bold yellow]SYNTHETIC DATA[/]: no --data given; numbers are from latentcheck's generated set.")
    if meta["model"] in ("multdae", "multvae"):
        t = Table(title=f"{'Mult-VAE' if meta['model'] == 'multvae' else 'Mult-DAE'} test metrics by latent activation: mean [95% interval over seeds]")
        t.add_column("activation")
        t.add_column("class")
        for m in meta["metrics"]:
            t.add_column(m)
        t.add_column("exact-zero rate")
        t.add_column("concordance")
        for a, st in report["summary"]["per_activation"].items():
            t.add_row(a, st["class"], *[_ci(st["metrics"][m]) for m in meta["metrics"]], _ci(st["audit"]["zero_rate"]), _ci(st["audit"]["concordance"]))
        for name, b in report.get("baselines", {}).items():
            t.add_row(name, "-", *[f"{b['test'][m]:.4f}" for m in meta["metrics"]], "-", "-")
        console.print(t)
    else:
        t = Table(title="I-AutoRec test RMSE: mean [95% interval over seeds]; published ML-1M constants beside")
        for c in ("g (latent)", "f (output)", "RMSE here", "lam", "published ML-1M"):
            t.add_column(c)
        for k, st in report["summary"]["per_config"].items():
            pub = st.get("published_ml1m")
            t.add_row(st["g"], st["f"], _ci(st["RMSE"]), f"{st['lam']:g}", f"{pub:.3f} (published)" if pub is not None else "-")
        for name, b in report.get("baselines", {}).items():
            t.add_row(name, "-", _ci(b["RMSE"]), "-", "-")
        console.print(t)
    capped = report["summary"].get("capped", {})
    if capped.get("final") or capped.get("tuning"):
        console.print(f"[bold red]warning[/]: {len(capped['final'])} final and {len(capped['tuning'])} tuning runs stopped at the step cap (possibly under-trained); raise --max-steps")
    console.print(f"wall time {report['timing']['total_seconds']:.1f} s; report: {paths.get('md')} and {paths.get('json')}")
