"""``latentcheck study`` and ``latentcheck audit`` (attached by :func:`register`)."""

from __future__ import annotations

import json
import re
from typing import Any, Optional

import typer

from . import convert as cli_convert

__all__ = ["register"]


def _progress_hooks(console: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from .._exit import poll_interrupt
    from ..study.experiment import StudyProgress

    class RichProgress(StudyProgress):
        def __init__(self) -> None:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"), console=console, transient=False,
            )
            self.total = None
            self.run_task = None

        def __enter__(self) -> "RichProgress":
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
            poll_interrupt()  # a recorded Ctrl-C stops the study here, between epochs
            extra = ""
            for k in ("val_NDCG@100", "val_RMSE"):
                if k in info:
                    extra = f"{k[4:]} {info[k]:.4f}"
            self.progress.update(self.run_task, completed=epoch, info=extra)

        def run_end(self, label: str, result: dict) -> None:
            poll_interrupt()
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

    return RichProgress()


def _study_progress(console: Any, log: Optional[str]) -> Any:
    """Live bars on a terminal, else one line per finished task on stderr; with ``--log`` the same lines also go to the file."""
    import sys

    from ..study.progress import LineProgress, TeeProgress

    parts: list[Any] = [_progress_hooks(console) if sys.stderr.isatty() else LineProgress([sys.stderr])]
    if log:
        parts.append(_LogFile(log))
    return TeeProgress(parts + [_InterruptPoll()])


class _InterruptPoll:
    """Progress hooks that only poll for a recorded Ctrl-C, between epochs and runs, whatever the display is."""

    def __enter__(self) -> "_InterruptPoll":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        from .._exit import poll_interrupt

        if name in ("epoch", "run_end"):
            return lambda *a, **k: poll_interrupt()
        return lambda *a, **k: None


class _LogFile:
    """A :class:`LineProgress` writing to ``path`` (truncated at the start), closed on exit."""

    def __init__(self, path: str) -> None:
        from ..study.progress import LineProgress

        self.fh = open(path, "w", encoding="utf-8")
        self.lines = LineProgress([self.fh])

    def __enter__(self) -> Any:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.fh.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.lines, name)


def register(app: typer.Typer) -> None:
    """Attach ``study`` and ``audit`` to the ``latentcheck`` command line."""
    _register_study(app)
    _register_audit(app)
    _register_study_stats(app)


def _register_study_stats(app: typer.Typer) -> None:
    @app.command("study-stats")
    def study_stats(
        report: str = typer.Argument(..., help="A study's report.json (or the folder holding it)."),
        as_json: bool = typer.Option(False, "--json", help="Print the recomputed numbers and the disagreements as JSON."),
    ) -> None:
        """Recompute every number of a study's analysis from its per-user scores; exit 0 when all agree with the report, 1 when not."""
        from ..study.stats import compare_numbers, load_study_report, recompute

        rep = load_study_report(report)
        again = recompute(rep)
        n, bad = compare_numbers(rep, again)
        if as_json:
            typer.echo(json.dumps(_json_safe({"compared": n, "disagree": bad, "analysis": again["summary"]["analysis"]}), indent=2))
        else:
            _print_study_stats(again["summary"]["analysis"], n, bad)
        if bad:
            raise typer.Exit(1)


def _print_study_stats(an: dict, n: int, bad: list[dict]) -> None:
    from rich.table import Table

    from ._args import make_console

    console = make_console()
    m = an["primary"]
    t = Table(title=f"{m} against {an['reference']}: cluster bootstrap ({an['n_boot']} resamples, seed {an['seed']}), margin +-{an['margin']:g}, Holm")
    for c in ("arm", "difference", "95% interval", "superiority p (Holm)", "TOST p (Holm)", "verdict"):
        t.add_column(c)
    for arm, comp in an["comparisons"].items():
        c = comp[m]
        t.add_row(arm, f"{c['diff']:+.4f}", f"[{c['ci95'][0]:+.4f}, {c['ci95'][1]:+.4f}]", f"{c['p_superiority_holm']:.3g}",
                  f"{c['p_tost_holm']:.3g}", an["verdicts"][arm])
    console.print(t)
    if bad:
        console.print(f"[bold red]{len(bad)} of {n} numbers disagree[/] with the report:", highlight=False)
        for b in bad[:20]:
            console.print(f"  {b['path']}: report {b['report']!r}, recomputed {b['recomputed']!r}", highlight=False, markup=False)
    else:
        console.print(f"all {n} recomputed numbers agree with the report (relative difference <= 1e-9)", highlight=False)


def _register_study(app: typer.Typer) -> None:
    @app.command()
    def study(
        ctx: typer.Context,
        data: Optional[str] = typer.Option(None, "--data", help="MovieLens directory or ratings file (u.data, ratings.dat, ratings.csv). Default: a small SYNTHETIC set."),
        model: str = typer.Option("multdae", "--model", help="multdae or multvae (implicit feedback, ranking; tuned per activation, early stopping) or autorec (I-AutoRec, explicit ratings, RMSE)."),
        activations: Optional[str] = typer.Option(None, "--activations", help="Comma-separated latent activations (catalog names or formulas in t). "
                                                  "Default tanh,sigmoid,relu,identity,softplus; for autorec g/f pairs, default identity/identity,identity/sigmoid,sigmoid/identity,sigmoid/sigmoid."),
        seeds: int = typer.Option(3, "--seeds", help="Training seeds per activation and split (seeds seed..seed+N-1)."),
        seed: int = typer.Option(0, "--seed", help="First seed."),
        epochs: Optional[int] = typer.Option(None, "--epochs", help="multdae/multvae: epoch cap instead of --max-steps; autorec: training epochs (default 250)."),
        hidden: Optional[str] = typer.Option(None, "--hidden", help="Mult-DAE encoder sizes, e.g. 200 (I-200-I) or 600,200 (I-600-200-600-I); AutoRec hidden size."),
        batch_size: Optional[int] = typer.Option(None, "--batch-size", help="Rows per step (default 500 for multdae, full batch up to 2048 for autorec)."),
        lr: Optional[float] = typer.Option(None, "--lr", help="Adam learning rate (default 1e-3 multdae, 1e-2 autorec)."),
        lam: Optional[float] = typer.Option(None, "--lam", help="Weight decay (multdae default 0.01; autorec: fixed lambda instead of the validation grid 3,10,30,100,300)."),
        eval_every: int = typer.Option(5, "--eval-every", help="Validate every N epochs; the best validation epoch is kept."),
        triples: int = typer.Option(20000, "--triples", help="Triples of users sampled for the ordering audit."),
        certify: int = typer.Option(1, "--certify", help="Zero rows and flips per run to certify in exact/interval arithmetic."),
        falsify_budget: float = typer.Option(2.0, "--falsify-budget", help="Seconds per property for the falsifier on the data domain (first seed only; 0 skips)."),
        no_ease: bool = typer.Option(False, "--no-ease", help="Skip the EASE and popularity rows."),
        out: str = typer.Option("runs/study", "--out", help="Output directory for report.json, report.md, PNG plots and encoders."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON instead of tables."),
        columns: Optional[str] = typer.Option(None, "--columns", help="USER,ITEM[,VALUE] columns (header names or 0-based indices) of a delimited text or Parquet --data file."),
        threshold: Optional[float] = typer.Option(None, "--threshold", help="Keep rows with VALUE > T as positives (default 3.5 for MovieLens, 0 for other files; no VALUE: every row)."),
        min_user_items: int = typer.Option(5, "--min-user-items", help="Drop users with fewer kept interactions."),
        split_seeds: int = typer.Option(3, "--split-seeds", help="multdae/multvae: user splits (seeds 98765..), each with --seeds training seeds."),
        patience: Optional[int] = typer.Option(None, "--patience", help="multdae/multvae: stop after this many optimiser steps without a better validation NDCG@100 (default 1000; 0: no early stopping)."),
        max_steps: Optional[int] = typer.Option(None, "--max-steps", help="multdae/multvae: cap on optimiser steps (default 50000); runs stopped by it are flagged."),
        lr_grid: Optional[str] = typer.Option(None, "--lr-grid", help="multdae/multvae: learning rates tuned per activation (default 1e-3,3e-3; --lr fixes one)."),
        lam_grid: Optional[str] = typer.Option(None, "--lam-grid", help="multdae/multvae: weight decays tuned per activation (default 0,1e-3,1e-2; --lam fixes one)."),
        dropout_grid: Optional[str] = typer.Option(None, "--dropout-grid", help="multdae/multvae: input dropout rates tuned per activation (default 0.5)."),
        search: str = typer.Option("grid", "--search", help="grid (every combination) or random:N (N seeded draws over the grids' ranges, the same for every activation)."),
        anneal_steps: Optional[int] = typer.Option(None, "--anneal-steps", help="multvae: fixed total_anneal_steps, beta = min(0.2, step / N) (Liang et al.'s default and this option's old default: 200000). Default: scaled by --anneal-fraction."),
        anneal_fraction: float = typer.Option(0.1, "--anneal-fraction", help="multvae: beta reaches 0.2 after this fraction of the run's expected length (1900 steps + --patience, at most the cap), unless --anneal-steps is given."),
        executor: Optional[str] = typer.Option(None, "--executor", help="inprocess (default) or ray[:ADDRESS] (optional extra 'ray')."),
        resume: bool = typer.Option(False, "--resume", help="Reuse finished runs stored under --out/runs."),
        log: Optional[str] = typer.Option(None, "--log", help="Also write one line per finished task (what, metric averaged over its seeds, time, ETA) to this file. "
                                          "When stderr is not a terminal these lines go to stderr instead of the progress bars."),
        tune_seeds: int = typer.Option(2, "--tune-seeds", help="multdae/multvae: training seeds per tuning trial (its score is their mean validation NDCG@100)."),
        bracket_rounds: int = typer.Option(4, "--bracket-rounds", help="multdae/multvae: rounds of widening an axis whose best value is at an edge (0: the fixed grid only)."),
        bracket_axes: str = typer.Option("lr,lam,dropout,width", "--bracket-axes", help="multdae/multvae: axes the search may widen (lr, lam, dropout, width = latent size), or none."),
        margin: float = typer.Option(0.01, "--margin", help="multdae/multvae: pre-registered equivalence margin on test NDCG@100 (absolute) for the TOST; recorded in the report before any run."),
        datasets: Optional[str] = typer.Option(None, "--datasets", help="Named real data sets instead of --data: default (= ml-100k,lastfm) or a comma-separated subset, "
                                               "found under --data-root; each runs into OUT/NAME with the 60-minute defaults for the options not given (docs/study.md)."),
        data_root: Optional[str] = typer.Option(None, "--data-root", help="Folder holding ml-100k/ and lastfm-2k/ (default ../shared/data, relative to the working directory)."),
        min_item_users: int = typer.Option(1, "--min-item-users", help="Drop items with fewer positive users before the user filter (1: keep every item; --datasets lastfm: 10)."),
        plan: bool = typer.Option(False, "--plan", help="Print the number of training runs and the estimated CPU and wall minutes (per-step costs measured here on the data's first split), then stop."),
        ablation: Optional[str] = typer.Option(None, "--ablation", help="Latent widths, e.g. 16,64,200: run the mechanism ablation (width x activation; exact-zero users, dead units, "
                                               "P2-delta rates, accuracy, within-activation regressions) instead of the study; --lr (3e-3), --lam (0), --epochs (300), --seeds apply."),
    ) -> None:
        """Train autoencoder recommenders with each latent activation and seed; report accuracy and latent properties."""
        from rich.console import Console

        from ..study.experiment import StudyConfig, split_activation_list

        _check_study_options(data, model, activations, seeds, seed, epochs, hidden, batch_size, lr, lam, eval_every,
                             triples, certify, falsify_budget, out)
        _check_study_extra_options(columns, threshold, min_user_items, split_seeds, patience, max_steps, search,
                                   anneal_steps, executor)
        _check_study_analysis_options(log, margin, tune_seeds, bracket_rounds, bracket_axes, anneal_fraction)
        _check_study_dataset_options(datasets, data_root, min_item_users, ablation)
        hid = _hidden_sizes(hidden)
        cfg = StudyConfig(
            data=data, model=model.lower(), activations=split_activation_list(activations) if activations else (), seeds=seeds, seed=seed,
            epochs=epochs, hidden=hid, batch_size=batch_size, lr=lr, lam=lam, eval_every=eval_every, triples=triples, certify=certify,
            falsify_budget=falsify_budget, ease=not no_ease, out=out, columns=columns, threshold=threshold, min_user_items=min_user_items,
            split_seeds=split_seeds, patience=patience, max_steps=max_steps, lr_grid=_floats("--lr-grid", lr_grid, low_ok=False),
            lam_grid=_floats("--lam-grid", lam_grid), dropout_grid=_floats("--dropout-grid", dropout_grid, high=1.0), search=search,
            anneal_steps=anneal_steps, executor=executor, resume=resume, margin=margin, tune_seeds=tune_seeds, bracket_rounds=bracket_rounds,
            bracket_axes=_bracket_axes(bracket_axes), anneal_fraction=anneal_fraction, min_item_users=min_item_users,
        )
        from ._args import make_console

        console = make_console(stderr=as_json)  # logs: wide enough for the tables
        if datasets is not None or plan or ablation is not None:
            _run_extended(ctx, cfg, datasets, data_root, plan, ablation, as_json, console, log)
            return
        report, paths = _run_study_cooperatively(cfg, console, log)
        if as_json:
            typer.echo(json.dumps({"summary": _json_safe(report["summary"]), "files": paths, "synthetic": report["meta"]["synthetic"]}, indent=2))
            return
        _print_summary(console, report, paths)


def _run_extended(ctx: Any, cfg: Any, datasets: Optional[str], root: Optional[str], plan: bool, ablation: Optional[str], as_json: bool,
                  console: Any, log: Optional[str]) -> None:
    """``--datasets``, ``--plan`` and ``--ablation``: the work is in checkers/study (multi.py, plan.py, ablation.py)."""
    from ..study.multi import ablation_for, plan_study, resolve_all, run_datasets, single
    from ..study.plan import plan_config

    # by name: typer >= 0.16 vendors click, whose ParameterSource is not click's
    given = frozenset(k for k in ctx.params if getattr(ctx.get_parameter_source(k), "name", "DEFAULT") not in ("DEFAULT", "DEFAULT_MAP"))
    if datasets:
        from ..study.datasets import parse_datasets

        items = resolve_all(plan_config(cfg, given), parse_datasets(datasets), root)
    else:
        items = single(cfg)
    if plan:
        result = plan_study(items)
        typer.echo(json.dumps(_json_safe(result), indent=2) if as_json else "\n".join(result["lines"]))
        return
    from .._exit import cooperative

    with cooperative(), _study_progress(console, log) as prog:
        result = ablation_for(items, ablation, given, prog) if ablation else run_datasets(items, cfg.out, prog)[1]
    typer.echo(json.dumps(_json_safe(result), indent=2) if as_json else "\n".join(f"{k}: {v}" for k, v in result.items()))


def _check_study_dataset_options(datasets: Optional[str], data_root: Optional[str], min_item_users: int, ablation: Optional[str]) -> None:
    """``--datasets``, ``--data-root``, ``--min-item-users`` and ``--ablation``, checked before any data is read."""
    from ._args import positive_int
    from ...theorems.errors import InvalidArgument
    from ..study.ablation import parse_widths
    from ..study.datasets import parse_datasets

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
    from ...theorems.errors import InvalidArgument

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
    from .._exit import cooperative
    from ..study.experiment import run_study

    try:
        with cooperative(), _study_progress(console, log) as prog:
            return run_study(cfg, prog)
    except KeyboardInterrupt:
        _say_how_to_resume(cfg)
        raise


def _say_how_to_resume(cfg: Any) -> None:
    """After Ctrl-C: how many finished runs are stored under ``--out``/runs and how to go on from them."""
    import os
    import sys

    store = os.path.join(cfg.out, "runs")
    done = len([f for f in os.listdir(store) if f.endswith(".json") and not f.startswith(".")]) if os.path.isdir(store) else 0
    if cfg.model == "autorec":
        line = "interrupted (Ctrl-C): autorec runs are not stored, so nothing can be resumed; rerun the command"
    else:
        line = (f"interrupted (Ctrl-C): {done} finished run(s) are stored under {store}; rerun the same command with "
                f"--resume to reuse them")
    print(line, file=sys.stderr, flush=True)


def _register_audit(app: typer.Typer) -> None:
    @app.command()
    def audit(
        weights: Optional[str] = typer.Option(None, "--weights", help="Encoder .npz (keys W0, b0, W1, b1, ... with W_i shaped (out, in); optional 'activations')."),
        model: cli_convert.ModelOpt = None,
        layers_from: cli_convert.LayersFromOpt = None,
        activations: cli_convert.ActivationsOpt = None,
        output: cli_convert.OutputOpt = None,
        ignore: cli_convert.IgnoreOpt = None,
        latent: cli_convert.LatentOpt = None,
        data: Optional[str] = typer.Option(None, "--data", help="MovieLens directory or ratings file, or any delimited text / Parquet file with --columns, whose users (or items) are audited. Default: SYNTHETIC data."),
        columns: Optional[str] = typer.Option(None, "--columns", help="USER,ITEM[,VALUE] columns (header names or 0-based indices) of a delimited text or Parquet --data file."),
        activation: Optional[str] = typer.Option(None, "--activation", help="Latent activation, when the file stores none (or to override it)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the triple sampling and row subsample."),
        normalise: Optional[str] = typer.Option(None, "--normalise", help="Same as --input-normalise (kept for older scripts)."),
        rows: Optional[str] = typer.Option(None, "--rows", help="users (a row per user over items) or items (a row per item over users, I-AutoRec). Default: stored, else users."),
        values: Optional[str] = typer.Option(None, "--values", help="binary (ratings above --threshold become 1) or ratings. Default: stored, else binary."),
        threshold: Optional[float] = typer.Option(None, "--threshold", help="Values above this are 1s for --values binary (default: stored in the file, else 3.5 for MovieLens, 0 for other files; no VALUE column: every row)."),
        min_user_items: Optional[int] = typer.Option(None, "--min-user-items", help="Drop users with fewer positives, as the study does (default 5 for --rows users; not for items)."),
        triples: int = typer.Option(20000, "--triples", help="Triples sampled for the ordering figures."),
        certify: int = typer.Option(3, "--certify", help="Zero rows and flips to certify in exact/interval arithmetic."),
        falsify_budget: float = typer.Option(3.0, "--falsify-budget", help="Seconds per property for the falsifier on the data domain (0 skips)."),
        input_normalise: Optional[str] = typer.Option(None, "--input-normalise", help="none, l2 (the encoder sees x/|x|_2) or divide:K; default: what the model file records, else none. (--normalise is the older spelling.)"),
        item_order: Optional[str] = typer.Option(None, "--item-order", help="Text file: the id of each encoder input, one per line, in input order (needed when the model file stores no ids; matched as strings)."),
        min_match: float = typer.Option(0.99, "--min-match", help="Smallest fraction, in (0, 1], of the encoder's input ids that must occur in the data (else exit 2: foreign data)."),
        out: Optional[str] = typer.Option(None, "--out", help="Folder for report.json and report.md (written atomically)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """Audit an exported encoder on real users: zero latents, dead units, ordering concordance, certified counterexamples."""
        if normalise is not None and input_normalise is not None and normalise != input_normalise:
            from ...theorems.errors import InvalidArgument

            raise InvalidArgument("give one of --input-normalise and --normalise (the same option), not both")
        flag = "--input-normalise" if input_normalise is not None else "--normalise"
        normalise = input_normalise if input_normalise is not None else normalise
        if normalise is not None:
            from ...theorems.errors import InvalidArgument
            from ...theorems.inputs import parse_normalisation

            try:
                normalise = parse_normalisation(normalise)
            except InvalidArgument as exc:
                raise InvalidArgument(f"{flag}: {exc}") from None
        _check_audit_options(weights, data, activation, seed, normalise, rows, values, threshold, triples, certify,
                             falsify_budget, min_match)
        _check_audit_data_options(data, columns, min_user_items, out)
        if item_order is not None:
            from .._io import check_input_file

            check_input_file(item_order, "--item-order")
        payload = _audit_payload(weights, model, layers_from, activations, (output, ignore, latent), data, columns, activation, seed,
                                 normalise, rows, values, threshold, min_user_items, triples, certify, falsify_budget, min_match,
                                 item_order)
        paths = _write_audit(payload, out) if out else {}
        if as_json:
            typer.echo(json.dumps(_json_safe(payload), indent=2))
            if payload["partial_match_note"]:
                typer.echo("note: " + payload["partial_match_note"], err=True)
            return
        _print_audit(payload, paths)


def _audit_payload(weights: Optional[str], model: Optional[str], layers_from: Optional[str], activations: Optional[str],
                   selection: tuple, data: Optional[str], columns: Optional[str], activation: Optional[str], seed: int,
                   normalise: Optional[str], rows: Optional[str], values: Optional[str], threshold: Optional[float],
                   min_user_items: Optional[int], triples: int, certify: int, falsify_budget: float, min_match: float,
                   item_order: Optional[str] = None) -> dict:
    """Load the encoder and the data, refuse foreign data, run the audit; the JSON-ready payload."""
    from ..study.audit import audit_encoder, rows_for_encoder
    from ..study.data import load_or_synthetic
    from ...theorems.errors import InvalidArgument

    enc, meta = _audit_encoder(weights, model, layers_from, activations, selection, activation, normalise, item_order)
    ratings = load_or_synthetic(data, columns=columns)
    row_kind = rows or meta.get("rows", "users")
    if min_user_items is None and row_kind == "users":
        min_user_items = 5
    csr, how = rows_for_encoder(ratings, enc, meta, rows=rows, values=values, threshold=threshold, min_user_items=min_user_items)
    if how["matched_fraction"] < min_match:
        raise InvalidArgument(
            f"only {how['matched_fraction']:.2%} ({how['matched_columns']} of {enc.n}) of the encoder's input ids occur in "
            f"{ratings.source}, below --min-match {min_match:g}; audit with the data the encoder was trained on, "
            f"or lower --min-match (e.g. --min-match {max(0.01, round(how['matched_fraction'], 2) or 0.01):g}) to audit it anyway")
    res = audit_encoder(enc, csr, seed=seed, n_triples=triples, certify=certify, falsify_budget=falsify_budget)
    row_ids = how.pop("row_ids")
    payload = {"weights": weights or model, "data": ratings.describe(), "inputs": how, **res.to_json(),
               "input_semantics": enc.inputs.record(), "encoder": enc.summary()}  # the file, its SHA-256, the tensors read
    kind = "user" if how["rows"] == "users" else "item"
    raw = lambda k: row_ids[k].item() if hasattr(row_ids[k], "item") else row_ids[k]  # noqa: E731  (int id or id string)
    for c in payload["certified"]:  # raw ids beside the row indices
        if "row" in c:
            c[f"{kind}_id"] = raw(c["row"])
        if "rows" in c:
            c[f"{kind}_ids"] = {k: raw(v) for k, v in c["rows"].items()}
    payload["partial_match_note"] = _partial_match_note(how, enc.n)
    return payload


def _audit_encoder(weights: Optional[str], model: Optional[str], layers_from: Optional[str], activations: Optional[str],
                   selection: tuple, activation: Optional[str], normalise: Optional[str],
                   item_order: Optional[str]) -> tuple[Any, dict]:
    """The encoder with its input semantics (the file's, ``--item-order`` ids, ``--input-normalise``) and the
    dict form of them; refuses (exit 2) an encoder with no input ids before the data are read."""
    from dataclasses import replace

    from ..study.audit import meta_from_inputs, read_item_order
    from .falsify import encoder_with_meta
    from ...theorems.encoder import Encoder
    from ...theorems.errors import InvalidArgument
    from ...theorems.inputs import with_input_normalise

    output, ignore, latent = selection  # --output, --ignore, --latent
    loaded = cli_convert.model_from_options(model, activation, activations, layers_from, output, others={"--weights": weights},
                                            ignore=ignore, latent=latent)
    if loaded is not None:
        enc = encoder_with_meta(*loaded)
    elif weights is None:
        raise InvalidArgument("give --weights FILE.npz or --model FILE (any format in docs/models.md)")
    else:
        enc = Encoder.load(weights, activation=activation)
    if item_order is not None:
        enc = replace(enc, inputs=replace(enc.inputs, input_names=read_item_order(item_order, enc.n), input_ids=None))
    enc = with_input_normalise(enc, normalise)
    meta = meta_from_inputs(enc.inputs)
    if item_order is not None:
        meta["ids_from"] = f"input ids of --item-order {item_order}"
    if "input_ids" not in meta and "input_names" not in meta:
        raise InvalidArgument(f"{weights or model} stores no input ids (latentcheck_input_names / latentcheck_input_ids), so "
                              "which item is which input is unknown; pass --item-order FILE (one id per line, in input order)")
    return enc, meta


def _partial_match_note(how: dict, n: int) -> str:
    """A line when the data match only part of the encoder's inputs (the others read 0 for every row), else ''."""
    parts = []
    if how["matched_columns"] < n:
        parts.append(f"the data match {how['matched_columns']} of the encoder's {n} inputs ({how['matched_fraction']:.2%}); "
                     f"the other {n - how['matched_columns']} inputs are 0 for every audited row")
    if how.get("data_ids_unknown_to_encoder"):
        parts.append(f"{how['data_ids_unknown_to_encoder']} id(s) of the data are not inputs of the encoder and were dropped")
    return "; ".join(parts)


def _check_audit_data_options(data: Optional[str], columns: Optional[str], min_user_items: Optional[int], out: Optional[str]) -> None:
    from ._args import nonempty, positive_int
    from .._io import check_output_dir
    from ..study.data import parse_columns
    from ...theorems.errors import InvalidArgument

    nonempty(columns, "--columns", "user,item,rating")
    if columns is not None:
        if data is None:
            raise InvalidArgument("--columns needs --data FILE; without --data the synthetic set is used")
        parse_columns(columns)
    positive_int(min_user_items, "--min-user-items", "5")
    if out is not None:
        check_output_dir(out, "--out")


def _write_audit(payload: dict, out: str) -> dict[str, str]:
    """``report.json`` and ``report.md`` of an audit under ``out``, each written atomically."""
    import os

    from .._io import atomic_write_text
    from ..study.report import render_audit_markdown

    os.makedirs(out, exist_ok=True)
    clean = _json_safe(payload)
    paths = {"json": os.path.join(out, "report.json"), "md": os.path.join(out, "report.md")}
    atomic_write_text(paths["json"], json.dumps(clean, indent=2, sort_keys=True) + "\n")
    atomic_write_text(paths["md"], render_audit_markdown(clean))
    return paths


def _floats(option: str, text: Optional[str], low: float = 0.0, low_ok: bool = True, high: float = float("inf")) -> tuple[float, ...]:
    """A comma-separated grid of finite numbers in ``[low, high)`` (``(low, high)`` without ``low_ok``); None gives ()."""
    import math

    from ...theorems.errors import InvalidArgument

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


def _check_study_options(data: Optional[str], model: str, activations: Optional[str], seeds: int, seed: int,
                         epochs: Optional[int], hidden: Optional[str], batch_size: Optional[int], lr: Optional[float],
                         lam: Optional[float], eval_every: int, triples: int, certify: int, falsify_budget: float,
                         out: str) -> None:
    """Every ``study`` option checked before any data is read or any training starts."""
    from ._args import nonempty, nonneg_finite, nonneg_int, positive_finite, positive_int
    from .._io import check_output_dir
    from ...theorems.errors import InvalidArgument

    nonempty(data, "--data", "../shared/data/ml-100k")
    if data is not None and not __import__("os").path.exists(data):
        raise InvalidArgument(f"--data {data!r} does not exist; give a MovieLens folder or ratings file")
    if model.lower() not in ("multdae", "multvae", "autorec"):
        raise InvalidArgument(f"--model {model!r} must be multdae, multvae or autorec")
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
    from ._args import finite, nonempty, nonneg_int, positive_int
    from ...theorems.errors import InvalidArgument

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
    from ...theorems.errors import InvalidArgument

    names = tuple(a.strip() for a in text.split(",") if a.strip())
    if names == ("none",):
        return ()
    if not names or not set(names) <= {"lr", "lam", "dropout", "width"} or len(set(names)) != len(names):
        raise InvalidArgument(f"--bracket-axes {text!r} must list distinct names among lr, lam, dropout, width (or none), e.g. lr,lam")
    return names


def _check_study_analysis_options(log: Optional[str], margin: float, tune_seeds: int, bracket_rounds: int, bracket_axes: str,
                                  anneal_fraction: float) -> None:
    """``--log``, ``--margin``, the bracketing search's options and ``--anneal-fraction``, checked before any work."""
    from ._args import nonneg_int, positive_int
    from ...theorems.errors import InvalidArgument

    _check_study_log_margin(log, margin)
    positive_int(tune_seeds, "--tune-seeds", "2")
    nonneg_int(bracket_rounds, "--bracket-rounds")
    _bracket_axes(bracket_axes)
    if not (0 < anneal_fraction <= 1):
        raise InvalidArgument(f"--anneal-fraction {anneal_fraction!r} must be in (0, 1], e.g. 0.1")


def _check_study_log_margin(log: Optional[str], margin: float) -> None:
    """``--log`` must name a file in an existing folder; ``--margin`` must be a finite number in (0, 1)."""
    import math
    import os

    from ...theorems.errors import InvalidArgument

    if log is not None:
        folder = os.path.dirname(os.path.abspath(log)) if log.strip() else ""
        if not log.strip() or os.path.isdir(log) or not os.path.isdir(folder):
            raise InvalidArgument(f"--log {log!r} must name a file in an existing folder, e.g. --log runs/study.log")
    if not (math.isfinite(margin) and 0 < margin < 1):
        raise InvalidArgument(f"--margin {margin!r} must be a number in (0, 1), the equivalence margin on NDCG@100, e.g. 0.01")


def _check_audit_options(weights: Optional[str], data: Optional[str], activation: Optional[str], seed: int,
                         normalise: Optional[str], rows: Optional[str], values: Optional[str], threshold: Optional[float],
                         triples: int, certify: int, falsify_budget: float, min_match: float) -> None:
    """Every ``audit`` option checked before the weights or data are read."""
    from ._args import finite, fraction, nonempty, nonneg_finite, nonneg_int, positive_int
    from .._io import check_input_file
    from ..study.audit import _parse_normalisation
    from ...theorems.errors import InvalidArgument

    if weights is not None:
        check_input_file(weights, "--weights")
    nonempty(data, "--data", "../shared/data/ml-100k")
    if data is not None and not __import__("os").path.exists(data):
        raise InvalidArgument(f"--data {data!r} does not exist; give a MovieLens folder or ratings file")
    nonempty(activation, "--activation", "tanh")
    nonneg_int(seed, "--seed")
    if normalise is not None:
        try:
            _parse_normalisation(normalise)
        except InvalidArgument as exc:
            raise InvalidArgument(f"--input-normalise: {exc}") from None
    if rows is not None and rows not in ("users", "items"):
        raise InvalidArgument(f"--rows {rows!r} must be users or items")
    if values is not None and values not in ("binary", "ratings"):
        raise InvalidArgument(f"--values {values!r} must be binary or ratings")
    finite(threshold, "--threshold", "3.5")
    positive_int(triples, "--triples", "20000")
    nonneg_int(certify, "--certify", "3")
    nonneg_finite(falsify_budget, "--falsify-budget", "3")
    fraction(min_match, "--min-match", "0.9")


def _json_safe(obj: Any) -> Any:
    from ..study.report import _json_clean

    return _json_clean(obj)


def _print_summary(console: Any, report: dict, paths: dict) -> None:
    from rich.table import Table

    from ..study.report import _ci

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


def _print_audit(p: dict, paths: Optional[dict] = None) -> None:
    from rich.console import Console
    from rich.table import Table

    from ._args import make_console

    console = make_console()
    if p["data"].get("synthetic"):
        console.print("[bold yellow]SYNTHETIC DATA[/]: no --data given.")
    if p.get("partial_match_note"):
        console.print(f"[bold yellow]note[/]: {p['partial_match_note']}", highlight=False)
    t = Table(title=f"latent audit of {p['weights']} ({p['activation']}, n={p['n']}, m={p['m']})", show_header=False)
    rows = [
        ("rows audited", f"{p['rows']} ({p['inputs']['rows']}, {p['inputs']['values']}, preprocessing {p['normalisation']} from {p.get('normalisation_from', '?')})"),
        ("tensors read", ", ".join(((p.get("encoder") or {}).get("provenance") or {}).get("tensors_used") or []) or "-"),
        ("P1 (m < n)", str(p["p1"])),
        ("exact-zero latent rate (float32)", f"{p['zero_rate']:.4f} ({p['zero_rows']} rows)"),
        ("near-zero norms", ", ".join(f"{k}: {v:.4f}" for k, v in p["near_zero"].items())),
        ("latent norm quantiles", ", ".join(f"{k} {v:.4g}" for k, v in p["norm_quantiles"].items())),
        ("dead units (0 for every row)", str(p["dead_units"])),
        ("constant units", str(p["constant_units"])),
        ("latent units exactly 0 per user (mean)", f"{p['zero_unit_fraction']:.4f}"),
        ("fewest nonzero latent units of any user", str(p["fewest_nonzero_units"])),
        ("triples (seed)", f"{p['triples']} (seed {p['seed']})"),
        ("ordering concordance", f"{p['concordance']:.4f}"),
        ("Kendall tau-b", f"{p['kendall_tau_b']:.4f}"),
        ("P2 violation rate", f"{p['p2_violation_rate']:.4f} (strict flips {p['strict_flip_rate']:.4f}, input ties {p['input_tie_rate']:.4f})"),
        ("input ties / tie violations", f"{p.get('input_ties', 0)} tied triples, {p.get('tie_violations', 0)} with unequal latent scores"),
    ]
    for k, v in rows:
        t.add_row(k, v)
    console.print(t)
    for c in p["certified"]:
        where = c.get("user_id", c.get("user_ids", c.get("item_id", c.get("item_ids", c.get("row", c.get("rows"))))))
        console.print(f"certified {c['property']} counterexample ({c['certified']}) at raw ids {where}", highlight=False)
    for prop, r in (p.get("falsifier") or {}).items():
        if isinstance(r, dict):
            console.print(f"falsifier {prop}: {r.get('status')} {r.get('reason', '')} certified={len(r.get('certified', []))}", highlight=False)
    if paths:
        console.print(f"report: {paths['md']} and {paths['json']}", highlight=False)
