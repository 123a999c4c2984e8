"""``latentcheck verify``: decide P3 exactly for a piecewise-linear encoder.

Exit codes: 0 proved, 1 refuted, 3 unknown or proved-float, 2 bad input, 4 internal error, 130 Ctrl-C.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional

import typer

from . import convert as cli_convert
from ..verify.api import small_latent_property, verify_min_latent

__all__ = ["register"]


def _write_outputs(out: Path, encoder, result) -> dict:
    from ...counterexamples.certificate import save_bound_encoder, sha256_file, write_certificate

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


def register(app: typer.Typer) -> None:
    """Attach ``verify`` to the command line."""

    @app.command()
    def verify(
        property: str = typer.Option("p3", "--property", "-p", help="p3 (no nonzero input is encoded as 0), or p3-eps:EPS[,R] (every binary user, or point of --domain box:LO,HI, with |x|_2 >= R, default 1, has |enc(x)|_inf >= EPS; one-layer tanh/sigmoid/softplus/elu/gelu/silu encoders)."),
        min_latent: bool = typer.Option(False, "--min-latent", help="Certified lower and upper bounds on min |enc(x)|_inf over binary users x != 0 (one-layer smooth encoders; --domain binary)."),
        weights: Optional[str] = typer.Option(None, "--weights", help="Encoder weights (.npz with W0, b0, ...)."),
        model: cli_convert.ModelOpt = None,
        layers_from: cli_convert.LayersFromOpt = None,
        activations: cli_convert.ActivationsOpt = None,
        output: cli_convert.OutputOpt = None,
        ignore: cli_convert.IgnoreOpt = None,
        latent: cli_convert.LatentOpt = None,
        layers: Optional[str] = typer.Option(None, "--layers", help="Random encoder sizes, e.g. 64,32,8."),
        activation: Optional[str] = typer.Option(None, "--activation", help="Latent activation: catalog name or formula in t."),
        hidden_activation: Optional[str] = typer.Option(None, "--hidden-activation", help="Hidden activation (default: --activation)."),
        seed: int = typer.Option(0, "--seed", help="Seed of the --layers weights."),
        domain: str = typer.Option("reals", "--domain", help="reals, nonneg, binary or box:LO,HI."),
        input_normalise: Optional[str] = typer.Option(None, "--input-normalise", help="none, l2 (the encoder sees x/|x|_2) or divide:K; default: what the model file records (study exports), else none."),
        timeout: float = typer.Option(60.0, "--timeout", help="Seconds for the search before answering 'unknown'."),
        out: Optional[str] = typer.Option(None, "--out", help="Write verdict.json (and certificate.json + encoder.npz) here."),
        as_json: bool = typer.Option(False, "--json", help="Print the JSON verdict on stdout."),
    ) -> None:
        """Decide P3 exactly for a piecewise-linear encoder: proved (certificate), refuted (exact input) or unknown."""
        from .falsify import build_encoder, encoder_with_meta
        from ..verify import parse_verify_domain
        from ..verify import verify as _verify
        from ...theorems.errors import InvalidArgument
        from ...theorems.properties import get_property

        from ._args import nonempty, nonneg_int, positive_seconds
        from .._io import check_input_file, check_output_dir

        if property.strip().lower().startswith("p3-eps"):
            small_latent_property(property)  # its own error for a bad EPS or R
        try:
            verifiable = small_latent_property(property) is not None or get_property(property).verifiable
        except InvalidArgument:
            verifiable = False
        if not verifiable:
            raise InvalidArgument(f"--property {property!r}: verify decides p3 and p3-eps:EPS[,R]; use --property p3")
        if weights is not None:
            check_input_file(weights, "--weights")
        nonempty(layers, "--layers", "64,32,8")
        nonempty(activation, "--activation", "relu")
        nonempty(hidden_activation, "--hidden-activation", "relu")
        nonempty(domain, "--domain", "binary")
        nonneg_int(seed, "--seed")
        positive_seconds(timeout, "--timeout", "60")
        if out is not None:
            check_output_dir(out, "--out")
            out = Path(out)
        loaded = cli_convert.model_from_options(model, activation, activations, layers_from, output,
                                                others={"--weights": weights, "--layers": layers, "--hidden-activation": hidden_activation},
                                                ignore=ignore, latent=latent)
        if input_normalise is not None:
            from ...theorems.inputs import parse_normalisation

            input_normalise = parse_normalisation(input_normalise)
        if not (timeout > 0):
            raise InvalidArgument(f"--timeout {timeout!r} must be a positive number of seconds")
        dom = parse_verify_domain(domain)
        encoder = encoder_with_meta(*loaded) if loaded else build_encoder(weights, layers, activation, hidden_activation, seed)
        if min_latent:
            result = verify_min_latent(encoder, domain=dom, input_normalise=input_normalise, timeout=timeout)
        else:
            result = _verify(encoder, property, domain=dom, input_normalise=input_normalise, timeout=timeout)
        data = {**result.to_json(), "encoder": encoder.summary()}
        if out is not None:
            data["files"] = _write_outputs(out, encoder, result)
        if as_json:
            typer.echo(json.dumps(data, indent=2))
        else:
            _print(data)
        raise typer.Exit(code=result.exit_code)


def _print(data: dict) -> None:
    from rich.console import Console

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
