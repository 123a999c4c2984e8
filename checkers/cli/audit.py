"""``latentcheck audit``: an exported encoder on real users (zero latents, dead units, ordering concordance,
certified counterexamples).

The encoder comes from the same option group as in falsify and verify
(:class:`~latentcheck.checkers.encoder_source.EncoderSource`: ``--weights`` or ``--model`` with its
selection options; no random ``--layers``).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from typing import Annotated, Any, Optional

import typer
from rich.table import Table

from ._args import finite, fraction, make_console, nonempty, nonneg_finite, nonneg_int, positive_int
from ._options import ActivationsOpt, IgnoreOpt, InputNormaliseOpt, LatentOpt, LayersFromOpt, ModelOpt, OutputOpt, WeightsOpt
from .._io import atomic_write_text, check_input_file, check_output_dir
from ..encoder_source import EncoderSource
from ..study.audit import _parse_normalisation, audit_encoder, meta_from_inputs, read_item_order, rows_for_encoder
from ..study.data import load_or_synthetic, parse_columns
from ..study.report import _json_clean, render_audit_markdown
from ...theorems.errors import InvalidArgument
from ...theorems.inputs import parse_normalisation, with_input_normalise

__all__ = ["audit"]

_Data = Annotated[Optional[str], typer.Option("--data", help="MovieLens directory or ratings file, or any delimited text / Parquet file with --columns, whose users (or items) are audited. Default: SYNTHETIC data.")]
_Columns = Annotated[Optional[str], typer.Option("--columns", help="USER,ITEM[,VALUE] columns (header names or 0-based indices) of a delimited text or Parquet --data file.")]
_Activation = Annotated[Optional[str], typer.Option("--activation", help="Latent activation, when the file stores none (or to override it).")]
_Seed = Annotated[int, typer.Option("--seed", help="Seed of the triple sampling and row subsample.")]
_Normalise = Annotated[Optional[str], typer.Option("--normalise", help="Same as --input-normalise (kept for older scripts).")]
_Rows = Annotated[Optional[str], typer.Option("--rows", help="users (a row per user over items) or items (a row per item over users, I-AutoRec). Default: stored, else users.")]
_Values = Annotated[Optional[str], typer.Option("--values", help="binary (ratings above --threshold become 1) or ratings. Default: stored, else binary.")]
_Threshold = Annotated[Optional[float], typer.Option("--threshold", help="Values above this are 1s for --values binary (default: stored in the file, else 3.5 for MovieLens, 0 for other files; no VALUE column: every row).")]
_MinUserItems = Annotated[Optional[int], typer.Option("--min-user-items", help="Drop users with fewer positives, as the study does (default 5 for --rows users; not for items).")]
_Triples = Annotated[int, typer.Option("--triples", help="Triples sampled for the ordering figures.")]
_Certify = Annotated[int, typer.Option("--certify", help="Zero rows and flips to certify in exact/interval arithmetic.")]
_FalsifyBudget = Annotated[float, typer.Option("--falsify-budget", help="Seconds per property for the falsifier on the data domain (0 skips).")]
_ItemOrder = Annotated[Optional[str], typer.Option("--item-order", help="Text file: the id of each encoder input, one per line, in input order (needed when the model file stores no ids; matched as strings).")]
_MinMatch = Annotated[float, typer.Option("--min-match", help="Smallest fraction, in (0, 1], of the encoder's input ids that must occur in the data (else exit 2: foreign data).")]
_Out = Annotated[Optional[str], typer.Option("--out", help="Folder for report.json and report.md (written atomically).")]
_AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def audit(
    weights: WeightsOpt = None,
    model: ModelOpt = None,
    layers_from: LayersFromOpt = None,
    activations: ActivationsOpt = None,
    output: OutputOpt = None,
    ignore: IgnoreOpt = None,
    latent: LatentOpt = None,
    data: _Data = None,
    columns: _Columns = None,
    activation: _Activation = None,
    seed: _Seed = 0,
    normalise: _Normalise = None,
    rows: _Rows = None,
    values: _Values = None,
    threshold: _Threshold = None,
    min_user_items: _MinUserItems = None,
    triples: _Triples = 20000,
    certify: _Certify = 3,
    falsify_budget: _FalsifyBudget = 3.0,
    input_normalise: InputNormaliseOpt = None,
    item_order: _ItemOrder = None,
    min_match: _MinMatch = 0.99,
    out: _Out = None,
    as_json: _AsJson = False,
) -> None:
    """Audit an exported encoder on real users: zero latents, dead units, ordering concordance, certified counterexamples."""
    if normalise is not None and input_normalise is not None and normalise != input_normalise:
        raise InvalidArgument("give one of --input-normalise and --normalise (the same option), not both")
    flag = "--input-normalise" if input_normalise is not None else "--normalise"
    normalise = input_normalise if input_normalise is not None else normalise
    if normalise is not None:
        try:
            normalise = parse_normalisation(normalise)
        except InvalidArgument as exc:
            raise InvalidArgument(f"{flag}: {exc}") from None
    _check_audit_options(data, activation, seed, normalise, rows, values, threshold, triples, certify,
                         falsify_budget, min_match)
    _check_audit_data_options(data, columns, min_user_items, out)
    if item_order is not None:
        check_input_file(item_order, "--item-order")
    source = EncoderSource(weights=weights, model=model, layers_from=layers_from, activations=activations, output=output,
                           ignore=ignore, latent=latent, activation=activation, random_weights=False)
    payload = _audit_payload(source, data, columns, seed, normalise, rows, values, threshold, min_user_items, triples, certify,
                             falsify_budget, min_match, item_order)
    paths = _write_audit(payload, out) if out else {}
    if as_json:
        typer.echo(json.dumps(_json_clean(payload), indent=2))
        if payload["partial_match_note"]:
            typer.echo("note: " + payload["partial_match_note"], err=True)
        return
    _print_audit(payload, paths)


def _audit_payload(source: EncoderSource, data: Optional[str], columns: Optional[str], seed: int, normalise: Optional[str],
                   rows: Optional[str], values: Optional[str], threshold: Optional[float], min_user_items: Optional[int],
                   triples: int, certify: int, falsify_budget: float, min_match: float,
                   item_order: Optional[str] = None) -> dict:
    """Load the encoder and the data, refuse foreign data, run the audit; the JSON-ready payload."""
    enc, meta = _audit_encoder(source, normalise, item_order)
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
    payload = {"weights": source.weights or source.model, "data": ratings.describe(), "inputs": how, **res.to_json(),
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


def _audit_encoder(source: EncoderSource, normalise: Optional[str], item_order: Optional[str]) -> tuple[Any, dict]:
    """The encoder with its input semantics (the file's, ``--item-order`` ids, ``--input-normalise``) and the
    dict form of them; refuses (exit 2) an encoder with no input ids before the data are read."""
    enc = source.load()
    if item_order is not None:
        enc = replace(enc, inputs=replace(enc.inputs, input_names=read_item_order(item_order, enc.n), input_ids=None))
    enc = with_input_normalise(enc, normalise)
    meta = meta_from_inputs(enc.inputs)
    if item_order is not None:
        meta["ids_from"] = f"input ids of --item-order {item_order}"
    if "input_ids" not in meta and "input_names" not in meta:
        raise InvalidArgument(f"{source.weights or source.model} stores no input ids (latentcheck_input_names / latentcheck_input_ids), so "
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
    nonempty(columns, "--columns", "user,item,rating")
    if columns is not None:
        if data is None:
            raise InvalidArgument("--columns needs --data FILE; without --data the synthetic set is used")
        parse_columns(columns)
    positive_int(min_user_items, "--min-user-items", "5")
    if out is not None:
        check_output_dir(out, "--out")


def _check_audit_options(data: Optional[str], activation: Optional[str], seed: int,
                         normalise: Optional[str], rows: Optional[str], values: Optional[str], threshold: Optional[float],
                         triples: int, certify: int, falsify_budget: float, min_match: float) -> None:
    """Every ``audit`` option checked before the weights or data are read."""
    nonempty(data, "--data", "../shared/data/ml-100k")
    if data is not None and not os.path.exists(data):
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


def _write_audit(payload: dict, out: str) -> dict[str, str]:
    """``report.json`` and ``report.md`` of an audit under ``out``, each written atomically."""
    os.makedirs(out, exist_ok=True)
    clean = _json_clean(payload)
    paths = {"json": os.path.join(out, "report.json"), "md": os.path.join(out, "report.md")}
    atomic_write_text(paths["json"], json.dumps(clean, indent=2, sort_keys=True) + "\n")
    atomic_write_text(paths["md"], render_audit_markdown(clean))
    return paths


def _print_audit(p: dict, paths: Optional[dict] = None) -> None:
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
