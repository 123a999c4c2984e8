"""``latentcheck verify``: decide P3 exactly for a piecewise-linear encoder.

Exit codes: 0 proved, 1 refuted, 3 unknown or proved-float, 2 bad input, 4 internal error, 130 Ctrl-C.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from ._options import (ActivationOpt, ActivationsOpt, HiddenActivationOpt, IgnoreOpt, InputNormaliseOpt, LatentOpt,
                       LayersFromOpt, LayersOpt, ModelOpt, OutputOpt, VerifyDomainOpt, VerifyPropertyOpt, WeightsOpt)
from .. import verify as verify_engine
from .._io import check_output_dir
from ..encoder_source import EncoderSource
from ..search_options import VerifyOptions
from ...counterexamples.certificate import save_bound_encoder, sha256_file, write_certificate

__all__ = ["verify"]


def verify(
    property: VerifyPropertyOpt = "p3",
    weights: WeightsOpt = None,
    model: ModelOpt = None,
    layers_from: LayersFromOpt = None,
    activations: ActivationsOpt = None,
    output: OutputOpt = None,
    ignore: IgnoreOpt = None,
    latent: LatentOpt = None,
    layers: LayersOpt = None,
    activation: ActivationOpt = None,
    hidden_activation: HiddenActivationOpt = None,
    input_normalise: InputNormaliseOpt = None,
    domain: VerifyDomainOpt = "reals",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the --layers weights.")] = 0,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds for the search before answering 'unknown'.")] = 60.0,
    out: Annotated[Optional[str], typer.Option("--out", help="Write verdict.json (and certificate.json + encoder.npz) here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON verdict on stdout.")] = False,
    min_latent: Annotated[bool, typer.Option("--min-latent", help="Certified lower and upper bounds on min |enc(x)|_inf "
                                             "over binary users x != 0 (one-layer smooth encoders; --domain binary).")] = False,
) -> None:
    """Decide P3 exactly for a piecewise-linear encoder, or p3-eps for a one-layer smooth one: proved (certificate),
    refuted (exact input) or unknown."""
    search = VerifyOptions(property, domain, seconds=timeout, seed=seed)
    source = EncoderSource(weights=weights, model=model, layers_from=layers_from, activations=activations, output=output,
                           ignore=ignore, latent=latent, layers=layers, activation=activation,
                           hidden_activation=hidden_activation, seed=seed, input_normalise=input_normalise)
    if out is not None:
        check_output_dir(out, "--out")
    encoder = source.load()
    if min_latent:
        result = verify_engine.verify_min_latent(encoder, domain=search.dom, input_normalise=source.normalise,
                                                 timeout=search.seconds)
    else:
        result = verify_engine.verify(encoder, search.property, domain=search.dom, input_normalise=source.normalise,
                                      timeout=search.seconds)
    data = {**result.to_json(), "encoder": encoder.summary()}
    if out is not None:
        data["files"] = _write_outputs(Path(out), encoder, result)
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        _print(data)
    raise typer.Exit(code=result.exit_code)


def _write_outputs(out: Path, encoder, result) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    data = {**result.to_json(), "encoder": encoder.summary()}
    if result.certificate is not None:
        enc_path = out / "encoder.npz"
        cert = dict(result.certificate)
        save_bound_encoder(encoder, cert.get("inputs", {}).get("normalise", "none"), enc_path)
        cert["encoder_file"] = "encoder.npz"
        cert["encoder_sha256"] = sha256_file(enc_path)
        write_certificate(cert, out / "certificate.json")
        paths["certificate"] = str(out / "certificate.json")
        data["certificate_file"] = "certificate.json"
    write_certificate(data, out / "verdict.json")
    paths["verdict"] = str(out / "verdict.json")
    return paths


def _print(data: dict) -> None:
    con = Console()
    style = {"proved": "bold green", "refuted": "bold red"}.get(data["verdict"], "bold yellow")
    con.print(f"[{style}]{data.get('property', 'p3')} on {data['domain']}: {data['verdict']}[/] - {data['reason']}", highlight=False)
    ml = data.get("min_latent")
    if ml:
        con.print(f"  min |enc(x)|_inf over binary users: lower {ml['lower']} (~{ml['lower_decimal']:.6g}), upper "
                  f"{ml['upper']} (~{ml['upper_decimal']}), gap {ml['gap']}", highlight=False)
    prov = (data.get("encoder") or {}).get("provenance") or {}
    if prov.get("path"):
        con.print(f"  model: {prov['path']} ({prov.get('format')}, SHA-256 {prov.get('sha256')}); tensors read: "
                  f"{', '.join(prov.get('tensors_used') or [])}", highlight=False, markup=False)
    inp = data.get("inputs") or {}
    if inp:
        con.print(f"  input normalisation: {inp.get('normalise')} (from {inp.get('normalise_from')})", highlight=False)
    if data.get("counterexample"):
        nz = sum(1 for v in data["counterexample"] if v != "0")
        what = "enc(x) = 0 exactly" if data.get("property", "p3") == "p3" else "|enc(x)|_inf < eps (arb balls)"
        con.print(f"  counterexample: {nz} nonzero coordinate(s), {what}", highlight=False)
    st = data.get("stats", {})
    con.print(f"  {st.get('nodes', 0)} nodes, {st.get('lps', 0)} LPs, {st.get('seconds', 0)} s", highlight=False)
    if data.get("files"):
        con.print("  " + ", ".join(f"{k}: {v}" for k, v in data["files"].items()), highlight=False, markup=False)
